"""`aligner glossary list|add|remove|check|import|export`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEFENCE = ROOT / "glossary" / "defence.tsv"

# The concepts issue 4 requires: (Indonesian source forms, English target, forbidden forms).
REQUIRED = [
    (["ITPP", "ITTP"], "ITPP", []),
    (["Program Kemitraan yang Disesuaikan Secara Individu", "Program Kemitraan yang Disesuaikan Secara Individual"],
     "Individually Tailored Partnership Programme", ["Individually Tailored Partnership Program"]),
    (["IPCP"], "IPCP", []),
    (["Program Kemitraan dan Kerja Sama Individu"], "Individual Partnership and Cooperation Programme", []),
    (["IP4"], "IP4", []),
    (["Indo-Pacific four", "empat negara Indo-Pasifik"], "Indo-Pacific four", []),
    (["CCDCOE", "CCDOE"], "CCDCOE", []),
    (["Pusat Keunggulan Pertahanan Siber Kerja Sama"], "Cooperative Cyber Defence Centre of Excellence",
     ["Cooperative Cyber Defense Center of Excellence"]),
    (["Sekretaris Jenderal NATO"], "NATO Secretary General", []),
    (["KTT NATO"], "NATO summit", []),
    (["Kepala Staf Gabungan"], "Joint Chiefs of Staff", []),
    (["Korsel"], "South Korea", []),
    (["Korut"], "North Korea", []),
    (["Tiongkok"], "China", []),
    (["Laut Filipina Barat"], "West Philippine Sea", []),
    (["Selat Taiwan"], "Taiwan Strait", []),
    (["penangkalan terpadu", "pencegahan terpadu"], "integrated deterrence", []),
    (["Uni Eropa"], "European Union", []),
    (["UE"], "EU", []),
    (["Strategi Keamanan Nasional"], "National Security Strategy", []),
    (["Strategi Pertahanan Nasional"], "National Defense Strategy", []),
    (["konsep strategis"], "Strategic Concept", []),
    (["Asia Timur Laut"], "Northeast Asia", []),
]


def n_concepts() -> int:
    from aligner.glossary.termbase import Termbase

    return len(Termbase.load(DEFENCE).terms)


@pytest.fixture
def gloss(tmp_path: Path) -> Path:
    """A private copy of the project termbase."""
    path = tmp_path / "defence.tsv"
    shutil.copyfile(DEFENCE, path)
    return path


def listed(cli, path: Path) -> list[dict]:
    result = cli("glossary", "list", "--format", "json", "--glossary", str(path))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_check_defence_glossary_is_clean(cli) -> None:
    result = cli("glossary", "check", "glossary/defence.tsv")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().splitlines() == [
        f"glossary/defence.tsv: {n_concepts()} concepts, 0 error(s), 0 warning(s)"
    ]


def test_every_required_concept_is_present(cli) -> None:
    concepts = listed(cli, DEFENCE)
    by_target = {c["target"]: c for c in concepts}
    for sources, target, forbidden in REQUIRED:
        assert target in by_target, f"no concept with target {target!r}"
        concept = by_target[target]
        assert set(sources) <= set(concept["sources"]), (target, concept["sources"])
        assert set(forbidden) <= set(concept["forbidden"]), (target, concept["forbidden"])


def test_check_reports_file_line_and_exits_1(cli, tmp_path: Path) -> None:
    path = tmp_path / "bad.tsv"
    path.write_text("# comment\nid\tsource\ttarget\tforbidden\tnote\nprc\tTiongkok\tChina\n"
                    "just some words\nprc2\ttiongkok\tPRC\nnss\tStrategi\tStrategy\tStrategy\n", encoding="utf-8")
    result = cli("glossary", "check", str(path))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{path}:4: error: malformed row")
    assert lines[1].startswith(f"{path}:5: error: source form 'tiongkok' maps to different targets")
    assert lines[2].startswith(f"{path}:6: error: concept 'nss': forbidden form 'Strategy' equals the target")
    assert lines[-1] == f"{path}: 3 concepts, 3 error(s), 0 warning(s)"
    assert "Traceback" not in result.stderr
    # other commands refuse a malformed termbase with one line naming file:line
    result = cli("glossary", "list", "--glossary", str(path))
    assert result.returncode == 1
    assert result.stderr.strip() == f"aligner: error: {path}:4: malformed row: expected at least 3 tab-separated " \
                                    "columns (id, source, target), found 1"


def test_check_missing_file(cli, tmp_path: Path) -> None:
    result = cli("glossary", "check", "--glossary", str(tmp_path / "none.tsv"))
    assert result.returncode != 0
    assert result.stderr.strip().startswith(f"aligner: error: {tmp_path / 'none.tsv'}: ")
    assert "Traceback" not in result.stderr


def test_add_and_remove_keep_comments_and_order(cli, gloss: Path) -> None:
    original = gloss.read_text(encoding="utf-8")
    result = cli("glossary", "add", "--source", "Asia Tenggara|Asteng", "--source", "asia tenggara raya",
                 "--target", "Southeast Asia", "--forbidden", "South-East Asia", "--note", "ASEAN region",
                 "--glossary", str(gloss))
    assert result.returncode == 0, result.stderr
    assert "southeast-asia" in result.stdout  # id derived from the target
    assert gloss.read_text(encoding="utf-8") == original + (
        "southeast-asia\tAsia Tenggara|Asteng|asia tenggara raya\tSoutheast Asia\tSouth-East Asia\tASEAN region\n"
    )
    result = cli("glossary", "remove", "southeast-asia", "--glossary", str(gloss))
    assert result.returncode == 0, result.stderr
    assert gloss.read_text(encoding="utf-8") == original

    # removing a concept in the middle leaves every other line (comments included) untouched
    result = cli("glossary", "remove", "ipcp", "--glossary", str(gloss))
    assert result.returncode == 0, result.stderr
    assert gloss.read_text(encoding="utf-8").splitlines() == [
        line for line in original.splitlines() if not line.startswith("ipcp\t")
    ]


def test_add_refuses_what_would_break_the_termbase(cli, gloss: Path) -> None:
    original = gloss.read_text(encoding="utf-8")
    for args, message in [
        (["--id", "prc", "--source", "RRT", "--target", "PRC"], "concept id 'prc' already exists"),
        (["--source", "tiongkok", "--target", "PRC"], "maps to different targets"),
        (["--source", "Republik Rakyat", "--target", "PRC", "--forbidden", "PRC"], "equals the target"),
        (["--source", "|", "--target", "PRC"], "no source form"),
    ]:
        result = cli("glossary", "add", *args, "--glossary", str(gloss))
        assert result.returncode == 1, (args, result.stdout, result.stderr)
        assert message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr
    assert gloss.read_text(encoding="utf-8") == original
    result = cli("glossary", "remove", "no-such-id", "--glossary", str(gloss))
    assert result.returncode == 1 and "no concept with id 'no-such-id'" in result.stderr


@pytest.mark.parametrize("fmt", ["tbx", "csv"])
def test_export_import_round_trip(cli, gloss: Path, tmp_path: Path, fmt: str) -> None:
    exported = tmp_path / f"out.{fmt}"
    result = cli("glossary", "export", "--format", fmt, "--out", str(exported), "--glossary", str(gloss))
    assert result.returncode == 0, result.stderr
    fresh = tmp_path / "fresh.tsv"
    result = cli("glossary", "import", str(exported), "--into", str(fresh))
    assert result.returncode == 0, result.stderr
    assert listed(cli, fresh) == listed(cli, gloss)
    # importing into the source termbase changes nothing
    original = gloss.read_bytes()
    result = cli("glossary", "import", str(exported), "--into", str(gloss))
    assert result.returncode == 0, result.stderr
    assert " 0 added, 0 updated," in result.stdout
    assert gloss.read_bytes() == original


def test_import_conflicts_and_update(cli, gloss: Path, tmp_path: Path) -> None:
    original = gloss.read_text(encoding="utf-8")
    sheet = tmp_path / "new.csv"
    sheet.write_text("id,source,target,forbidden,note\nprc,Tiongkok|RRT,China,PRC,\n"
                     ",Asia Tenggara,Southeast Asia,,\n", encoding="utf-8")
    result = cli("glossary", "import", str(sheet), "--glossary", str(gloss))
    assert result.returncode == 1
    assert "prc" in result.stderr and "--update" in result.stderr
    assert gloss.read_text(encoding="utf-8") == original
    result = cli("glossary", "import", str(sheet), "--glossary", str(gloss), "--update")
    assert result.returncode == 0, result.stderr
    assert "1 added, 1 updated, 0 unchanged" in result.stdout
    expected = [("prc\tTiongkok|RRT\tChina\tPRC\t" if line.startswith("prc\t") else line)
                for line in original.splitlines()] + ["southeast-asia\tAsia Tenggara\tSoutheast Asia\t\t"]
    assert gloss.read_text(encoding="utf-8").splitlines() == expected


def test_import_bad_files(cli, gloss: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.tbx"
    broken.write_text("<martif>\n<text>\n</martif>\n", encoding="utf-8")
    result = cli("glossary", "import", str(broken), "--into", str(gloss))
    assert result.returncode == 1
    assert result.stderr.startswith(f"aligner: error: {broken}:3: ")
    other = tmp_path / "terms.xlsx"
    other.write_text("x", encoding="utf-8")
    result = cli("glossary", "import", str(other), "--into", str(gloss))
    assert result.returncode == 1 and "unknown format" in result.stderr


def test_list_formats(cli) -> None:
    result = cli("glossary", "list", "--format", "tsv")
    assert result.returncode == 0
    rows = result.stdout.splitlines()
    assert rows[0] == "id\tsource\ttarget\tforbidden\tnote"
    assert "prc\tTiongkok\tChina\t\t" in rows
    result = cli("glossary", "list", env={"COLUMNS": "200"})
    assert result.returncode == 0 and "Joint Chiefs of Staff" in result.stdout and f"({n_concepts()} concepts)" in result.stdout
    result = cli("glossary", "list", "--format", "yaml")
    assert result.returncode == 2 and "unknown --format" in result.stderr
