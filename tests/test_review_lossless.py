"""Review saves change only what the reviewer changed, in any TMX, and never undo another person's work."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from aligner.formats.files import backup_numbered, numbered_backups
from aligner.formats.tmx import XML_LANG
from aligner.formats.tmxdoc import TmxDocument, find_tuv
from aligner.review.server import ReviewServer
from aligner.review.session import EditError, ReviewSession
from tests.test_review_server import edit, get_json, request

OMEGAT = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE tmx SYSTEM "tmx11.dtd">
<tmx version="1.4">
  <header creationtool="OmegaT" o-tmf="OmegaT TMX" adminlang="EN-US" datatype="plaintext"
          creationtoolversion="3.6.0_0" segtype="sentence" srclang="id-ID">
    <prop type="x-project">defence</prop>
  </header>
  <body>
<!-- Default translations -->
    <tu creationdate="20240101T101010Z" creationid="ana" usagecount="3">
      <prop type="x-context">ctx</prop>
      <note>from the style guide</note>
      <tuv xml:lang="id-ID">
        <prop type="x-origin">article 1</prop>
        <seg>Menteri Pertahanan bertemu.</seg>
      </tuv>
      <tuv xml:lang="en-GB" changeid="ana" changedate="20240101T101010Z">
        <seg>The Minister met.</seg>
      </tuv>
      <tuv xml:lang="fr-FR">
        <seg>Le ministre s'est réuni.</seg>
      </tuv>
    </tu>
    <tu>
      <tuv xml:lang="en-GB">
        <seg>English only, no Indonesian side.</seg>
      </tuv>
    </tu>
    <tu>
      <tuv xml:lang="id-ID">
        <seg>Klik <bpt i="1">&lt;b&gt;</bpt>Simpan<ept i="1">&lt;/b&gt;</ept> sekarang.</seg>
      </tuv>
      <tuv xml:lang="en-GB">
        <seg>Click <bpt i="1">&lt;b&gt;</bpt>Save<ept i="1">&lt;/b&gt;</ept> now.<ph x="2">&lt;br/&gt;</ph></seg>
      </tuv>
    </tu>
    <tu>
      <prop type="x-status">translated</prop>
      <tuv xml:lang="id-ID">
        <seg>Kapal itu besar.</seg>
      </tuv>
      <tuv xml:lang="en-GB">
        <seg>The ship is big.</seg>
      </tuv>
      <x-vendor note="kept">unknown element</x-vendor>
    </tu>
    <tu>
      <tuv xml:lang="id-ID">
        <seg>Belum diterjemahkan.</seg>
      </tuv>
    </tu>
  </body>
</tmx>
"""


def canonical_outside(data: bytes, edited: set[int]) -> bytes:
    """Canonical XML of a TMX with, in the ``edited`` units only, what an edit may change removed:
    changeid/changedate, the x-status prop, the English <tuv>, the x-first-draft prop a text edit
    adds (its value is checked by the tests), and whitespace between elements."""
    root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True))
    for n, tu in enumerate(root.find("body").iter("tu")):
        if n not in edited:
            continue
        for attr in ("changeid", "changedate"):
            tu.attrib.pop(attr, None)
        for child in list(tu):
            lang = child.get(XML_LANG, "") if child.tag == "tuv" else ""
            if (child.tag == "prop" and child.get("type") in ("x-status", "x-first-draft")) or lang.lower().startswith("en"):
                tu.remove(child)
        # New elements bring their own indentation: whitespace between the unit's children is not content.
        if tu.text is not None and not tu.text.strip():
            tu.text = None
        for child in tu:
            if child.tail is not None and not child.tail.strip():
                child.tail = None
    return etree.tostring(root.getroottree(), method="c14n2")


@pytest.fixture
def omegat(tmp_path: Path) -> Path:
    path = tmp_path / "omegat.tmx"
    path.write_text(OMEGAT, encoding="utf-8")
    return path


