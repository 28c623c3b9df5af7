"""Files at the edges: reading articles (UTF-8 only, never guessed), atomic writes, numbered backups."""

from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path


class InputError(ValueError):
    """An input file that cannot be used; the message names the file."""


class OutputError(OSError):
    """An output path that cannot be written: ``str()`` is ``PATH: reason``, and ``strerror``
    the reason alone, so callers that print ``f"{path}: {exc.strerror}"`` name it once."""

    def __init__(self, path: str | Path, reason: str, errno: int | None = None) -> None:
        super().__init__(errno, reason) if errno is not None else super().__init__(reason)
        self.strerror = reason
        self.filename = str(path)

    def __str__(self) -> str:
        return f"{self.filename}: {self.strerror}"


# Far above any article or termbase (the seeds are ~10 kB): a larger input is a mistake,
# and reading it whole would cost the machine's memory before anything could be said.
MAX_INPUT_BYTES = 64 * 1024 * 1024

_KINDS = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a directory"))


def collect_inputs(paths: Iterable[str | Path]) -> list[Path]:
    """Expand directories to their ``*.txt`` files (sorted); keep files as given."""
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found.extend(sorted(x for x in p.rglob("*.txt") if x.is_file()))
        else:
            found.append(p)
    return found


def no_inputs_message(paths: Iterable[str | Path]) -> str:
    """The one line for a command given nothing to read: names what was given."""
    return f"no input files found in {', '.join(str(p) for p in paths)} (folders are searched for *.txt)"


def regular_file(path: str | Path, what: str = "a text file") -> os.stat_result:
    """The ``stat`` of ``path`` if it is a regular file; InputError naming it otherwise
    (missing, unreadable, a FIFO, device, socket or directory: ``is a FIFO, not WHAT``).

    Call it before handing a path to any reader that opens it (lxml, sqlite, csv):
    opening a FIFO blocks until someone writes to it.
    """
    try:
        info = os.stat(path)
    except FileNotFoundError as exc:
        raise InputError(f"{path}: no such file") from exc
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    for test, kind in _KINDS:
        if test(info.st_mode):
            raise InputError(f"{path}: is {kind}, not {what}")
    return info


def read_limited(path: Path, limit: int = MAX_INPUT_BYTES) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes; InputError otherwise.

    FIFOs, devices and sockets are refused before they are opened (reading one would
    hang or never end), and the size is checked before the file is read whole.
    """
    info = regular_file(path)
    if info.st_size > limit:
        raise InputError(f"{path}: too large ({info.st_size:,} bytes; the limit is {limit:,})")
    with Path(path).open("rb") as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise InputError(f"{path}: too large (over {limit:,} bytes)")
    return data


def read_input(path: Path) -> bytes:
    """The bytes of an input file; InputError (naming file and reason) if it is
    missing, not a regular file, too large, unreadable, empty or binary."""
    try:
        data = read_limited(path)
    except FileNotFoundError as exc:
        raise InputError(f"{path}: no such file") from exc
    except IsADirectoryError as exc:
        raise InputError(f"{path}: is a directory, not a text file") from exc
    except PermissionError as exc:
        raise InputError(f"{path}: cannot read: permission denied") from exc
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(f"{path}: UTF-16 text, not UTF-8 (save it as UTF-8)")
    nul = data.find(b"\0")
    if nul >= 0:
        raise InputError(f"{path}: binary file, not UTF-8 text (NUL byte at offset {nul})")
    if not data.strip():
        raise InputError(f"{path}: empty file")
    return data


def decode_article(path: Path, data: bytes) -> str:
    """``data`` as UTF-8 (a BOM is accepted); InputError otherwise: the encoding is never guessed."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            f"{path}:{line}: not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            f"save it as UTF-8"
        ) from exc
    if not text.strip():
        raise InputError(f"{path}: empty file")
    return text


def read_article(path: Path) -> str:
    """Read a UTF-8 article (a BOM is accepted); raise InputError otherwise."""
    return decode_article(path, read_input(path))


