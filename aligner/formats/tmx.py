"""TMX 1.4b writer and reader (lxml; external entities and DTDs are never loaded).

Writer: UTF-8 TMX 1.4b valid against ``tmx14.dtd``, every required header
attribute, one ``<tu>`` per unit with its ``tuid``, ``x-*`` props and notes.

Reader: TMX 1.1-1.4 as written by other tools (OmegaT, Okapi,
translate-toolkit, Weblate, Trados exports): ``lang`` or ``xml:lang`` in any
case, with or without a region (``ID``, ``id-ID``, ``en-US``; the retired code
``in`` counts as Indonesian), ``srclang="*all*"``, several ``<tuv>`` per
language (the first one wins), inline markup (``bpt``/``ept``/``ph``/``it``/
``hi``/``ut``/``sub``) flattened to its text content and counted.

Characters XML 1.0 cannot carry (C0 controls other than tab/newline/carriage
return, lone surrogates, U+FFFE/U+FFFF) are *removed* on writing, with a
:class:`TmxWarning` naming how many were dropped: a translation memory with a
stray control character from a PDF copy is still worth saving, and the loss is
invisible to a reader anyway.  Everything else round-trips exactly (including
``\\r``, leading/trailing spaces and empty strings).
"""

from __future__ import annotations

import re
import warnings
from datetime import datetime, timezone
from collections.abc import Iterator
from pathlib import Path

from lxml import etree

from aligner.formats.files import atomic_write
from aligner.formats.units import PROP_BEAD, PROP_KIND
from aligner.formats.xml import XML_LANG, element_lang, internal_entities, iterparse_safe, norm_lang, parse_xml
from aligner.types import Unit
from aligner.version import __version__

INLINE_TAGS = ("bpt", "ept", "ph", "it", "hi", "ut", "sub")
_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# Who made a unit when nobody else is named: this tool (a draft, an alignment).
CREATION_ID = "aligner"


class TmxError(ValueError):
    """A TMX file that cannot be read; the message names file and line."""


class TmxWarning(UserWarning):
    """Something was changed or simplified while writing or reading TMX."""


def tmx_date(when: datetime | None = None) -> str:
    """A TMX date, ``YYYYMMDDThhmmssZ`` in UTC."""
    return (when or datetime.now(timezone.utc)).astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def xml_safe(text: str) -> tuple[str, int]:
    """``text`` without the characters XML 1.0 cannot represent, and how many were removed."""
    cleaned, count = _ILLEGAL.subn("", text)
    return cleaned, count


class _Cleaner:
    """Strips XML-illegal characters from everything written, counting them."""

    def __init__(self) -> None:
        self.removed = 0

    def __call__(self, text: str) -> str:
        cleaned, count = xml_safe(text)
        self.removed += count
        return cleaned


def unit_segtype(unit: Unit) -> str:
    """The TMX ``segtype`` of a unit that is not one sentence, else ``""`` (the header's).

    A reference line is written whole (``paragraph``), and so is an alignment
    bead that joins several sentences on either side (``2-1``, ``1-2``...).
    """
    if unit.prop(PROP_KIND) == "reference":
        return "paragraph"
    bead = unit.prop(PROP_BEAD)
    if bead and any(part.strip() not in ("0", "1") for part in bead.split("-")):
        return "paragraph"
    return ""


def _tuv(lang: str, text: str) -> etree._Element:
    tuv = etree.Element("tuv", {XML_LANG: lang})
    etree.SubElement(tuv, "seg").text = text
    return tuv


def tmx_bytes(
    units: list[Unit],
    srclang: str = "id",
    tgtlang: str = "en",
    creationdate: str | None = None,
    header_props: tuple[tuple[str, str], ...] = (),
    omit_empty: bool = False,
) -> bytes:
    """Serialise ``units`` as a TMX 1.4b document.

    With ``omit_empty`` a side whose text is empty gets no ``<tuv>`` at all (a
    one-language unit, valid TMX), so CAT tools see no empty *translation*.
    XML-illegal characters are removed with a :class:`TmxWarning` (see the module docstring).
    """
    clean = _Cleaner()
    root = etree.Element("tmx", version="1.4")
    header = etree.SubElement(
        root,
        "header",
        creationtool="aligner",
        creationtoolversion=__version__,
        segtype="sentence",
        # o-tmf names the tool format the memory came from; ours is this tool's own.
        **{"o-tmf": "aligner"},
        adminlang="en",
        srclang=srclang,
        datatype="plaintext",
        creationdate=creationdate or tmx_date(),
    )
    for key, value in header_props:
        etree.SubElement(header, "prop", type=clean(key)).text = clean(value)
    body = etree.SubElement(root, "body")
    created = header.get("creationdate")
    for n, unit in enumerate(units, 1):
        attrs = {
            "tuid": clean(unit.tuid) or str(n),
            # Every unit says when and by whom it was made: the file's date for a new one.
            "creationdate": clean(unit.creationdate) or created,
            "creationid": clean(unit.creationid) or CREATION_ID,
        }
        segtype = unit_segtype(unit)
        if segtype:
            attrs["segtype"] = segtype
        if unit.changedate:
            attrs["changedate"] = clean(unit.changedate)
        if unit.changeid:
            attrs["changeid"] = clean(unit.changeid)
        tu = etree.SubElement(body, "tu", attrs)
        for note in unit.notes:
            etree.SubElement(tu, "note").text = clean(note)
        for key, value in unit.props:
            etree.SubElement(tu, "prop", type=clean(key)).text = clean(value)
        for lang, text in ((srclang, unit.source), (tgtlang, unit.target)):
            if text or not omit_empty:
                tu.append(_tuv(lang, clean(text)))
    if clean.removed:
        warnings.warn(
            TmxWarning(f"removed {clean.removed} character(s) that XML 1.0 cannot represent (control characters)"),
            stacklevel=2,
        )
    return etree.tostring(
        root, xml_declaration=True, encoding="UTF-8", pretty_print=True, doctype='<!DOCTYPE tmx SYSTEM "tmx14.dtd">'
    )


