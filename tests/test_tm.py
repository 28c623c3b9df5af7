"""Translation memory: scores, exact / 101% / fuzzy lookups, import (idempotent, conflicts, other tools' TMX), export."""

from __future__ import annotations

from pathlib import Path

import pytest

from aligner.formats.tmx import TmxWarning, read_tmx, write_tmx
from aligner.tm.exchange import export_tmx, import_tmx
from aligner.tm.fuzzy import prepare, score, word_diff
from aligner.tm.store import Entry, TranslationMemory
from aligner.types import Unit

BUDGET = "Pada tahun 2023 anggaran pertahanan Indonesia naik lima persen menjadi Rp 134 triliun."
BUDGET_EN = "In 2023 Indonesia's defence budget rose five percent to Rp 134 trillion."
MEETING = "Menteri Pertahanan bertemu Presiden di Istana Merdeka pada Senin pagi."
MEETING_EN = "The Defence Minister met the President at the Merdeka Palace on Monday morning."


def s(a: str, b: str) -> float:
    return score(prepare(a), prepare(b))


@pytest.fixture
def tm() -> TranslationMemory:
    memory = TranslationMemory(":memory:")
    yield memory
    memory.close()


def test_scores_are_word_level_and_only_the_same_text_is_100():
    assert s(BUDGET, "  " + BUDGET.replace(" ", "  ")) == 100  # whitespace is not a difference
    one_word = BUDGET.replace("Indonesia ", "RI ")
    assert 85 < s(BUDGET, one_word) < 100  # 1 of 13 words: 92.3
    assert s(BUDGET, MEETING) < 30
    # Case and punctuation are folded out of the distance but never give 100.
    assert 95 <= s(BUDGET, BUDGET.lower()) < 100
    assert 95 <= s(BUDGET, BUDGET.rstrip(".")) < 100


def test_number_and_tag_differences_are_penalised():
    other_year = BUDGET.replace("2023", "2024")
    plain_word = BUDGET.replace("lima", "enam")  # the same edit on a word that is not a number
    assert s(BUDGET, other_year) < s(BUDGET, plain_word) < 100
    assert s(BUDGET, other_year) == round(100 - 100 / 13 - 2, 2)
    tagged = BUDGET.replace("anggaran", "<b0>anggaran</b0>")
    assert s(BUDGET, tagged) == 99 - 2  # same words; two tags differ
    assert s("Nomor 5 dan 6.", "Nomor 6 dan 5.") < 100  # same numbers, other order: still an edit


def test_word_diff_marks_what_differs():
    diff = word_diff("Pada tahun 2023 anggaran naik.", "Pada tahun 2024 anggaran pertahanan naik.")
    assert ("-", "2023") in diff and ("+", "2024") in diff and ("+", " pertahanan") in diff
    assert "".join(t for op, t in diff if op != "-") == "Pada tahun 2024 anggaran pertahanan naik."


def test_exact_and_context_match(tm: TranslationMemory):
    tm.add([Entry(BUDGET, BUDGET_EN, prev="Judul.", next=MEETING, date="20240101T000000Z")])
    assert tm.exact(BUDGET, "Judul.", MEETING).score == 101
    assert tm.exact(BUDGET.replace(" ", "  "), "Judul.", MEETING).score == 101  # normalised source and context
    assert tm.exact(BUDGET, "Lain.", MEETING).score == 100
    assert tm.exact(BUDGET).score == 100
    assert tm.exact(BUDGET.replace("2023", "2024")) is None
    assert tm.fuzzy(BUDGET) == []  # an exact match is not a fuzzy one


def test_fuzzy_threshold_and_order(tm: TranslationMemory):
    tm.add([Entry(BUDGET, BUDGET_EN), Entry(MEETING, MEETING_EN)])
    query = BUDGET.replace("lima", "enam")  # 1 of 13 words: 92.31
    [best] = tm.fuzzy(query, min_score=75)
    assert best.target == BUDGET_EN and best.score == pytest.approx(100 - 100 / 13, abs=0.01)
    assert tm.fuzzy(query, min_score=93) == []
    far = "Pada tahun 2023 anggaran kesehatan Indonesia turun sepuluh persen."
    assert tm.fuzzy(far, min_score=75) == []
    assert tm.fuzzy(far, min_score=20)[0].target == BUDGET_EN
    # A short query of short words (abbreviations, numbers): indexed like any other.
    tm.add([Entry("Ia di RI 5 th.", "He was in RI 5 yrs.")])
    assert tm.fuzzy("Ia di RI 6 th.", min_score=50)[0].target == "He was in RI 5 yrs."