def test_omegat_tmx_save_changes_only_the_edits(omegat: Path):
    before = omegat.read_bytes()
    session = ReviewSession(omegat, user="rev")
    rows = session.state()["units"]
    # the English-only unit is kept in the file but has nothing to review
    assert [r["source"] for r in rows] == ["Menteri Pertahanan bertemu.", "Klik <b>Simpan</b> sekarang.",
                                           "Kapal itu besar.", "Belum diterjemahkan."]
    assert [r["status"] for r in rows] == ["draft", "draft", "translated", "draft"]
    assert [p.get("code") for p in rows[1]["target_parts"]] == [None, "bpt", None, "ept", None, "ph"]
    assert rows[1]["target_tokens"] == "Click ⟦1⟧Save⟦2⟧ now.⟦3⟧" and not rows[1]["locked"]
    assert rows[0]["target_parts"] is None and rows[0]["target_tokens"] is None

    result = session.save([
        edit(rows[0], "The Defence Minister met.", "approved"),
        edit(rows[1], status="approved"),        # a unit with inline codes can be approved
        edit(rows[2], status="rejected"),        # another tool's status is replaced only when asked
        edit(rows[3], "Not yet translated.", "draft"),  # no English side yet: one is added
    ])
    assert result["saved"] == 4 and result["conflicts"] == []
    after = omegat.read_bytes()
    # unit 1 of the file (English only) was not edited; units 0, 2, 3, 4 were
    assert canonical_outside(before, {0, 2, 3, 4}) == canonical_outside(after, {0, 2, 3, 4})
    assert canonical_outside(before, set()) != canonical_outside(after, set())

    doc = TmxDocument.parse(after)
    tus = list(doc.tus())
    # the one prop a text edit adds: the English it replaced (none where there was no English,
    # or where only the status changed)
    assert [[(p.get("type"), p.text) for p in tu.findall("prop") if p.get("type") == "x-first-draft"]
            for tu in tus] == [[("x-first-draft", "The Minister met.")], [], [], [], []]
    assert [tuv.get(XML_LANG) for tuv in tus[0].findall("tuv")] == ["id-ID", "en-GB", "fr-FR"]
    assert tus[0].findall("tuv")[1].get("changeid") == "ana"  # per-tuv attributes kept
    assert tus[0].get("changeid") == "rev" and tus[0].get("usagecount") == "3"
    assert [tuv.get(XML_LANG) for tuv in tus[4].findall("tuv")] == ["id-ID", "en-GB"]
    views = [e.unit for e in doc.units()]
    assert views[1] is None
    assert [(u.target, u.prop("x-status")) for u in views if u] == [
        ("The Defence Minister met.", "approved"), ("Click <b>Save</b> now.<br/>", "approved"),
        ("The ship is big.", "rejected"), ("Not yet translated.", "")]  # status left as it was
    assert b'<ph x="2">&lt;br/&gt;</ph>' in after and b"<x-vendor" in after
    assert after.startswith(b"<?xml") and b'<!DOCTYPE tmx SYSTEM "tmx11.dtd">' in after
    assert (omegat.parent / "omegat.tmx.~1~").read_bytes() == before


def test_inline_codes_are_edited_as_tokens_and_kept(omegat: Path):
    before = omegat.read_bytes()
    session = ReviewSession(omegat)
    rows = session.state()["units"]
    # a plain-text edit would lose the codes: refused, and nothing of the request is written
    for text in ("Click Save now.", "Click ⟦1⟧Save now.⟦3⟧", "Click ⟦1⟧⟦1⟧Save⟦2⟧ now.⟦3⟧"):
        with pytest.raises(EditError, match="keep each token"):
            session.save([edit(rows[0], "Fine.", "approved"), edit(rows[1], text, "approved")])
        assert omegat.read_bytes() == before
    # tokens moved with the sentence: the codes themselves come back as they were
    checked = session.check(None, "⟦3⟧Now click ⟦1⟧Save⟦2⟧.", key=rows[1]["key"])
    assert checked["target"] == "<br/>Now click <b>Save</b>."
    assert session.save([edit(rows[1], "⟦3⟧Now click ⟦1⟧Save⟦2⟧.", "approved")])["saved"] == 1
    after = omegat.read_bytes()
    assert ('<seg><ph x="2">&lt;br/&gt;</ph>Now click <bpt i="1">&lt;b&gt;</bpt>Save<ept i="1">&lt;/b&gt;</ept>.</seg>'
            in after.decode())
    assert session.state()["units"][1]["target_tokens"] == "⟦1⟧Now click ⟦2⟧Save⟦3⟧."  # numbered in order again


def test_text_that_looks_like_tokens_locks_the_segment(tmp_path: Path):
    path = tmp_path / "odd.tmx"
    path.write_text(OMEGAT.replace("Save<ept", "Save ⟦9⟧<ept"), encoding="utf-8")
    session = ReviewSession(path)
    row = session.state()["units"][1]
    assert row["target_tokens"] is None and "CAT tool" in row["locked"]
    with pytest.raises(EditError, match="CAT tool"):
        session.save([edit(row, "Anything.", "approved")])
    assert session.save([edit(row, status="approved")])["saved"] == 1  # approving is fine


