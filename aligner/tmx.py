"""TMX 1.4b writer and reader (lxml; external entities are never resolved)."""

from __future__ import annotations

import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from lxml import etree

from aligner import __version__
from aligner.types import Unit

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


class TmxError(ValueError):
    """A TMX file that cannot be read; the message names file and line."""


def tmx_date(when: datetime | None = None) -> str:
    """A TMX date, ``YYYYMMDDThhmmssZ`` in UTC."""
    return (when or datetime.now(timezone.utc)).astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _tuv(lang: str, text: str) -> etree._Element:
    tuv = etree.Element("tuv", {XML_LANG: lang})
    etree.SubElement(tuv, "seg").text = text
    return tuv


def tmx_bytes(units: list[Unit], srclang: str = "id", tgtlang: str = "en", creationdate: str | None = None) -> bytes:
    """Serialise ``units`` as a TMX 1.4b document."""
    root = etree.Element("tmx", version="1.4")
    etree.SubElement(
        root,
        "header",
        creationtool="aligner",
        creationtoolversion=__version__,
        segtype="sentence",
        **{"o-tmf": "aligner"},
        adminlang="en",
        srclang=srclang,
        datatype="plaintext",
        creationdate=creationdate or tmx_date(),
    )
    body = etree.SubElement(root, "body")
    for n, unit in enumerate(units, 1):
        attrs = {"tuid": unit.tuid or str(n)}
        if unit.changedate:
            attrs["changedate"] = unit.changedate
        if unit.changeid:
            attrs["changeid"] = unit.changeid
        tu = etree.SubElement(body, "tu", attrs)
        for note in unit.notes:
            etree.SubElement(tu, "note").text = note
        for key, value in unit.props:
            etree.SubElement(tu, "prop", type=key).text = value
        tu.append(_tuv(srclang, unit.source))
        tu.append(_tuv(tgtlang, unit.target))
    return etree.tostring(
        root, xml_declaration=True, encoding="UTF-8", pretty_print=True, doctype='<!DOCTYPE tmx SYSTEM "tmx14.dtd">'
    )


def atomic_write(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temp file and rename, so readers never see half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_tmx(units: list[Unit], path: str | Path, srclang: str = "id", tgtlang: str = "en") -> None:
    """Write ``units`` to ``path`` atomically as TMX 1.4b."""
    atomic_write(path, tmx_bytes(units, srclang, tgtlang))


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False)


def _lang(el: etree._Element) -> str:
    return (el.get(XML_LANG) or el.get("lang") or "").lower()


def read_tmx(path: str | Path, srclang: str = "id", tgtlang: str = "en") -> list[Unit]:
    """Read the ``srclang``/``tgtlang`` pairs of a TMX file as units."""
    try:
        tree = etree.parse(str(path), _parser())
    except etree.XMLSyntaxError as exc:
        raise TmxError(f"{path}:{exc.lineno}: {exc.msg}") from exc
    units = []
    for tu in tree.getroot().iter("tu"):
        texts: dict[str, str] = {}
        for tuv in tu.findall("tuv"):
            lang = _lang(tuv).split("-")[0]
            seg = tuv.find("seg")
            texts.setdefault(lang, "".join(seg.itertext()) if seg is not None else "")
        units.append(
            Unit(
                source=texts.get(srclang, ""),
                target=texts.get(tgtlang, ""),
                props=tuple((p.get("type", ""), p.text or "") for p in tu.findall("prop")),
                notes=tuple(n.text or "" for n in tu.findall("note")),
                tuid=tu.get("tuid", ""),
                changedate=tu.get("changedate", ""),
                changeid=tu.get("changeid", ""),
            )
        )
    return units
