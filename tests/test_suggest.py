"""glossary suggest: parenthetical acronyms and names from the seeds, English from approved units."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aligner.glossary.suggest import suggest
from aligner.glossary.termbase import Termbase
from tests.seeds_tmx import approve, seed_units, write_seed_tmx

GPS_EN = ("Under President Yoon Suk-yeol's Global Pivotal State (GPS) vision, South Korea began turning to "
          "the European Union (EU) to develop strategic, economic and security partnerships beyond its region.")
IPCP_EN = ("This expansion was possible because their framework was upgraded from the Individual Partnership and "
           "Cooperation Programme (IPCP) to the Individually Tailored Partnership Programme (ITPP).")


@pytest.fixture(scope="module")
def units():
    return seed_units()


def reviewed(units):
    """The seeds with the GPS and IPCP sentences approved with a human English."""
    out = []
    for u in units:
        if "Global Pivotal State (GPS)" in u.source:
            u = approve(u, GPS_EN)
        elif "(IPCP)" in u.source:
            u = approve(u, IPCP_EN)
        out.append(u)
    return out


def by_id(cands):
    return {c.id: c for c in cands}


def test_seeds_propose_ipcp_and_gps_from_parentheses(units):
    found = by_id(suggest(units, Termbase([])))
    assert found["ipcp"].sources == ("IPCP",) and found["ipcp"].kind == "acronym"
    assert found["ipcp-full"].sources == ("Program Kemitraan dan Kerja Sama Individu",)
    assert found["gps"].sources == ("GPS",)
    assert found["gps-full"].sources == ("Global Pivotal State",)
    assert found["itpp-full"].sources == ("Program Kemitraan yang Disesuaikan Secara Individu",)
    assert found["ue-full"].sources == ("Uni Eropa",)
    # "(Indo-Pacific four atau IP4)": the English is in the parenthesis itself
    assert found["ip4"].target == "IP4" and found["ip4-full"].target == "Indo-Pacific four"
    # clipped Indonesian forms and trimmed expansions: "China dan Korea Utara (Korut)" -> Korea Utara
    assert found["korut"].sources == ("Korut",) and found["korut-full"].sources == ("Korea Utara",)
    assert found["pm-full"].sources == ("Perdana Menteri",)
    # nothing is guessed from unreviewed drafts
    assert found["gps-full"].target == "" and found["ipcp-full"].target == ""


def test_ranked_by_frequency_with_recurring_names(units):
    cands = suggest(units, Termbase([]))
    counts = [c.count for c in cands]
    assert counts == sorted(counts, reverse=True)
    names = {c.sources[0]: c for c in cands if c.kind == "name"}
    assert "Selandia Baru" in names and names["Selandia Baru"].count >= 2
    # a sub-name seen only inside a longer recurring one is left out
    assert "Sekretaris Jenderal NATO Jens Stoltenberg" in names and "Jens Stoltenberg" not in names
    assert all(len(n.split()) >= 2 for n in names)
    # a single occurrence is not a recurring name
    assert all(c.count >= 2 for c in names.values())


def test_known_concepts_are_not_proposed(units, termbase):
    found = by_id(suggest(units, termbase))
    sources = {s for c in found.values() for s in c.sources}
    for known in ("IPCP", "IP4", "ITPP", "UE", "Uni Eropa", "Korsel", "KTT NATO", "Sekretaris Jenderal NATO",
                  "Program Kemitraan dan Kerja Sama Individu", "Selat Taiwan"):
        assert known not in sources, known
    assert found["gps"].sources == ("GPS",) and found["gps-full"].sources == ("Global Pivotal State",)
    # with "Sekretaris Jenderal NATO" known, the name after it stands alone
    assert any(c.sources == ("Jens Stoltenberg",) for c in found.values())


def test_english_comes_from_approved_units(units):
    found = by_id(suggest(reviewed(units), Termbase([])))
    assert found["gps"].target == "GPS"
    assert found["gps-full"].target == "Global Pivotal State"
    assert found["ipcp"].target == "IPCP"
    assert found["ipcp-full"].target == "Individual Partnership and Cooperation Programme"
    assert found["itpp-full"].target == "Individually Tailored Partnership Programme"
    assert found["ue"].target == "EU" and found["ue-full"].target == "European Union"


def test_cli_suggest_and_add(tmp_path: Path, units, cli):
    tmx = write_seed_tmx(tmp_path / "seeds.tmx", reviewed(units))
    glossary = tmp_path / "terms.tsv"
    glossary.write_text("id\tsource\ttarget\tforbidden\tnote\nprc\tTiongkok\tChina\t\t\n", encoding="utf-8")
    listed = cli("glossary", "suggest", str(tmx), "--glossary", str(glossary), "--format", "json")
    assert listed.returncode == 0, listed.stderr
    ids = {c["id"]: c for c in json.loads(listed.stdout)}
    assert {"ipcp", "ipcp-full", "gps", "gps-full"} <= set(ids)
    table = cli("glossary", "suggest", str(tmx), "--glossary", str(glossary), env={"COLUMNS": "200"})
    assert table.returncode == 0 and "gps-full" in table.stdout and "Global Pivotal State" in table.stdout

    no_english = cli("glossary", "suggest", str(tmx), "--glossary", str(glossary), "--add", "korut-full")
    assert no_english.returncode == 2 and "korut-full=English" in no_english.stderr
    unknown = cli("glossary", "suggest", str(tmx), "--glossary", str(glossary), "--add", "nope")
    assert unknown.returncode == 2 and "nope" in unknown.stderr and "Traceback" not in unknown.stderr
    assert glossary.read_text(encoding="utf-8").count("\n") == 2  # failed adds wrote nothing

    added = cli("glossary", "suggest", str(tmx), "--glossary", str(glossary),
                "--add", "gps-full,ipcp-full", "--add", "korut-full=North Korea")
    assert added.returncode == 0, added.stderr
    terms = {t.id: t for t in Termbase.load(glossary).terms}
    assert terms["prc"].target == "China"
    assert terms["gps-full"].sources == ("Global Pivotal State",) and terms["gps-full"].target == "Global Pivotal State"
    assert terms["ipcp-full"].target == "Individual Partnership and Cooperation Programme"
    assert terms["korut-full"].target == "North Korea"
    again = json.loads(cli("glossary", "suggest", str(tmx), "--glossary", str(glossary), "--format", "json").stdout)
    assert not {"gps-full", "ipcp-full", "korut-full"} & {c["id"] for c in again}


def test_cli_suggest_add_writes_through_the_checked_document(tmp_path: Path, units, cli):
    tmx = write_seed_tmx(tmp_path / "seeds.tmx", reviewed(units))
    glossary = tmp_path / "terms.tsv"
    # A file with a comment and an error already in it (a duplicate id): adding must keep the
    # comment and may go on, because the error is not new.
    text = ("# defence terms\nid\tsource\ttarget\tforbidden\tnote\nprc\tTiongkok\tChina\t\t\n"
            "prc\tRRT\tChina\t\t\n")
    glossary.write_text(text, encoding="utf-8")
    twice = cli("glossary", "suggest", str(tmx), "--glossary", str(glossary), "--add", "gps-full", "--add", "gps-full")
    assert twice.returncode == 1 and "already exists" in twice.stderr and "Traceback" not in twice.stderr
    assert glossary.read_text(encoding="utf-8") == text  # refused: nothing written
    added = cli("glossary", "suggest", str(tmx), "--glossary", str(glossary), "--add", "gps-full")
    assert added.returncode == 0, added.stderr
    written = glossary.read_text(encoding="utf-8")
    assert written.startswith(text) and "gps-full\tGlobal Pivotal State\tGlobal Pivotal State" in written
