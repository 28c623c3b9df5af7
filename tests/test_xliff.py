"""XLIFF 1.2: our TMX out for CAT tools (schema-valid, read by translate-toolkit), edits back in."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from lxml import etree

from aligner.formats.tmx import TmxWarning, read_tmx, tmx_langs, write_tmx
from aligner.formats.xliff import (
    XLIFF_NS,
    AltTrans,
    XliffUnit,
    merge_xliff,
    read_xliff,
    xliff_bytes,
)
from aligner.types import Unit
from tests.conftest import SHARED
from tests.seeds_tmx import approve, seed_units

X = f"{{{XLIFF_NS}}}"


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    xsd = SHARED / "spec" / "xliff-core-1.2-strict.xsd"
    if not xsd.exists():
        pytest.skip("shared/spec/xliff-core-1.2-strict.xsd not present")
    return etree.XMLSchema(etree.parse(str(xsd)))


def _units() -> list[Unit]:
    units = seed_units()
    # A mix of statuses, as after a review: every third approved, every seventh rejected.
    out = []
    for n, u in enumerate(units):
        if n % 3 == 0 and u.target:
            u = approve(u)
        elif n % 7 == 0 and u.target:
            u = replace(u, props=tuple((k, "rejected" if k == "x-status" else v) for k, v in u.props))
        out.append(u)
    return out


def test_export_is_valid_xliff_12_strict(schema):
    units = _units() + [Unit("Baca juga", "", props=(("x-doc", "z"), ("x-kind", "boilerplate")), tuid="z:0")]
    key = units[1].tuid
    data = xliff_bytes(
        units, issues={key: ["QA error: number-mismatch: 12 is missing"]},
        alternatives={key: [AltTrans("Menhan", "Defence Minister", "glossary"),
                            AltTrans("kalimat", "sentence", "tm", "87")]},
    )
    doc = etree.fromstring(data)
    assert schema.validate(doc), schema.error_log.filter_from_errors()
    files = doc.findall(f"{X}file")
    assert [f.get("original") for f in files] == list(dict.fromkeys(u.prop("x-doc") for u in units))
    tus = doc.findall(f".//{X}trans-unit")
    assert [tu.get("id") for tu in tus] == [u.tuid for u in units]
    by_id = {tu.get("id"): tu for tu in tus}
    for unit in units:
        tu = by_id[unit.tuid]
        target = tu.find(f"{X}target")
        if unit.prop("x-kind") == "boilerplate":
            assert tu.get("translate") == "no"
            continue
        expected = {"draft": "needs-review-translation", "approved": "signed-off",
                    "rejected": "needs-translation"}[unit.prop("x-status")]
        assert target.get("state") == expected
        assert (tu.get("approved") == "yes") == (unit.prop("x-status") == "approved")
    alts = by_id[key].findall(f"{X}alt-trans")
    assert [a.get("match-quality") for a in alts] == [None, "87"]
    assert [n.text for n in by_id[key].findall(f"{X}note")][-1].startswith("QA error")


def test_translate_toolkit_reads_the_same_units(tmp_path: Path):
    from translate.storage.xliff import xlifffile

    units = _units()
    path = tmp_path / "a.xlf"
    path.write_bytes(xliff_bytes(units))
    store = xlifffile(path.read_bytes())
    got = [(_tid(u), u.source, u.target or "") for u in store.units if not u.isheader()]
    assert got == [(u.tuid, u.source, u.target) for u in units]
    approved = {_tid(u) for u in store.units if u.isapproved()}
    assert approved == {u.tuid for u in units if u.prop("x-status") == "approved"}


def test_round_trip_through_a_cat_tool_is_lossless(tmp_path: Path):
    """translate-toolkit plays the CAT tool: edit one draft, sign off another, add a note."""
    from translate.storage.xliff import xlifffile

    units = _units()
    tmx = tmp_path / "a.tmx"
    write_tmx(units, tmx)
    xlf = tmp_path / "a.xlf"
    xlf.write_bytes(xliff_bytes(read_tmx(tmx)))
    drafts = [u for u in units if u.prop("x-status") == "draft" and u.target]
    store = xlifffile(xlf.read_bytes())
    by_id = {_tid(u): u for u in store.units}
    by_id[drafts[0].tuid].target = "A translator's sentence."
    by_id[drafts[1].tuid].markapproved(True)
    by_id[drafts[1].tuid].addnote("checked against the original", origin="translator")
    xlf.write_bytes(bytes(store))

    merged, report = merge_xliff(read_tmx(tmx), read_xliff(xlf), user="ana", when="20260101T000000Z")
    assert sorted(report.updated) == sorted([drafts[0].tuid, drafts[1].tuid]) and not report.conflicts
    new = {u.tuid: u for u in merged}
    assert new[drafts[0].tuid].target == "A translator's sentence."
    assert new[drafts[0].tuid].changeid == "ana" and new[drafts[0].tuid].changedate == "20260101T000000Z"
    assert new[drafts[1].tuid].prop("x-status") == "approved"
    assert "checked against the original" in new[drafts[1].tuid].notes
    # Everything else is exactly as it was: props, notes, order, untouched units.
    untouched = [u for u in merged if u.tuid not in report.updated]
    assert untouched == [u for u in units if u.tuid not in report.updated]
    assert [u.tuid for u in merged] == [u.tuid for u in units]


def _tid(unit) -> str:
    """translate-toolkit's unit id without the file name it prefixes (``file\x04id``)."""
    return unit.getid().split("\x04")[-1]


