"""A TMX file as a document to edit in place, losslessly.

:mod:`aligner.formats.tmx` reads a TMX into plain :class:`~aligner.types.Unit`
values and writes our own files.  Editing someone's file must instead change
only what the person changed: here the parsed lxml tree is kept and edited in
place, so other units, other languages, region codes (``id-ID``), inline codes
(``<ph>``, ``<bpt>``/``<ept>``), the header, ``<tu>`` attributes, per-``<tuv>``
props, notes, comments and unknown elements are written back as they were.

A unit is named by a *key*: its ``tuid`` where it has one, otherwise its
source text; a repeated name gets ``#2``, ``#3``... in document order.  Keys
survive units being inserted, removed or re-ordered around them, which
positions do not.
"""

from __future__ import annotations

import copy
import io
import re
import secrets
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from aligner.formats.tmx import XML_LANG, TmxError, norm_lang, xml_safe
from aligner.formats.tmxsplice import file_encoding
from aligner.formats.units import PROP_STATUS
from aligner.formats.xml import iterparse_safe, safe_parser
from aligner.types import Unit

STATUS_PROP = PROP_STATUS
# How an inline code shows in editable text: a protected token numbered in document order.
TOKEN = re.compile("\u27e6([0-9]+)\u27e7")
TOKEN_CHARS = ("\u27e6", "\u27e7")


class InlineCodes(ValueError):
    """The segment holds inline codes that a plain-text edit would flatten."""


def seg_text(seg: etree._Element | None) -> str:
    """Text content of a ``<seg>``, inline codes flattened to their text (comments skipped)."""
    return "" if seg is None else "".join(seg.itertext())


def has_inline(seg: etree._Element | None) -> bool:
    """True when ``seg`` has child elements (inline codes) a plain string cannot carry."""
    return seg is not None and any(isinstance(child.tag, str) for child in seg)


def seg_parts(seg: etree._Element | None) -> list[dict[str, str]]:
    """``seg`` as text runs and protected codes: ``{"text": ...}`` / ``{"code": tag, "text": ...}``."""
    if seg is None:
        return []
    parts = [{"text": seg.text or ""}]
    for child in seg:
        if isinstance(child.tag, str):
            parts.append({"code": child.tag, "text": "".join(child.itertext())})
        parts.append({"text": child.tail or ""})
    return [p for p in parts if p["text"] or "code" in p]


def _codes(seg: etree._Element) -> list[etree._Element]:
    return [child for child in seg if isinstance(child.tag, str)]


def seg_tokens(seg: etree._Element | None) -> str | None:
    """``seg`` as editable text, each inline code a token ``⟦n⟧`` (1-based, in order).

    None when its text already holds a token bracket, so tokens could not be told from text.
    """
    if seg is None:
        return ""
    runs = [seg.text or ""] + [child.tail or "" for child in seg]
    if any(c in run for run in runs for c in TOKEN_CHARS) or any(
        c in "".join(child.itertext()) for child in _codes(seg) for c in TOKEN_CHARS
    ):
        return None
    out = [seg.text or ""]
    n = 0
    for child in seg:
        if isinstance(child.tag, str):
            n += 1
            out.append(f"\u27e6{n}\u27e7")
        out.append(child.tail or "")
    return "".join(out)


def detokenize(seg: etree._Element | None, text: str) -> str:
    """``text`` (with ``⟦n⟧`` tokens of ``seg``'s codes) as plain text: each token its code's text."""
    codes = _codes(seg) if seg is not None else []

    def code_text(m: re.Match[str]) -> str:
        n = int(m.group(1))
        return "".join(codes[n - 1].itertext()) if 0 < n <= len(codes) else m.group(0)

    return TOKEN.sub(code_text, text)


def tuv_lang(tuv: etree._Element) -> str:
    """The language code a ``<tuv>`` carries, as written (``xml:lang`` or TMX 1.1 ``lang``)."""
    return tuv.get(XML_LANG) or tuv.get("lang") or ""


def find_tuv(tu: etree._Element, lang: str) -> etree._Element | None:
    """The first ``<tuv>`` of primary language ``lang`` (``id`` matches ``id-ID``, ``in``...)."""
    for tuv in tu.findall("tuv"):
        if norm_lang(tuv_lang(tuv)) == lang:
            return tuv
    return None


def tu_status(tu: etree._Element) -> str:
    """The unit's ``x-status`` prop ('' when it has none); any value another tool wrote."""
    for prop in tu.findall("prop"):
        if prop.get("type") == STATUS_PROP:
            return prop.text or ""
    return ""


