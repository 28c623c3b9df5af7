"""A project: several TMX (a batch's folder) reviewed in one page, one save per file; and the
one-line refusal of a TMX without an Indonesian->English pair."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path


from aligner.formats.tmx import read_tmx, write_tmx
from aligner.review.server import ReviewServer
from aligner.review.session import ReviewSession
from tests.conftest import SEEDS
from tests.seeds_tmx import seed_units
from tests.test_review_align_browser import browser, open_page, select, wait_message  # noqa: F401 - fixture

ROOT = Path(__file__).resolve().parent.parent
EN_FR = """<?xml version="1.0" encoding="UTF-8"?>
<tmx version="1.4"><header srclang="en" creationtool="x" creationtoolversion="1" segtype="sentence"
 datatype="plaintext" adminlang="en" o-tmf="x"/><body>
<tu><tuv xml:lang="en"><seg>Hello.</seg></tuv><tuv xml:lang="fr-FR"><seg>Bonjour.</seg></tuv></tu>
</body></tmx>"""


def review_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "aligner", "review", "--no-browser", "--port", "0", *args],
                          capture_output=True, text=True, env=env, timeout=60)


def test_a_tmx_without_the_pair_is_refused_in_one_line(tmp_path: Path):
    path = tmp_path / "en-fr.tmx"
    path.write_text(EN_FR, encoding="utf-8")
    result = review_cli(str(path))
    assert result.returncode == 2
    assert result.stderr.strip() == f"aligner: error: {path}: no id->en pair: the file has en, fr-FR"
    assert ReviewSession(path).pair_missing() == "no id->en pair: the file has en, fr-FR"
    empty = tmp_path / "empty"
    empty.mkdir()
    result = review_cli(str(empty))
    assert result.returncode == 2 and result.stderr.strip() == f"aligner: error: {empty}: no .tmx files in this folder"


def test_a_project_of_the_seed_tmx_in_chromium(browser, tmp_path: Path):  # noqa: F811 - fixture
    batch = tmp_path / "batch"
    batch.mkdir()
    for seed in SEEDS[:5]:
        write_tmx(seed_units([seed]), batch / f"{seed.stem}.tmx")
    files = sorted(batch.glob("*.tmx"))
    before = {p: p.read_bytes() for p in files}
    server = ReviewServer([ReviewSession(p, user="e2e") for p in files], port=0)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        page, errors = open_page(browser, server)
        buttons = page.locator("#files button")
        assert buttons.count() == len(files)
        assert buttons.nth(0).get_attribute("class") == "active"
        totals = [len(read_tmx(p)) for p in files]
        assert [b.locator(".count").inner_text() for b in buttons.all()] == [f"0/{n}" for n in totals]

        # the second file: approve two units, save; its progress shows in the list
        buttons.nth(1).click()
        page.locator("#file", has_text=files[1].name).wait_for()
        page.locator("body[data-ready='1'] tbody tr[data-index]").first.wait_for()
        select(page, 0)
        page.keyboard.press("a")
        page.keyboard.press("a")
        buttons.nth(2).click()
        wait_message(page, "unsaved edits")  # no switching away from unsaved work
        page.keyboard.press("Control+s")
        wait_message(page, "Saved 2 units")
        page.locator("#files button .count", has_text=f"2/{totals[1]}").wait_for()
        buttons.nth(2).click()
        page.locator("#file", has_text=files[2].name).wait_for()
        assert page.locator("#progress-text").inner_text() == f"0 of {totals[2]} reviewed"
        assert not errors
    finally:
        server.shutdown()
        server.server_close()
    assert [p.read_bytes() == before[p] for p in files] == [True, False, True, True, True]
    statuses = [u.prop("x-status") for u in read_tmx(files[1])]
    assert statuses[:2] == ["approved", "approved"] and set(statuses[2:]) <= {"draft", ""}