def test_fuzzy_is_exact_against_brute_force(tm: TranslationMemory):
    import random

    from rapidfuzz import process

    rng = random.Random(1)
    words = (BUDGET + " " + MEETING).split()
    sources = [" ".join(rng.sample(words, rng.randrange(4, 14))) for _ in range(400)]
    tm.add(Entry(src, f"EN {i}") for i, src in enumerate(sources))
    choices = [prepare(x) for x in sources]
    for _ in range(40):
        query = " ".join(rng.sample(words, rng.randrange(4, 14)))
        best = process.extractOne(prepare(query), choices, scorer=score)
        exact, fuzzy = tm.lookup(query, min_score=60)
        got = exact.score if exact else fuzzy[0].score if fuzzy else None
        want = best[1] if best[1] >= 60 else None
        assert got == want


def test_rejected_never_offered(tm: TranslationMemory):
    tm.add([Entry(BUDGET, "A bad translation.", status="rejected")])
    assert tm.exact(BUDGET) is None and tm.fuzzy(BUDGET.replace("lima", "enam")) == []
    tm.add([Entry(BUDGET, BUDGET_EN, status="approved")])
    assert tm.exact(BUDGET).target == BUDGET_EN
    # A pair approved once and rejected later is no longer offered.
    tm.add([Entry(MEETING, MEETING_EN, date="20240101T000000Z"),
            Entry(MEETING, MEETING_EN, status="rejected", date="20240202T000000Z")])
    assert tm.exact(MEETING) is None
    # ... and an older or draft copy does not bring it back.
    tm.add([Entry(MEETING, MEETING_EN, status="draft", date="20250101T000000Z")])
    assert tm.exact(MEETING) is None


def test_conflicting_translations_newest_approved_wins(tm: TranslationMemory):
    tm.add([Entry(BUDGET, "Old approved.", date="20230101T000000Z"),
            Entry(BUDGET, "New approved.", date="20240101T000000Z"),
            Entry(BUDGET, "Newer draft.", status="draft", date="20250101T000000Z")])
    best = tm.exact(BUDGET)
    assert best.target == "New approved." and best.status == "approved" and best.alternatives == 2
    assert tm.stats()["sources_with_alternatives"] == 1
    assert tm.approved_pairs() == [(BUDGET, "New approved.", "")]


def our_units() -> list[Unit]:
    props = (("x-doc", "berita"), ("x-kind", "sentence"))
    return [
        Unit("Judul berita.", "News headline.", props + (("x-status", "approved"),), tuid="berita:0",
             changedate="20240101T000000Z", changeid="ana"),
        Unit(BUDGET, BUDGET_EN, props + (("x-status", "approved"),), tuid="berita:1", changedate="20240101T000000Z"),
        Unit("ADVERTISEMENT", "", (("x-doc", "berita"), ("x-kind", "boilerplate")), tuid="berita:2"),
        Unit(MEETING, "A draft.", props + (("x-status", "draft"),), tuid="berita:3"),
    ]


def test_import_is_idempotent_and_keeps_context(tm: TranslationMemory, tmp_path: Path):
    path = tmp_path / "ours.tmx"
    write_tmx(our_units(), path)
    counts, _ = import_tmx(tm, path)
    assert (counts.added, counts.skipped) == (3, 0)  # the boilerplate unit is not a translation
    before = (tm.stats(), tm.fingerprint(), list(tm.entries()))
    counts, _ = import_tmx(tm, path)
    assert (counts.added, counts.updated, counts.unchanged) == (0, 0, 3)
    assert (tm.stats(), tm.fingerprint(), list(tm.entries())) == before
    # Context comes from the neighbouring units of the same document (boilerplate skipped).
    assert tm.exact(BUDGET, "Judul berita.", MEETING).score == 101
    match = tm.exact("Judul berita.")
    assert (match.origin_file, match.origin_doc, match.tuid, match.author) == ("ours.tmx", "berita", "berita:0", "ana")
    assert tm.exact(MEETING).status == "draft"


def test_export_round_trip(tm: TranslationMemory, tmp_path: Path, tmx_dtd):
    from lxml import etree

    path = tmp_path / "ours.tmx"
    write_tmx(our_units(), path)
    import_tmx(tm, path)
    tm.add([Entry("Ditolak.", "Rejected.", status="rejected")])
    out = tmp_path / "export.tmx"
    assert export_tmx(tm, out) == 4
    assert tmx_dtd.validate(etree.parse(str(out)))
    assert export_tmx(tm, tmp_path / "approved.tmx", approved_only=True) == 2
    assert {u.prop("x-status") for u in read_tmx(tmp_path / "approved.tmx")} == {"approved"}
    again = TranslationMemory(":memory:")
    import_tmx(again, out)
    assert [(e.source, e.target, e.status) for e in again.entries()] == [(e.source, e.target, e.status) for e in tm.entries()]
    assert again.exact(BUDGET, "Judul berita.", MEETING).score == 101  # context travels as x-prev / x-next
    assert again.exact("Ditolak.") is None
    # Importing an export into the memory it came from changes nothing.
    counts, _ = import_tmx(tm, out)
    assert counts.added == counts.updated == 0