@dataclass(frozen=True)
class DocUnit:
    """One ``<tu>`` of a document with its key and its plain view (None: no source side).

    ``element`` is None in a compact view of a streamed file (see :class:`TmxStream`).
    """

    key: str
    element: etree._Element | None
    unit: Unit | None


class TmxDocument:
    """A parsed TMX file kept as a tree; :meth:`to_bytes` writes back all that was not edited."""

    def __init__(self, tree: etree._ElementTree, name: str = "", srclang: str = "id", tgtlang: str = "en",
                 lang_codes: Counter[str] | None = None) -> None:
        self.tree = tree
        # The <tuv> language codes of the whole file, where the tree holds only part of it (a stream).
        self.lang_codes = lang_codes
        self.name = name
        self.srclang = norm_lang(srclang)
        self.tgtlang = norm_lang(tgtlang)
        root = tree.getroot()
        if root.tag != "tmx":
            raise TmxError(f"{name}:{root.sourceline or 1}: not a TMX file: root element is <{root.tag}>, expected <tmx>")
        body = root.find("body")
        if body is None:
            raise TmxError(f"{name}:{root.sourceline or 1}: TMX file has no <body>")
        self.body = body

    @classmethod
    def parse(cls, data: bytes, name: str | Path = "", srclang: str = "id", tgtlang: str = "en") -> TmxDocument:
        """Parse TMX bytes; :class:`TmxError` ("name:line: what") when they are not TMX."""
        try:
            root = etree.fromstring(data, safe_parser())
        except etree.XMLSyntaxError as exc:
            raise TmxError(f"{name}:{exc.lineno or 1}: {exc.msg}") from exc
        doc = cls(root.getroottree(), str(name), srclang, tgtlang)
        for tuv in doc.body.iter("tuv"):
            if not tuv_lang(tuv):
                raise TmxError(f"{name}:{tuv.sourceline or 1}: <tuv> without lang or xml:lang")
        return doc

    @classmethod
    def read(cls, path: str | Path, srclang: str = "id", tgtlang: str = "en") -> TmxDocument:
        """Parse the file at ``path`` (symlinks followed)."""
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise TmxError(f"{path}: cannot read: {exc.strerror or exc}") from exc
        return cls.parse(data, path, srclang, tgtlang)

    def to_bytes(self) -> bytes:
        """The document as bytes: the declaration, DOCTYPE and top-level comments are kept."""
        encoding = self.tree.docinfo.encoding or "UTF-8"
        return etree.tostring(self.tree, xml_declaration=True, encoding=encoding)

    # -- units ------------------------------------------------------------

    def tus(self) -> Iterator[etree._Element]:
        """Every ``<tu>`` of the body in document order."""
        return self.body.iter("tu")

    def unit_of(self, tu: etree._Element, shared: dict[tuple[str, str], tuple[str, str]] | None = None) -> Unit | None:
        """The plain view of ``tu`` (source, target, props, notes, attributes); None without a source side.

        ``shared``: props already seen, so that units with the same prop (``x-kind``
        ``sentence``...) hold one copy of it (the memory of a file of 20,000 units).
        """
        src = find_tuv(tu, self.srclang)
        if src is None:
            return None
        tgt = find_tuv(tu, self.tgtlang)
        props = tuple((p.get("type", ""), "".join(p.itertext())) for p in tu.findall("prop"))
        if shared is not None:
            props = tuple(shared.setdefault(prop, prop) for prop in props)
        return Unit(
            source=seg_text(src.find("seg")),
            target=seg_text(tgt.find("seg")) if tgt is not None else "",
            props=props,
            notes=tuple("".join(n.itertext()) for n in tu.findall("note")),
            tuid=tu.get("tuid", ""),
            changedate=tu.get("changedate", ""),
            changeid=tu.get("changeid", ""),
        )

    def units(self) -> list[DocUnit]:
        """Every unit with its key (see the module docstring) and plain view."""
        seen: Counter[str] = Counter()
        shared: dict[tuple[str, str], tuple[str, str]] = {}
        return [self.doc_unit(tu, seen, shared) for tu in self.tus()]

    def doc_unit(self, tu: etree._Element, seen: Counter[str],
                 shared: dict[tuple[str, str], tuple[str, str]] | None = None, plain: bool = True) -> DocUnit:
        """``tu`` with its key and plain view (None without ``plain``); ``seen`` counts the names before it."""
        unit = self.unit_of(tu, shared) if plain else None
        tuid = tu.get("tuid")
        if tuid:
            name = f"tuid:{tuid}"
        else:
            src = find_tuv(tu, self.srclang)
            # Without its tail: a streamed read may not have reached the text after the unit yet.
            name = "source:" + (seg_text(src.find("seg")) if src is not None
                                 else etree.tostring(tu, with_tail=False).decode())
        seen[name] += 1
        return DocUnit(name if seen[name] == 1 else f"{name}#{seen[name]}", tu, unit)

    def lang_code(self, lang: str) -> str:
        """The code this file writes for primary language ``lang`` (its most common; else ``lang``)."""
        every = self.lang_codes if self.lang_codes is not None else Counter(tuv_lang(t) for t in self.body.iter("tuv"))
        codes = Counter({code: n for code, n in every.items() if norm_lang(code) == lang})
        return codes.most_common(1)[0][0] if codes else lang

    # -- edits ------------------------------------------------------------

    def set_target(self, tu: etree._Element, text: str) -> None:
        """Replace the target segment's text.

        Where the segment holds inline codes, ``text`` is in the form of
        :func:`seg_tokens`: each code's token ``⟦n⟧`` must be there exactly once
        (moved as the sentence needs) and the code itself is kept as it was;
        :class:`InlineCodes` otherwise.  A unit with no target side gets a new
        ``<tuv>`` after its last one.
        """
        text, _ = xml_safe(text)
        tuv = find_tuv(tu, self.tgtlang)
        if tuv is None:
            tuvs = tu.findall("tuv")
            tuv = etree.Element("tuv", {XML_LANG: self.lang_code(self.tgtlang)})
            etree.SubElement(tuv, "seg")
            _insert_after(tu, tuvs[-1] if tuvs else None, tuv)
        seg = tuv.find("seg")
        if seg is None:
            seg = etree.SubElement(tuv, "seg")
        if has_inline(seg):
            self._set_tokens(seg, text)
            return
        for comment in list(seg):
            seg.remove(comment)  # only comments or PIs are left; the new text replaces them too
        seg.text = text

    @staticmethod
    def _set_tokens(seg: etree._Element, text: str) -> None:
        codes = _codes(seg)
        tags = ", ".join(f"<{t}>" for t in sorted({c.tag for c in codes}))
        if seg_tokens(seg) is None:
            raise InlineCodes(
                f"its English has inline codes ({tags}) and text that looks like their tokens; "
                "edit it in a CAT tool (approving or rejecting it is fine)"
            )
        found = [int(n) for n in TOKEN.findall(text)]
        if sorted(found) != list(range(1, len(codes) + 1)):
            raise InlineCodes(
                f"its English has {len(codes)} inline code(s) ({tags}); keep each token "
                + " ".join(f"\u27e6{n}\u27e7" for n in range(1, len(codes) + 1))
                + " exactly once (move them if the sentence needs it)"
            )
        pieces = TOKEN.split(text)  # text, n, text, n, ..., text
        for child in list(seg):
            seg.remove(child)
        seg.text = pieces[0]
        for n, tail in zip(pieces[1::2], pieces[2::2]):
            code = copy.deepcopy(codes[int(n) - 1])
            code.tail = tail or None
            seg.append(code)

    def set_status(self, tu: etree._Element, status: str) -> None:
        """Set the ``x-status`` prop, adding one after the unit's notes and props if it has none."""
        self.set_prop(tu, STATUS_PROP, status)

    @staticmethod
    def set_prop(tu: etree._Element, kind: str, value: str) -> None:
        """Set the unit's first ``<prop type=kind>``, adding one after its notes and props if it has none."""
        value, _ = xml_safe(value)
        for prop in tu.findall("prop"):
            if prop.get("type") == kind:
                prop.text = value
                return
        prop = etree.Element("prop", type=kind)
        prop.text = value
        heads = [c for c in tu if c.tag in ("note", "prop")]
        # TMX wants notes and props before the first <tuv>.
        _insert_after(tu, heads[-1] if heads else None, prop)

    @staticmethod
    def stamp(tu: etree._Element, user: str, when: str) -> None:
        """Record who changed the unit and when (TMX ``changeid``/``changedate``)."""
        tu.set("changeid", xml_safe(user)[0])
        tu.set("changedate", when)


