"""Save a TMX by splicing bytes: unchanged ``<tu>`` elements are copied as they are on disk.

Re-parsing a big file to change one unit costs seconds; a review save changes a
handful.  :func:`scan_units` finds the byte span of every ``<tu>`` with one pass of
a tokenizer-level regex (no XML parser: TMX units never nest, so a span runs from
``<tu …>`` to the next ``</tu>``), skipping comments, CDATA sections and processing
instructions.  :meth:`UnitSpans.fragment` parses one span on its own, to edit it
with :class:`~aligner.formats.tmxdoc.TmxDocument`'s methods, and
:meth:`UnitSpans.splice` puts the edited units' new bytes in place of their spans.

The scan refuses (returns None) whatever it cannot be sure of, and the caller then
rewrites the whole file instead: an encoding other than UTF-8 or ASCII, a DOCTYPE
with an internal subset (entities could expand to markup), namespace declarations
on the root (an edited unit would be written with them), ``<tu``/``</tu`` text
inside a comment, CDATA section or processing instruction, a start tag the regex
does not read, or units that do not pair up.
"""

from __future__ import annotations

import re
from array import array
from dataclasses import dataclass

from lxml import etree

from aligner.formats.xml import safe_parser

# The XML declaration's encoding, after an optional UTF-8 byte order mark.
_DECL = re.compile(rb'\A(?:\xef\xbb\xbf)?<\?xml\s[^>]*?encoding\s*=\s*["\']([A-Za-z0-9._-]+)["\']')
# The encodings whose bytes this module may copy and write without re-encoding.
_ENCODINGS = {"UTF-8": "UTF-8", "UTF8": "UTF-8", "US-ASCII": "ASCII", "ASCII": "ASCII"}
_ATTRS = rb"""(?:\s+[^\s=/>"']+\s*=\s*(?:"[^"<]*"|'[^'<]*'))*\s*"""
_SKIP = rb"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>"
# Up to the root's start tag: the declaration, comments, PIs and a DOCTYPE without internal subset.
_PROLOG = re.compile(
    rb"\A(?:\xef\xbb\xbf)?(?:\s+|" + _SKIP + rb"""|<!DOCTYPE(?:[^\[>"']|"[^"]*"|'[^']*')*>)*<tmx(""" + _ATTRS + rb")>",
    re.DOTALL,
)
# Where the scan stops after the root's start tag: markup that may hold "<tu" as text, and the
# start and end tags of units.  A literal "<" first, so the search runs at the speed of a find.
_STOPS = re.compile(rb"<(?:/?tu[\s/>]|!--|!\[CDATA\[|\?)")
# How each skipped construct opens (its first four bytes, two for a PI) and closes.
_ENDS = {b"<!--": (4, b"-->"), b"<![C": (9, b"]]>"), b"<?": (2, b"?>")}
_OPEN = re.compile(rb"<tu" + _ATTRS + rb"(/?)>")
_CLOSE = re.compile(rb"</tu\s*>")
_UNIT_TEXT = re.compile(rb"</?tu[\s/>]")


@dataclass(frozen=True)
class UnitSpans:
    """Where each ``<tu>`` of a file lies: ``starts[n]:ends[n]`` are the bytes of unit ``n``.

    ``encoding`` is what an edited unit is serialised in (``UTF-8`` or ``ASCII``).
    """

    starts: array
    ends: array
    encoding: str

    def __len__(self) -> int:
        return len(self.starts)

    def fragment(self, data: bytes, n: int) -> etree._Element | None:
        """Unit ``n`` of ``data`` parsed on its own, in a ``<tmx><body>`` of its own so that a
        :class:`~aligner.formats.tmxdoc.TmxDocument` can edit it; None when the span is not one
        well-formed ``<tu>`` (an entity or a prefix declared outside it, say)."""
        try:
            root = etree.fromstring(b"<tmx><body>" + data[self.starts[n]:self.ends[n]] + b"</body></tmx>",
                                    safe_parser())
        except etree.XMLSyntaxError:
            return None
        body = root.find("body")
        if body is None or len(body) != 1 or body[0].tag != "tu":
            return None
        return body[0]

    def serialise(self, tu: etree._Element) -> bytes:
        """``tu`` as the bytes to splice in (as the streamed rewrite writes an edited unit)."""
        return etree.tostring(tu, encoding=self.encoding, xml_declaration=False, with_tail=False)

    def splice(self, data: bytes, new: dict[int, bytes]) -> tuple[list[bytes], UnitSpans]:
        """``data`` with unit ``n`` replaced by ``new[n]``, in parts to write in order, and the spans of that file."""
        parts: list[bytes] = []
        starts, ends = array("q", self.starts), array("q", self.ends)
        at = shift = 0
        edited = sorted(new)
        for k, n in enumerate(edited):
            parts += (data[at:self.starts[n]], new[n])
            at = self.ends[n]
            ends[n] = starts[n] + shift + len(new[n])
            starts[n] += shift
            shift += len(new[n]) - (self.ends[n] - self.starts[n])
            stop = edited[k + 1] if k + 1 < len(edited) else len(starts)
            for m in range(n + 1, stop):  # the units up to the next edited one move by the same amount
                starts[m] += shift
                ends[m] += shift
        parts.append(data[at:])
        return parts, UnitSpans(starts, ends, self.encoding)


def file_encoding(data: bytes) -> str | None:
    """``UTF-8`` or ``ASCII``: the encoding ``data`` declares, when it is one of those; else None."""
    if data[:1] in (b"\x00", b"\xff", b"\xfe"):  # UTF-16 or UTF-32, with or without a byte order mark
        return None
    decl = _DECL.match(data)
    if decl is not None:
        return _ENCODINGS.get(decl.group(1).decode("ascii").upper())
    head = data.removeprefix(b"\xef\xbb\xbf")
    if head.startswith(b"<?xml") and b"encoding" in head[:head.find(b"?>")]:
        return None  # an encoding declared in a way the pattern does not read
    return "UTF-8"


def scan_units(data: bytes) -> UnitSpans | None:
    """The span of every ``<tu>`` in ``data``, in document order; None where splicing would not be safe."""
    encoding = file_encoding(data)
    prolog = _PROLOG.match(data)
    if encoding is None or prolog is None or b"xmlns" in prolog.group(1) or _UNIT_TEXT.search(prolog.group()):
        return None
    starts, ends = array("q"), array("q")
    start = -1  # the start of the unit being read, -1 between units
    at = prolog.end()
    while (m := _STOPS.search(data, at)) is not None:
        at = m.start()
        head = data[at:at + 4]
        if head.startswith(b"<tu"):
            tag = _OPEN.match(data, at)
            if tag is None or start >= 0:
                return None  # a start tag the pattern does not read, or units that nest
            if tag.group(1):
                starts.append(at)
                ends.append(tag.end())
            else:
                start = at
            at = tag.end()
        elif head.startswith(b"</tu"):
            tag = _CLOSE.match(data, at)
            if tag is None or start < 0:
                return None
            starts.append(start)
            ends.append(tag.end())
            start, at = -1, tag.end()
        else:
            opened, close = _ENDS[head[:2] if head.startswith(b"<?") else head]
            end = data.find(close, at + opened)
            if end < 0 or _UNIT_TEXT.search(data, at, end + len(close)):
                return None  # unclosed, or "<tu" as text: not spliced rather than risk misreading it
            at = end + len(close)
    if start >= 0:
        return None
    return UnitSpans(starts, ends, encoding)
