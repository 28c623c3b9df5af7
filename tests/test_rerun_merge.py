"""Re-runs merge with the output instead of overwriting it: a person's work survives new settings,
new articles, changed articles, --overwrite; only --discard-reviewed gives it up (to a backup)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxml import etree

from aligner.batch.merge import merge_article, orphans_path, touched
from aligner.batch.pipeline import run_batch
from aligner.formats.files import numbered_backups
from aligner.formats.tmx import read_tmx, tmx_bytes
from aligner.formats.tmxdoc import TmxDocument
from aligner.review.session import ReviewSession
from aligner.translate.translator import Translator
from aligner.types import Unit
from tests.test_review_server import edit
from tests.test_robust import stamp, write_articles

pytestmark = pytest.mark.usefixtures("one_torch_thread")

ARTICLES = {"a1": "Tentara datang.\n\nKapal itu besar.\n", "a2": "Menteri pertahanan berbicara.\n"}


@pytest.fixture(scope="module")
def plain(tiny_model) -> Translator:
    return Translator(tiny_model, beam=1, batch_size=4, max_new_tokens=8)


@pytest.fixture(scope="module")
def with_glossary(tiny_model, termbase) -> Translator:
    return Translator(tiny_model, glossary=termbase, beam=1, batch_size=4, max_new_tokens=8)


def tu_xml(path: Path, source: str) -> bytes:
    """Canonical XML of the unit of ``source`` in ``path``."""
    for entry in TmxDocument.read(path).units():
        if entry.unit and entry.unit.source == source:
            return etree.tostring(entry.element, method="c14n2")
    raise AssertionError(f"{source!r} not in {path}")


def approve(path: Path, source: str, target: str) -> bytes:
    """Approve the unit of ``source`` with ``target`` through the review session; its canonical XML."""
    session = ReviewSession(path, user="rev")
    row = next(r for r in session.state()["units"] if r["source"] == source)
    assert session.save([edit(row, target, "approved")])["saved"] == 1
    return tu_xml(path, source)


def merged_counts(out: Path) -> dict[str, dict]:
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    return {Path(f["path"]).stem: f["merged"] for f in report["files"]}


def test_approve_change_glossary_rerun_add_article_rerun_overwrite(tmp_path: Path, plain, with_glossary):
    src = write_articles(tmp_path / "in", ARTICLES)
    out = tmp_path / "out"
    run_batch(sorted(src.glob("*.txt")), out, plain)
    approved = approve(out / "a1.tmx", "Tentara datang.", "The army arrived.")

    # same settings: the reviewed file is simply kept, not even rewritten
    before = stamp(out / "a1.tmx")
    assert all(r.reused for r in run_batch(sorted(src.glob("*.txt")), out, plain))
    assert stamp(out / "a1.tmx") == before

    # new glossary: every article is drafted again; the approved unit is kept exactly
    reports = run_batch(sorted(src.glob("*.txt")), out, with_glossary)
    assert not any(r.reused for r in reports)
    assert tu_xml(out / "a1.tmx", "Tentara datang.") == approved
    assert [u.source for u in read_tmx(out / "a1.tmx")] == ["Tentara datang.", "Kapal itu besar."]
    counts = merged_counts(out)
    assert counts["a1"] == {"kept": 1, "redrafted": 1, "new": 0, "orphaned": 0, "discarded": 0}
    assert counts["a2"]["redrafted"] == 1 and counts["a2"]["kept"] == 0

    # a new article: only it is translated; the approved unit is untouched
    write_articles(src, {"a3": "Pesawat baru tiba.\n"})
    reports = run_batch(sorted(src.glob("*.txt")), out, with_glossary)
    assert [r.reused for r in reports] == [True, True, False]
    assert merged_counts(out)["a3"]["new"] == 1
    assert tu_xml(out / "a1.tmx", "Tentara datang.") == approved

    # --overwrite redoes the drafts, keeps the approved unit, and keeps a backup first
    a1_before = (out / "a1.tmx").read_bytes()
    reports = run_batch(sorted(src.glob("*.txt")), out, with_glossary, overwrite=True)
    assert not any(r.reused for r in reports)
    assert tu_xml(out / "a1.tmx", "Tentara datang.") == approved
    assert numbered_backups(out / "a1.tmx")[-1][1].read_bytes() == a1_before
    assert merged_counts(out)["a1"]["kept"] == 1

    # --overwrite --discard-reviewed gives the approved unit up; the backup still has it
    a1_before = (out / "a1.tmx").read_bytes()
    run_batch(sorted(src.glob("*.txt")), out, with_glossary, overwrite=True, discard_reviewed=True)
    unit = read_tmx(out / "a1.tmx")[0]
    assert unit.prop("x-status") == "draft" and unit.target != "The army arrived."
    assert merged_counts(out)["a1"]["discarded"] == 1
    assert numbered_backups(out / "a1.tmx")[-1][1].read_bytes() == a1_before
    assert not list(out.glob("*.orphans.tmx"))


def test_a_reviewed_sentence_gone_from_the_article_is_kept_as_an_orphan(tmp_path: Path, plain):
    src = write_articles(tmp_path / "in", ARTICLES)
    out = tmp_path / "out"
    run_batch([src / "a1.txt"], out, plain)
    rejected_session = ReviewSession(out / "a1.tmx", user="rev")
    row = rejected_session.state()["units"][1]
    rejected_session.save([edit(row, status="rejected")])
    approved = approve(out / "a1.tmx", "Tentara datang.", "The army arrived.")
    rejected = tu_xml(out / "a1.tmx", "Kapal itu besar.")

    # the article changes: the approved sentence is gone, the rejected one stays, one is new
    (src / "a1.txt").write_text("Kapal itu besar.\n\nRadar dipasang.\n", encoding="utf-8")
    before = (out / "a1.tmx").read_bytes()
    [report] = run_batch([src / "a1.txt"], out, plain)
    assert report.merged["kept"] == 1 and report.merged["orphaned"] == 1 and report.merged["new"] == 1
    assert [u.source for u in read_tmx(out / "a1.tmx")] == ["Kapal itu besar.", "Radar dipasang."]
    assert tu_xml(out / "a1.tmx", "Kapal itu besar.") == rejected
    orphans = orphans_path(out / "a1.tmx")
    assert orphans.name == "a1.orphans.tmx"
    assert tu_xml(orphans, "Tentara datang.") == approved
    assert numbered_backups(out / "a1.tmx")[-1][1].read_bytes() == before
    # unique tuids even though the kept unit's old tuid is now another sentence's index
    tuids = [u.tuid for u in read_tmx(out / "a1.tmx")]
    assert len(set(tuids)) == len(tuids)
    # the new sentence goes too: its draft joins the orphans; the approved unit is not added twice
    (src / "a1.txt").write_text("Kapal itu besar.\n", encoding="utf-8")
    run_batch([src / "a1.txt"], out, plain)
    (src / "a1.txt").write_text("Kapal itu besar.\n\nTentara datang.\n", encoding="utf-8")
    run_batch([src / "a1.txt"], out, plain)
    (src / "a1.txt").write_text("Kapal itu besar.\n", encoding="utf-8")
    run_batch([src / "a1.txt"], out, plain)
    assert [u.source for u in read_tmx(orphans)] == ["Tentara datang.", "Radar dipasang.", "Tentara datang."]
    assert [u.prop("x-status") for u in read_tmx(orphans)] == ["approved", "draft", "draft"]


def test_a_broken_tmx_is_neither_merged_nor_overwritten(tmp_path: Path, plain, with_glossary):
    src = write_articles(tmp_path / "in", ARTICLES)
    out = tmp_path / "out"
    run_batch([src / "a1.txt"], out, plain)
    (out / "a1.tmx").write_bytes(b"<tmx><body><tu>half")
    errors: list[str] = []
    [report] = run_batch([src / "a1.txt"], out, with_glossary, on_error=errors.append)
    assert report.status == "failed" and "cannot be read" in report.error and "a1.tmx" in errors[0]
    assert (out / "a1.tmx").read_bytes() == b"<tmx><body><tu>half"


def test_merge_article_units_and_touch_rules(tmp_path: Path):
    out = tmp_path / "d.tmx"
    draft = lambda s, t, **kw: Unit(s, t, (("x-doc", "d"), ("x-status", kw.pop("status", "draft"))), tuid=kw.pop("tuid", s), **kw)  # noqa: E731
    assert not touched(draft("a", "A")) and touched(draft("a", "A", status="translated"))
    assert touched(draft("a", "A", changeid="x")) and touched(draft("a", "A", changedate="20240101T000000Z"))
    out.write_bytes(tmx_bytes([draft("a", "A", changeid="x"), draft("a", "A2"), draft("b", "B")]))
    # a repeated sentence: the touched unit takes the first occurrence, the untouched draft is redrafted
    counts = merge_article(out, [draft("a", "new"), draft("a", "new"), draft("c", "C")])
    assert counts == {"kept": 1, "redrafted": 1, "new": 1, "orphaned": 1, "discarded": 0}
    assert [(u.source, u.target) for u in read_tmx(out)] == [("a", "A"), ("a", "new"), ("c", "C")]
    assert [(u.source, u.target) for u in read_tmx(orphans_path(out))] == [("b", "B")]  # even a draft is never dropped


def test_cli_discard_reviewed_says_so(tmp_path: Path, tiny_model_dir: Path, plain, cli):
    src = write_articles(tmp_path / "in", {"a1": ARTICLES["a1"]})
    out = tmp_path / "out"
    run_batch([src / "a1.txt"], out, plain)  # in-process: one CLI start is slow enough
    approve(out / "a1.tmx", "Tentara datang.", "The army arrived.")
    reviewed = (out / "a1.tmx").read_bytes()
    result = cli("translate", str(src), "--out", str(out), "--model", str(tiny_model_dir), "--beam", "1",
                 "--backend", "torch", "--no-cache", "--overwrite", "--discard-reviewed")
    assert result.returncode == 0, result.stderr
    assert "0 reviewed unit(s) kept" in result.stderr and "1 discarded (see the backups)" in result.stderr
    assert read_tmx(out / "a1.tmx")[0].prop("x-status") == "draft"
    assert numbered_backups(out / "a1.tmx")[-1][1].read_bytes() == reviewed


def test_a_review_save_during_the_merge_is_not_lost(tmp_path: Path, monkeypatch):
    import aligner.batch.merge as merge

    out = tmp_path / "d.tmx"
    drafts = [Unit(s, s.upper(), (("x-status", "draft"),), tuid=s) for s in ("a", "b")]
    out.write_bytes(tmx_bytes(drafts))
    real = merge._merge
    calls = {"n": 0}

    def review_saves_meanwhile(*args, **kw):
        result = real(*args, **kw)
        calls["n"] += 1
        if calls["n"] == 1:  # a reviewer approves "b" after the merge read the file
            session = ReviewSession(out, user="rev")
            session.save([edit(session.state()["units"][1], "Bee.", "approved")])
        return result

    monkeypatch.setattr(merge, "_merge", review_saves_meanwhile)
    counts = merge_article(out, [Unit(s, "new", (("x-status", "draft"),), tuid=s) for s in ("a", "b")])
    assert calls["n"] == 2 and counts["kept"] == 1
    assert [(u.target, u.prop("x-status")) for u in read_tmx(out)] == [("new", "draft"), ("Bee.", "approved")]


def test_merge_writes_through_a_symlinked_output(tmp_path: Path):
    real = tmp_path / "store" / "d.tmx"
    real.parent.mkdir()
    real.write_bytes(tmx_bytes([Unit("a", "A", (("x-status", "approved"),), tuid="a")]))
    out = tmp_path / "out" / "d.tmx"
    out.parent.mkdir()
    out.symlink_to(real)
    before = real.read_bytes()
    counts = merge_article(out, [Unit("a", "new", (("x-status", "draft"),), tuid="a"), Unit("b", "B", tuid="b")])
    assert counts["kept"] == 1 and counts["new"] == 1
    assert out.is_symlink() and [u.target for u in read_tmx(real)] == ["A", "B"]
    assert numbered_backups(out)[-1][1].read_bytes() == before
