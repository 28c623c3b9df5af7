"""A review save splices bytes: only the edited units are written anew, every other byte is copied.

Where the file cannot be spliced safely the save falls back to the streamed rewrite
(tests/test_review_lossless.py checks that one against the whole-document rewrite).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from aligner.formats.tmxdoc import TmxDocument
from aligner.formats.tmxsplice import scan_units
from aligner.review.session import ReviewSession
from tests.test_review_lossless import TEXT, tmx_docs
from tests.test_review_server import edit

WHEN = "20250101T000000Z"

# Formatting the streamed rewrite normalises (quotes, spacing in tags, character references,
# empty elements, CDATA) and markup the scan must step over.
QUIRKY = """<?xml version='1.0' encoding='utf-8'?>
<!DOCTYPE tmx SYSTEM "tmx14.dtd">
<!-- made by hand -->
<tmx version='1.4' >
  <header srclang='id' creationtool = "x"><prop type="x-a">h</prop></header>
  <body>
    <?pi before the units?>
    <tu tuid='a'  note="1 > 0" >
      <prop type='x-doc'>d&#49;</prop>
      <tuv xml:lang='id'><seg>Satu &#233;.</seg></tuv>
      <tuv xml:lang='en'><seg>One &#233;.</seg></tuv>
    </tu>
    <!-- between units: a < b -->
    <tu tuid='b'><note>n&amp;b</note><tuv xml:lang="id"><seg><![CDATA[Dua <b>.]]></seg></tuv><tuv xml:lang="en"><seg></seg></tuv></tu>
    <tu/>
    <tu tuid='c'>
      <tuv xml:lang='id'><seg>Tiga <ph x='1'>&lt;br/&gt;</ph>.</seg></tuv>
      <tuv xml:lang='en'><seg>Three <ph x='1'>&lt;br/&gt;</ph>.</seg></tuv>
    </tu>
    <tu tuid='d'><tuv xml:lang='id'><seg>Empat é.</seg></tuv></tu>
  </body>
