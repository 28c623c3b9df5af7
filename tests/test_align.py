"""Sentence alignment: bead invariants, anchors, nulls and merges, drafts (chrF), TMX output, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from aligner.align.sentences import (
    GALE_CHURCH,
    Params,
    align,
    anchors,
    bead_units,
    needs_review,
)
from aligner.formats.tmx import read_tmx
from aligner.segment import segment
from tests.conftest import ROOT

ID = [
    "Menteri Pertahanan Amerika Serikat, Robert Gates, bertemu Raja Yordania Abdullah II pada hari Selasa.",
    "Para pakar memperkirakan 200 ribu orang tewas dan 2,5 juta mengungsi di Darfur sejak 2003.",
    "Dia berbicara setelah kedatangan Ketua Uni Afrika Alpha Oumar Konare untuk perundingan.",
    "Sekitar 1.500 tentara NATO dikerahkan ke Kabul bulan lalu, kata juru bicara itu.",
    "Laporan lengkap tersedia di https://example.org/laporan-2007 sejak pekan lalu.[3]",
    "Pemerintah menolak tuduhan tersebut dan menyebutnya tidak berdasar sama sekali.",
    "PBB mengatakan bahwa Khartoum setuju pada tiga tahap rencana yang berakhir dengan pasukan gabungan.",
    "Juru bicara kementerian luar negeri menolak memberikan komentar lebih lanjut kepada wartawan.",
]
EN = [
    "US Defense Secretary Robert Gates met Jordan's King Abdullah II on Tuesday.",
    "Experts estimate 200,000 people have died and 2.5 million fled in Darfur since 2003.",
    "He was speaking after the arrival of African Union Chairman Alpha Oumar Konare for talks.",
    "About 1,500 NATO troops were deployed to Kabul last month, the spokesman said.",
    "The full report has been available at https://example.org/laporan-2007 since last week.[3]",
    "The government rejected the accusation, calling it entirely baseless.",
    "The United Nations says Khartoum agreed to a three-phase plan ending with a hybrid force.",
    "A foreign ministry spokesman declined to comment further to reporters.",
]


def _pairs(beads):
    return [(b.src, b.tgt) for b in beads]


def _check_partition(beads, n: int, m: int) -> None:
    assert [i for b in beads for i in b.src] == list(range(n))
    assert [j for b in beads for j in b.tgt] == list(range(m))
    assert {b.kind for b in beads} <= {"1-1", "1-0", "0-1", "2-1", "1-2", "2-2"}
    assert all(b.src or b.tgt for b in beads)


def test_parallel_text_aligns_one_to_one():
    beads = align(ID, EN)
    assert _pairs(beads) == [((i,), (i,)) for i in range(len(ID))]
    assert all(0.5 < b.score <= 1.0 for b in beads)


def test_dropped_english_sentence_gives_a_1_0_bead():
    tgt = EN[:3] + EN[4:]
    beads = align(ID, tgt)
    _check_partition(beads, len(ID), len(tgt))
    assert ((3,), ()) in _pairs(beads)
    assert ((4,), (3,)) in _pairs(beads)


def test_dropped_indonesian_sentence_gives_a_0_1_bead():
    src = ID[:1] + ID[2:]
    beads = align(src, EN)
    assert ((), (1,)) in _pairs(beads)
    assert ((1,), (2,)) in _pairs(beads)


def test_merged_sentences_give_2_1_and_1_2_beads():
    tgt = EN[:2] + [EN[2] + " " + EN[3]] + EN[4:]
    assert ((2, 3), (2,)) in _pairs(align(ID, tgt))
    src = ID[:5] + [ID[5] + " " + ID[6]] + ID[7:]
    assert ((5,), (5, 6)) in _pairs(align(src, EN))


def test_number_anchors_read_both_separator_conventions():
    assert {"n:2.5e+06", "n:200000"} <= anchors("200 ribu orang dan 2,5 juta").keys()
    assert {"n:2.5e+06", "n:200000"} <= anchors("200,000 people and 2.5 million").keys()
    assert "n:1500" in anchors("1.500 tentara").keys() and "n:1500" in anchors("1,500 troops").keys()
    keys = anchors("NATO and the U.N. met [4] at https://x.org/a.")
    assert {"a:NATO", "a:UN", "f:4", "u:https://x.org/a"} <= keys.keys()


def test_anchors_beat_length_alone():
    # Two English sentences of similar length: only the anchors tell which one was dropped.
    src = ["Pada tahun 1998 sebanyak 4.000 orang ikut.", "Pada tahun 2004 sebanyak 7.000 orang ikut."]
    tgt = ["In 2004 some 7,000 people took part."]
    assert _pairs(align(src, tgt)) == [((0,), ()), ((1,), (0,))]


@settings(max_examples=60, deadline=None)
@given(
    src=st.lists(st.text(min_size=1, max_size=80), max_size=25),
    tgt=st.lists(st.text(min_size=1, max_size=80), max_size=25),
)
def test_every_index_exactly_once_in_order(src, tgt):
    _check_partition(align(src, tgt), len(src), len(tgt))
    _check_partition(align(src, tgt, params=GALE_CHURCH), len(src), len(tgt))


def test_band_widens_when_the_path_leaves_it():
    # 30 unmatched English sentences at the start and 30 unmatched Indonesian ones at the end
    # keep the length ratio but push the path 30 cells off the diagonal.
    extra_en = [f"Unrelated English filler sentence number {k} about nothing much." for k in range(30)]
    extra_id = [f"Kalimat pengisi nomor {k} dalam bahasa Indonesia tanpa padanan." for k in range(30)]
    src = ID * 3 + extra_id
    tgt = extra_en + EN * 3
    beads = align(src, tgt)  # starts with a band of 12
    _check_partition(beads, len(src), len(tgt))
    assert beads == align(src, tgt, params=Params(band=200))
    assert ((0,), (30,)) in _pairs(beads) and ((23,), (53,)) in _pairs(beads)
    assert ((), (0,)) in _pairs(beads) and ((53,), ()) in _pairs(beads)


def test_drafts_add_chrf_evidence():
    # No anchors and equal lengths: without drafts the dropped sentence cannot be told apart.
    src = ["kalimat pertama yang cukup panjang", "kalimat kedua yang cukup panjang", "kalimat ketiga yang cukup panjang"]
    tgt = ["the opening line is long enough", "the closing line is long enough"]
    drafts = ["the opening line is long enough", "a middle line that is dropped", "the closing line is long enough"]
    assert _pairs(align(src, tgt, drafts)) == [((0,), (0,)), ((1,), ()), ((2,), (1,))]
    with pytest.raises(ValueError):
        align(src, tgt, drafts[:2])


def test_bead_units_carry_score_kind_and_review_flags():
    src = segment("\n".join(ID))
    tgt = segment("\n".join(EN[:3] + EN[4:]), lang="en")
    beads = align([s.text for s in src], [t.text for t in tgt])
    units = bead_units("doc.txt", src, tgt, beads, model="m")
    assert len(units) == len(beads)
    null = next(u for u in units if u.prop("x-bead") == "1-0")
    assert null.target == "" and any("review" in n for n in null.notes)
    ok = units[0]
    assert ok.prop("x-bead") == "1-1" and float(ok.prop("x-align-score")) > 0.5 and ok.prop("x-model") == "m"
    assert not ok.notes and not needs_review(beads[0])


def test_glossary_terms_are_anchors(termbase):
    from aligner.align.sentences import glossary_terms

    src = ["Kerja sama dalam kerangka IPCP dibahas.", "Hal itu dibicarakan panjang lebar oleh para menteri."]
    tgt = ["They also talked about it at length, the ministers."]
    src_terms = glossary_terms(termbase, src, "id")
    assert "ipcp" in src_terms[0]
    beads = align(src, tgt, src_terms=src_terms, tgt_terms=glossary_terms(termbase, tgt, "en"))
    _check_partition(beads, 2, 1)


# --- CLI -----------------------------------------------------------------------


def _dtd():
    for parent in ROOT.parents:
        path = parent / "shared" / "spec" / "tmx14.dtd"
        if path.exists():
            return etree.DTD(str(path))
    pytest.skip("shared/spec/tmx14.dtd not present")


def test_cli_align_writes_valid_tmx_with_scores(tmp_path: Path, cli):
    (tmp_path / "a.id.txt").write_text("\n".join(ID) + "\n", encoding="utf-8")
    (tmp_path / "a.en.txt").write_text("\n".join(EN[:3] + EN[4:]) + "\n", encoding="utf-8")
    out = tmp_path / "a.tmx"
    result = cli("align", str(tmp_path / "a.id.txt"), str(tmp_path / "a.en.txt"), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "1 flagged for review" in result.stdout
    dtd = _dtd()
    assert dtd.validate(etree.parse(str(out))), dtd.error_log.filter_from_errors()
    units = read_tmx(out)
    assert [u.prop("x-bead") for u in units].count("1-0") == 1
    assert all(u.prop("x-align-score") for u in units)
    assert units[0].source == ID[0] and units[0].target == EN[0]


def test_cli_align_with_tiny_model_uses_drafts(tmp_path: Path, cli, tiny_model_dir: Path):
    # Wiring, not quality: the tiny model's drafts are gibberish, but they must reach the TMX path.
    src = ["Korea Selatan dan NATO.", "Jepang mengirim bantuan.", "Tentara tiba."]
    tgt = ["South Korea and NATO.", "Japan sent aid.", "Troops arrived."]
    (tmp_path / "a.id.txt").write_text("\n".join(src) + "\n", encoding="utf-8")
    (tmp_path / "a.en.txt").write_text("\n".join(tgt) + "\n", encoding="utf-8")
    out = tmp_path / "a.tmx"
    result = cli(
        "align", str(tmp_path / "a.id.txt"), str(tmp_path / "a.en.txt"), "--out", str(out),
        "--model", str(tiny_model_dir), "--beam", "1", "--glossary", str(ROOT / "glossary" / "defence.tsv"),
    )
    assert result.returncode == 0, result.stderr
    units = read_tmx(out)
    assert [(u.source, u.target) for u in units] == list(zip(src, tgt))
    assert all(u.prop("x-model") for u in units)


def test_cli_align_bad_input_is_one_line(tmp_path: Path, cli):
    (tmp_path / "bad.txt").write_bytes(b"\xff\xfe\xfa not utf-8")
    (tmp_path / "en.txt").write_text("Hello.\n", encoding="utf-8")
    result = cli("align", str(tmp_path / "bad.txt"), str(tmp_path / "en.txt"), "--out", str(tmp_path / "x.tmx"))
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "bad.txt" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "x.tmx").exists()


def test_cli_score_text_and_tmx(tmp_path: Path, cli):
    ref = tmp_path / "ref.txt"
    hyp = tmp_path / "hyp.txt"
    ref.write_text("NATO met the IP4 partners in Brussels.\nThe IPCP was signed.\n", encoding="utf-8")
    hyp.write_text("NATO met IP4 partners in Brussels.\nThe programme was signed.\n", encoding="utf-8")
    result = cli("score", str(hyp), "--ref", str(ref), "--glossary", str(ROOT / "glossary" / "defence.tsv"), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout.strip().splitlines()[-1])
    assert {"bleu", "chrf", "ter"} <= data.keys()
    assert data["bleu"]["signature"].startswith("nrefs:1") and "chrF" in data["chrf"]["signature"] or data["chrf"]["signature"]
    assert 0 < data["bleu"]["score"] < 100
    assert data["term_accuracy"] == {"accuracy": 0.5, "found": 1, "expected": 2}
    # A perfect hypothesis scores 100 / 0.
    same = cli("score", str(ref), "--ref", str(ref), "--json")
    perfect = json.loads(same.stdout.strip().splitlines()[-1])
    assert perfect["bleu"]["score"] == 100 and perfect["ter"]["score"] == 0
    # TMX input (English side), and the human-readable table.
    from aligner.formats.tmx import write_tmx
    from aligner.types import Unit

    write_tmx([Unit("a", "NATO met IP4 partners in Brussels."), Unit("b", "The programme was signed.")], tmp_path / "h.tmx")
    table = cli("score", str(tmp_path / "h.tmx"), "--ref", str(ref))
    assert table.returncode == 0, table.stderr
    assert "BLEU" in table.stdout and "nrefs:1" in table.stdout and "TER" in table.stdout


def test_cli_score_mismatched_lengths_fail(tmp_path: Path, cli):
    (tmp_path / "h.txt").write_text("one\ntwo\n", encoding="utf-8")
    (tmp_path / "r.txt").write_text("one\n", encoding="utf-8")
    result = cli("score", str(tmp_path / "h.txt"), "--ref", str(tmp_path / "r.txt"))
    assert result.returncode == 2 and "2 segments" in result.stderr and "Traceback" not in result.stderr


def test_term_accuracy_uses_source_when_known(termbase):
    from aligner.quality.score import term_accuracy

    refs = ["The IPCP and the IP4 met."]
    hyps = ["The IPCP met."]
    assert term_accuracy(termbase, hyps, refs).expected == 2
    acc = term_accuracy(termbase, hyps, refs, sources=["IPCP bertemu."])
    assert (acc.found, acc.expected, acc.accuracy) == (1, 1, 1.0)


def test_contradicting_anchors_are_flagged_for_review():
    # Without drafts, confidence rests on length and anchors: numbers and names that disagree
    # must push a forced pairing below the review threshold (anchorless pairs cannot be judged).
    wrong = [
        "Officials said 37 people were hurt and 410 arrested in Lisbon during 1987 protests.",
        "Roughly 9,800 EU police officers were sent to Madrid in 1999, an EU spokeswoman said.",
    ]
    beads = align([ID[1], ID[3]], wrong)
    assert beads and all(needs_review(b) for b in beads)
    assert not any(needs_review(b) for b in align([ID[1], ID[3]], [EN[1], EN[3]]))


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(st.dictionaries(st.sampled_from("abcdef"), st.floats(0.1, 3.0), max_size=4), min_size=1, max_size=12),
    cols=st.lists(st.dictionaries(st.sampled_from("abcdefg"), st.floats(0.1, 3.0), max_size=4), min_size=1, max_size=12),
    band=st.integers(0, 6),
    first=st.integers(0, 11),
)
def test_band_overlap_equals_the_dense_one(rows, cols, band, first):
    # The sparse overlap (inverted index, band only, a block of rows) reads what a dense
    # rows x cols matrix of shared-key weights holds, inside the band, and 0 outside.
    import numpy as np

    from aligner.align.cost import Overlap

    n, m = len(rows), len(cols)
    off = np.array([max(0, a * m // n - band) - 2 for a in range(n + 2)], dtype=np.int64)
    width = 2 * band + m // n + 6
    first = min(first, n - 1)
    got = Overlap(rows, cols, off, width).band(first, n)
    for a in range(first, n):
        for b in range(m):
            dense = sum(w for k, w in rows[a].items() if k in cols[b])
            inside = 0 <= b - off[a] < width
            assert got[np.array([a]), np.array([b])][0] == pytest.approx(dense if inside else 0.0)
