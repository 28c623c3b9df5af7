"""TMX details CAT tools rely on: who made each unit and when, segtype, language codes as written."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from aligner.formats.tmx import TmxError, iter_tmx, read_tmx, tmx_langs, unit_segtype, write_tmx
from aligner.formats.units import model_label
from aligner.formats.xml import XML_LANG, norm_lang
from aligner.types import Unit
from tests.conftest import SHARED

UNITS = [
    Unit("Satu.", "One.", props=(("x-kind", "sentence"),), tuid="a:0"),
    Unit("[1] Smith. Judul.", "[1] Smith. Title.", props=(("x-kind", "reference"),), tuid="a:1"),
    Unit("Dua. Tiga.", "Two and three.", props=(("x-bead", "2-1"),), tuid="a:2",
         changedate="20260102T030405Z", changeid="ana"),
    Unit("Empat.", "Four.", props=(("x-bead", "1-1"),), tuid="a:3",
         creationdate="20250101T000000Z", creationid="okapi"),
]


@pytest.fixture(scope="module")
def dtd() -> etree.DTD:
    path = SHARED / "spec" / "tmx14.dtd"
    if not path.exists():
        pytest.skip("shared/spec/tmx14.dtd not present")
    return etree.DTD(str(path))


def test_every_tu_says_who_made_it_and_when(tmp_path: Path, dtd):
    path = tmp_path / "a.tmx"
    write_tmx(UNITS, path)
    root = etree.parse(str(path)).getroot()
    assert dtd.validate(root), dtd.error_log.filter_from_errors()
    header_date = root.find("header").get("creationdate")
    tus = root.findall("body/tu")
    assert [tu.get("creationdate") for tu in tus] == [header_date] * 3 + ["20250101T000000Z"]
    assert [tu.get("creationid") for tu in tus] == ["aligner"] * 3 + ["okapi"]
    assert [tu.get("changeid") for tu in tus] == [None, None, "ana", None]
    assert [tu.get("segtype") for tu in tus] == [None, "paragraph", "paragraph", None]
    assert root.find("header").get("segtype") == "sentence"
    # Stamps survive a read -> write: the first write's date is kept, not replaced.
    again = read_tmx(path)
    assert again == UNITS and again[0].creationdate == header_date and again[3].creationid == "okapi"
    write_tmx(again, tmp_path / "b.tmx")
    assert [u.creationdate for u in read_tmx(tmp_path / "b.tmx")] == [u.creationdate for u in again]


def test_segtype_of_units():
    assert [unit_segtype(u) for u in UNITS] == ["", "paragraph", "paragraph", ""]
    assert unit_segtype(Unit("a", "b", props=(("x-bead", "1-0"),))) == ""


def test_language_codes_as_written_and_read_in_any_case(tmp_path: Path, dtd):
    path = tmp_path / "r.tmx"
    write_tmx(UNITS, path, "id-ID", "en-US")
    root = etree.parse(str(path)).getroot()
    assert dtd.validate(root)
    assert root.find("header").get("srclang") == "id-ID"
    assert {tuv.get(XML_LANG) for tuv in root.iter("tuv")} == {"id-ID", "en-US"}
    assert tmx_langs(path) == ("id-ID", "en-US")
    assert read_tmx(path) == UNITS == read_tmx(path, "ID", "EN")
    assert [norm_lang(c) for c in ("id-ID", "ID", "in", "en_US", "eng")] == ["id", "id", "id", "en", "en"]


def test_x_model_names_a_local_model_without_its_path():
    assert model_label("Helsinki-NLP/opus-mt-id-en") == "Helsinki-NLP/opus-mt-id-en"
    assert model_label("/home/ana/models/opus-ft-3/") == "opus-ft-3"
    assert model_label("./models/tiny") == "tiny" and model_label("C:\\models\\tiny") == "tiny"


def _tmx(body: str, doctype: str = "") -> str:
    return f'<?xml version="1.0"?>\n{doctype}<tmx version="1.4"><header srclang="id"/><body>\n{body}\n</body></tmx>\n'


def test_an_entity_the_file_declares_is_refused_not_dropped(tmp_path: Path):
    path = tmp_path / "ent.tmx"
    path.write_text(_tmx('<tu><tuv xml:lang="id"><seg>a</seg></tuv><tuv xml:lang="en"><seg>b</seg></tuv></tu>\n'
                         '<tu><tuv xml:lang="id"><seg>Buatan &co;.</seg></tuv><tuv xml:lang="en"><seg>Made by &co;.</seg></tuv></tu>',
                         '<!DOCTYPE tmx [\n<!ENTITY co "PT Pindad">\n]>\n'), encoding="utf-8")
    with pytest.raises(TmxError) as info:
        read_tmx(path)
    message = str(info.value)
    assert message.startswith(f"{path}:7:") and "&co;" in message and "\n" not in message


def test_streaming_read_keeps_order_nesting_and_counts(tmp_path: Path):
    tus = "\n".join(f'<tu tuid="t{n}"><prop type="x-doc">d</prop><note>n{n}</note>'
                    f'<tuv xml:lang="id"><seg>S{n} <ph>x</ph></seg></tuv><tuv xml:lang="en"><seg>T{n}</seg></tuv></tu>'
                    for n in range(2000))
    path = tmp_path / "many.tmx"
    path.write_text(_tmx(tus + '\n<tu><tuv xml:lang="en"><seg>only English</seg></tuv></tu>'), encoding="utf-8")
    stats: dict[str, int] = {}
    got = list(iter_tmx(path, stats=stats))
    assert [(u.tuid, u.source, u.target, u.notes, u.props) for u in got] == [
        (f"t{n}", f"S{n} x", f"T{n}", (f"n{n}",), (("x-doc", "d"),)) for n in range(2000)]
    assert stats == {"units": 2000, "skipped": 1, "inline": 2000}


def test_streaming_read_reports_a_bad_unit_late_in_the_file_with_its_line(tmp_path: Path):
    tus = "\n".join('<tu><tuv xml:lang="id"><seg>a</seg></tuv></tu>' for _ in range(500))
    path = tmp_path / "bad.tmx"
    path.write_text(_tmx(tus + '\n<tu><tuv><seg>no lang</seg></tuv></tu>'), encoding="utf-8")
    with pytest.raises(TmxError, match=rf"^{path}:503: <tuv> without lang"):
        read_tmx(path)


@pytest.mark.parametrize("text, words", [
    ('<?xml version="1.0"?><xliff><body/></xliff>', "not a TMX file"),
    ('<?xml version="1.0"?><tmx version="1.4"><header/></tmx>', "no <body>"),
    ('<?xml version="1.0"?><tmx version="1.4"><body><tu>', "Premature end"),
])
def test_streaming_read_still_refuses_what_is_not_tmx(tmp_path: Path, text: str, words: str):
    path = tmp_path / "x.tmx"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(TmxError, match=words):
        read_tmx(path)