</tmx>
<!-- after the root -->
"""


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    monkeypatch.setattr("aligner.review.session.tmx_date", lambda: WHEN)


def spy(monkeypatch) -> list[bool]:
    """Records, for each save, whether it was spliced (True) or fell back to the streamed rewrite."""
    calls: list[bool] = []
    real = ReviewSession._splice

    def recording(self, *args):
        result = real(self, *args)
        calls.append(result is not None)
        return result

    monkeypatch.setattr(ReviewSession, "_splice", recording)
    return calls


def streamed(monkeypatch) -> None:
    monkeypatch.setattr(ReviewSession, "_splice", lambda self, *args: None)


def save_edits(path: Path, data: bytes, pick) -> list[str]:
    """Write ``data`` to ``path``, open it for review and save the edits ``pick(rows)`` gives; their keys."""
    path.write_bytes(data)
    session = ReviewSession(path, user="me")
    edits = pick(session.state()["units"])
    result = session.save(edits)
    assert result["conflicts"] == [] and result["saved"] == len(edits)
    return [e["key"] for e in edits]


def two_edits(rows: list[dict]) -> list[dict]:
    by_key = {r["key"]: r for r in rows}
    return [edit(by_key["tuid:b"], "Two <b>.", "approved"), edit(by_key["tuid:c"], "Thr\u00e9e \u27e61\u27e7!", "draft"),
            edit(by_key["tuid:d"], "Four.", "rejected")]


def outside(data: bytes, edited: set[int]) -> list[bytes]:
    """The bytes between the units, and each unit not in ``edited``."""
    spans = scan_units(data)
    assert spans is not None
    pieces, at = [], 0
    for n in range(len(spans)):
        pieces.append(data[at:spans.starts[n]])
        pieces.append(b"(edited)" if n in edited else data[spans.starts[n]:spans.ends[n]])
        at = spans.ends[n]
    return pieces + [data[at:]]


def views(data: bytes) -> list[tuple]:
    return [(e.key, e.unit) for e in TmxDocument.parse(data).units()]


def test_the_scan_finds_every_unit_as_the_parser_does():
    data = QUIRKY.encode()
    spans = scan_units(data)
    assert spans is not None and spans.encoding == "UTF-8"
    root = etree.fromstring(data, etree.XMLParser(load_dtd=False, resolve_entities=False, no_network=True))
    tus = list(root.iter("tu"))
    assert len(spans) == len(tus) == 5
    for n, tu in enumerate(tus):
        assert etree.tostring(spans.fragment(data, n)) == etree.tostring(tu, with_tail=False)


def test_a_spliced_save_leaves_every_byte_outside_the_edited_units_as_it_was(tmp_path: Path, monkeypatch):
    calls = spy(monkeypatch)
    data = QUIRKY.encode()
    path = tmp_path / "q.tmx"
    save_edits(path, data, two_edits)
    assert calls == [True]
    after = path.read_bytes()
    assert outside(after, {1, 3, 4}) == outside(data, {1, 3, 4})
    assert after != data


def test_a_spliced_save_reads_back_as_the_streamed_rewrite(tmp_path: Path, monkeypatch):
    data = QUIRKY.encode()
    spliced, whole = tmp_path / "spliced.tmx", tmp_path / "whole.tmx"
    save_edits(spliced, data, two_edits)
    streamed(monkeypatch)
    save_edits(whole, data, two_edits)
    a, b = spliced.read_bytes(), whole.read_bytes()
    assert a != b  # the rewrite normalised the units not edited, the splice did not
    assert views(a) == views(b)
    assert etree.tostring(etree.fromstring(a), method="c14n2") == etree.tostring(etree.fromstring(b), method="c14n2")
    unit = dict(views(a))["tuid:c"]
    assert unit.target == "Thr\u00e9e <br/>!" and unit.prop("x-first-draft") == "Three <br/>." and unit.changedate == WHEN


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=tmx_docs(), choices=st.data())
def test_any_spliced_save_reads_back_as_the_streamed_rewrite(tmp_path_factory, monkeypatch, data: bytes, choices):
    folder = tmp_path_factory.mktemp("splice")

    def pick(rows: list[dict]) -> list[dict]:
        chosen = choices.draw(st.lists(st.sampled_from(rows), unique_by=lambda r: r["key"], min_size=1)) if rows else []
        return [edit(r, r["target"] if r["locked"] or r["target_tokens"] is not None else choices.draw(TEXT),
                     choices.draw(st.sampled_from(["approved", "rejected", "translated"]))) for r in chosen]

    path = folder / "doc.tmx"
    path.write_bytes(data)
    rows = ReviewSession(path).state()["units"]
    edits = pick(rows)
    # Only the edits that change something (the others are not saved either way).
    changed = [e for e, r in zip(edits, [next(r for r in rows if r["key"] == e["key"]) for e in edits])
               if (e["target"], e["status"]) != (r["target"], r["status"])]
    with monkeypatch.context() as patch:
        calls = spy(patch)
        save_edits(path, data, lambda rows: changed)
        assert calls == ([True] if changed else [])  # a file lxml wrote is always spliced
    spliced = path.read_bytes()
    with monkeypatch.context() as patch:
        streamed(patch)
        save_edits(path, data, lambda rows: changed)
    assert views(spliced) == views(path.read_bytes())
    position = {key: n for n, (key, _) in enumerate(views(data))}
    edited = {position[e["key"]] for e in changed}
    assert outside(spliced, edited) == outside(data, edited)


UTF16 = QUIRKY.replace("encoding='utf-8'", "encoding='UTF-16'").encode("utf-16")
TRICKY = {
    "a comment holding a unit": QUIRKY.replace("<!-- between units: a < b -->", "<!-- <tu tuid='x'></tu> -->"),
    "a CDATA section holding an end tag": QUIRKY.replace("<![CDATA[Dua <b>.]]>", "<![CDATA[Dua </tu> <b>.]]>"),
    "a processing instruction holding a start tag": QUIRKY.replace("<?pi before the units?>", "<?pi <tu>?>"),
    "a DOCTYPE with an internal subset": QUIRKY.replace('SYSTEM "tmx14.dtd">', 'SYSTEM "tmx14.dtd" [<!-- x -->]>'),
    "namespaces on the root": QUIRKY.replace("<tmx version='1.4' >", "<tmx version='1.4' xmlns:o='urn:o'>"),
    "a Latin-1 file": QUIRKY.replace("encoding='utf-8'", "encoding='ISO-8859-1'").replace("é", "e"),
}


@pytest.mark.parametrize("name", ["UTF-16", *TRICKY])
def test_a_file_that_cannot_be_spliced_is_saved_by_the_streamed_rewrite(tmp_path: Path, monkeypatch, name: str):
    data = UTF16 if name == "UTF-16" else TRICKY[name].encode("latin-1" if "Latin-1" in name else "utf-8")
    assert scan_units(data) is None
    calls = spy(monkeypatch)
    save_edits(tmp_path / "spliced.tmx", data, two_edits)
    assert calls == [False]
    streamed(monkeypatch)
    save_edits(tmp_path / "whole.tmx", data, two_edits)
    after = (tmp_path / "spliced.tmx").read_bytes()
    assert after == (tmp_path / "whole.tmx").read_bytes()
    units = dict(views(after))
    assert (units["tuid:b"].target, units["tuid:b"].prop("x-status")) == ("Two <b>.", "approved")
    assert units["tuid:c"].target == "Thr\u00e9e <br/>!" and units["tuid:d"].target == "Four."
    assert units["tuid:a"] == dict(views(data))["tuid:a"]


def test_an_ascii_file_gets_character_references_for_what_ascii_cannot_hold(tmp_path: Path, monkeypatch):
    data = QUIRKY.replace("encoding='utf-8'", "encoding='US-ASCII'").replace("é", "&#233;").encode("ascii")
    calls = spy(monkeypatch)
    path = tmp_path / "a.tmx"
    save_edits(path, data, two_edits)
    assert calls == [True]
    after = path.read_bytes()
    after.decode("ascii")
    assert "Thr\u00e9e <br/>!" in [u.target for _, u in views(after) if u]
    assert outside(after, {1, 3, 4}) == outside(data, {1, 3, 4})


def test_a_file_changed_on_disk_since_the_load_is_read_again_before_splicing(tmp_path: Path, monkeypatch):
    calls = spy(monkeypatch)
    path = tmp_path / "q.tmx"
    path.write_bytes(QUIRKY.encode())
    session = ReviewSession(path, user="me")
    rows = {r["key"]: r for r in session.state()["units"]}
    # Another tool inserts a unit before the ones edited and approves one: every span after it moves.
    other = QUIRKY.replace("<?pi before the units?>", "<tu tuid='new'><tuv xml:lang='id'><seg>Baru.</seg></tuv>"
                           "<tuv xml:lang='en'><seg>New, and long enough to move the others.</seg></tuv></tu>")
    other = other.replace("<note>n&amp;b</note>", "<note>n&amp;b</note><prop type='x-status'>approved</prop>")
    path.write_bytes(other.encode())
    result = session.save([edit(rows["tuid:c"], "Thr\u00e9e \u27e61\u27e7!", "draft"), edit(rows["tuid:b"], "Two.")])
    assert calls == [True]
    assert [c["key"] for c in result["conflicts"]] == ["tuid:b"]  # the other tool changed it meanwhile
    after = path.read_bytes()
    units = dict(views(after))
    assert units["tuid:new"].target.startswith("New, and long") and units["tuid:b"].prop("x-status") == "approved"
    assert units["tuid:c"].target == "Thr\u00e9e <br/>!"
    assert outside(after, {4}) == outside(other.encode(), {4})
    # The spans follow the saved file: a second save splices again, at the right places.
    rows = {r["key"]: r for r in session.state()["units"]}
    session.save([edit(rows["tuid:d"], "Four.", "approved")])
    assert calls == [True, True]
    final = path.read_bytes()
    assert dict(views(final))["tuid:d"].target == "Four." and dict(views(final))["tuid:c"] == units["tuid:c"]
    assert outside(final, {5}) == outside(after, {5})


def test_a_save_can_feed_the_memory_after_answering(tmp_path: Path):
    from aligner.tm.store import TranslationMemory

    path = tmp_path / "q.tmx"
    path.write_bytes(QUIRKY.encode())
    session = ReviewSession(path, user="me")
    session.tm_db, session.tm_in_background = tmp_path / "tm.sqlite3", True
    rows = {r["key"]: r for r in session.state()["units"]}
    session.save([edit(rows["tuid:a"], "One!", "approved")])
    session.save([edit({**rows["tuid:d"], "status": "draft"}, "Four.", "approved")])
    session.flush_tm()
    with TranslationMemory(tmp_path / "tm.sqlite3") as tm:
        assert sorted(pair[:2] for pair in tm.approved_pairs()) == [("Empat é.", "Four."), ("Satu é.", "One!")]