def test_units_without_tuids_are_matched_by_source_not_position(omegat: Path):
    session = ReviewSession(omegat)
    rows = session.state()["units"]
    # someone inserts a unit at the top of the file on disk
    text = omegat.read_text(encoding="utf-8").replace(
        "<!-- Default translations -->",
        '<tu><tuv xml:lang="id-ID"><seg>Baru.</seg></tuv><tuv xml:lang="en-GB"><seg>New.</seg></tuv></tu>')
    omegat.write_text(text, encoding="utf-8")
    result = session.save([edit(rows[2], "The ship is large.", "approved")])
    assert result["saved"] == 1
    views = [e.unit for e in TmxDocument.read(omegat).units() if e.unit]
    assert [(u.source, u.target) for u in views][:2] == [("Baru.", "New."), ("Menteri Pertahanan bertemu.", "The Minister met.")]
    assert next(u for u in views if u.source == "Kapal itu besar.").target == "The ship is large."


@pytest.fixture
def served(omegat: Path):
    server = ReviewServer(ReviewSession(omegat, user="tab"), port=0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_two_tabs_never_undo_each_other(served, omegat: Path):
    tab_a = get_json(served)["units"]
    tab_b = get_json(served)["units"]
    # tab A approves unit 3 and saves
    resp, body = request(served, "POST", "/api/save", {"edits": [edit(tab_a[2], status="approved")]})
    assert resp.status == 200 and json.loads(body)["saved"] == 1
    # tab B had edited unit 3 and unit 1 from its (older) copy: unit 1 is saved, unit 3 comes back
    resp, body = request(served, "POST", "/api/save", {"edits": [edit(tab_b[2], "B's text.", "draft"),
                                                                 edit(tab_b[0], "B's minister.", "approved")]})
    answer = json.loads(body)
    assert resp.status == 200 and answer["saved"] == 1
    [conflict] = answer["conflicts"]
    assert conflict["key"] == tab_b[2]["key"]
    assert conflict["disk"]["status"] == "approved" and conflict["disk"]["changeid"] == "tab"
    assert conflict["mine"] == {"target": "B's text.", "status": "draft"}
    views = {u.source: u for u in (e.unit for e in TmxDocument.read(omegat).units()) if u}
    assert views["Kapal itu besar."].prop("x-status") == "approved"  # A's approval stands
    assert views["Kapal itu besar."].target == "The ship is big."
    assert views["Menteri Pertahanan bertemu."].target == "B's minister."
    # B chooses its own version: sent again with the disk version as base, it is saved
    mine = {"key": conflict["key"], "base": {k: conflict["disk"][k] for k in ("source", "target", "status")},
            **conflict["mine"]}
    resp, body = request(served, "POST", "/api/save", {"edits": [mine]})
    assert json.loads(body)["saved"] == 1
    assert sorted(p.name for p in omegat.parent.glob("omegat.tmx.~*~")) == ["omegat.tmx.~1~", "omegat.tmx.~2~", "omegat.tmx.~3~"]


def test_a_unit_removed_on_disk_is_a_conflict(served, omegat: Path):
    rows = get_json(served)["units"]
    omegat.write_text(OMEGAT.replace("Kapal itu besar.", "Kapal itu kecil."), encoding="utf-8")
    resp, body = request(served, "POST", "/api/save", {"edits": [edit(rows[2], status="approved")]})
    answer = json.loads(body)
    assert answer["saved"] == 0 and answer["conflicts"][0]["disk"] is None


def test_save_through_a_symlink_keeps_the_link(tmp_path: Path, omegat: Path):
    real = tmp_path / "store" / "real.tmx"
    real.parent.mkdir()
    omegat.rename(real)
    link = tmp_path / "link.tmx"
    link.symlink_to(real)
    before = real.read_bytes()
    session = ReviewSession(link)
    session.save([edit(session.state()["units"][0], "Linked.", "approved")])
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert b"Linked." in real.read_bytes()
    assert (tmp_path / "link.tmx.~1~").read_bytes() == before and not (tmp_path / "link.tmx.~1~").is_symlink()


def test_numbered_backups_keep_the_last_n(tmp_path: Path, omegat: Path):
    session = ReviewSession(omegat, backups=3)
    versions = []
    for n in range(5):
        versions.append(omegat.read_bytes())
        row = session.state()["units"][0]
        session.save([edit(row, f"Version {n}.", "draft")])
    kept = numbered_backups(omegat)
    assert [n for n, _ in kept] == [3, 4, 5]
    assert [p.read_bytes() for _, p in kept] == versions[2:]
    # a missing file has nothing to back up
    assert backup_numbered(tmp_path / "none.tmx") is None


# --- property: save-then-read yields exactly the edits ------------------------------------------

LANGS = ["id", "id-ID", "in", "en", "en-GB", "EN-US", "fr", "de-DE"]
# Any text XML 1.0 can carry, with tabs, newlines and carriage returns.
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Cn")) | st.sampled_from("\n\t\r"), max_size=12)
NAME = st.text(st.characters(min_codepoint=97, max_codepoint=122), min_size=1, max_size=6)


@st.composite
def seg_content(draw):
    parts = draw(st.lists(st.one_of(TEXT.map(lambda t: ("text", t)),
                                    st.tuples(st.sampled_from(["ph", "bpt", "ept", "it"]), TEXT)), max_size=4))
    return parts


@st.composite
def tmx_docs(draw):
    root = etree.Element("tmx", version="1.4")
    header = etree.SubElement(root, "header", srclang=draw(st.sampled_from(["id", "id-ID", "*all*"])),
                              creationtool=draw(NAME))
    for _ in range(draw(st.integers(0, 2))):
        etree.SubElement(header, "prop", type=draw(NAME)).text = draw(TEXT)
    body = etree.SubElement(root, "body")
    with_tuids = draw(st.booleans())
    for n in range(draw(st.integers(1, 6))):
        tu = etree.SubElement(body, "tu")
        if with_tuids:
            tu.set("tuid", f"u{n}")
        for attr in draw(st.lists(st.sampled_from(["creationdate", "usagecount", "changeid"]), unique=True)):
            tu.set(attr, draw(NAME))
        for _ in range(draw(st.integers(0, 2))):
            etree.SubElement(tu, "note").text = draw(TEXT)
        for _ in range(draw(st.integers(0, 2))):
            kind = draw(st.sampled_from(["x-status", "x-doc", "x-a"]))
            # statuses are words (any word: another tool's too); other props any text
            etree.SubElement(tu, "prop", type=kind).text = draw(NAME if kind == "x-status" else TEXT)
        for lang in draw(st.lists(st.sampled_from(LANGS), min_size=1, max_size=3)):
            tuv = etree.SubElement(tu, "tuv", {XML_LANG: lang})
            if draw(st.booleans()):
                etree.SubElement(tuv, "prop", type="x-origin").text = draw(TEXT)
            seg = etree.SubElement(tuv, "seg")
            last = None
            for kind, text in draw(seg_content()):
                if kind == "text":
                    if last is None:
                        seg.text = (seg.text or "") + text
                    else:
                        last.tail = (last.tail or "") + text
                else:
                    last = etree.SubElement(seg, kind, i="1")
                    last.text = text
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=draw(st.booleans()))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=tmx_docs(), choices=st.data())
def test_save_then_read_yields_exactly_the_edits(tmp_path_factory, data: bytes, choices):
    path = tmp_path_factory.mktemp("prop") / "doc.tmx"
    path.write_bytes(data)
    session = ReviewSession(path, user="prop")
    rows = session.state()["units"]
    entries = [e for e in TmxDocument.parse(data).units()]
    position = {e.key: n for n, e in enumerate(entries)}
    edits, expected = [], {}
    for row in choices.draw(st.lists(st.sampled_from(rows), unique_by=lambda r: r["key"]) if rows else st.just([])):
        plain = row["target"]
        if row["locked"]:
            target = row["target"]  # text edits are refused there (tested above); status edits are fine
        elif row["target_tokens"] is not None:
            # the codes as tokens, in any order, with any text around them
            codes = [p["text"] for p in row["target_parts"] if "code" in p]
            order = choices.draw(st.permutations(range(1, len(codes) + 1)))
            texts = [choices.draw(TEXT.filter(lambda t: "⟦" not in t and "⟧" not in t)) for _ in range(len(codes) + 1)]
            target = texts[0] + "".join(f"⟦{k}⟧{t}" for k, t in zip(order, texts[1:]))
            plain = texts[0] + "".join(codes[k - 1] + t for k, t in zip(order, texts[1:]))
        else:
            target = plain = choices.draw(TEXT)
        status = choices.draw(st.sampled_from(["draft", "approved", "rejected", "translated", row["status"]]))
        edits.append(edit(row, target, status))
        expected[row["key"]] = (target, status, row, plain)
    result = session.save(edits)
    assert result["conflicts"] == []
    after = path.read_bytes()
    changed = {k for k, (t, s, row, _) in expected.items()
               if t not in (row["target"], row["target_tokens"]) or s != row["status"]}
    assert result["saved"] == len(changed)
    if not changed:
        assert after == data  # nothing to do: the file is not even rewritten
        return
    touched = {position[k] for k in changed}
    assert canonical_outside(data, touched) == canonical_outside(after, touched)
    old_codes = {e.key: _codes_of(data_doc, e) for data_doc in [TmxDocument.parse(data)] for e in data_doc.units()}
    after_doc = TmxDocument.parse(after)
    for entry in after_doc.units():
        if entry.key in changed:
            _, status, _, plain = expected[entry.key]
            assert entry.unit.target == plain and (entry.unit.prop("x-status") or "draft") == status
            assert entry.unit.changeid == "prop"
            text_edited = expected[entry.key][0] not in (expected[entry.key][2]["target"],
                                                         expected[entry.key][2]["target_tokens"])
            first = [v for k, v in entry.unit.props if k == "x-first-draft"]
            old = expected[entry.key][2]["target"]
            assert first == ([old] if text_edited and old else [])  # exactly that one added prop, or none
            assert _codes_of(after_doc, entry) == old_codes[entry.key]  # every inline code kept as it was


