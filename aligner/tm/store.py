"""The translation memory: one SQLite file of source/target pairs, looked up before the model drafts.

Each row is one (source, target) pair for a language pair, with its status
(``approved``, ``draft``, ``rejected``), origin (file, document, tuid), author,
date and the contexts (previous/next source segment) it was seen in.  Two
targets for one source are two rows: the newest approved one is offered first,
the other stays as an alternative.  Rejected rows are kept (so a re-import
cannot bring them back as drafts) but never offered.

Fuzzy lookup: a word index (:class:`aligner.tm.index.WordIndex`, built in
memory from each row's stored words at the first lookup) finds the candidates,
rapidfuzz scores them (:mod:`aligner.tm.fuzzy`).  The candidate filter is exact
for the threshold asked: a sentence scoring at least *t* shares at least
``ceil(t * n)`` of the query's *n* words, so it contains one of the query's
``n - ceil(t * n) + 1`` rarest words (prefix filtering); only rows of a
possible length are scored.  An FTS5 ``trigram`` index over the sources serves
the concordance (substring search in source or target); it is brought up to
date by the first search after rows were added (meta ``fts_upto``: the last row
id it holds), not by every import, which it would slow down by a third.
"""

from __future__ import annotations

import hashlib
import math
import os
import sqlite3
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from aligner.tm.fuzzy import (
    EXACT,
    Prepared,
    context_score,
    normalise,
    prepare,
    score,
    tokens,
)
from aligner.tm.index import WordIndex

DB_NAME = "tm.sqlite3"
ENV_DIR = "ALIGNER_DATA_DIR"
STATUSES = ("approved", "draft", "rejected")
DEFAULT_FUZZY_MIN = 75.0
# 2: each row's words stored (``units.words``) for the word index; a schema-1 memory gains them on open.
_SCHEMA = 2
# FTS5's trigram tokenizer cannot look up anything shorter than three characters.
_MIN_FTS_WORD = 3

_DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS units (
    id INTEGER PRIMARY KEY,
    srclang TEXT NOT NULL,
    tgtlang TEXT NOT NULL,
    source TEXT NOT NULL,
    target TEXT NOT NULL,
    key_hash INTEGER NOT NULL,   -- of the languages and the normalised source: exact lookups
    pair_hash INTEGER NOT NULL UNIQUE,  -- of that and the target: one row per pair
    status TEXT NOT NULL,
    origin_file TEXT NOT NULL DEFAULT '',
    origin_doc TEXT NOT NULL DEFAULT '',
    origin_tuid TEXT NOT NULL DEFAULT '',
    author TEXT NOT NULL DEFAULT '',
    date TEXT NOT NULL DEFAULT '',
    ntok INTEGER NOT NULL,
    words TEXT  -- the source's words (fuzzy.tokens), space-separated; NULL: not computed yet
);
CREATE INDEX IF NOT EXISTS units_key ON units (key_hash);
CREATE TABLE IF NOT EXISTS contexts (
    unit INTEGER NOT NULL,
    context_hash INTEGER NOT NULL,
    prev TEXT NOT NULL,
    next TEXT NOT NULL,
    PRIMARY KEY (unit, context_hash)
) WITHOUT ROWID;
CREATE VIRTUAL TABLE IF NOT EXISTS units_fts USING fts5 (
    source, content='units', content_rowid='id', tokenize='trigram'
);
"""


def _hash(*parts: str) -> int:
    """A 63-bit hash of ``parts`` (SQLite integers are signed 64-bit)."""
    digest = hashlib.blake2b("\x1f".join(parts).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


class TmError(RuntimeError):
    """The memory cannot be opened or used; the message names the file."""


def default_data_dir() -> Path:
    """``$ALIGNER_DATA_DIR`` if set, else the platform's user data dir for aligner."""
    env = os.environ.get(ENV_DIR)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("aligner", appauthor=False))


def default_tm_path() -> Path:
    """Where the translation memory lives unless ``--tm-db`` says otherwise."""
    return default_data_dir() / DB_NAME


def now_date() -> str:
    """The current time as a TMX date (``YYYYMMDDThhmmssZ``), the form dates are stored in."""
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


