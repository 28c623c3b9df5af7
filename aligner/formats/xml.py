"""What every XML format here shares: a parser that never fetches, and language codes.

TMX, XLIFF and TBX files come from other people's tools; reading one must never
load a DTD, expand an entity or touch the network (billion-laughs and XXE are
data, not instructions).  Language codes are compared by their primary subtag,
case-insensitively, with the retired codes other tools still write.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import IO

from lxml import etree

XML_NS = "http://www.w3.org/XML/1998/namespace"
XML_LANG = f"{{{XML_NS}}}lang"
# Retired or three-letter codes other tools still write ("in" is the withdrawn ISO 639 code for Indonesian).
_LANG_ALIASES = {"in": "id", "ind": "id", "eng": "en"}
# An XML 1.0 Name (fifth edition) without ':' (an NCName, what ``id`` attributes must be).
_NAME_START = (
    "A-Z_a-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d"
    "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff"
)
_NCNAME = re.compile(f"[{_NAME_START}][{_NAME_START}\\-.0-9\u00b7\u0300-\u036f\u203f-\u2040]*\\Z")


# The one set of parser settings every reader here uses (tree or streaming).  Entities stay
# references: an external one is never fetched, and libxml2 refuses entity amplification.
SAFE_OPTIONS: dict[str, bool] = {
    "resolve_entities": False, "no_network": True, "load_dtd": False, "dtd_validation": False, "huge_tree": False,
}


def safe_parser() -> etree.XMLParser:
    """An lxml parser that loads no DTD, resolves no entity and never uses the network."""
    return etree.XMLParser(**SAFE_OPTIONS)


def iterparse_safe(path: str | Path | IO[bytes], events: tuple[str, ...], tag: tuple[str, ...]) -> etree.iterparse:
    """``etree.iterparse`` of ``path`` (or a binary file object) with the settings of :func:`safe_parser`."""
    return etree.iterparse(path if hasattr(path, "read") else str(path), events=events, tag=tag, **SAFE_OPTIONS)


def internal_entities(el: etree._Element) -> frozenset[str]:
    """Names of the entities the document of ``el`` declares *with a value* in its internal DTD.

    Such a reference stands for text the file itself holds; since no entity is ever expanded,
    a reader must refuse it rather than drop that text.  (External ones, ``SYSTEM``, are never
    fetched, so they carry nothing to lose.)
    """
    dtd = el.getroottree().docinfo.internalDTD
    if dtd is None:
        return frozenset()
    return frozenset(e.name for e in dtd.iterentities() if e.system_url is None and e.content is not None)


def parse_xml(path: str | Path) -> etree._ElementTree:
    """Parse ``path`` with :func:`safe_parser`; lxml's ``XMLSyntaxError``/``OSError`` pass through."""
    return etree.parse(str(path), safe_parser())


def entity_problem(tree: etree._ElementTree, path: str | Path) -> str | None:
    """Why ``tree`` (parsed from ``path`` by :func:`parse_xml`) must be refused, as one line
    naming the file, or None: entities
    declared in its DOCTYPE or an entity reference.  The parser expands
    neither, so reading on would silently keep ``&name;`` as if it were the text."""
    dtd = tree.docinfo.internalDTD  # an external DTD is named only, never loaded
    if dtd is not None and any(True for _ in dtd.entities()):
        return f"{path}: declares XML entities in its DOCTYPE; refused (entities are never expanded)"
    for entity in tree.getroot().iter(etree.Entity):
        return f"{path}:{entity.sourceline}: entity reference {entity.text} refused (entities are never expanded)"
    return None


def norm_lang(code: str) -> str:
    """Primary language subtag, lower case: ``ID`` / ``id-ID`` / ``id_ID`` / ``in`` -> ``id``."""
    if len(code) == 2 and code.isalpha():  # the usual "id" / "EN": no split to do
        primary = code.lower()
        return _LANG_ALIASES.get(primary, primary)
    primary = re.split(r"[-_]", code.strip(), maxsplit=1)[0].lower()
    return _LANG_ALIASES.get(primary, primary)


def element_lang(el: etree._Element) -> str:
    """The normalised language of ``el`` (``xml:lang``, else a plain ``lang`` attribute)."""
    return norm_lang(el.get(XML_LANG) or el.get("lang") or "")


def is_ncname(value: str) -> bool:
    """Is ``value`` usable as an XML ``id`` (an XML name without ':')?"""
    return bool(_NCNAME.match(value))


def ncname(value: str) -> str:
    """``value`` made into an XML name: invalid characters become ``-``, and a
    name that cannot start one (a digit, ``-``, ``.``) gets a ``c-`` prefix."""
    cleaned = re.sub(f"[^{_NAME_START}\\-.0-9\u00b7\u0300-\u036f\u203f-\u2040]+", "-", value.strip()).strip("-")
    if not cleaned:
        return "c"
    return cleaned if is_ncname(cleaned) else f"c-{cleaned}"