def real_path(path: str | Path) -> Path:
    """``path`` with symlinks followed, so writing replaces the file a link points to, not the link."""
    return Path(os.path.realpath(path))


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def check_output_dir(path: str | Path) -> Path:
    """Make sure ``path`` is (or can become) a folder this process can write in; OutputError
    naming it otherwise.  Called before any work, so a bad ``--out`` costs seconds, not a
    translated article.  The folder is created (as the command would create it anyway) and a
    probe file is made and removed, which is the only test a read-only file system, a full
    quota or an ACL cannot fool (root passes every permission-bit check)."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OutputError(path, "is a file, not a folder (give a folder for the output)")
    for parent in path.parents:
        if parent.exists() and not parent.is_dir():
            raise OutputError(path, f"{parent} is a file, not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(path, f"cannot create the folder: {_reason(exc)}", exc.errno) from exc
    try:
        fd, probe = tempfile.mkstemp(prefix=".aligner-probe-", dir=path)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise OutputError(path, f"cannot write in this folder: {_reason(exc)}", exc.errno) from exc
    return path


def check_output_file(path: str | Path) -> Path:
    """Make sure a file can be written at ``path`` (its folder is checked as by
    :func:`check_output_dir`); OutputError naming it otherwise, e.g. when it is a folder."""
    path = Path(path)
    if path.is_dir():
        raise OutputError(path, "is a folder; give a file name for the output")
    if path.exists() and not path.is_file():
        raise OutputError(path, "is not a regular file; give a file name for the output")
    try:
        check_output_dir(path.parent)
    except OutputError as exc:
        raise OutputError(path, f"cannot be written: {exc}", exc.errno) from exc
    return path


def atomic_write(path: str | Path, data: bytes | Iterable[bytes]) -> None:
    """Write ``data`` (bytes, or its parts in order) to ``path`` via a temp file and rename,
    so readers never see half a file.

    A symlink is followed: the file it points to is replaced and the link stays a
    link.  An existing file keeps its permission bits.  Any ``OSError`` (read-only,
    disk full, permission) becomes an :class:`OutputError` naming ``path``; the file
    there before, if any, is left as it was.
    """
    try:
        _atomic_write(real_path(path), data)
    except OutputError:
        raise
    except OSError as exc:
        raise OutputError(path, f"cannot write: {_reason(exc)}", exc.errno) from exc


def _atomic_write(path: Path, data: bytes | Iterable[bytes]) -> None:
    if path.is_dir():
        raise OutputError(path, "is a folder, not a file")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        try:
            mode = path.stat().st_mode & 0o7777
        except FileNotFoundError:
            # mkstemp makes the file 0600; give it the mode a plain open() would have.
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            for part in (data,) if isinstance(data, bytes) else data:
                fh.write(part)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


DEFAULT_BACKUPS = 10


def numbered_backups(path: str | Path) -> list[tuple[int, Path]]:
    """The numbered backups ``FILE.~N~`` of ``path``, oldest first."""
    path = Path(path)
    pattern = re.compile(re.escape(path.name) + r"\.~([1-9][0-9]*)~")
    found = []
    for entry in path.parent.glob(f"{glob_escape(path.name)}.~*~"):
        m = pattern.fullmatch(entry.name)
        if m:
            found.append((int(m.group(1)), entry))
    return sorted(found)


def glob_escape(name: str) -> str:
    """``name`` with glob wildcards escaped."""
    return re.sub(r"([*?\[])", r"[\1]", name)


def backup_numbered(path: str | Path, keep: int = DEFAULT_BACKUPS) -> Path | None:
    """Copy ``path`` to the next ``FILE.~N~`` (as ``cp --backup=numbered`` names them) and
    delete all but the newest ``keep`` backups.  None when ``path`` does not exist;
    the newest backup when it already holds the same bytes (no duplicate is made).

    Backups sit beside the name given (a symlink's name), holding the content of
    the file it points to, so they are found where the person looks.
    """
    path = Path(path)
    try:
        data = real_path(path).read_bytes()
    except FileNotFoundError:
        return None
    existing = numbered_backups(path)
    # The size first: a big file's newest backup is read only when it may hold the same bytes.
    if existing and existing[-1][1].stat().st_size == len(data) and existing[-1][1].read_bytes() == data:
        return existing[-1][1]  # the newest backup already holds this version
    number = existing[-1][0] + 1 if existing else 1
    target = path.with_name(f"{path.name}.~{number}~")
    atomic_write(target, data)
    try:
        shutil.copystat(real_path(path), target)
    except OSError:
        pass  # times and mode are a courtesy; the bytes are what matter
    for _, old in (existing + [(number, target)])[: -max(keep, 1)]:
        old.unlink(missing_ok=True)
    return target