class TmxStream:
    """A TMX file read one ``<tu>`` at a time, so that a big file is never held whole.

    Iterating yields each unit as :meth:`TmxDocument.units` would (same keys, same
    plain view), its element live and editable with :attr:`doc`'s methods until the
    next one is asked for; then it is dropped.  With ``rewrite``, each unit is
    serialised as it is dropped and :meth:`to_bytes` gives the whole file, everything
    outside the units written by the same serialiser as :meth:`TmxDocument.to_bytes`
    (header, comments, processing instructions, DOCTYPE, whitespace: as they were).
    """

    def __init__(self, data: bytes, name: str | Path = "", srclang: str = "id", tgtlang: str = "en",
                 rewrite: bool = False, lang_codes: Counter[str] | None = None, plain: bool = True) -> None:
        self.data = data
        self.name = str(name)
        self.srclang = srclang
        self.tgtlang = tgtlang
        self.rewrite = rewrite
        self.lang_codes = lang_codes
        self.plain = plain  # False: units come with their keys only (their view is None), for speed
        self.codes: Counter[str] = Counter()  # the <tuv> language codes read, in order of first use
        self.doc: TmxDocument | None = None
        # Each rewritten unit is serialised and left in its place as an empty <tu> with an
        # attribute no file holds: the skeleton around them is serialised once, at the end,
        # and split there.
        self._marker = f"aligner-unit-{secrets.token_hex(8)}"
        self._mark = f'<tu {self._marker}=""/>'.encode()
        self._chunks: list[bytes] = []
        self._root: etree._Element | None = None
        # Another encoding than UTF-8 needs the whole document's serialiser.  Read from the bytes:
        # the tree's docinfo does not know the encoding until the parse has ended.
        self._utf8 = file_encoding(data) == "UTF-8"

    def _document(self, root: etree._Element) -> TmxDocument:
        if self.doc is None:
            self.doc = TmxDocument(root.getroottree(), self.name, self.srclang, self.tgtlang,
                                   self.lang_codes if self.lang_codes is not None else self.codes)
        return self.doc

    def __iter__(self) -> Iterator[DocUnit]:
        seen: Counter[str] = Counter()
        shared: dict[tuple[str, str], tuple[str, str]] = {}
        events = iterparse_safe(io.BytesIO(self.data), ("end",), ("tu",))
        self._chunks = []
        try:
            for _, tu in events:
                doc = self.doc or self._document(tu.getroottree().getroot())
                codes = [tuv_lang(tuv) for tuv in tu.iter("tuv")]
                if not all(codes):
                    tuv = next(t for t in tu.iter("tuv") if not tuv_lang(t))
                    raise TmxError(f"{self.name}:{tuv.sourceline or 1}: <tuv> without lang or xml:lang")
                yield doc.doc_unit(tu, seen, shared, self.plain)
                if self.rewrite:  # the codes of the unit as written (an edit may add a <tuv>)
                    codes = [tuv_lang(tuv) for tuv in tu.iter("tuv")]
                self.codes.update(codes)
                self._drop(tu)
            self._root = events.root
        except etree.XMLSyntaxError as exc:
            raise TmxError(f"{self.name}:{exc.lineno or 1}: {exc.msg}") from exc
        doc = self._document(self._root)
        for tuv in doc.body.iter("tuv"):  # any outside a <tu>
            if not tuv_lang(tuv):
                raise TmxError(f"{self.name}:{tuv.sourceline or 1}: <tuv> without lang or xml:lang")

    def _drop(self, tu: etree._Element) -> None:
        parent = tu.getparent()
        if parent is None:
            return
        if not self.rewrite:
            tu.clear()
            parent.remove(tu)
            return
        assert self.doc is not None
        # Alone, a unit would be written with the namespaces it inherits, or in UTF-8 in a file
        # of another encoding: such a unit stays in the tree.
        if tu.nsmap or not self._utf8:
            return
        self._chunks.append(etree.tostring(tu, encoding="UTF-8", xml_declaration=False, with_tail=False))
        tu.clear(keep_tail=True)  # its tail (the whitespace after it) is the skeleton's
        tu.set(self._marker, "")

    def to_bytes(self) -> bytes:
        """The file as rewritten (after a full iteration with ``rewrite``)."""
        return b"".join(self.parts())

    def parts(self) -> list[bytes]:
        """The file as rewritten, in parts to write one after the other (no copy of it joined)."""
        if not self.rewrite or self.doc is None or self._root is None:
            raise ValueError("to_bytes needs a finished iteration with rewrite=True")
        skeleton = self.doc.to_bytes().split(self._mark)
        if len(skeleton) != len(self._chunks) + 1:
            raise ValueError("a unit's place was not found in the rewritten file")  # never write it then
        out = [skeleton[0]]
        for chunk, rest in zip(self._chunks, skeleton[1:]):
            out += (chunk, rest)
        return out


def _insert_after(parent: etree._Element, anchor: etree._Element | None, new: etree._Element) -> None:
    """Insert ``new`` after ``anchor`` (first when None), indented like its siblings."""
    # The whitespace before the first child is the indentation of every child.
    indent = parent.text if parent.text is not None and not parent.text.strip() else None
    if anchor is None:
        parent.insert(0, new)
        new.tail = indent
        return
    new.tail = anchor.tail
    anchor.addnext(new)
    if new.getnext() is None and indent is not None:
        anchor.tail = indent  # the anchor was last: its tail closed the parent, now it separates siblings