def write_tmx(
    units: list[Unit],
    path: str | Path,
    srclang: str = "id",
    tgtlang: str = "en",
    header_props: tuple[tuple[str, str], ...] = (),
    omit_empty: bool = False,
) -> None:
    """Write ``units`` to ``path`` atomically as TMX 1.4b (``omit_empty``: see :func:`tmx_bytes`)."""
    atomic_write(path, tmx_bytes(units, srclang, tgtlang, header_props=header_props, omit_empty=omit_empty))


class _Reader:
    """Text of the elements of one file: inline markup flattened, declared entities refused."""

    def __init__(self, path: str | Path, stats: dict[str, int]) -> None:
        self.path = path
        self.stats = stats
        self.entities: frozenset[str] | None = None  # the file's declared entities, read once

    def text(self, el: etree._Element | None, count: bool = True) -> str:
        """Text content of a ``seg``/``note``/``prop``; inline elements are flattened to their text."""
        if el is None:
            return ""
        parts = [el.text or ""]
        inline = False
        for child in el:
            if isinstance(child.tag, str):
                if child.tag in INLINE_TAGS:
                    inline = True
                parts.append(self.text(child, count=False))
            elif isinstance(child, etree._Entity):
                self._entity(child)
            # Comments and references to external (never fetched) entities contribute nothing; their tails do.
            parts.append(child.tail or "")
        if inline and count:
            self.stats["inline"] = self.stats.get("inline", 0) + 1
        return "".join(parts)

    def _entity(self, ref: etree._Entity) -> None:
        if self.entities is None:
            self.entities = internal_entities(ref)
        if ref.name in self.entities:
            raise _fail(self.path, ref.sourceline, f"entity &{ref.name}; declared in the file's DTD is not expanded "
                        "(DTD entities never are); replace it by its text")


def _fail(path: str | Path, line: int | None, message: str) -> TmxError:
    return TmxError(f"{path}:{line or 1}: {message}")


def pair_missing(languages: list[str], srclang: str = "id", tgtlang: str = "en") -> str:
    """Why a file whose ``<tuv>`` languages are ``languages`` (as written) gave no unit to work on;
    ``''`` for a file with no ``<tuv>`` at all (an empty file is not a wrong one)."""
    if not languages:
        return ""
    return f"no {srclang}->{tgtlang} pair: the file has {', '.join(languages)}"


def iter_tmx(
    path: str | Path,
    srclang: str = "id",
    tgtlang: str = "en",
    stats: dict[str, int] | None = None,
    languages: list[str] | None = None,
) -> Iterator[Unit]:
    """The units of :func:`read_tmx`, one by one, read as a stream.

    Each ``<tu>`` is dropped from the parsed tree once it is read, so memory
    stays flat however long the file is.  ``stats`` is complete once the
    iteration ends; the inline-markup warning is the caller's (:func:`warn_inline`).
    ``languages`` (if given) receives the ``<tuv>`` languages as written, in order of first use.
    """
    stats = {} if stats is None else stats
    src_code, tgt_code = norm_lang(srclang), norm_lang(tgtlang)
    reader = _Reader(path, stats)
    count = 0
    root: etree._Element | None = None
    body: etree._Element | None = None  # the root's first <body>, while it is being read
    seen_body = False
    try:
        for event, el in iterparse_safe(path, ("start", "end"), ("body", "tu")):
            if root is None:
                root = el.getroottree().getroot()
                if root.tag != "tmx":
                    raise _fail(path, root.sourceline, f"not a TMX file: root element is <{root.tag}>, expected <tmx>")
            if el.tag == "body":
                if event == "start" and not seen_body and el.getparent() is root:
                    body, seen_body = el, True
                elif event == "end" and el is body:
                    body = None
                continue
            if event == "start" or body is None or el.getparent() is None:
                continue
            if languages is not None and not count:  # (only a file without units needs them named)
                for tuv in el.iterfind("tuv"):
                    code = tuv.get(XML_LANG) or tuv.get("lang") or ""
                    if code not in languages:
                        languages.append(code)
            unit = _unit(el, reader, src_code, tgt_code)
            # Drop what is read: the unit's content and every sibling before it.
            el.clear(keep_tail=True)
            if el.getparent() is body:  # (a <tu> nested deeper is dropped with its ancestor)
                while el.getprevious() is not None:
                    del body[0]
            if unit is not None:
                count += 1
                yield unit
    except etree.XMLSyntaxError as exc:
        raise _fail(path, exc.lineno, exc.msg) from exc
    except OSError as exc:
        raise TmxError(f"{path}: cannot read: {exc}") from exc
    if root is None:
        root = _root_of(path)
        if root.tag != "tmx":
            raise _fail(path, root.sourceline, f"not a TMX file: root element is <{root.tag}>, expected <tmx>")
    if not seen_body:
        raise _fail(path, root.sourceline, "TMX file has no <body>")
    stats["units"] = count