def _edit(unit: Unit, target: str, state: str = "translated") -> XliffUnit:
    return XliffUnit(unit.tuid, unit.source, target, state)


def test_approved_units_are_never_silently_overwritten():
    units = [approve(Unit("Satu.", "One.", props=(("x-status", "draft"),), tuid="d:0")),
             Unit("Dua.", "Two.", props=(("x-status", "draft"),), tuid="d:1")]
    edits = [_edit(units[0], "Uno."), _edit(units[1], "Dos."), XliffUnit("d:9", "x", "y")]
    merged, report = merge_xliff(units, edits)
    assert merged[0] == units[0] and merged[1].target == "Dos."
    assert report.conflicts == ["d:0: approved here with a different text"] and report.unknown == ["d:9"]
    forced, report = merge_xliff(units, edits, force=True)
    assert forced[0].target == "Uno." and forced[0].prop("x-status") == "draft" and not report.conflicts
    # A tool that drops our state does not un-approve an unchanged unit.
    same, report = merge_xliff(units, [_edit(units[0], "One.", "translated")])
    assert same == units and report.unchanged == ["d:0"]
    # Another segmentation: the source differs, the edit is not ours to take.
    _, report = merge_xliff(units, [XliffUnit("d:1", "Dua kalimat.", "Two sentences.")])
    assert report.conflicts and "source differs" in report.conflicts[0]


def test_states_map_back():
    unit = Unit("Satu.", "One.", props=(("x-status", "draft"),), tuid="d:0")
    for state, status in [("signed-off", "approved"), ("final", "approved"), ("needs-translation", "rejected"),
                          ("needs-review-translation", "draft"), ("translated", "draft")]:
        merged, _ = merge_xliff([unit], [_edit(unit, "One.", state)])
        assert merged[0].prop("x-status") == status, state


def test_reader_never_resolves_entities(tmp_path: Path):
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET")
    path = tmp_path / "evil.xlf"
    path.write_text(
        f'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file://{secret}">]>'
        f'<xliff version="1.2" xmlns="{XLIFF_NS}"><file original="a" source-language="id" datatype="plaintext">'
        '<body><trans-unit id="1"><source>a</source><target>&e;</target></trans-unit></body></file></xliff>'
    )
    assert "SECRET" not in (read_xliff(path)[0].target or "")


def test_cli_export_and_import(tmp_path: Path, cli, schema):
    units = _units()[:12]
    tmx = tmp_path / "art.tmx"
    write_tmx(units, tmx, "id-ID", "en-US")
    out = tmp_path / "x"
    res = cli("xliff", "export", str(tmx), "--out", str(out), "--glossary", str(Path("glossary/defence.tsv")))
    assert res.returncode == 0, res.stderr
    xlf = out / "art.xlf"
    doc = etree.parse(str(xlf))
    assert schema.validate(doc), schema.error_log.filter_from_errors()
    assert doc.getroot().find(f"{X}file").get("target-language") == "en-US"
    text = xlf.read_text()
    approved = next(u for u in units if u.prop("x-status") == "approved")
    draft = next(u for u in units if u.prop("x-status") == "draft" and u.target)
    text = text.replace(f">{_esc(draft.target)}</target>", ">Edited by hand.</target>", 1)
    text = text.replace(f">{_esc(approved.target)}</target>", ">Changed in the CAT tool.</target>", 1)
    xlf.write_text(text)
    res = cli("xliff", "import", str(xlf), "--into", str(tmx), "--user", "ana")
    assert res.returncode == 1 and "conflict" in res.stderr and "1 updated" in res.stdout, res.stderr + res.stdout
    after = {u.tuid: u for u in read_tmx(tmx)}
    assert after[draft.tuid].target == "Edited by hand." and after[approved.tuid].target == approved.target
    assert tmx_langs(tmx) == ("id-ID", "en-US")
    res = cli("xliff", "import", str(tmx), "--into", str(tmx))
    assert res.returncode != 0 and res.stderr.startswith("aligner: error:") and len(res.stderr.splitlines()) == 1


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def test_translate_writes_xliff_and_the_users_language_codes(tmp_path: Path, cli, tiny_model_dir, schema):
    out = tmp_path / "out"
    seed = sorted(Path("seeds").glob("*.txt"))[1]
    res = cli("translate", str(seed), "--out", str(out), "--model", str(tiny_model_dir), "--beam", "1",
              "--backend", "torch", "--no-cache", "--format", "tmx,xliff", "--langs", "id-ID,en-US")
    assert res.returncode == 0, res.stderr
    tmx, xlf = out / f"{seed.stem}.tmx", out / f"{seed.stem}.xlf"
    assert tmx_langs(tmx) == ("id-ID", "en-US")
    units = read_tmx(tmx)
    assert units and all(u.creationdate and u.creationid for u in units)
    doc = etree.parse(str(xlf))
    assert schema.validate(doc), schema.error_log.filter_from_errors()
    assert [u.id for u in read_xliff(xlf)] == [u.tuid for u in units]
    assert {t.get("state") for t in doc.iterfind(f".//{X}trans-unit/{X}target")} == {"needs-review-translation"}
    res = cli("translate", str(seed), "--out", str(out), "--format", "tmx,pdf")
    assert res.returncode == 2 and "unknown format 'pdf'" in res.stderr