@dataclass(frozen=True)
class Entry:
    """One pair to store: what an import or a review save hands the memory."""

    source: str
    target: str
    status: str = "approved"
    origin_file: str = ""
    origin_doc: str = ""
    origin_tuid: str = ""
    author: str = ""
    date: str = ""  # TMX form; empty: now
    prev: str | None = None  # the neighbouring source segments; None: not known
    next: str | None = None
    srclang: str = "id"
    tgtlang: str = "en"


@dataclass(frozen=True)
class Match:
    """A memory row offered for a source: ``score`` 101 / 100 (exact) or the fuzzy score."""

    id: int
    source: str
    target: str
    score: float
    status: str
    origin_file: str = ""
    origin_doc: str = ""
    origin_tuid: str = ""
    author: str = ""
    date: str = ""
    alternatives: int = 0  # other offered targets for the same source

    @property
    def tuid(self) -> str:
        """The unit id to cite: the origin's tuid, else the memory's own row id."""
        return self.origin_tuid or f"tm:{self.id}"

    @property
    def exact(self) -> bool:
        return self.score >= EXACT


@dataclass
class ImportCounts:
    """What one :meth:`TranslationMemory.add` call did."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0  # no source or no target


@dataclass(frozen=True)
class Hit:
    """A concordance hit: a row whose source or target contains the text searched for."""

    id: int
    source: str
    target: str
    status: str
    origin_file: str
    origin_tuid: str
    date: str


def _rank(status: str) -> int:
    # A draft never overrides a decision (approved / rejected) about the same pair.
    return 0 if status == "draft" else 1


class TranslationMemory:
    """One SQLite translation memory (``path``; default :func:`default_tm_path`; ``":memory:"`` works).

    Safe for several processes at once (WAL, busy timeout) and for threads (one lock).
    """

    def __init__(self, path: str | Path | None = None, srclang: str = "id", tgtlang: str = "en") -> None:
        self.path = Path(path) if path is not None else default_tm_path()
        self.srclang = srclang
        self.tgtlang = tgtlang
        self._lock = threading.RLock()
        self._index: WordIndex | None = None  # built by the first fuzzy lookup
        self._indexed_revision = ""  # the memory revision the index reflects
        try:
            if str(path) != ":memory:":
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(self.path), timeout=30.0, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA busy_timeout = 30000")
            if str(path) != ":memory:":
                self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = NORMAL")
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > _SCHEMA:
                raise TmError(f"{self.path}: translation memory schema {version}, this aligner reads {_SCHEMA}")
            self._db.executescript(_DDL)
            self._db.execute("BEGIN IMMEDIATE")  # one process migrates; the others then see it done
            try:
                if "words" not in {r[1] for r in self._db.execute("PRAGMA table_info(units)")}:
                    # A schema-1 memory: its rows' words are filled in by the first fuzzy lookup,
                    # and the word counts it kept for the old candidate filter are not needed.
                    self._db.execute("ALTER TABLE units ADD COLUMN words TEXT")
                    self._db.execute("DROP TABLE IF EXISTS vocab")
                    # Its trigram index was kept up to date by every import.
                    self._db.execute(
                        "INSERT OR IGNORE INTO meta (key, value) SELECT 'fts_upto', coalesce(max(id), 0) FROM units"
                    )
                # A random id per memory plus a revision bumped by every change: the fingerprint.
                self._db.execute(
                    "INSERT OR IGNORE INTO meta (key, value) VALUES ('id', ?), ('revision', '0'), ('fts_upto', '0')",
                    (os.urandom(8).hex(),),
                )
                self._db.execute(f"PRAGMA user_version = {_SCHEMA}")
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise TmError(f"{self.path}: cannot open the translation memory: {exc}") from exc

    # --- life cycle ----------------------------------------------------------------

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> "TranslationMemory":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- writing ---------------------------------------------------------------------

    def add(self, entries: Iterable[Entry], batch: int = 5000) -> ImportCounts:
        """Store ``entries``; idempotent: adding the same entries again changes nothing.

        A pair already stored (same normalised source and same target) takes
        the incoming status, origin, author and date only when the incoming
        entry is newer, and a draft never replaces an approved or rejected
        status.  A different target for a stored source is a new row (an
        alternative); lookups offer the newest approved one first.
        """
        counts = ImportCounts()
        chunk: list[Entry] = []
        for entry in entries:
            chunk.append(entry)
            if len(chunk) >= batch:
                self._add_chunk(chunk, counts)
                chunk = []
        if chunk:
            self._add_chunk(chunk, counts)
        return counts

    def _add_chunk(self, entries: list[Entry], counts: ImportCounts) -> None:
        stamp = now_date()
        with self._lock:
            db = self._db
            changed_before = counts.added + counts.updated
            try:
                db.execute("BEGIN IMMEDIATE")
                in_step = self._index is not None and self._revision() == self._indexed_revision
                indexed: list[tuple[int, list[str], bool]] = []  # what the word index learns
                contexts: list[tuple[int, int, str, str]] = []
                for e in entries:
                    if e.status not in STATUSES:
                        raise ValueError(f"status must be one of {', '.join(STATUSES)}, not {e.status!r}")
                    if not e.source.strip() or not e.target.strip():
                        counts.skipped += 1
                        continue
                    key = _hash(e.srclang, e.tgtlang, normalise(e.source))
                    pair = _hash(str(key), e.target)
                    date = e.date or stamp
                    words = tokens(e.source)
                    cur = db.execute(
                        "INSERT INTO units (srclang, tgtlang, source, target, key_hash, pair_hash, status, origin_file,"
                        " origin_doc, origin_tuid, author, date, ntok, words) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
                        " ON CONFLICT DO NOTHING",
                        (e.srclang, e.tgtlang, e.source, e.target, key, pair, e.status, e.origin_file, e.origin_doc,
                         e.origin_tuid, e.author, date, len(words), " ".join(words)),
                    )
                    mine = e.srclang == self.srclang and e.tgtlang == self.tgtlang
                    if cur.rowcount == 1:
                        unit_id = int(cur.lastrowid or 0)
                        if mine:
                            indexed.append((unit_id, words, e.status != "rejected"))
                        counts.added += 1
                    else:
                        unit_id, status, old_date = db.execute(
                            "SELECT id, status, date FROM units WHERE pair_hash = ?", (pair,)
                        ).fetchone()
                        # Undated entries (many CAT tools' TMX) win only by bringing a new status,
                        # so re-importing the same file changes nothing.
                        newer = date > old_date if e.date else e.status != status
                        if newer and _rank(e.status) >= _rank(status):
                            db.execute(
                                "UPDATE units SET status=?, origin_file=?, origin_doc=?, origin_tuid=?, author=?, date=?"
                                " WHERE id=?",
                                (e.status, e.origin_file, e.origin_doc, e.origin_tuid, e.author, date, unit_id),
                            )
                            if mine:
                                indexed.append((unit_id, words, e.status != "rejected"))
                            counts.updated += 1
                        else:
                            counts.unchanged += 1
                    if e.prev is not None and e.next is not None:
                        prev, nxt = normalise(e.prev), normalise(e.next)
                        contexts.append((unit_id, _hash(prev, nxt), prev, nxt))
                db.executemany("INSERT OR IGNORE INTO contexts (unit, context_hash, prev, next) VALUES (?,?,?,?)", contexts)
                if counts.added + counts.updated > changed_before:
                    db.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'revision'")
                revision = self._revision()
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
            if self._index is not None:
                if in_step:
                    # Nobody else wrote since the index was read: it learns this chunk and stays current.
                    for unit_id, words, offered in indexed:
                        self._index.add(unit_id, words, offered)
                    self._indexed_revision = revision
                else:
                    self._index = None  # another process wrote: re-read at the next lookup

    # --- lookups ---------------------------------------------------------------------

    def _offered(self) -> str:
        # The unary + keeps SQLite from choosing an index on the languages over the one asked for.
        return "status != 'rejected' AND target != '' AND +srclang = ? AND +tgtlang = ?"

    def _match(self, row: Sequence, value: float, alternatives: int = 0) -> Match:
        return Match(
            id=row[0], source=row[1], target=row[2], score=value, status=row[3], origin_file=row[4],
            origin_doc=row[5], origin_tuid=row[6], author=row[7], date=row[8], alternatives=alternatives,
        )

    _COLUMNS = "id, source, target, status, origin_file, origin_doc, origin_tuid, author, date"

    def exact(self, source: str, prev: str | None = None, next: str | None = None) -> Match | None:
        """The best exact match for ``source`` (101 when ``prev`` and ``next`` match a stored context too).

        Approved rows come first, then a context match, then the newest.
        """
        key = normalise(source)
        with self._lock:
            rows = [
                r for r in self._db.execute(
                    f"SELECT {self._COLUMNS} FROM units WHERE key_hash = ? AND {self._offered()}",
                    (_hash(self.srclang, self.tgtlang, key), self.srclang, self.tgtlang),
                )
                if normalise(r[1]) == key
            ]
            if not rows:
                return None
            in_context: set[int] = set()
            if prev is not None and next is not None:
                marks = ",".join("?" * len(rows))
                in_context = {
                    r[0] for r in self._db.execute(
                        f"SELECT unit FROM contexts WHERE unit IN ({marks}) AND context_hash = ?",
                        (*(r[0] for r in rows), _hash(normalise(prev), normalise(next))),
                    )
                }
        best = max(rows, key=lambda r: (r[3] == "approved", r[0] in in_context, r[8], r[0]))
        return self._match(best, context_score(best[0] in in_context, best[0] in in_context), len(rows) - 1)

    def _revision(self) -> str:
        return str(self._db.execute("SELECT value FROM meta WHERE key = 'revision'").fetchone()[0])

    def _word_index(self) -> WordIndex:
        """The word index of this language pair's rows, (re)built when the memory changed under it."""
        revision = self._revision()
        if self._index is None or revision != self._indexed_revision:
            db = self._db
            rows = db.execute(
                "SELECT id, words, status != 'rejected' AND target != '' FROM units WHERE srclang = ? AND tgtlang = ?"
                " ORDER BY id",
                (self.srclang, self.tgtlang),
            ).fetchall()
            missing = [row[0] for row in rows if row[1] is None]
            if missing:
                # Rows of a memory written before words were stored: computed once, and kept.
                words_of = {}
                for start in range(0, len(missing), 5000):
                    part = missing[start:start + 5000]
                    marks = ",".join("?" * len(part))
                    for row_id, source in db.execute(f"SELECT id, source FROM units WHERE id IN ({marks})", part):
                        words_of[row_id] = " ".join(tokens(source))
                rows = [(i, words_of.get(i, text), offered) for i, text, offered in rows]
                try:
                    db.execute("BEGIN IMMEDIATE")
                    db.executemany("UPDATE units SET words = ? WHERE id = ?", [(t, i) for i, t in words_of.items()])
                    db.execute("COMMIT")
                except sqlite3.Error:
                    if db.in_transaction:
                        db.execute("ROLLBACK")  # a read-only memory: the words are computed again next time
            self._index = WordIndex((i, text, bool(offered)) for i, text, offered in rows)
            self._indexed_revision = revision
        return self._index

    def fuzzy(self, source: str, min_score: float = DEFAULT_FUZZY_MIN, limit: int = 3) -> list[Match]:
        """The best ``limit`` fuzzy matches scoring ``min_score`` or more, best first (exact ones excluded).

        Exact for the scores: no row scoring higher than the last one returned
        is missed.  The query's words are looked up rarest first; once the rows
        holding none of the words looked up so far cannot score as high as the
        ``limit``-th best found (they share at most the other words), the search
        stops -- for a near-duplicate that is after one or two words.
        """
        query = prepare(source)
        n = len(query.words)
        if not n or limit <= 0:
            return []
        floor = max(float(min_score), 1.0)
        counts = Counter(query.words)
        with self._lock:
            index = self._word_index()
            df = {w: index.df(w) for w in counts}
            # Words no row holds cost no lookup and rule out nothing, but they count as covered.
            covered = sum(c for w, c in counts.items() if not df[w])
            order = sorted((w for w in counts if df[w]), key=lambda w: (df[w], w))
            seen = index.new_seen()
            top: list[tuple[float, int]] = []  # (score, id), best first; ties with the last place kept
            for word in order:
                bar = top[limit - 1][0] if len(top) >= limit else floor
                # Rows holding none of the words looked up so far share at most the other words.
                rest = n - covered
                if 100.0 * rest / n < bar or (len(top) >= limit and 100.0 * rest / n <= bar):
                    break
                # A row of m words sharing k <= min(m, rest) scores at most k / max(n, m).
                shortest = max(1, math.ceil(bar / 100.0 * n - 1e-9))
                longest = math.floor(rest * 100.0 / bar + 1e-9)
                rows = index.candidates(index.postings(word), shortest, longest, seen)
                covered += counts[word]
                if len(rows):
                    top = self._score_rows(query, index, rows.tolist(), bar, limit, top)
            if not top:
                return []
            marks = ",".join("?" * len(top))
            by_id = {
                r[0]: r
                for r in self._db.execute(f"SELECT {self._COLUMNS} FROM units WHERE id IN ({marks})", [i for _, i in top])
            }
        ordered = sorted(top, key=lambda x: (-x[0], by_id[x[1]][3] != "approved", _neg(by_id[x[1]][8]), x[1]))
        return [self._match(by_id[i], value) for value, i in ordered[:limit]]

    def _score_rows(
        self, query: Prepared, index: WordIndex, rows: list[int], bar: float, limit: int, top: list[tuple[float, int]]
    ) -> list[tuple[float, int]]:
        """``top`` updated with the index's ``rows``: word-level distance in C for all, the full score
        for the promising."""
        bases = process.extract(
            query.words, index.words(rows),
            scorer=Levenshtein.normalized_similarity, score_cutoff=bar / 100.0, limit=None,
        )
        sources: dict[int, str] = {}
        for n, (_, base, i) in enumerate(bases):  # best base first; the full score is never above it
            bar = top[limit - 1][0] if len(top) >= limit else bar
            if base * 100.0 < bar:
                break
            row_id = index.row_id(rows[i])
            if row_id not in sources:
                # The sources of every row that may still pass, read at once.
                ids = [index.row_id(rows[j]) for _, b, j in bases[n:] if b * 100.0 >= bar][:32]
                marks = ",".join("?" * len(ids))
                sources.update(self._db.execute(f"SELECT id, source FROM units WHERE id IN ({marks})", ids))
            value = score(query, prepare(sources[row_id]), score_cutoff=bar)
            if bar <= value < EXACT:
                top.append((value, row_id))
                top.sort(key=lambda x: -x[0])
                if len(top) > limit:
                    top = [x for x in top if x[0] >= top[limit - 1][0]]
        return top

    def lookup(
        self, source: str, prev: str | None = None, next: str | None = None,
        min_score: float = DEFAULT_FUZZY_MIN, limit: int = 3,
    ) -> tuple[Match | None, list[Match]]:
        """``(exact match or None, fuzzy matches)`` for one segment; fuzzy ones only without an exact one."""
        found = self.exact(source, prev, next)
        if found is not None:
            return found, []
        return None, self.fuzzy(source, min_score, limit)

    # --- reading everything ------------------------------------------------------------

    def search(self, text: str, limit: int = 50, where: str = "both") -> list[Hit]:
        """Concordance: rows whose source and/or target (``where``) contain ``text``, case-insensitively.

        Sources are searched through the trigram index, targets by a scan
        (concordance is interactive and rare; indexing targets would double
        the import time).  Newest first.
        """
        needle = " ".join(text.split())
        if not needle or where not in ("source", "target", "both"):
            return []
        like = "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        cols = "id, source, target, status, origin_file, origin_tuid, date"
        queries: list[tuple[str, tuple]] = []
        # A read-only memory whose trigram index lags behind its rows: its sources are scanned.
        if where in ("source", "both"):
            if len(needle) >= _MIN_FTS_WORD and self._catch_up_fts():
                phrase = '"' + needle.replace('"', '""') + '"'
                queries.append((
                    f"SELECT {cols} FROM units WHERE id IN (SELECT rowid FROM units_fts WHERE units_fts MATCH ?)"
                    " AND source LIKE ? ESCAPE '\\'", (phrase, like),
                ))
            else:
                queries.append((f"SELECT {cols} FROM units WHERE source LIKE ? ESCAPE '\\'", (like,)))
        if where in ("target", "both"):
            queries.append((f"SELECT {cols} FROM units WHERE target LIKE ? ESCAPE '\\'", (like,)))
        found: dict[int, Hit] = {}
        with self._lock:
            for sql, params in queries:
                for row in self._db.execute(sql, params):
                    found[row[0]] = Hit(*row)
        return sorted(found.values(), key=lambda h: (_neg(h.date), h.id))[:limit]

    def _catch_up_fts(self) -> bool:
        """Index the sources of the rows added since the last search; False if that cannot be written."""
        with self._lock:
            db = self._db
            try:
                db.execute("BEGIN IMMEDIATE")
                upto = int(db.execute("SELECT value FROM meta WHERE key = 'fts_upto'").fetchone()[0])
                last = db.execute("SELECT coalesce(max(id), 0) FROM units").fetchone()[0]
                if last > upto:
                    # Rows are only ever appended and their sources never change: the new ones are past upto.
                    db.execute(
                        "INSERT INTO units_fts (rowid, source) SELECT id, source FROM units WHERE id > ?", (upto,)
                    )
                    db.execute("UPDATE meta SET value = ? WHERE key = 'fts_upto'", (str(last),))
                db.execute("COMMIT")
                return True
            except sqlite3.Error:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                return False

    def entries(self, approved_only: bool = False) -> Iterator[Entry]:
        """Every stored pair (for export), oldest first, with one stored context each."""
        sql = (
            "SELECT source, target, status, origin_file, origin_doc, origin_tuid, author, date,"
            " (SELECT prev FROM contexts WHERE unit = id LIMIT 1), (SELECT next FROM contexts WHERE unit = id LIMIT 1),"
            " srclang, tgtlang FROM units"
        )
        if approved_only:
            sql += " WHERE status = 'approved'"
        sql += " ORDER BY date, id"
        with self._lock:
            rows = self._db.execute(sql).fetchall()
        for row in rows:
            yield Entry(*row)

    def approved_pairs(self) -> list[tuple[str, str, str]]:
        """``(source, target, origin_doc)`` of the approved translation of every source (newest when several).

        What model adaptation trains on.
        """
        with self._lock:
            rows = self._db.execute(
                "SELECT key_hash, source, target, origin_doc, date, id FROM units"
                " WHERE status = 'approved' AND target != '' AND srclang = ? AND tgtlang = ?",
                (self.srclang, self.tgtlang),
            ).fetchall()
        best: dict[str, tuple] = {}
        for row in rows:
            if row[0] not in best or (row[4], row[5]) > (best[row[0]][4], best[row[0]][5]):
                best[row[0]] = row
        return [(r[1], r[2], r[3]) for r in sorted(best.values(), key=lambda r: r[5])]

    def stats(self) -> dict[str, object]:
        """Counts: units, by status, distinct sources, sources with alternatives, languages, date range."""
        with self._lock:
            db = self._db
            total = db.execute("SELECT count(*) FROM units").fetchone()[0]
            by_status = dict(db.execute("SELECT status, count(*) FROM units GROUP BY status"))
            sources = db.execute("SELECT count(DISTINCT key_hash) FROM units").fetchone()[0]
            alternatives = db.execute(
                "SELECT count(*) FROM (SELECT key_hash FROM units WHERE status != 'rejected'"
                " GROUP BY key_hash HAVING count(*) > 1)"
            ).fetchone()[0]
            pairs = [f"{s}-{t}" for s, t in db.execute("SELECT DISTINCT srclang, tgtlang FROM units ORDER BY 1, 2")]
            first, last = db.execute("SELECT min(date), max(date) FROM units").fetchone()
            files = db.execute("SELECT count(DISTINCT origin_file) FROM units").fetchone()[0]
        return {
            "path": str(self.path),
            "units": total,
            "approved": by_status.get("approved", 0),
            "draft": by_status.get("draft", 0),
            "rejected": by_status.get("rejected", 0),
            "sources": sources,
            "sources_with_alternatives": alternatives,
            "languages": pairs,
            "origin_files": files,
            "oldest": first or "",
            "newest": last or "",
        }

    def set_identity(self, identity: str) -> None:
        """Name this memory by its content (a temporary memory built from TMX files: their digest),
        so its :meth:`fingerprint` is the same in every run that builds it from the same files."""
        with self._lock:
            self._db.execute("UPDATE meta SET value = ? WHERE key = 'id'", (identity,))
            self._db.execute("UPDATE meta SET value = '0' WHERE key = 'revision'")

    def fingerprint(self) -> str:
        """A short id that changes whenever the memory's content does (for batch resume markers)."""
        with self._lock:
            meta = dict(self._db.execute("SELECT key, value FROM meta"))
        return f"{meta.get('id', '')}-{meta.get('revision', '0')}"


def _neg(date: str) -> tuple[int, ...]:
    """A sort key that puts later TMX dates first."""
    return tuple(-ord(c) for c in date)
