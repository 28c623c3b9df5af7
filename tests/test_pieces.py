"""Splitting over-long segments (aligner.pieces) and spotting degenerate drafts (aligner.degenerate)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aligner.translate.degenerate import degeneracy, repetition
from aligner.translate.pieces import PieceError, best_cut, join_drafts, split_to_fit


def words_plus_chars(s: str) -> int:
    """A token-like length: subword tokenizers cost about a token per word plus one per few characters."""
    return len(s.split()) + len(s) // 4 + 1


texty = st.text(alphabet=st.sampled_from(list("abc de,;.!? \n\t\u00e9\u2014\u201d)")), max_size=300)


@given(text=texty, limit=st.integers(min_value=3, max_value=40))
def test_pieces_rebuild_the_source_exactly_and_each_fits(text: str, limit: int):
    pieces = split_to_fit(text, words_plus_chars, limit)
    assert "".join(pieces) == text
    assert all(words_plus_chars(p) <= limit for p in pieces)
    assert all(p for p in pieces) or pieces == [""]


@given(text=st.text(max_size=200), limit=st.integers(min_value=1, max_value=30))
def test_any_unicode_text_rebuilds_with_character_length(text: str, limit: int):
    pieces = split_to_fit(text, len, limit)
    assert "".join(pieces) == text
    assert all(len(p) <= limit for p in pieces)


def test_text_that_fits_is_not_split():
    assert split_to_fit("Kapal itu besar.", len, 100) == ["Kapal itu besar."]


def test_clause_punctuation_beats_whitespace_and_whitespace_stays_with_the_left_piece():
    text = "satu dua tiga empat lima enam, tujuh delapan"
    assert split_to_fit(text, len, 35) == ["satu dua tiga empat lima enam, ", "tujuh delapan"]


def test_whitespace_nearest_the_middle_when_there_is_no_punctuation():
    text = "aaaa bbbb cccc dddd"
    assert best_cut(text) == 10
    assert split_to_fit(text, len, 12) == ["aaaa bbbb ", "cccc dddd"]


def test_a_word_longer_than_the_limit_is_cut_inside_never_dropped():
    text = "x" * 50
    pieces = split_to_fit(text, len, 8)
    assert "".join(pieces) == text and max(map(len, pieces)) <= 8


def test_a_limit_too_small_for_one_character_is_an_error():
    with pytest.raises(PieceError):
        split_to_fit("ab", lambda s: len(s) + 5, 3)


def test_join_drafts_skips_empty_pieces():
    assert join_drafts([" The ship, ", "", "is big. "]) == "The ship, is big."


@pytest.mark.parametrize(
    "draft, reason",
    [
        ("I'm sorry I'm sorry I'm sorry I'm sorry", "repetition loop"),
        ("the the the the ship", "repetition loop"),
        ("dronesdronesdronesdrones", "repetition loop"),
        ("", "empty draft"),
        ("   ", "empty draft"),
        ("A very long answer " + "with many different words " * 0 + " ".join(f"w{i}" for i in range(60)), "too long"),
    ],
)
def test_degenerate_drafts_are_recognised(draft: str, reason: str):
    assert degeneracy("Kapal itu sangat besar sekali.", draft).startswith(reason)


@pytest.mark.parametrize(
    "source, draft",
    [
        ("Kapal itu sangat besar.", "The ship is very, very big."),
        ("Bye bye.", "Bye bye."),
        ("Anggaran tahun 2023 naik 1111111 rupiah.", "The 2023 budget rose by 1111111 rupiah."),
        ("TNI AD, TNI AL dan TNI AU.", "The Army, the Navy and the Air Force."),
        ("Menteri Pertahanan Prabowo Subianto mengatakan bahwa modernisasi alutsista akan berlanjut pada 2024.",
         "Defence Minister Prabowo Subianto said that the modernisation of defence equipment will continue in 2024."),
        ("", ""),
    ],
)
def test_normal_drafts_are_not_flagged(source: str, draft: str):
    assert degeneracy(source, draft) == ""


def test_repetition_names_the_run():
    assert repetition("a b c a b c a b c") == "'a b c' x3"
    assert repetition("a b c a b c") == ""


@given(text=texty, limit=st.integers(min_value=3, max_value=40), data=st.data())
def test_pieces_with_spans_to_keep_still_rebuild_the_source(text: str, limit: int, data):
    bounds = sorted(data.draw(st.lists(st.integers(0, len(text)), max_size=6, unique=True)))
    keep = list(zip(bounds[::2], bounds[1::2]))
    pieces = split_to_fit(text, words_plus_chars, limit, keep)
    assert "".join(pieces) == text
    assert all(words_plus_chars(p) <= limit for p in pieces)


def test_cuts_avoid_spans_to_keep_while_another_boundary_exists():
    text = "Kepala Staf Angkatan Darat datang, lalu pergi lagi"
    term = (0, len("Kepala Staf Angkatan Darat"))
    pieces = split_to_fit(text, len, 30, [term])
    assert pieces[0].startswith("Kepala Staf Angkatan Darat")
    assert "".join(pieces) == text
