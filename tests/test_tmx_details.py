"""TMX details CAT tools rely on: who made each unit and when, segtype, language codes as written."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from aligner.formats.tmx import read_tmx, tmx_langs, unit_segtype, write_tmx
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