def _codes_of(doc: TmxDocument, entry) -> list[bytes]:
    """Canonical XML of the inline codes of the entry's English segment, in any order."""
    tuv = find_tuv(entry.element, "en")
    seg = tuv.find("seg") if tuv is not None else None
    codes = []
    for child in (seg if seg is not None else []):
        if isinstance(child.tag, str):
            copy = etree.fromstring(etree.tostring(child, with_tail=False))
            codes.append(etree.tostring(copy, method="c14n2"))
    return sorted(codes)


def test_a_write_by_another_process_during_a_save_is_merged_not_undone(omegat: Path, monkeypatch):
    session = ReviewSession(omegat, user="me")
    rows = session.state()["units"]
    real = session._merge
    calls = {"n": 0}

    def other_writes_meanwhile(data, checked):
        result = real(data, checked)
        calls["n"] += 1
        if calls["n"] == 1:  # another tool approves unit 0 after the save read the file
            omegat.write_text(OMEGAT.replace("<prop type=\"x-context\">", "<prop type=\"x-status\">approved</prop>"
                                             "<prop type=\"x-context\">"), encoding="utf-8")
        return result

    monkeypatch.setattr(session, "_merge", other_writes_meanwhile)
    answer = session.save([edit(rows[0], "Mine.", "draft"), edit(rows[2], "Ship.", "translated")])
    assert calls["n"] == 2 and answer["saved"] == 1 and answer["conflicts"][0]["key"] == rows[0]["key"]
    views = [e.unit for e in TmxDocument.read(omegat).units() if e.unit]
    assert views[0].prop("x-status") == "approved" and views[0].target == "The Minister met."
    assert views[2].target == "Ship."


