"""End to end in a real headless Chromium: edit a target with the keyboard, approve, save;
an edit survives a filter click; units changed on disk and in the page are offered side by side."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest

from aligner.formats.tmx import read_tmx, write_tmx
from aligner.review.server import ReviewServer
from aligner.review.session import ReviewSession
from aligner.types import Unit
from tests.conftest import SEEDS
from tests.seeds_tmx import seed_units

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
XSS = '<img src=x onerror="window.__xss = 1"><script>window.__xss = 2</script>'


@pytest.fixture
def browser():
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is not installed (Debian package chromium; see .ci/system-deps)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright for Python is not installed")
    global expect, PlaywrightError
    expect, PlaywrightError = sync_api.expect, sync_api.Error
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def served(tmp_path: Path, termbase):
    units = seed_units(SEEDS[:1])[:10]
    units.insert(2, Unit(XSS, "EN " + XSS, (("x-doc", "xss"), ("x-kind", "sentence"), ("x-status", "draft")), tuid="xss:0"))
    path = tmp_path / "seed.tmx"
    write_tmx(units, path)
    server = ReviewServer(ReviewSession(path, termbase, user="e2e"), port=0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server, path
    server.shutdown()
    server.server_close()


def test_keyboard_edit_approve_save_in_chromium(browser, served):
    server, path = served
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(server.url)
    page.wait_for_selector("tbody tr[data-index]")
    rows = page.locator("tbody tr")
    assert rows.count() == 11
    assert page.locator("#filters button[data-filter=all] .count").inner_text() == "11"

    # markup inside a segment is shown as text and never runs
    xss_row = page.locator('tr[data-tuid="xss:0"]')
    assert XSS in xss_row.locator("td.src").inner_text()
    assert xss_row.locator("td.src img, td.src script, td.tgt img").count() == 0
    assert page.evaluate("window.__xss") is None

    # glossary terms are highlighted with the required English on hover
    mark = page.locator("td.src mark.term").first
    assert "English must be" in mark.get_attribute("title")

    # keyboard: j moves down; e edits; Esc cancels
    assert page.locator("tr.selected").get_attribute("data-index") == "0"
    page.keyboard.press("j")
    assert page.locator("tr.selected").get_attribute("data-index") == "1"
    original = page.locator("tr.selected td.tgt").inner_text()
    page.keyboard.press("e")
    page.keyboard.press("Control+A")
    page.keyboard.type("thrown away")
    page.keyboard.press("Escape")
    assert page.locator("textarea.editor").count() == 0
    assert page.locator("tr.selected td.tgt").inner_text() == original
    assert page.locator("#dirty").is_hidden()

    # Enter edits, Enter keeps the edit, a approves, Ctrl+S saves
    new_text = "Relations between NATO and Japan & South Korea <grew> quickly."
    page.keyboard.press("Enter")
    page.keyboard.press("Control+A")
    page.keyboard.type(new_text)
    page.keyboard.press("Enter")
    assert page.locator('tr[data-index="1"] td.tgt').inner_text() == new_text
    assert page.locator("#dirty").inner_text() == "● 1 unsaved edit"
    # beside the English: what the edit changed in the first draft, word by word
    diff = page.locator('tr[data-index="1"] td.iss .draft-diff')
    diff.wait_for()
    assert "<grew>" in diff.locator("ins").all_inner_texts()
    assert any(w in original for w in diff.locator("del").all_inner_texts())
    assert page.locator('tr[data-index="2"] td.iss .draft-diff').count() == 0  # not edited
    page.keyboard.press("a")
    assert page.locator('tr[data-index="1"] .status').inner_text() == "approved"
    assert page.locator("tr.selected").get_attribute("data-index") == "2"
    assert page.locator("#filters button[data-filter=approved] .count").inner_text() == "1"
    page.keyboard.press("k")
    page.keyboard.press("k")
    page.keyboard.press("r")  # reject unit 0 as well
    page.keyboard.press("Control+s")
    page.wait_for_selector("#message.ok")
    assert "Saved 2 units" in page.locator("#message").inner_text()
    assert page.locator("#dirty").is_hidden()

    # after the save the diff is still against the first draft
    assert "<grew>" in page.locator('tr[data-index="1"] td.iss .draft-diff ins').all_inner_texts()

    units = read_tmx(path)
    assert units[1].target == new_text and units[1].prop("x-status") == "approved"
    assert units[1].changeid == "e2e" and units[1].changedate
    assert units[0].prop("x-status") == "rejected"
    assert all(u.prop("x-status") == "draft" for u in units[2:])
    assert path.with_name("seed.tmx.~1~").exists()

    # filters: approved shows just the one unit
    page.click("#filters button[data-filter=approved]")
    assert page.locator("tbody tr").count() == 1
    page.click("#filters button[data-filter=all]")

    # a save after another unit changed on disk merges: that change is kept, this edit is written
    changed = read_tmx(path)
    changed[5] = Unit(changed[5].source, "Edited elsewhere.", changed[5].props, tuid=changed[5].tuid)
    write_tmx(changed, path)
    page.locator('tr[data-index="4"] td.tgt').dblclick()
    page.keyboard.press("Control+A")
    page.keyboard.type("Mouse edit.")
    page.locator('tr[data-index="4"] button[data-act=approve]').click()
    page.click("#save")
    # (wait_for_function would need 'unsafe-eval', which the page's CSP rightly forbids)
    expect(page.locator("#message")).to_have_text(re.compile(r"^Saved 1 unit"))
    assert page.locator('tr[data-index="5"] td.tgt').inner_text() == "Edited elsewhere."
    final = read_tmx(path)
    assert final[4].target == "Mouse edit." and final[4].prop("x-status") == "approved"
    assert final[5].target == "Edited elsewhere." and final[1].target == new_text

    # a unit changed both on disk (approved there) and in this page: both shown, nothing undone
    changed = read_tmx(path)
    theirs = tuple((k, "approved" if k == "x-status" else v) for k, v in changed[6].props)
    changed[6] = Unit(changed[6].source, "Theirs, approved.", theirs, tuid=changed[6].tuid, changeid="other")
    write_tmx(changed, path)
    page.locator('tr[data-index="6"] td.tgt').dblclick()
    page.keyboard.press("Control+A")
    page.keyboard.type("Ours.")
    page.keyboard.press("Enter")
    page.keyboard.press("Control+s")
    expect(page.locator("#conflicts")).to_be_visible()
    assert "Theirs, approved." in page.locator("#conflicts .disk").inner_text()
    assert "other" in page.locator("#conflicts .disk").inner_text()
    assert "Ours." in page.locator("#conflicts .mine").inner_text()
    assert read_tmx(path)[6].target == "Theirs, approved."
    assert page.locator("#dirty").inner_text() == "● 1 unsaved edit"
    page.click("#conflicts button[data-choose=mine]")
    assert page.locator("#conflicts").is_hidden()
    page.keyboard.press("Control+s")
    expect(page.locator("#message")).to_have_text(re.compile(r"^Saved 1 unit"))
    assert read_tmx(path)[6].target == "Ours." and read_tmx(path)[6].changeid == "e2e"

    # unsaved edits warn before leaving
    page.keyboard.press("j")
    page.keyboard.press("a")
    assert page.locator("#dirty").inner_text() == "● 1 unsaved edit"
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.type), d.dismiss()))
    with pytest.raises(PlaywrightError):  # dismissing the warning aborts the navigation
        page.goto("about:blank", timeout=5000)
    assert dialogs == ["beforeunload"] and page.url == server.url
    assert errors == []


def test_edit_survives_a_filter_click_and_keep_the_disk_version(browser, served):
    server, path = served
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(server.url)
    page.wait_for_selector("tbody tr[data-index]")
    page.keyboard.press("j")
    page.keyboard.press("e")
    page.keyboard.press("Control+A")
    page.keyboard.type("Half typed")
    # the unit being edited is not approved, yet it stays in view with its editor and text
    page.click("#filters button[data-filter=approved]")
    assert page.locator("tbody tr").count() == 1
    assert page.locator("textarea.editor").input_value() == "Half typed"
    page.keyboard.type(", then finished.")  # the editor kept the focus
    page.click("#filters button[data-filter=all]")
    assert page.locator("textarea.editor").input_value() == "Half typed, then finished."
    page.keyboard.press("Enter")
    assert page.locator('tr[data-index="1"] td.tgt').inner_text() == "Half typed, then finished."

    # someone approved that unit on disk meanwhile: keeping their version drops this edit
    changed = read_tmx(path)
    approved = tuple((k, "approved" if k == "x-status" else v) for k, v in changed[1].props)
    changed[1] = Unit(changed[1].source, changed[1].target, approved, tuid=changed[1].tuid)
    write_tmx(changed, path)
    page.keyboard.press("Control+s")
    expect(page.locator("#conflicts")).to_be_visible()
    page.click("#conflicts button[data-choose=disk]")
    assert page.locator("#dirty").is_hidden()
    assert page.locator('tr[data-index="1"] .status').inner_text() == "approved"
    assert read_tmx(path)[1].prop("x-status") == "approved" and read_tmx(path)[1].target == changed[1].target
    assert errors == []


def test_inline_codes_are_tokens_in_the_editor_and_kept_in_the_file(browser, tmp_path: Path):
    from tests.test_review_lossless import OMEGAT

    path = tmp_path / "omegat.tmx"
    path.write_text(OMEGAT, encoding="utf-8")
    server = ReviewServer(ReviewSession(path, user="e2e"), port=0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(server.url)
        page.wait_for_selector("tbody tr[data-index]")
        cell = page.locator('tr[data-index="1"] td.tgt')
        assert cell.locator("span.code").count() == 3  # shown as protected tokens, not as text
        assert page.locator('tr[data-index="2"] .status').inner_text() == "translated"  # another tool's status
        cell.dblclick()
        assert page.locator("textarea.editor").input_value() == "Click ⟦1⟧Save⟦2⟧ now.⟦3⟧"
        page.keyboard.press("Control+A")
        page.keyboard.type("⟦3⟧Now click ⟦1⟧Save⟦2⟧.")
        page.keyboard.press("Enter")
        assert cell.locator("span.code").count() == 3
        page.keyboard.press("a")
        page.keyboard.press("Control+s")
        expect(page.locator("#message")).to_have_text(re.compile(r"^Saved 1 unit"))
        text = path.read_text(encoding="utf-8")
        assert '<seg><ph x="2">&lt;br/&gt;</ph>Now click <bpt i="1">&lt;b&gt;</bpt>Save<ept i="1">&lt;/b&gt;</ept>.</seg>' in text
        assert errors == []
    finally:
        server.shutdown()
        server.server_close()
