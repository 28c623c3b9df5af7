"""Alignment fixes as pure functions: merge, split, move, delete/restore, realign; no sentence lost or reordered."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aligner.review.alignment import (
    AlignmentError,
    Pair,
    check,
    merge,
    move,
    realign,
    sentences,
    set_deleted,
    split,
    split_at,
)
from aligner.types import Bead


def P(src="", tgt="", confirmed=False):  # noqa: N802 - a short constructor for readable cases
    return Pair(tuple(src.split("|")) if src else (), tuple(tgt.split("|")) if tgt else (), confirmed)


def test_merge_fixes_a_one_zero_and_a_zero_one():
    pairs = [P("A", "a"), P("B", ""), P("", "b"), P("C", "c")]
    out = merge(pairs, 1, "tgt")
    assert out == [P("A", "a"), P("B", "b"), P("C", "c")]
    check(pairs, out)
    with pytest.raises(AlignmentError):
        merge(out, 2, "tgt")  # the last unit has nothing below


def test_split_fixes_a_two_one():
    pairs = [P("A|B", "a"), P("C", "c")]
    out = split(pairs, 0, "src", 1)
    assert out == [P("A", "a"), P("B", ""), P("C", "c")]
    assert [p.bead for p in out] == ["1-1", "1-0", "1-1"]
    with pytest.raises(AlignmentError):
        split(pairs, 1, "src", 1)


def test_split_at_the_cursor_inside_or_between_sentences():
    pairs = [P("", "First one. Second one.")]
    out = split_at(pairs, 0, "tgt", len("First one."))
    assert out == [P("", "First one."), P("", "Second one.")]
    pairs = [P("S", "a|b")]
    assert split_at(pairs, 0, "tgt", 1) == [P("S", "a"), P("", "b")]  # "a b": the cut falls on the space


def test_move_fixes_an_english_sentence_in_the_wrong_unit():
    pairs = [P("A", "a|b"), P("B", "")]
    out = move(pairs, 0, "tgt", 1)
    assert out == [P("A", "a"), P("B", "b")]
    back = move(out, 1, "tgt", -1)
    assert back == pairs
    with pytest.raises(AlignmentError):
        move(pairs, 0, "tgt", -1)


def test_delete_and_restore_only_an_unmatched_unit():
    pairs = [P("A", "a"), P("", "x")]
    out = set_deleted(pairs, 1, True)
    assert out[1].deleted and sentences(out, "tgt") == ["a", "x"]
    assert set_deleted(out, 1, False) == pairs
    with pytest.raises(AlignmentError):
        set_deleted(pairs, 0, True)


def test_realign_between_two_confirmed_units_keeps_the_anchors():
    pairs = [P("A", "a", True), P("B|C", ""), P("", "b|c"), P("D", "d", True), P("E", "e")]
    one_to_one = lambda s, t: [Bead((k,), (k,), 0.9) for k in range(len(s))]  # noqa: E731
    out = realign(pairs, 0, 3, one_to_one)
    assert out == [P("A", "a", True), P("B", "b"), P("C", "c"), P("D", "d", True), P("E", "e")]
    with pytest.raises(AlignmentError):
        realign(pairs, 0, 4, one_to_one)  # unit 5 is not confirmed
    with pytest.raises(AssertionError):
        realign(pairs, 0, 3, lambda s, t: [Bead((0,), (1,))])  # an aligner that loses sentences


def test_realign_with_the_real_aligner():
    pairs = [P("Satu.", "One.", True), P("Kapal 12 tiba.|Rapat 30 menit.", ""), P("", "Ship 12 arrived.|Meeting 30 minutes."),
             P("Akhir.", "End.", True)]
    out = realign(pairs, 0, 3)
    check(pairs, out)
    assert [p.bead for p in out] == ["1-1", "1-1", "1-1", "1-1"]


@st.composite
def alignments(draw):
    n = draw(st.integers(1, 6))
    counter = iter(range(1000))
    pairs = []
    for _ in range(n):
        src = tuple(f"s{next(counter)}" for _ in range(draw(st.integers(0, 2))))
        tgt = tuple(f"t{next(counter)}" for _ in range(draw(st.integers(0 if src else 1, 2))))
        pairs.append(Pair(src, tgt))  # a unit has a sentence on at least one side
    return pairs


@settings(max_examples=150, deadline=None)
@given(alignments(), st.lists(st.tuples(st.sampled_from(["merge", "split", "move"]), st.integers(0, 6),
                                        st.sampled_from(["src", "tgt"]), st.integers(-1, 2)), max_size=8))
def test_every_operation_keeps_each_sentence_once_in_order(pairs, ops):
    now = pairs
    for op, i, side, arg in ops:
        try:
            if op == "merge":
                nxt = merge(now, i, side)
            elif op == "split":
                nxt = split(now, i, side, arg)
            else:
                nxt = move(now, i, side, -1 if arg < 1 else 1)
        except AlignmentError:
            continue
        check(now, nxt)
        assert all(p.src or p.tgt for p in nxt)
        now = nxt


# --- on a TMX file, through the review session ------------------------------------------------

def _aligned_tmx(path):
    from aligner.formats.tmx import write_tmx
    from aligner.types import Unit

    def unit(n, src, tgt, bead):
        return Unit(src, tgt, (("x-doc", "d"), ("x-status", "draft"), ("x-bead", bead), ("x-align-score", "0.5")),
                    tuid=f"d:{n}")
    write_tmx([unit(0, "Satu.", "One.", "1-1"), unit(1, "Dua.", "", "1-0"), unit(2, "", "Two. Extra.", "0-2"),
               unit(3, "Tiga.", "Three.", "1-1")], path, omit_empty=True)


def test_session_fixes_write_only_the_units_they_touch(tmp_path):
    from aligner.formats.tmx import read_tmx
    from aligner.review.session import EditError, ReviewSession

    path = tmp_path / "a.tmx"
    _aligned_tmx(path)
    original = path.read_text(encoding="utf-8")
    session = ReviewSession(path, user="me")
    assert session.align_mode() and len(session.state()["units"]) == 4
    version = session.version
    state = session.fix("merge", "tuid:d:1", "tgt", version=version)
    assert [(u["source"], u["target"]) for u in state["units"]] == [("Satu.", "One."), ("Dua.", "Two. Extra."), ("Tiga.", "Three.")]
    with pytest.raises(EditError, match="changed since"):
        session.fix("move", "tuid:d:1", "tgt", 1, version=version)  # the page's version is stale
    state = session.fix("split", "tuid:d:1", "tgt", len("Two."))
    assert [u["target"] for u in state["units"]] == ["One.", "Two.", "Extra.", "Three."]
    state = session.fix("delete", state["units"][2]["key"])
    assert [u["target"] for u in state["units"]] == ["One.", "Two.", "Three."]
    with pytest.raises(EditError, match="only a unit with one side"):
        session.fix("delete", "tuid:d:0")
    units = read_tmx(path)
    assert [u.tuid for u in units] == ["d:0", "d:1", "d:3"] and units[1].changeid == "me"
    text = path.read_text(encoding="utf-8")
    for tuid in ("d:0", "d:3"):  # untouched units are byte for byte as they were
        block = original[original.index(f'tuid="{tuid}"'):]
        assert block[:block.index("</tu>")] in text
    for _ in range(3):
        session.fix("undo", None)
    assert path.read_text(encoding="utf-8") == original
    with pytest.raises(EditError, match="nothing to undo"):
        session.fix("undo", None)
    session.fix("redo", None)
    assert len(read_tmx(path)) == 3


def test_a_fix_gives_the_units_the_segment_numbers_of_the_sentences_they_now_hold(tmp_path):
    from aligner.formats.tmx import read_tmx, write_tmx
    from aligner.review.session import ReviewSession
    from aligner.types import Unit

    def unit(n, src, tgt, bead, src_no, tgt_no):
        return Unit(src, tgt, (("x-doc", "d"), ("x-segment", src_no), ("x-tgt-segment", tgt_no), ("x-bead", bead),
                               ("x-align-score", "0.5")), tuid=f"d:{n}")

    path = tmp_path / "n.tmx"
    write_tmx([unit(0, "Satu.", "One.", "1-1", "0", "0"), unit(1, "Dua. Tiga.", "Two.", "2-1", "1 2", "1"),
               unit(2, "", "Three.", "0-1", "", "2"), unit(3, "Empat.", "Four.", "1-1", "3", "3")], path, omit_empty=True)
    session = ReviewSession(path)
    assert [(u["segment"], u["tgt_segment"]) for u in session.state()["units"]] == [
        ("0", "0"), ("1 2", "1"), ("", "2"), ("3", "3")]
    state = session.fix("split", "tuid:d:1", "src", len("Dua. "))  # 2-1 -> 1-1 + 1-0, then merge the 0-1 in
    state = session.fix("merge", state["units"][2]["key"], "tgt")
    assert [(u["source"], u["target"], u["segment"], u["tgt_segment"]) for u in state["units"]] == [
        ("Satu.", "One.", "0", "0"), ("Dua.", "Two.", "1", "1"), ("Tiga.", "Three.", "2", "2"), ("Empat.", "Four.", "3", "3")]
    assert [u.prop("x-tgt-segment") for u in read_tmx(path)] == ["0", "1", "2", "3"]


def test_a_fix_drops_the_first_draft_of_the_units_it_rewrites(tmp_path):
    from aligner.formats.tmxdoc import TmxDocument
    from aligner.review.session import ReviewSession
    from tests.test_review_server import edit

    def first_drafts() -> list[str]:  # of every <tu>, English-only ones too
        return ["".join(p.text or "" for p in tu.findall("prop") if p.get("type") == "x-first-draft")
                for tu in TmxDocument.read(path).tus()]

    path = tmp_path / "a.tmx"
    _aligned_tmx(path)
    session = ReviewSession(path, user="me")
    rows = {r["key"]: r for r in session.state()["units"]}
    session.save([edit(rows["tuid:d:0"], "One!"), edit(rows["tuid:d:2"], "Two. More.")])
    assert first_drafts() == ["One.", "", "Two. Extra.", ""]
    state = session.fix("split", "tuid:d:2", "tgt", len("Two."))
    assert [u["target"] for u in state["units"]] == ["One!", "", "Two.", "More.", "Three."]
    # the split units hold other sentences now: no draft to diff against; the other edit keeps its own
    assert first_drafts() == ["One.", "", "", "", ""]
    assert state["units"][0]["draft_diff"] is not None and state["units"][2]["draft_diff"] is None