OTHER_TOOL_TMX = """<?xml version="1.0" encoding="UTF-8"?>
<!-- exported by another tool -->
<tmx version="1.4">
  <header creationtool="Okapi" creationtoolversion="1" segtype="sentence" o-tmf="x" adminlang="en"
          srclang="id-ID" datatype="plaintext" x-custom="kept"/>
  <body>
    <tu tuid="t1" usagecount="3"><prop type="x-status">draft</prop>
      <tuv xml:lang="id-ID"><seg>Satu.</seg></tuv><tuv xml:lang="en-US"><seg>One.</seg></tuv></tu>
    <tu tuid="t2"><tuv xml:lang="id-ID"><seg>Dua <ph x="1">&lt;b&gt;</ph>tebal.</seg></tuv>
      <tuv xml:lang="en-US"><seg>Two <ph x="1">&lt;b&gt;</ph>bold.</seg></tuv><tuv xml:lang="fr"><seg>Deux.</seg></tuv></tu>
  </body>
</tmx>
"""


def test_import_edits_another_tools_tmx_in_place(tmp_path: Path, cli):
    tmx = tmp_path / "other.tmx"
    tmx.write_text(OTHER_TOOL_TMX, encoding="utf-8")
    xlf = tmp_path / "other.xlf"
    with pytest.warns(TmxWarning, match="inline markup"):
        xlf.write_bytes(xliff_bytes(read_tmx(tmx)))
    text = xlf.read_text(encoding="utf-8").replace(">One.</target>", ">Uno, corrected.</target>")
    text = text.replace("Two &lt;b&gt;bold.</target>", "Two bold, flattened.</target>")
    xlf.write_text(text, encoding="utf-8")
    res = cli("xliff", "import", str(xlf), "--into", str(tmx), "--user", "ana")
    # The unit with inline codes is not flattened: a conflict; the other is taken.
    assert res.returncode == 1 and "1 updated" in res.stdout and "inline code" in res.stderr, res.stdout + res.stderr
    after = tmx.read_text(encoding="utf-8")
    assert "<seg>Uno, corrected.</seg>" in after and 'changeid="ana"' in after
    for kept in ("<!-- exported by another tool -->", 'x-custom="kept"', 'usagecount="3"',
                 '<ph x="1">&lt;b&gt;</ph>bold.', "<seg>Deux.</seg>", 'xml:lang="en-US"'):
        assert kept in after, kept
    assert (tmp_path / "other.tmx.~1~").read_text(encoding="utf-8") == OTHER_TOOL_TMX


def test_tm_fuzzy_matches_of_a_unit_become_alt_trans_with_their_score(tmp_path: Path, schema):
    from aligner.cli.xliff import tmx_to_xliff
    from aligner.formats.units import with_fuzzy

    unit = with_fuzzy(Unit("Kapal itu besar.", "The ship is big.", (("x-doc", "a"), ("x-status", "draft")), tuid="a:0"),
                      [(87.5, "tm:9", "Kapal ini besar.", "This ship is big.")])
    write_tmx([unit], tmp_path / "a.tmx")
    tmx_to_xliff(tmp_path / "a.tmx", tmp_path / "a.xlf")
    doc = etree.parse(str(tmp_path / "a.xlf"))
    assert schema.validate(doc), schema.error_log.filter_from_errors()
    (alt,) = doc.findall(f".//{X}alt-trans")
    assert (alt.get("origin"), alt.get("match-quality")) == ("tm", "87.5")
    assert [alt.find(f"{X}source").text, alt.find(f"{X}target").text] == ["Kapal ini besar.", "This ship is big."]
