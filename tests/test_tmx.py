"""TMX 1.4b: writer validity, reader tolerance, safety, lossless round trip, translate-toolkit interop."""

from __future__ import annotations

import http.server
import re
import threading
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from aligner.formats.tmx import (
    TmxError,
    TmxWarning,
    read_tmx,
    tmx_bytes,
    write_tmx,
    xml_safe,
)
from aligner.types import Unit
from tests.conftest import ROOT

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def _find_dtd() -> Path | None:
    for parent in ROOT.parents:
        candidate = parent / "shared" / "spec" / "tmx14.dtd"
        if candidate.exists():
            return candidate
    return None


@pytest.fixture(scope="module")
def dtd():
    path = _find_dtd()
    if path is None:
        pytest.skip("shared/spec/tmx14.dtd not present")
    return etree.DTD(str(path))


UNITS = [
    Unit(
        "Menteri Pertahanan tiba pada 12,5 juta.",
        "The Defence Minister arrived at 12.5 million.",
        props=(("x-doc", "a.txt"), ("x-segment", "0"), ("x-kind", "sentence"), ("x-status", "draft"),
               ("x-terms", "T1 T2"), ("x-align-score", "0.9731"), ("x-model", "tiny"), ("x-bead", "1-1")),
        notes=("missing term T2: required 'Ministry' is not in the draft",),
        tuid="a:0",
    ),
    Unit("Kalimat kedua & <tag> \"kutipan\".", "", props=(("x-status", "review"),), tuid="a:1"),
]


def test_written_file_is_valid_tmx14(tmp_path: Path, dtd):
    path = tmp_path / "out.tmx"
    write_tmx(UNITS, path)
    tree = etree.parse(str(path))
    assert dtd.validate(tree), dtd.error_log.filter_from_errors()
    assert tree.docinfo.encoding.upper() == "UTF-8"
    header = tree.getroot().find("header")
    for attr in ("creationtool", "creationtoolversion", "segtype", "o-tmf", "adminlang", "srclang", "datatype"):
        assert header.get(attr), attr
    assert header.get("srclang") == "id" and header.get("datatype") == "plaintext"
    assert re.fullmatch(r"\d{8}T\d{6}Z", header.get("creationdate"))
    tus = tree.getroot().findall("body/tu")
    assert [tu.get("tuid") for tu in tus] == ["a:0", "a:1"]
    assert [tuv.get(XML_LANG) for tuv in tus[0].findall("tuv")] == ["id", "en"]
    props = {p.get("type"): p.text for p in tus[0].findall("prop")}
    assert props["x-align-score"] == "0.9731" and props["x-terms"] == "T1 T2" and props["x-model"] == "tiny"
    assert tus[0].find("note").text.startswith("missing term")


def test_round_trip_is_exact(tmp_path: Path):
    path = tmp_path / "rt.tmx"
    write_tmx(UNITS, path)
    assert read_tmx(path) == UNITS


_LEGAL = st.characters(blacklist_categories=("Cs",), blacklist_characters="\ufffe\uffff").filter(
    lambda c: not xml_safe(c)[1]
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    texts=st.lists(st.tuples(st.text(_LEGAL), st.text(_LEGAL), st.text(_LEGAL, min_size=1)), min_size=1, max_size=4)
)
def test_round_trip_arbitrary_unicode(tmp_path: Path, texts):
    units = [
        Unit(s, t, props=(("x-note", n),), notes=(n,), tuid=f"u{i}") for i, (s, t, n) in enumerate(texts)
    ]
    path = tmp_path / "h.tmx"
    write_tmx(units, path)
    assert read_tmx(path) == units


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text())
def test_illegal_characters_are_removed_with_a_warning(tmp_path: Path, text):
    cleaned, removed = xml_safe(text)
    path = tmp_path / "c.tmx"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        write_tmx([Unit(text, "x")], path)
    assert read_tmx(path)[0].source == cleaned
    assert any(issubclass(w.category, TmxWarning) for w in caught) == bool(removed)


def test_control_characters_documented_choice():
    with pytest.warns(TmxWarning, match="removed 2 character"):
        data = tmx_bytes([Unit("a\x00b\x1bc", "ok")])
    assert b"abc" in data


FOREIGN = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE tmx SYSTEM "tmx11.dtd">
<tmx version="1.1">
  <header creationtool="OmegaT" creationtoolversion="1" segtype="sentence" o-tmf="OmegaT TMX"
          adminlang="EN-US" srclang="*all*" datatype="plaintext"/>
  <body>
    <tu tuid="1">
      <tuv lang="ID"><seg>Halo <bpt i="1">&lt;b&gt;</bpt>dunia<ept i="1">&lt;/b&gt;</ept>.</seg></tuv>
      <tuv lang="EN-US"><seg>Hello <hi type="b">world</hi><ph x="1">{1}</ph>.</seg></tuv>
    </tu>
    <tu>
      <tuv xml:lang="id-ID"><seg>Satu</seg></tuv>
      <tuv xml:lang="en-GB"><seg>One</seg></tuv>
      <tuv xml:lang="EN"><seg>One (variant)</seg></tuv>
      <tuv xml:lang="fr"><seg>Un</seg></tuv>
    </tu>
    <tu><tuv xml:lang="in"><seg>Dua</seg></tuv></tu>
    <tu><tuv xml:lang="en"><seg>Only English</seg></tuv></tu>
  </body>
