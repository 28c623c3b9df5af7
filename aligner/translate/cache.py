"""A persistent translation cache: identical segments are translated once, across runs.

One SQLite file (in the user cache directory unless ``ALIGNER_CACHE_DIR`` or an
explicit path says otherwise).  A key covers everything the model output
depends on: the model's identity, the glossary version, the decoding options
and the normalised source, so changing any of them simply misses.  SQLite's
WAL mode plus a busy timeout make it safe for several threads and several
processes (two ``aligner translate`` runs) at once.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
import unicodedata
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

DB_NAME = "translations.sqlite3"
ENV_DIR = "ALIGNER_CACHE_DIR"
_SCHEMA = 1


class CacheError(RuntimeError):
    """The cache database cannot be opened or used; the message names the file.

    The cache is an optimisation, never a point of failure: whoever meets this
    goes on without the cache (see :func:`cache_warning` for the line to show).
    """


def cache_warning(exc: CacheError) -> str:
    """The one warning for a cache that failed (without the ``aligner: warning:`` prefix)."""
    return f"{exc}; continuing without it"


def default_cache_dir() -> Path:
    """``$ALIGNER_CACHE_DIR`` if set, else the platform's user cache dir for aligner."""
    env = os.environ.get(ENV_DIR)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("aligner", appauthor=False))


def normalise_source(text: str) -> str:
    """The form of a source text that is sent to the model and keys the cache.

    NFC and collapsed whitespace: scraped articles differ in exactly these ways
    without differing in meaning, and SentencePiece would not see a difference.
    """
    return " ".join(unicodedata.normalize("NFC", text).split())


def cache_key(model_id: str, glossary: str, options: Mapping[str, Any], source: str) -> str:
    """The cache key of one (model, glossary version, options, normalised source).

    Which settings go in is decided in one place, the run signature
    (aligner.translate.signature.RunSignature.cache_key); this only hashes them.
    """
    payload = json.dumps(
        [model_id, glossary, dict(sorted(options.items())), normalise_source(source)],
        ensure_ascii=False,
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class TranslationCache:
    """Key -> translated text in one SQLite file.

    ``path`` is the database file; by default ``default_cache_dir()/translations.sqlite3``.
    One instance may be shared by threads; any number of processes may open
    the same file.
    """

    def __init__(self, path: str | Path | None = None, timeout: float = 30.0) -> None:
        self.path = Path(path).expanduser() if path is not None else default_cache_dir() / DB_NAME
        self.timeout = timeout
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._pid = -1
        self.hits = 0
        self.misses = 0
        self._connect()

    def _connect(self) -> sqlite3.Connection:
        # A connection must not cross a fork: reopen in a child process.
        if self._conn is not None and self._pid == os.getpid():
            return self._conn
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=self.timeout, check_same_thread=False, isolation_level=None)
            conn.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            try:
                conn.execute("PRAGMA journal_mode = WAL")
            except sqlite3.OperationalError:
                pass  # e.g. a network file system: the rollback journal is still safe, only slower
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS translations ("
                " key TEXT PRIMARY KEY, text TEXT NOT NULL, model TEXT NOT NULL DEFAULT '',"
                " created REAL NOT NULL)"
            )
            conn.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
            conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (str(_SCHEMA),))
        except (sqlite3.Error, OSError) as exc:
            raise CacheError(f"translation cache {self.path}: {exc}") from exc
        self._conn, self._pid = conn, os.getpid()
        return conn

    def get_many(self, keys: Sequence[str]) -> dict[str, str]:
        """The cached texts of those ``keys`` that are present."""
        found: dict[str, str] = {}
        unique = list(dict.fromkeys(keys))
        with self._lock:
            conn = self._connect()
            try:
                # Chunks stay under SQLite's limit on bound parameters.
                for i in range(0, len(unique), 500):
                    chunk = unique[i : i + 500]
                    marks = ",".join("?" * len(chunk))
                    for key, text in conn.execute(f"SELECT key, text FROM translations WHERE key IN ({marks})", chunk):
                        found[key] = text
            except sqlite3.Error as exc:
                raise CacheError(f"translation cache {self.path}: {exc}") from exc
        self.hits += len(found)
        self.misses += len(unique) - len(found)
        return found

    def get(self, key: str) -> str | None:
        """The cached text of ``key``, or None."""
        return self.get_many([key]).get(key)

    def put_many(self, items: Mapping[str, str], model: str = "") -> None:
        """Store ``key -> text`` pairs in one transaction (last writer wins)."""
        if not items:
            return
        now = time.time()
        rows = [(k, v, model, now) for k, v in items.items()]
        with self._lock:
            conn = self._connect()
            try:
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany("INSERT OR REPLACE INTO translations VALUES (?, ?, ?, ?)", rows)
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise CacheError(f"translation cache {self.path}: {exc}") from exc

    def put(self, key: str, text: str, model: str = "") -> None:
        """Store one translation."""
        self.put_many({key: text}, model)

    def __len__(self) -> int:
        with self._lock:
            return int(self._connect().execute("SELECT COUNT(*) FROM translations").fetchone()[0])

    def clear(self) -> None:
        """Remove every cached translation."""
        with self._lock:
            self._connect().execute("DELETE FROM translations")

    def close(self) -> None:
        """Close this process's connection (a later call reopens it)."""
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn = None

    def __enter__(self) -> "TranslationCache":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
