"""The translation memory's word index: built from stored rows, kept current as the memory grows,
rejected rows never offered, and a memory written by schema 1 (no stored words) still opens."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest
from rapidfuzz import process

from aligner.tm.fuzzy import prepare, score, tokens
from aligner.tm.index import WordIndex
from aligner.tm.store import Entry, TranslationMemory

BUDGET = "Pada tahun 2023 anggaran pertahanan Indonesia naik lima persen menjadi Rp 134 triliun."
MEETING = "Menteri Pertahanan bertemu Presiden di Istana Merdeka pada Senin pagi."
WORDS = (BUDGET + " " + MEETING).split()


def positions(index: WordIndex, word: str) -> list[int]:
    return sorted(index.postings(word).tolist())


def test_postings_df_and_candidates():
    index = WordIndex([(10, "a b a c", True), (11, "b c", True), (12, "c", False)])
    assert positions(index, "a") == [0] and positions(index, "c") == [0, 1, 2] and positions(index, "z") == []
    assert index.df("a") == 1 and index.df("c") == 3 and index.df("z") == 0
    seen = index.new_seen()
    # Row 12 is not offered, row 10 (4 words) is too long for the window.
    assert index.candidates(index.postings("c"), 1, 3, seen).tolist() == [1]
    assert index.candidates(index.postings("b"), 1, 4, seen).tolist() == []  # all seen already
    assert [index.row_id(p) for p in range(3)] == [10, 11, 12]
    assert index.words([1, 0]) == [("b", "c"), ("a", "b", "a", "c")]


def test_rows_added_later_are_found_before_and_after_folding():
    index = WordIndex([(1, "a b", True)], fold_at=3)
    index.add(2, ["b", "c"], True)
    index.add(3, ["c", "c"], True)
    assert positions(index, "c") == [1, 2] and index.df("c") == 2
    index.add(4, ["c", "d"], True)  # the third row added: folded into the sorted postings
    assert positions(index, "c") == [1, 2, 3] and positions(index, "b") == [0, 1] and index.df("d") == 1
    index.add(2, ["b", "c"], False)  # known row: only its offered flag changes
    assert len(index) == 4
    assert index.candidates(index.postings("c"), 1, 9, index.new_seen()).tolist() == [2, 3]
    index.set_offered(2, True)
    index.set_offered(99, False)  # unknown rows are ignored
    assert index.candidates(index.postings("c"), 1, 9, index.new_seen()).tolist() == [1, 2, 3]


def test_empty_index():
    index = WordIndex([])
    assert len(index) == 0 and index.df("a") == 0 and positions(index, "a") == []
    index.add(5, ["a"], True)
    assert positions(index, "a") == [0]


def test_memory_grows_between_lookups_and_rejected_rows_drop_out(tmp_path: Path):
    tm = TranslationMemory(tmp_path / "tm.sqlite3")
    tm.add([Entry(BUDGET, "budget")])
    near_meeting = MEETING.replace("Senin", "Selasa")
    assert tm.fuzzy(near_meeting) == []  # builds the index
    tm.add([Entry(MEETING, "meeting", date="20240101T000000Z")])  # a review save after the lookup
    assert [m.target for m in tm.fuzzy(near_meeting)] == ["meeting"]
    tm.add([Entry(MEETING, "meeting", status="rejected", date="20240202T000000Z")])
    assert tm.fuzzy(near_meeting) == []
    tm.add([Entry(MEETING, "meeting", status="draft", date="20250101T000000Z")])  # a draft never overrides it
    assert tm.fuzzy(near_meeting) == []
    tm.add([Entry(MEETING, "meeting again", status="approved")])  # another target: a new row, offered
    assert [m.target for m in tm.fuzzy(near_meeting)] == ["meeting again"]
    tm.close()


def test_rows_another_process_adds_are_found(tmp_path: Path):
    path = tmp_path / "tm.sqlite3"
    reader, writer = TranslationMemory(path), TranslationMemory(path)
    reader.add([Entry(BUDGET, "budget")])
    near_meeting = MEETING.replace("Senin", "Selasa")
    assert reader.fuzzy(near_meeting) == []
    writer.add([Entry(MEETING, "meeting")])
    assert [m.target for m in reader.fuzzy(near_meeting)] == ["meeting"]
    # The reader's own add after a foreign one: the index is read again, nothing lost.
    writer.add([Entry(MEETING, "meeting", status="rejected", date="20990101T000000Z")])
    reader.add([Entry(MEETING.replace("pagi", "sore"), "afternoon")])
    assert [m.target for m in reader.fuzzy(near_meeting)] == ["afternoon"]
    reader.close()
    writer.close()


def test_lookup_agrees_with_brute_force_as_the_memory_changes(tmp_path: Path):
    rng = random.Random(7)
    tm = TranslationMemory(tmp_path / "tm.sqlite3")
    offered: dict[str, str] = {}  # source -> target, what may be offered

    used: set[str] = set()

    def sentence() -> str:
        return " ".join(rng.sample(WORDS, rng.randrange(4, 14)))

    for round_ in range(4):
        batch = {}
        for i in range(150):
            src = sentence()
            if src not in used:  # one target per source: rejecting it takes the source out
                used.add(src)
                batch[src] = f"EN {round_}.{i}"
        tm.add(Entry(src, tgt) for src, tgt in batch.items())
        offered.update(batch)
        for src in rng.sample(sorted(offered), 20):
            tm.add([Entry(src, offered.pop(src), status="rejected", date="20990101T000000Z")])
        sources = sorted(offered)
        choices = [prepare(x) for x in sources]
        for _ in range(15):
            query = sentence()
            best = process.extractOne(prepare(query), choices, scorer=score)
            exact, fuzzy = tm.lookup(query, min_score=60)
            got = exact.score if exact else fuzzy[0].score if fuzzy else None
            assert got == (best[1] if best[1] >= 60 else None), query
            assert all(offered.get(m.source) == m.target for m in fuzzy)
    tm.close()


def schema_1_memory(path: Path) -> None:
    """A memory as schema 1 left it, with BUDGET (approved) and MEETING (rejected): written by the
    current code, then turned back (no stored words, word counts in a vocab table, the trigram
    index filled by every import)."""
    with TranslationMemory(path) as tm:
        tm.add([Entry(BUDGET, "budget"), Entry(MEETING, "meeting", status="rejected")])
    db = sqlite3.connect(path)
    db.execute("ALTER TABLE units DROP COLUMN words")
    db.execute("CREATE TABLE vocab (word TEXT PRIMARY KEY, df INTEGER NOT NULL) WITHOUT ROWID")
    for source in (BUDGET, MEETING):
        for word in set(tokens(source)):
            db.execute("INSERT INTO vocab VALUES (?, 1) ON CONFLICT (word) DO UPDATE SET df = df + 1", (word,))
    db.execute("INSERT INTO units_fts (rowid, source) SELECT id, source FROM units")
    db.execute("DELETE FROM meta WHERE key = 'fts_upto'")
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()


def test_schema_1_memory_opens_and_is_searched(tmp_path: Path):
    path = tmp_path / "old.sqlite3"
    schema_1_memory(path)
    tm = TranslationMemory(path)
    assert tm.exact(BUDGET).target == "budget" and tm.exact(MEETING) is None
    assert [m.target for m in tm.fuzzy(BUDGET.replace("lima", "enam"))] == ["budget"]
    assert tm.fuzzy(MEETING.replace("Senin", "Selasa")) == []  # rejected in the old memory too
    assert [h.source for h in tm.search("anggaran")] == [BUDGET]  # its trigram index is used as it is
    tm.add([Entry(MEETING.replace("pagi", "sore"), "afternoon")])
    assert {h.target for h in tm.search("Istana", where="source")} == {"afternoon", "meeting"}
    assert [m.target for m in tm.fuzzy(MEETING.replace("Senin", "Selasa"))] == ["afternoon"]
    tm.close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 2
    # The words were computed once and kept; the old word counts are gone.
    assert db.execute("SELECT words FROM units WHERE id = 1").fetchone()[0] == " ".join(tokens(BUDGET))
    assert db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'vocab'").fetchone()[0] == 0
    db.close()
    with TranslationMemory(path) as again:  # and it opens again as schema 2
        assert [m.target for m in again.fuzzy(BUDGET.replace("lima", "enam"))] == ["budget"]


def test_newer_schema_is_refused(tmp_path: Path):
    from aligner.tm.store import TmError

    path = tmp_path / "new.sqlite3"
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 3")
    db.close()
    with pytest.raises(TmError, match="schema 3"):
        TranslationMemory(path)
