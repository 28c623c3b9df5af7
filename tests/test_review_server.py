"""The review server: load, edit, approve, save, conflicting saves, escaping, traversal, Host check."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from aligner.formats.tmx import read_tmx, write_tmx
from aligner.review.server import STATIC_DIR, ReviewServer
from aligner.review.session import ReviewSession
from aligner.types import Unit
from tests.conftest import ROOT, SEEDS
from tests.seeds_tmx import seed_units

XSS = '<script>window.__xss = 1</script> dan <img src=x onerror="window.__xss = 2"> "&amp;"'


@pytest.fixture
def tmx(tmp_path: Path) -> Path:
    units = seed_units(SEEDS[:1])[:12]
    units.append(Unit(XSS, "EN " + XSS, (("x-doc", "xss"), ("x-kind", "sentence"), ("x-status", "draft")), tuid="xss:0"))
    path = tmp_path / "article.tmx"
    write_tmx(units, path)
    return path


@pytest.fixture
def server(tmx: Path, termbase):
    srv = ReviewServer(ReviewSession(tmx, termbase, user="tester"), port=0)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def request(srv, method: str, path: str, body=None, host: str | None = None, headers: dict | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
    conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    if host != "":
        conn.putheader("Host", host or f"127.0.0.1:{srv.port}")
    data = b""
    if body is not None:
        data = json.dumps(body).encode()
        conn.putheader("Content-Type", "application/json")
    for key, value in (headers or {}).items():
        conn.putheader(key, value)
    conn.putheader("Content-Length", str(len(data)))
    conn.endheaders(data)
    resp = conn.getresponse()
    payload = resp.read()
    conn.close()
    return resp, payload


def get_json(srv, path="/api/units"):
    resp, payload = request(srv, "GET", path)
    assert resp.status == 200
    return json.loads(payload)


def edit(row: dict, target: str | None = None, status: str | None = None) -> dict:
    """A save edit of ``row`` (a unit as the page loaded it) as the page sends it."""
    base = {k: row[k] for k in ("source", "target", "status")}
    return {"key": row["key"], "base": base, "target": row["target"] if target is None else target,
            "status": row["status"] if status is None else status}


def test_load_units_page_and_assets(server, tmx: Path):
    state = get_json(server)
    units = read_tmx(tmx)
    assert state["file"] == "article.tmx"
    assert state["version"] == hashlib.sha256(tmx.read_bytes()).hexdigest()
    assert [u["source"] for u in state["units"]] == [u.source for u in units]
    assert all(u["status"] == "draft" for u in state["units"])
    # glossary spans are UTF-16 offsets into the source, with the required English
    spans = [(u["source"], s) for u in state["units"] for s in u["source_terms"]]
    assert spans and all(src[s["start"]: s["end"]] for src, s in spans)
    assert any(s["id"] == "prc" and s["target"] == "China" for _, s in spans)
    # the fake drafts lack the glossary English: QA issues ride along with each row
    assert any(i["check"] == "term-missing" for u in state["units"] for i in u["issues"])
    resp, page = request(server, "GET", "/")
    assert resp.status == 200 and resp.getheader("Content-Type").startswith("text/html")
    assert b'src="/static/review.js"' in page
    assert "default-src 'self'" in resp.getheader("Content-Security-Policy")
    resp, js = request(server, "GET", "/static/review.js")
    assert resp.status == 200 and resp.getheader("Content-Type").startswith("text/javascript")
    assert resp.getheader("X-Content-Type-Options") == "nosniff"


def test_check_endpoint_rechecks_an_edit(server):
    state = get_json(server)
    row = next(u for u in state["units"] if any(s["id"] == "prc" for s in u["source_terms"]))
    resp, body = request(server, "POST", "/api/check", {"index": row["index"], "target": "EN: China and the sea."})
    assert resp.status == 200
    checked = json.loads(body)
    assert not any("prc" in i["message"] for i in checked["issues"])
    assert any(t["id"] == "prc" and t["kind"] == "required" for t in checked["target_terms"])


def test_edit_approve_save_keeps_backup(server, tmx: Path):
    before = tmx.read_bytes()
    state = get_json(server)
    rows = state["units"]
    edits = [edit(rows[1], "An edited English sentence.", "approved"), edit(rows[2], status="rejected"),
             edit(rows[3], status="draft")]
    resp, body = request(server, "POST", "/api/save", {"version": state["version"], "edits": edits})
    assert resp.status == 200, body
    saved = json.loads(body)
    assert saved["saved"] == 2 and saved["conflicts"] == []  # unit 3 did not change
    assert saved["backup"] == "article.tmx.~1~"
    assert (tmx.parent / "article.tmx.~1~").read_bytes() == before
    units = read_tmx(tmx)
    assert units[1].target == "An edited English sentence." and units[1].prop("x-status") == "approved"
    assert units[2].prop("x-status") == "rejected" and units[2].target == state["units"][2]["target"]
    for n in (1, 2):
        assert re.fullmatch(r"\d{8}T\d{6}Z", units[n].changedate) and units[n].changeid == "tester"
    assert units[3].changedate == "" and units[0].changedate == ""
    assert [u.source for u in units] == [u["source"] for u in state["units"]]
    assert saved["version"] == hashlib.sha256(tmx.read_bytes()).hexdigest() != state["version"]
    assert saved["units"][1]["status"] == "approved"
    # the same edits again are already on disk: nothing to do, nothing written
    on_disk = tmx.read_bytes()
    resp, body = request(server, "POST", "/api/save", {"edits": edits})
    assert json.loads(body)["saved"] == 0 and tmx.read_bytes() == on_disk
    # another edit of unit 1 based on the version before the save is a conflict, not an overwrite
    resp, body = request(server, "POST", "/api/save", {"edits": [edit(rows[1], "Stale text.", "draft")]})
    answer = json.loads(body)
    assert resp.status == 200 and answer["saved"] == 0
    [conflict] = answer["conflicts"]
    assert conflict["disk"]["status"] == "approved" and conflict["mine"]["target"] == "Stale text."
    assert tmx.read_bytes() == on_disk


def test_edit_of_a_unit_changed_on_disk_is_a_conflict_and_nothing_written(server, tmx: Path):
    state = get_json(server)
    units = read_tmx(tmx)
    units[0] = Unit(units[0].source, "Changed by someone else.", units[0].props, tuid=units[0].tuid)
    write_tmx(units, tmx)
    on_disk = tmx.read_bytes()
    mine = edit(state["units"][0], "Mine.", "approved")
    resp, body = request(server, "POST", "/api/save", {"version": state["version"], "edits": [mine]})
    answer = json.loads(body)
    assert resp.status == 200 and answer["saved"] == 0
    assert answer["conflicts"][0]["disk"]["target"] == "Changed by someone else."
    assert answer["units"][0]["target"] == "Changed by someone else."  # the page gets the file as it is now
    assert tmx.read_bytes() == on_disk and not list(tmx.parent.glob("article.tmx.~*~"))
    # choosing "mine": the edit based on the version on disk goes through
    resp, _ = request(server, "POST", "/api/save", {"edits": [edit(answer["units"][0], "Mine.", "approved")]})
    assert resp.status == 200 and read_tmx(tmx)[0].target == "Mine."


def test_bad_edits_are_refused(server, tmx: Path):
    before = tmx.read_bytes()
    version = get_json(server)["version"]
    row = get_json(server)["units"][0]
    for edits in ([{"index": 0, "target": "x", "status": "approved"}],  # no key, no base
                  [{**edit(row, "x", "approved"), "base": None}],
                  [edit(row, "x", "")],
                  [edit(row, "x", "line\nbreak")],
                  [edit(row, "x", "x" * 65)],
                  [{**edit(row, "x", "approved"), "target": 5}],
                  [edit(row, "fine", "approved"), "not an object"],
                  "not a list"):
        resp, _ = request(server, "POST", "/api/save", {"version": version, "edits": edits})
        assert resp.status == 400, edits
    resp, _ = request(server, "POST", "/api/check", {"index": -1, "target": "x"})
    assert resp.status == 400
    assert tmx.read_bytes() == before


def test_text_is_data_never_markup(server, tmx: Path):
    state = get_json(server)
    row = next(u for u in state["units"] if u["tuid"] == "xss:0")
    assert row["source"] == XSS and row["target"] == "EN " + XSS
    resp, page = request(server, "GET", "/")
    assert b"__xss" not in page
    # the page builds every cell from text nodes; no HTML-parsing sinks in its script
    js = (STATIC_DIR / "review.js").read_text(encoding="utf-8")
    code = re.sub(r"//[^\n]*", "", js)
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in code, sink
    # saving markup keeps it as escaped text in the TMX
    mine = edit(row, "<b>bold</b> & </seg>", "approved")
    resp, _ = request(server, "POST", "/api/save", {"version": state["version"], "edits": [mine]})
    assert resp.status == 200
    assert read_tmx(tmx)[row["index"]].target == "<b>bold</b> & </seg>"
    assert b"&lt;b&gt;bold&lt;/b&gt; &amp; &lt;/seg&gt;" in tmx.read_bytes()


@pytest.mark.parametrize("path", [
    "/static/../session.py", "/static/..%2fsession.py", "/static/%2e%2e/server.py", "/../../../../etc/passwd",
    "//etc/passwd", "/static//etc/passwd", "/static/index.html/../../server.py", "/article.tmx",
    "/article.tmx.bak", "/article.tmx.~1~", "/static/", "/static", "/api/../static/review.js/..", "/%2e%2e/%2e%2e/etc/passwd",
    "/static/review.js%00.html", "/static/REVIEW.JS",
])
def test_no_path_traversal(server, tmx: Path, path: str):
    resp, body = request(server, "GET", path)
    assert resp.status == 404, path
    assert b"import" not in body and b"root:" not in body and b"<tu" not in body


def test_path_with_absolute_tmx_location_is_not_served(server, tmx: Path):
    resp, body = request(server, "GET", "/" + str(tmx).lstrip("/"))
    assert resp.status == 404 and b"<tu" not in body


@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "127.0.0.1.evil.example:{port}",
                                  "localhost:1", "user@localhost:{port}", "[::1]:{port}", "", "localhost:{port}x"])
def test_foreign_host_is_refused(server, host: str):
    host = host.format(port=server.port)
    for method, path, body in (("GET", "/", None), ("GET", "/api/units", None), ("POST", "/api/save", {"version": "x", "edits": []})):
        resp, payload = request(server, method, path, body, host=host)
        assert resp.status == 403, (host, path)
        assert b"<tu" not in payload and b"source" not in payload


@pytest.mark.parametrize("host", ["localhost:{port}", "127.0.0.1:{port}", "LOCALHOST:{port}"])
def test_local_hosts_are_served(server, host: str):
    resp, _ = request(server, "GET", "/api/units", host=host.format(port=server.port))
    assert resp.status == 200


def test_cross_site_writes_are_refused(server, tmx: Path):
    before = tmx.read_bytes()
    state = get_json(server)
    body = {"version": state["version"], "edits": [edit(state["units"][0], "pwned", "approved")]}
    for headers in ({"Origin": "http://evil.example"}, {"Origin": f"http://localhost:{server.port + 1}"},
                    {"Sec-Fetch-Site": "cross-site"}, {"Origin": "null"}):
        resp, _ = request(server, "POST", "/api/save", body, headers=headers)
        assert resp.status == 403, headers
    # a "simple" cross-site form post cannot carry application/json
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("POST", "/api/save", body=json.dumps(body), headers={"Content-Type": "text/plain"})
    assert conn.getresponse().status == 403
    conn.close()
    assert tmx.read_bytes() == before
    resp, _ = request(server, "POST", "/api/save", body, headers={"Origin": f"http://127.0.0.1:{server.port}"})
    assert resp.status == 200


def test_review_command_prints_url_and_serves(tmx: Path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "aligner", "review", str(tmx), "--no-browser", "--port", "0",
         "--glossary", str(ROOT / "glossary" / "defence.tsv")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        line = proc.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert match, line + proc.stderr.read() if proc.poll() is not None else line
        conn = http.client.HTTPConnection("127.0.0.1", int(match.group(1)), timeout=10)
        conn.request("GET", "/api/units")
        resp = conn.getresponse()
        assert resp.status == 200 and json.loads(resp.read())["file"] == "article.tmx"
        conn.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_review_command_bad_file(tmp_path: Path, cli):
    result = cli("review", str(tmp_path / "missing.tmx"), "--no-browser")
    assert result.returncode == 2 and "missing.tmx" in result.stderr and "Traceback" not in result.stderr


def test_an_edited_english_comes_with_its_word_diff_against_the_first_draft(server):
    state = get_json(server)
    row = state["units"][1]
    draft = row["target"]
    assert row["draft_diff"] is None  # not edited
    first = draft.split()[0]
    changed = draft.replace(first, "Indeed", 1)
    resp, body = request(server, "POST", "/api/check", {"key": row["key"], "target": changed})
    checked = json.loads(body)
    assert ["-", first] in checked["draft_diff"] and ["+", "Indeed"] in checked["draft_diff"]
    assert "".join(t for op, t in checked["draft_diff"] if op != "-") == changed
    # saved, then edited again: the diff stays against the first draft, not the last save
    resp, body = request(server, "POST", "/api/save", {"version": state["version"], "edits": [edit(row, changed)]})
    saved = json.loads(body)["units"][1]
    assert "".join(t for op, t in saved["draft_diff"] if op != "+") == draft
    again = changed + " More."
    resp, body = request(server, "POST", "/api/check", {"key": row["key"], "target": again})
    diff = json.loads(body)["draft_diff"]
    assert "".join(t for op, t in diff if op != "+") == draft and "".join(t for op, t in diff if op != "-") == again


def test_first_draft_diff_survives_a_restart_and_travels_with_the_file(tmx: Path, tmp_path: Path):
    from aligner.formats.xliff import merge_xliff, read_xliff, xliff_bytes

    original = read_tmx(tmx)[1].target
    session = ReviewSession(tmx, user="tester")
    row = session.state()["units"][1]
    assert row["draft_diff"] is None
    session.save([edit(row, "A first rewrite.")])
    row = session.state()["units"][1]
    session.save([edit(row, "A second rewrite.", "approved")])

    # a new session (the server restarted) shows the edit against the English as first drafted
    row = ReviewSession(tmx, user="tester").state()["units"][1]
    assert row["target"] == "A second rewrite."
    assert "".join(w for op, w in row["draft_diff"] if op != "-") == "A second rewrite."
    assert "".join(w for op, w in row["draft_diff"] if op != "+").split() == original.split()
    assert [u.prop("x-first-draft") for u in read_tmx(tmx)] == ["", original] + [""] * 11
    assert ReviewSession(tmx).state()["units"][2]["draft_diff"] is None  # other units untouched

    # XLIFF out and back in: the CAT tool never sees it, the merged units keep it
    units = read_tmx(tmx)
    xlf = tmp_path / "out.xlf"
    xlf.write_bytes(xliff_bytes(units))
    assert b"x-first-draft" not in xlf.read_bytes()
    merged, _ = merge_xliff(units, read_xliff(xlf))
    assert merged[1].prop("x-first-draft") == original