</tmx>
"""


def test_reads_tmx_from_other_tools(tmp_path: Path):
    path = tmp_path / "foreign.tmx"
    path.write_text(FOREIGN, encoding="utf-8")
    stats: dict[str, int] = {}
    with pytest.warns(TmxWarning, match="inline markup"):
        units = read_tmx(path, stats=stats)
    assert [(u.source, u.target) for u in units] == [
        ("Halo <b>dunia</b>.", "Hello world{1}."),
        ("Satu", "One"),
        ("Dua", ""),
    ]
    assert stats == {"inline": 2, "extra_tuv": 1, "skipped": 1, "units": 3}
    # Other language pairs can be read from the same file.
    with pytest.warns(TmxWarning):
        assert [u.target for u in read_tmx(path, srclang="en", tgtlang="fr")] == ["", "Un", ""]


@pytest.mark.parametrize(
    "content, line, words",
    [
        ("<tmx version='1.4'><header/><body>\n<tu><tuv xml:lang='id'><seg>x</seg></tu>\n</body></tmx>", 2, "mismatch"),
        ("<?xml version='1.0'?>\n<html><body/></html>", 2, "not a TMX"),
        ("<tmx version='1.4'>\n<header/>\n</tmx>", 1, "no <body>"),
        ("<tmx><header/><body>\n\n<tu><tuv><seg>x</seg></tuv></tu></body></tmx>", 3, "without lang"),
        ("", 1, ""),
    ],
)
def test_malformed_files_raise_one_clear_error(tmp_path: Path, content: str, line: int, words: str):
    path = tmp_path / "bad.tmx"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(TmxError) as info:
        read_tmx(path)
    message = str(info.value)
    assert message.startswith(f"{path}:{line}:"), message
    assert words.lower() in message.lower()
    assert "\n" not in message


def test_never_resolves_external_entities_or_fetches_dtds(tmp_path: Path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT", encoding="utf-8")
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'<!ENTITY remote "FETCHED-OVER-HTTP">')

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        path = tmp_path / "xxe.tmx"
        path.write_text(
            f"""<?xml version="1.0"?>
<!DOCTYPE tmx SYSTEM "http://127.0.0.1:{port}/tmx14.dtd" [
  <!ENTITY xxe SYSTEM "file://{secret}">
  <!ENTITY % param SYSTEM "http://127.0.0.1:{port}/param.dtd">
  %param;
]>
<tmx version="1.4"><header srclang="id"/><body>
<tu><tuv xml:lang="id"><seg>a&xxe;b</seg></tuv><tuv xml:lang="en"><seg>c&remote;d</seg></tuv></tu>
</body></tmx>
""",
            encoding="utf-8",
        )
        try:
            units = read_tmx(path)
        except TmxError:
            units = []  # refusing the file is fine too; leaking or fetching is not
    finally:
        server.shutdown()
        server.server_close()
    assert hits == []
    assert all("TOP-SECRET" not in u.source + u.target for u in units)
    assert all("FETCHED" not in u.source + u.target for u in units)
    # lxml keeps the references unexpanded, so the file is read and the entities are simply absent.
    assert [(u.source, u.target) for u in units] == [("ab", "cd")]


def test_translate_toolkit_reads_our_files(tmp_path: Path):
    from translate.storage.tmx import tmxfile

    path = tmp_path / "ours.tmx"
    write_tmx(UNITS, path)
    with path.open("rb") as fh:
        store = tmxfile(fh, sourcelanguage="id", targetlanguage="en")
    got = [(u.source, u.target or "") for u in store.units]
    assert got == [(u.source, u.target) for u in UNITS]


def test_we_read_translate_toolkit_files(tmp_path: Path):
    from translate.storage.tmx import tmxfile

    store = tmxfile(sourcelanguage="id", targetlanguage="en")
    pairs = [("Satu & dua <tiga>.", "One & two <three>."), ("Kedua  spasi ", "Second  space "), ("Ünïcödé 😀", "Unicode 😀")]
    for source, target in pairs:
        store.addtranslation(source, "id", target, "en")
    path = tmp_path / "tt.tmx"
    path.write_bytes(bytes(store))
    assert [(u.source, u.target) for u in read_tmx(path)] == pairs


def test_written_files_get_the_usual_permissions(tmp_path):
    """Output is shared with colleagues and tools: not the 0600 of a temp file."""
    import os

    from aligner.formats.files import atomic_write

    umask = os.umask(0o022)
    try:
        atomic_write(tmp_path / "a.tmx", b"x")
    finally:
        os.umask(umask)
    assert (tmp_path / "a.tmx").stat().st_mode & 0o777 == 0o644