# --- the streamed rewrite writes what the whole-document one writes ------------------------------

TRICKY = b"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE tmx SYSTEM "tmx14.dtd">
<!-- before the root -->
<?tool keep="me"?>
<tmx version="1.4" xmlns:o="urn:other">
  <header srclang="id"><prop type="x-a">h</prop></header>
  <body>
    <!-- a comment among units --><?pi between?>
    %s
    <o:unknown a="1">kept</o:unknown>
    <tu tuid="ns"><o:x/><tuv xml:lang="id"><seg>Dengan namespace.</seg></tuv></tu>
  </body>
</tmx>
<!-- after the root -->
"""


def test_streamed_rewrite_is_the_whole_document_rewrite():
    from aligner.formats.tmxdoc import TmxStream

    # Enough units that the parser reads the file in many pieces (tails parsed after the unit ends).
    units = b"\n    ".join(
        b'<tu tuid="u%d" usagecount="%d"><prop type="x-a">p &amp; q</prop><tuv xml:lang="id-ID"><seg>Kalimat %d '
        b'<ph x="1">&lt;br/&gt;</ph>.</seg></tuv><tuv xml:lang="en"><seg>Sentence %d.</seg></tuv></tu>' % (n, n, n, n)
        for n in range(3000))
    data = TRICKY % units
    stream = TmxStream(data, "big.tmx", rewrite=True)
    assert [e.key for e in stream] == [e.key for e in TmxDocument.parse(data).units()]
    assert stream.to_bytes() == TmxDocument.parse(data).to_bytes()


@settings(max_examples=40, deadline=None)
@given(data=tmx_docs())
def test_streamed_rewrite_of_any_tmx_is_the_whole_document_rewrite(data: bytes):
    from aligner.formats.tmxdoc import TmxStream

    stream = TmxStream(data, "doc.tmx", rewrite=True)
    assert [(e.key, e.unit) for e in stream] == [(e.key, e.unit) for e in TmxDocument.parse(data).units()]
    assert stream.to_bytes() == TmxDocument.parse(data).to_bytes()
