"""Random bytes, names and line endings into the commands that read files: never a traceback,
always exit 0, 1 or 2, and every line on stderr one of ours."""

from __future__ import annotations

import contextlib
import io
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aligner.cli import main

LINE_ENDS = st.sampled_from(["\n", "\r\n", "\r", ""])
PIECES = st.sampled_from([
    "id\tsource\ttarget\tforbidden\tnote", "ship\tkapal\tship\t\t", "ship\tkapal", "# comment", "",
    "source,target", "kapal,ship", '"a,b",c', '"unclosed', "id,source,target,forbidden,note",
    '<?xml version="1.0"?>', '<!DOCTYPE martif [<!ENTITY e "x">]>', "<martif><text><body>",
    '<termEntry id="a"><langSet xml:lang="id"><tig><term>kapal &e;</term></tig></langSet>',
    '<langSet xml:lang="en"><tig><term>ship</term></tig></langSet></termEntry>', "</body></text></martif>",
    '<tmx version="1.4"><header srclang="id"/><body>', '<tu><tuv xml:lang="id"><seg>Kapal.</seg></tuv>',
    '<tuv xml:lang="en"><seg>Ship.</seg></tuv></tu>', "</body></tmx>", "Kapal itu besar.", "Dr. Budi datang.",
    "\x00", "\x07", "\ufeff", "é", "\u2028", "&amp;", "&#0;", "]]>",
])


@st.composite
def structured(draw) -> bytes:
    """Lines that look almost like one of our formats, joined by mixed line endings, in a random encoding."""
    lines = draw(st.lists(st.one_of(PIECES, st.text(max_size=20)), max_size=12))
    text = "".join(line + draw(LINE_ENDS) for line in lines)
    if draw(st.booleans()):
        text = "\ufeff" + text
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8", "utf-16", "latin-1"]))
    return text.encode(encoding, errors="replace")


CONTENTS = st.one_of(st.binary(max_size=3000), structured())
NAMES = st.text(
    st.characters(blacklist_characters="/\x00", blacklist_categories=("Cs",)), min_size=1, max_size=24
)
SUFFIXES = st.sampled_from([".txt", ".tsv", ".csv", ".tbx", ".xml", ".tmx", "", ".TMX"])

COMMANDS = {
    "segment": lambda f, d: ["segment", str(f)],
    "qa": lambda f, d: ["qa", str(f)],
    "glossary check": lambda f, d: ["glossary", "check", str(f)],
    "glossary import": lambda f, d: ["glossary", "import", str(f), "--into", str(d / "g.tsv")],
    "tm import": lambda f, d: ["tm", "import", str(f), "--tm-db", str(d / "tm.sqlite3")],
}


def run_in_process(args: list[str]) -> tuple[int, str]:
    """``aligner ARGS`` in this process (one process for all examples keeps the test fast)."""
    err, out = io.StringIO(), io.StringIO()
    argv = sys.argv
    sys.argv = ["aligner", *args]
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            try:
                main()
                code = 0
            except SystemExit as stop:
                code = 0 if stop.code is None else stop.code
    finally:
        sys.argv = argv
    return code, err.getvalue()


@pytest.fixture(autouse=True)
def no_tracebacks(monkeypatch):
    monkeypatch.setenv("ALIGNER_DEBUG", "0")


@pytest.mark.parametrize("command", sorted(COMMANDS))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=CONTENTS, name=NAMES, suffix=SUFFIXES)
def test_random_files_get_one_line_answers(command: str, content: bytes, name: str, suffix: str):
    with tempfile.TemporaryDirectory(prefix="aligner-fuzz-") as tmp:
        folder = Path(tmp)
        path = folder / f"{name}{suffix}"
        try:
            path.write_bytes(content)
        except OSError:  # a name this file system cannot hold ("." or ".." with no suffix)
            pass
        code, err = run_in_process(COMMANDS[command](path, folder))
    assert code in (0, 1, 2), (code, err)
    for line in err.splitlines():
        if not line.strip():
            continue
        assert line.startswith(("aligner: error: ", "aligner: warning: ")), (command, line, err)
        assert "unexpected" not in line, (command, err)  # the catch-all: a bug, not an answer
    assert "Traceback" not in err