def _root_of(path: str | Path) -> etree._Element:
    """The root element of a file that has no ``<body>`` or ``<tu>`` at all (small, so parsed whole)."""
    try:
        return parse_xml(path).getroot()
    except etree.XMLSyntaxError as exc:
        raise _fail(path, exc.lineno, exc.msg) from exc
    except OSError as exc:
        raise TmxError(f"{path}: cannot read: {exc}") from exc


def _unit(tu: etree._Element, reader: _Reader, src_code: str, tgt_code: str) -> Unit | None:
    """The unit of one ``<tu>``; None (counted as ``skipped``) when it has no source side."""
    stats, path = reader.stats, reader.path
    texts: dict[str, str] = {}
    for tuv in tu.findall("tuv"):
        lang = element_lang(tuv)
        if not lang:
            raise _fail(path, tuv.sourceline, "<tuv> without lang or xml:lang")
        seg = tuv.find("seg")
        if seg is None:
            raise _fail(path, tuv.sourceline, "<tuv> without <seg>")
        if lang in texts:
            stats["extra_tuv"] = stats.get("extra_tuv", 0) + 1
            continue
        texts[lang] = reader.text(seg)
    if src_code not in texts:
        stats["skipped"] = stats.get("skipped", 0) + 1
        return None
    return Unit(
        source=texts[src_code],
        target=texts.get(tgt_code, ""),
        props=tuple((p.get("type", ""), reader.text(p, count=False)) for p in tu.findall("prop")),
        notes=tuple(reader.text(n, count=False) for n in tu.findall("note")),
        tuid=tu.get("tuid", ""),
        changedate=tu.get("changedate", ""),
        creationdate=tu.get("creationdate", ""),
        creationid=tu.get("creationid", ""),
        changeid=tu.get("changeid", ""),
    )


def warn_inline(path: str | Path, stats: dict[str, int], stacklevel: int = 2) -> None:
    """The :class:`TmxWarning` a read gives when inline markup was flattened (none otherwise)."""
    if stats.get("inline"):
        warnings.warn(
            TmxWarning(f"{path}: inline markup (bpt/ept/ph/it/hi) in {stats['inline']} segment(s) kept as plain text"),
            stacklevel=stacklevel + 1,
        )


def read_tmx(
    path: str | Path, srclang: str = "id", tgtlang: str = "en", stats: dict[str, int] | None = None
) -> list[Unit]:
    """Read the ``srclang``/``tgtlang`` pairs of a TMX 1.1-1.4 file as units.

    Units lacking the source language are skipped; a missing target gives an
    empty target.  ``stats`` (if given) receives counts: ``units``,
    ``skipped`` (no source), ``inline`` (segments whose inline markup was
    flattened), ``extra_tuv`` (further variants of a language, ignored).
    Raises :class:`TmxError` ("file:line: what") for anything that is not TMX,
    and for a reference to an entity the file declares (its text is never expanded).
    The file is read as a stream (:func:`iter_tmx`).
    """
    stats = {} if stats is None else stats
    units = list(iter_tmx(path, srclang, tgtlang, stats))
    warn_inline(path, stats)
    return units


def tmx_langs(path: str | Path, srclang: str = "id") -> tuple[str, str]:
    """The source and target codes of a TMX *as written there* (``id-ID``, ``en-US``), so a
    rewrite keeps them: the header's ``srclang`` (``srclang`` when ``*all*``) and the first
    other ``<tuv>`` language."""
    try:
        root = parse_xml(path).getroot()
    except (etree.XMLSyntaxError, OSError):
        return srclang, "en"
    header = root.find("header")
    src = header.get("srclang", "") if header is not None else ""
    if not src or src == "*all*":
        src = next((c for c in (_code(t) for t in root.iter("tuv")) if norm_lang(c) == norm_lang(srclang)), srclang)
    tgt = next((c for c in (_code(t) for t in root.iter("tuv")) if c and norm_lang(c) != norm_lang(src)), "en")
    return src, tgt


def _code(el: etree._Element) -> str:
    return el.get(XML_LANG) or el.get("lang") or ""

