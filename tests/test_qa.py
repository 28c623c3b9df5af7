"""QA checks: each planted fault is found, a clean TMX is clean, number conventions."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aligner.formats.tmx import write_tmx
from aligner.quality.qa import check_stream, check_units, numbers, parse_number
from aligner.types import Unit
from tests.conftest import ROOT

CLEAN = [
    ("Korsel dan Jepang menandatangani perjanjian senilai 1.000,5 juta dolar pada tahun 2023.",
     "South Korea and Japan signed a deal worth 1,000.5 million dollars in 2023."),
    ("Sekitar 45 persen peluru 155-mm dikirim ke Ukraina pada 1990-an.[3]",
     "About 45% of the 155mm shells were sent to Ukraine in the 1990s.[3]"),
    ("Laporan lengkap tersedia di https://www.nato.int/cps/en/natohq/topics_50090.htm bagi publik.",
     "The full report is available at https://www.nato.int/cps/en/natohq/topics_50090.htm for the public."),
    ("Kishida mengatakan, “Keamanan Eropa dan Asia tidak dapat dipisahkan” (dikutip Reuters).",
     "Kishida said, “The security of Europe and Asia cannot be separated” (quoted by Reuters)."),
    ("Tiongkok menggelar latihan militer di dekat Selat Taiwan pada 15 Februari 2023.",
     "China held military drills near the Taiwan Strait on February 15, 2023."),
    ("Rabu (1/2/2023), Sekretaris Jenderal NATO tiba di Seoul untuk kunjungan dua hari.",
     "On Wednesday (1/2/2023), the NATO Secretary General arrived in Seoul for a two-day visit."),
    ("2 Negara Asia ‘Terseret’ NATO di Perang Rusia-Ukraina",
     "Two Asian Countries ‘Dragged’ by NATO into the Russia-Ukraine War"),
    ("Perdana Menteri Jepang mengunjungi King’s College London bersama 3 menteri.",
     "The Japanese Prime Minister visited King’s College London with 3 ministers."),
    # seed 000 writes thousands the English way inside Indonesian text
    ("Sekitar 6,700 tentara dikerahkan ke perbatasan.", "About 6,700 troops were deployed to the border."),
]

# (source, target, the checks that must fire - and no others)
FAULTS = [
    ("Korut meluncurkan rudal balistik baru minggu ini.", "Pyongyang launched a new ballistic missile this week.",
     {"term-missing"}),
    ("Program Kemitraan yang Disesuaikan Secara Individu diperbarui tahun lalu.",
     "The Individually Tailored Partnership Program was renewed last year.", {"term-missing", "forbidden-form"}),
    ("Anggaran pertahanan naik 2,5 persen menjadi 1.200 miliar rupiah.",
     "The defence budget rose 25% to 1,200 billion rupiah.", {"number-mismatch"}),
    ("Anggaran naik 1.000 persen dalam sepuluh tahun.", "The budget rose 1.000% in ten years.", {"number-mismatch"}),
    ("Hubungan dengan Jepang telah berkembang sejak tahun 1990-an.[1]",
     "Relations with Japan have grown since the 1990s.", {"footnote-lost"}),
    ("Jepang menyambut baik langkah tersebut dengan hangat.", "Japan warmly welcomed the move.[2]",
     {"footnote-added"}),
    ("Pernyataan lengkap dapat dibaca di https://www.nato.int/a/statement.htm hari ini.",
     "The full statement can be read at https://www.nato.int/b/statement.htm today.", {"url-changed"}),
    ("Kedua negara sepakat memperkuat kerja sama.", "", {"empty-target"}),
    ("Kedua negara sepakat untuk bekerja sama.", "Kedua negara sepakat untuk bekerja sama.", {"untranslated"}),
    ("Para pemimpin empat negara Asia-Pasifik diundang untuk berpartisipasi sebagai mitra dalam pertemuan puncak tersebut.",
     "Leaders came.", {"length-ratio"}),
    ("Yoon menyatakan persetujuannya (dengan pandangan keamanan tersebut).",
     "Yoon expressed his agreement (with that security view.", {"unbalanced"}),
    ("Jepang mengirim bantuan kemanusiaan ke Ukraina.", "Japan sent humanitarian aid to to Ukraine.",
     {"doubled-word"}),
    ("Perdana Menteri Kishida tiba di Vilnius.", "“Prime Minister Kishida arrived in Vilnius.", {"unbalanced"}),
]


def _units(pairs) -> list[Unit]:
    return [Unit(s, t, (("x-doc", "qa-doc"), ("x-kind", "sentence"), ("x-status", "draft")), tuid=f"qa:{i}")
            for i, (s, t, *_) in enumerate(pairs)]


def test_clean_units_have_no_issues(termbase):
    issues = check_units(_units(CLEAN), termbase)
    assert issues == [[] for _ in CLEAN], issues


def test_each_planted_fault_is_found_and_nothing_else(termbase):
    units = _units(CLEAN + FAULTS)
    issues = check_units(units, termbase)
    for (source, target, expected), found in zip(FAULTS, issues[len(CLEAN):]):
        assert {i.check for i in found} == expected, (source, target, found)
    assert all(not found for found in issues[: len(CLEAN)])


def test_severities(termbase):
    by_check = {i.check: i.severity for found in check_units(_units(CLEAN + FAULTS), termbase) for i in found}
    assert by_check["number-mismatch"] == by_check["footnote-lost"] == by_check["empty-target"] == "error"
    assert by_check["doubled-word"] == by_check["length-ratio"] == "warning"


def test_boilerplate_units_are_not_checked():
    unit = Unit("ADVERTISEMENT", "", (("x-kind", "boilerplate"),))
    assert check_units([unit]) == [[]]


@pytest.mark.parametrize(
    ("token", "lang", "value"),
    [("1.000,5", "id", 1000.5), ("1,000.5", "en", 1000.5), ("1.000", "id", 1000.0), ("1,000", "en", 1000.0),
     ("2,5", "id", 2.5), ("2.5", "en", 2.5), ("12.345.678", "id", 12345678.0), ("2023", "id", 2023.0)],
)
def test_parse_number_conventions(token, lang, value):
    assert parse_number(token, lang) == value


@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=0, max_value=99))
def test_indonesian_and_english_spellings_of_a_number_agree(whole, cents):
    english = f"{whole:,}" + (f".{cents:02d}" if cents else "")
    indonesian = english.replace(",", "\0").replace(".", ",").replace("\0", ".")
    assert numbers(f"naik {indonesian} persen", "id") == numbers(f"rose {english}%", "en")


def test_qa_cli_clean_and_faulty(tmp_path: Path, cli):
    clean, faulty = tmp_path / "clean.tmx", tmp_path / "faulty.tmx"
    write_tmx(_units(CLEAN), clean)
    write_tmx(_units(CLEAN + FAULTS), faulty)
    glossary = str(ROOT / "glossary" / "defence.tsv")
    ok = cli("qa", str(clean), "--glossary", glossary)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "0 error(s), 0 warning(s)" in ok.stdout
    bad = cli("qa", str(clean), str(faulty), "--glossary", glossary, "--format", "json")
    assert bad.returncode == 1, bad.stderr
    rows = json.loads(bad.stdout)
    assert {r["file"] for r in rows} == {str(faulty)}
    expected = set().union(*(f[2] for f in FAULTS))
    assert {r["check"] for r in rows} == expected
    assert all(r["tuid"].startswith("qa:") and r["severity"] in ("error", "warning") for r in rows)


def test_qa_cli_warnings_only_exit_zero(tmp_path: Path, cli):
    path = tmp_path / "w.tmx"
    write_tmx(_units([("Jepang mengirim bantuan ke Ukraina.", "Japan sent aid to to Ukraine.")]), path)
    result = cli("qa", str(path), "--glossary", str(ROOT / "glossary" / "defence.tsv"))
    assert result.returncode == 0 and "doubled-word" in result.stdout


def test_qa_cli_bad_file_one_line(tmp_path: Path, cli):
    path = tmp_path / "broken.tmx"
    path.write_text("<tmx><body><tu>", encoding="utf-8")
    result = cli("qa", str(path))
    assert result.returncode == 2
    assert "broken.tmx" in result.stderr and "Traceback" not in result.stderr


_PIECES = list("0123456789.,%-/[]()“”\"‘’ abcAB:\n") + [" persen", " percent", " Februari ", "https://x.id/"]
_TEXT = st.lists(st.sampled_from(_PIECES), max_size=30).map("".join)


@given(_TEXT, _TEXT)
def test_checks_never_crash(source, target):
    for issues in check_units(_units([(source, target)] * 6)):
        assert all(i.severity in ("error", "warning") and i.message for i in issues)


def _stream_as_lists(units, termbase=None) -> list[list]:
    got = [[] for _ in units]
    for n, tuid, issues in check_stream(iter(units), termbase):
        assert tuid == units[n - 1].tuid
        got[n - 1] = issues
    return got


def test_streamed_checks_are_those_of_check_units(termbase):
    # Two documents interleaved, a boilerplate unit and an empty target: every norm and early return.
    pairs = CLEAN + FAULTS
    units = [replace(u, props=(("x-doc", f"d{i % 2}"), ("x-kind", "boilerplate" if i == 3 else "sentence")))
             for i, u in enumerate(_units(pairs + pairs))]
    assert _stream_as_lists(units, termbase) == check_units(units, termbase)
    assert any(i.check == "length-ratio" for issues in check_units(units, termbase) for i in issues)


@given(st.lists(st.tuples(_TEXT, _TEXT, st.sampled_from(["a", "b"])), max_size=12))
def test_streamed_checks_agree_on_any_text(rows):
    units = [Unit(s, t, (("x-doc", d),), tuid=f"u{i}") for i, (s, t, d) in enumerate(rows)]
    assert _stream_as_lists(units) == check_units(units)


def test_qa_cli_no_pair_and_declared_entity_are_one_line_each_and_the_rest_is_checked(tmp_path: Path, cli):
    french = tmp_path / "fr.tmx"
    french.write_text('<?xml version="1.0"?><tmx version="1.4"><header srclang="fr"/><body>'
                      '<tu><tuv xml:lang="fr"><seg>Bonjour</seg></tuv><tuv xml:lang="en"><seg>Hello</seg></tuv></tu>'
                      '</body></tmx>', encoding="utf-8")
    entity = tmp_path / "ent.tmx"
    entity.write_text('<?xml version="1.0"?>\n<!DOCTYPE tmx [<!ENTITY co "PT Pindad">]>\n'
                      '<tmx version="1.4"><header srclang="id"/><body>\n'
                      '<tu><tuv xml:lang="id"><seg>Buatan &co;.</seg></tuv><tuv xml:lang="en"><seg>Made by.</seg></tuv></tu>'
                      '</body></tmx>', encoding="utf-8")
    faulty = tmp_path / "faulty.tmx"
    write_tmx(_units(FAULTS), faulty)
    result = cli("qa", str(french), str(entity), str(faulty), "--format", "json")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines[0] == f"aligner: error: {french}: no id->en pair: the file has fr, en"
    assert lines[1].startswith(f"aligner: error: {entity}:4:") and "&co;" in lines[1]
    assert len(lines) == 2
    assert {r["file"] for r in json.loads(result.stdout)} == {str(faulty)}


def test_qa_cli_table_counts_every_finding(tmp_path: Path, cli):
    path = tmp_path / "faulty.tmx"
    units = _units(FAULTS * 30)
    write_tmx(units, path)
    glossary = str(ROOT / "glossary" / "defence.tsv")
    table = cli("qa", str(path), "--glossary", glossary)
    rows = json.loads(cli("qa", str(path), "--glossary", glossary, "--format", "json").stdout)
    errors = sum(r["severity"] == "error" for r in rows)
    assert table.stdout.splitlines()[-1] == f"{errors} error(s), {len(rows) - errors} warning(s) in 1 file(s)"
    assert len(table.stdout.splitlines()) == len(rows) + 1


def test_a_dotted_section_number_is_compared_as_written():
    assert check_units([Unit("Lihat bagian 1.2.3.", "See section 1.2.3.")])[0] == []
    assert [i.check for i in check_units([Unit("", "0.0.0")])[0]] == ["number-mismatch"]


def test_repeated_pairs_are_found_alike_whatever_the_cache(termbase):
    # The same pairs again in other documents and kinds: the findings reused must be those found anew,
    # with each repeat's own length check (its document's norm), however small the cache.
    pairs = CLEAN + FAULTS
    units = [replace(u, props=(("x-doc", f"d{i % 3}"), ("x-kind", "boilerplate" if i % 7 == 3 else "sentence")),
                     tuid=f"u{i}")
             for i, u in enumerate(_units(pairs * 4))]
    expected = check_units(units, termbase)
    for cache in (0, 1, 5, 10_000):
        got = [[] for _ in units]
        for n, tuid, issues in check_stream(iter(units), termbase, cache=cache):
            assert tuid == units[n - 1].tuid
            got[n - 1] = issues
        assert got == expected, cache


# Some sources come with two targets (and a target with two sources): a pair is the whole key.
_PAIR_POOL = [(s, t) for s, t, *_ in CLEAN + FAULTS] + [
    ("", ""), ("Dua 2 dua.", "Two 2 two two."), ("Kedua negara sepakat untuk bekerja sama.", "The two agreed."),
    ("Jepang mengirim bantuan kemanusiaan ke Ukraina.", "The two agreed.")]


@given(st.lists(st.tuples(st.sampled_from(_PAIR_POOL), st.sampled_from(["a", "b"]),
                          st.sampled_from(["sentence", "boilerplate"])), max_size=30),
       st.integers(min_value=0, max_value=4))
def test_streamed_checks_with_repeats_agree_with_check_units(rows, cache):
    units = [Unit(s, t, (("x-doc", d), ("x-kind", k)), tuid=f"u{i}") for i, ((s, t), d, k) in enumerate(rows)]
    got = [[] for _ in units]
    for n, _, issues in check_stream(iter(units), cache=cache):
        got[n - 1] = issues
    assert got == check_units(units)


def test_qa_cli_many_findings_written_in_chunks_are_all_there(tmp_path: Path, cli):
    # More findings than one chunk of output holds: every one is written, once, in order, in both formats.
    path = tmp_path / "many.tmx"
    units = [Unit(f"Jepang mengirim bantuan ke Ukraina {i}.", f"Japan sent aid to to Ukraine {i}.",
                  (("x-doc", "d"),), tuid=f"m:{i}") for i in range(5000)]
    write_tmx(units, path)
    rows = json.loads(cli("qa", str(path), "--format", "json").stdout)
    assert [r["tuid"] for r in rows] == [u.tuid for u in units]
    lines = cli("qa", str(path)).stdout.splitlines()
    assert len(lines) == 5001 and lines[-1] == "0 error(s), 5000 warning(s) in 1 file(s)"
    assert [line.split()[1] for line in lines[:-1]] == [u.tuid for u in units]
