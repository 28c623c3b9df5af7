"""Big files stay fast: QA runs once per unit and again only for edited units; a save answers with
the changed rows only; the page can show rows before QA is done."""

from __future__ import annotations

import json
from pathlib import Path

import aligner.review.session as session_module
from aligner.formats.tmx import write_tmx
from aligner.review.session import ReviewSession
from aligner.types import Unit


def units(n: int) -> list[Unit]:
    return [Unit(f"Kapal {i} tiba di pelabuhan.", f"Ship {i} arrived in port.",
                 (("x-doc", "d"), ("x-status", "draft")), tuid=f"d:{i}") for i in range(n)]


def edit(row: dict, target: str, status: str) -> dict:
    return {"key": row["key"], "base": {"source": row["source"], "target": row["target"], "status": row["status"]},
            "target": target, "status": status}


def test_qa_runs_again_only_for_the_edited_unit(tmp_path: Path, monkeypatch):
    path = tmp_path / "big.tmx"
    write_tmx(units(60), path)
    session = ReviewSession(path)
    calls: list[str] = []
    real = session_module.check_unit
    monkeypatch.setattr(session_module, "check_unit", lambda unit, *a: calls.append(unit.source) or real(unit, *a))

    light = json.loads(session.light_json())
    assert light["pending"] and len(light["units"]) == 60 and not calls  # rows at once, QA later
    assert session.progress()["ready"] is False
    session.warm()
    assert len(calls) == 60 and session.progress() == {"version": session.version, "checked": 60, "total": 60, "ready": True}
    rows = session.state()["units"]
    assert len(calls) == 60  # served from the cache
    assert "pending" not in json.loads(session.light_json())  # once ready, the light view is the full one

    calls.clear()
    answer = session.save([edit(rows[7], "Ship 7 arrived.", "approved")], since=session.version)
    assert answer["saved"] == 1 and calls == [rows[7]["source"]]
    assert "units" not in answer and answer["count"] == 60
    assert [r["index"] for r in answer["changed"]] == [7] and answer["changed"][0]["status"] == "approved"

    # a page that names an older version gets everything
    answer = session.save([edit(answer["changed"][0], "Ship 7 came.", "approved")], since="old")
    assert len(answer["units"]) == 60 and answer["units"][7]["target"] == "Ship 7 came."
