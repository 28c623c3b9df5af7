"""`aligner align` writes only what exists: a sentence with no counterpart is a one-language
unit (valid TMX, no empty translation for CAT tools) or, with --drop-unaligned, left out."""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from aligner.align.sentences import bead_units
from aligner.formats.tmx import read_tmx, tmx_bytes
from aligner.segment import segment
from aligner.types import Bead
from tests.test_align import EN, ID, _dtd


def _write(tmp_path: Path) -> tuple[Path, Path]:
    (tmp_path / "a.id.txt").write_text("\n".join(ID) + "\n", encoding="utf-8")
    (tmp_path / "a.en.txt").write_text("\n".join(EN[:3] + EN[4:]) + "\n", encoding="utf-8")
    return tmp_path / "a.id.txt", tmp_path / "a.en.txt"


def test_unaligned_sentence_is_a_one_language_unit(tmp_path: Path, cli):
    src, tgt = _write(tmp_path)
    out = tmp_path / "a.tmx"
    result = cli("align", str(src), str(tgt), "--out", str(out))
    assert result.returncode == 0, result.stderr
    tree = etree.parse(str(out))
    dtd = _dtd()
    assert dtd.validate(tree), dtd.error_log.filter_from_errors()
    assert not [s for s in tree.iter("seg") if not (s.text or "").strip()]  # no empty <seg/> anywhere
    lone = [tu for tu in tree.iter("tu") if len(tu.findall("tuv")) == 1]
    assert len(lone) == 1 and lone[0].find("tuv").get("{http://www.w3.org/XML/1998/namespace}lang") == "id"
    units = read_tmx(out)
    null = next(u for u in units if u.prop("x-bead") == "1-0")
    assert null.source == ID[3] and null.target == "" and any("review" in n for n in null.notes)


def test_drop_unaligned_leaves_them_out(tmp_path: Path, cli):
    src, tgt = _write(tmp_path)
    out = tmp_path / "a.tmx"
    result = cli("align", str(src), str(tgt), "--out", str(out), "--drop-unaligned")
    assert result.returncode == 0, result.stderr
    assert "1 unaligned sentence(s) left out" in result.stdout
    units = read_tmx(out)
    assert all(u.prop("x-bead") != "1-0" for u in units) and len(units) == len(ID) - 1
    assert all(len(tu.findall("tuv")) == 2 for tu in etree.parse(str(out)).iter("tu"))


def test_english_only_bead_has_only_an_english_tuv():
    src = segment("Kapal itu besar.")
    tgt = segment("The ship is big. An extra English sentence.", lang="en")
    units = bead_units("d", src, tgt, [Bead((0,), (0,), 0.9), Bead((), (1,), 0.1)])
    root = etree.fromstring(tmx_bytes(units, omit_empty=True))
    langs = [[t.get("{http://www.w3.org/XML/1998/namespace}lang") for t in tu.findall("tuv")] for tu in root.iter("tu")]
    assert langs == [["id", "en"], ["en"]]
    assert len(bead_units("d", src, tgt, [Bead((0,), (0,), 0.9), Bead((), (1,), 0.1)], drop_unaligned=True)) == 1
