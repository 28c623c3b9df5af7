"""SRX 2.0 export: an independent SRX engine (choppa-srx) splits the seeds' paragraphs as we do."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from aligner.segment import Rules, segment
from aligner.segment.srx import bounded, language_pattern, srx_bytes
from tests.conftest import SEEDS

choppa = pytest.importorskip("choppa", reason="the SRX engine choppa-srx (pip install choppa-srx; test extra)")


def _engine(tmp_path: Path, lang: str = "id"):
    from choppa import SrxDocument

    path = tmp_path / f"{lang}.srx"
    path.write_bytes(srx_bytes({lang: Rules.load(lang)}))
    return SrxDocument(ruleset=str(path))


def _split(document, lang: str, text: str) -> list[str]:
    from choppa import AccurateSrxTextIterator

    return [s.strip() for s in AccurateSrxTextIterator(document, lang, text) if s.strip()]


def agreement(document, lang: str = "id") -> tuple[int, int, list[tuple[list[str], list[str]]]]:
    """(paragraphs split alike, paragraphs, the differences) over the seeds."""
    same = total = 0
    differ = []
    for seed in SEEDS:
        text = seed.read_text(encoding="utf-8")
        ours: dict[int, list[str]] = {}
        for s in segment(text, lang=lang):
            ours.setdefault(s.paragraph, []).append(s.text)
        for n, line in enumerate(line.strip() for line in text.splitlines() if line.strip()):
            theirs = _split(document, lang, line)
            total += 1
            if theirs == ours[n]:
                same += 1
            else:
                differ.append((ours[n], theirs))
    return same, total, differ


def test_srx_is_valid_srx_20(tmp_path: Path):
    schema = etree.XMLSchema(etree.parse(str(choppa.SRX_2_XSD)))
    for lang in ("id", "en"):
        doc = etree.fromstring(srx_bytes({lang: Rules.load(lang)}))
        assert schema.validate(doc), schema.error_log.filter_from_errors()


def test_an_independent_srx_engine_splits_the_seeds_as_we_do(tmp_path: Path):
    same, total, differ = agreement(_engine(tmp_path))
    assert total > 100
    assert same / total >= 0.98, f"{same}/{total} paragraphs alike; first differences: {differ[:3]}"


@pytest.mark.parametrize(
    "text",
    [
        "Jenderal. Budi tiba. Kol. Inf. Ahmad pergi.",  # abbreviations (ranks) never end a sentence
        "Ia datang.[6] Namun pergi.",  # a footnote marker after the period
        "“Kami siap,” katanya. Dia pergi? naskah itu hilang.",  # quotes; ? before lower case
        "Harga naik 1.000.000. 000 rupiah. Lalu turun.",  # a number cut by a space
        "Ia bertemu (Bl.) RM Smith. Dia senang.",
        "[3] Smith, J. (2020). Judul. Penerbit.",  # a reference line is never split
    ],
)
def test_hard_cases_agree(tmp_path: Path, text: str):
    assert _split(_engine(tmp_path), "id", text) == [s.text for s in segment(text)]


def test_english_rules_export_too(tmp_path: Path):
    text = "Gen. Smith arrived at 5 p.m. on Monday. He left. Mr. Jones stayed."
    assert _split(_engine(tmp_path, "en"), "en", text) == [s.text for s in segment(text, lang="en")]


def test_line_breaks_end_segments_and_codes_match_any_region(tmp_path: Path):
    doc = _engine(tmp_path)
    assert _split(doc, "id-ID", "Judul tanpa titik\nKalimat pertama. Kalimat kedua.") == [
        "Judul tanpa titik", "Kalimat pertama.", "Kalimat kedua."]
    import re

    assert all(re.fullmatch(language_pattern("id"), c) for c in ("id", "ID", "id-ID", "id_ID"))
    assert not re.fullmatch(language_pattern("id"), "idx")
    assert bounded(r"\[\d+\].*[*+]\*") == r"\[\d{1,2000}\].{0,2000}[*+]\*"


def test_cli_export_srx(tmp_path: Path, cli):
    out = tmp_path / "rules.srx"
    res = cli("segment", "--export-srx", str(out), "--lang", "en")
    assert res.returncode == 0, res.stderr
    assert b'languagerulename="aligner-en"' in out.read_bytes()
    conf = tmp_path / "segmentation.conf"
    assert cli("segment", "--export-srx", str(conf)).returncode == 0
    assert b"org.omegat.core.segmentation.MapRule" in conf.read_bytes()
    res = cli("segment", "--export-srx", str(out), "--lang", "xx")
    assert res.returncode == 2 and res.stderr.startswith("aligner: error: no segmentation rules")