OMEGAT_TMX = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE tmx SYSTEM "tmx11.dtd">
<tmx version="1.1">
  <header creationtool="OmegaT" o-tmf="OmegaT TMX" adminlang="EN-US" datatype="plaintext"
          creationtoolversion="3.6.0_0" segtype="sentence" srclang="ID"/>
  <body>
<!-- Default translations -->
    <tu>
      <tuv lang="ID">
        <seg>{budget}</seg>
      </tuv>
      <tuv lang="EN-GB" changeid="budi" changedate="20240305T101010Z" creationid="budi" creationdate="20240305T101010Z">
        <seg>{budget_en}</seg>
      </tuv>
    </tu>
<!-- Alternative translations -->
    <tu>
      <prop type="file">berita.txt</prop>
      <prop type="prev">Judul.</prop>
      <prop type="next">Penutup.</prop>
      <tuv lang="ID">
        <seg>Menteri Pertahanan bertemu <bpt i="1" x="1">&lt;b0&gt;</bpt>Presiden<ept i="1">&lt;/b0&gt;</ept>.</seg>
      </tuv>
      <tuv lang="EN-GB">
        <seg>The Defence Minister met <bpt i="1" x="1">&lt;b0&gt;</bpt>the President<ept i="1">&lt;/b0&gt;</ept>.</seg>
      </tuv>
    </tu>
  </body>
</tmx>
"""


def test_omegat_project_tmx_imported(tm: TranslationMemory, tmp_path: Path):
    path = tmp_path / "project_save.tmx"
    path.write_text(OMEGAT_TMX.format(budget=BUDGET, budget_en=BUDGET_EN), encoding="utf-8")
    with pytest.warns(TmxWarning, match="inline markup"):  # OmegaT's tags become their text, <b0>
        counts, _ = import_tmx(tm, path)
    assert counts.added == 2
    assert tm.exact(BUDGET).target == BUDGET_EN and tm.exact(BUDGET).status == "approved"
    found = tm.exact("Menteri Pertahanan bertemu <b0>Presiden</b0>.", "Judul.", "Penutup.")
    assert found.score == 101 and found.target == "The Defence Minister met <b0>the President</b0>."
    # Without the tags the sentence is a fuzzy match, lowered by the tag penalty.
    [fuzzy] = tm.fuzzy("Menteri Pertahanan bertemu Presiden.")
    assert fuzzy.score == 99 - 2


def test_translate_toolkit_tmx_imported(tm: TranslationMemory, tmp_path: Path):
    tmxfile = pytest.importorskip("translate.storage.tmx").tmxfile
    store = tmxfile(sourcelanguage="id", targetlanguage="en")
    store.addtranslation(BUDGET, "id", BUDGET_EN, "en")
    store.addtranslation(MEETING, "id", MEETING_EN, "en")
    path = tmp_path / "toolkit.tmx"
    path.write_bytes(bytes(store))
    counts, _ = import_tmx(tm, path)
    assert counts.added == 2
    assert tm.exact(MEETING).target == MEETING_EN
    assert import_tmx(tm, path)[0].added == 0


def test_concordance(tm: TranslationMemory):
    from aligner.tm.concordance import highlighted, spans

    tm.add([Entry(BUDGET, BUDGET_EN), Entry(MEETING, MEETING_EN), Entry("Lain.", "Other.", status="rejected")])
    assert [h.target for h in tm.search("PERTAHANAN")] == [BUDGET_EN, MEETING_EN] or {
        h.target for h in tm.search("PERTAHANAN")} == {BUDGET_EN, MEETING_EN}
    assert [h.source for h in tm.search("defence minister", where="target")] == [MEETING]
    assert tm.search("defence minister", where="source") == []
    assert [h.source for h in tm.search("rp")] == [BUDGET]  # shorter than a trigram: scanned
    assert spans(MEETING_EN, "merdeka  PALACE") == [(MEETING_EN.index("Merdeka"), MEETING_EN.index(" on"))]
    assert highlighted("a [b] c", "[b]") == "a [bold reverse]\\[b][/] c"
