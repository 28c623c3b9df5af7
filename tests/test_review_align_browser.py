"""Alignment mode end to end in headless Chromium: move, split, merge, realign, undo; search and
bulk approve; the saved TMX read back."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from aligner.formats.tmx import read_tmx, write_tmx
from aligner.review.server import ReviewServer
from aligner.review.session import ReviewSession
from aligner.types import Unit

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
SCREENSHOT = Path("/tmp/review-alignment-mode.png")


def bead_unit(n: int, src: str, tgt: str, status: str = "draft", score: str = "0.9000") -> Unit:
    kind = f"{len(src.split('. ')) if src else 0}-{len(tgt.split('. ')) if tgt else 0}"
    return Unit(src, tgt, (("x-doc", "d"), ("x-segment", str(n)), ("x-kind", "sentence"), ("x-status", status),
                           ("x-bead", kind), ("x-align-score", score)), tuid=f"d:{n}")


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is not installed (Debian package chromium; see .ci/system-deps)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright for Python is not installed")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


def serve(path: Path):
    server = ReviewServer(ReviewSession(path, user="e2e"), port=0)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server


def open_page(browser, server):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(server.url)
    page.wait_for_selector("body[data-ready='1'] tbody tr[data-index]")
    page.locator("#busy").wait_for(state="hidden")
    return page, errors


def rows(page) -> list[tuple[str, str]]:
    return [(tr.locator("td.src").inner_text(), tr.locator("td.tgt").inner_text()) for tr in page.locator("tbody tr").all()]


def select(page, n: int) -> None:
    page.locator(f'tbody tr[data-index="{n}"] td.n').click()


def wait_message(page, text: str) -> None:
    page.locator("#message", has_text=text).wait_for()


def test_move_split_merge_undo_in_chromium(browser, tmp_path: Path):
    path = tmp_path / "aligned.tmx"
    write_tmx([
        bead_unit(0, "Menteri datang.", "The minister came."),
        bead_unit(1, "Kapal 12 tiba.", "Ship 12 arrived. Meeting 30 began.", score="0.5000"),
        bead_unit(2, "Rapat 30 mulai.", ""),
        bead_unit(3, "Harga 50 naik. Kurs 7 turun.", "Price 50 rose."),
        bead_unit(4, "", "Rate 7 fell."),
        bead_unit(5, "Selesai.", "Done."),
    ], path, omit_empty=True)
    server = serve(path)
    try:
        page, errors = open_page(browser, server)
        assert page.locator("body.align").count() == 1
        assert page.locator("th.bead").is_visible()
        assert len(rows(page)) == 6  # the English-only unit is shown too
        assert page.locator('tr[data-index="1"] td.bead').inner_text().startswith("1-2")
        assert page.locator("#filters button[data-filter=flagged] .count").inner_text() == "3"  # 0.5, 1-0, 0-1

        # an English sentence in the wrong unit: move it down; undo; redo
        select(page, 1)
        page.keyboard.press("]")
        wait_message(page, "Fixed: move")
        assert rows(page)[1:3] == [("Kapal 12 tiba.", "Ship 12 arrived."), ("Rapat 30 mulai.", "Meeting 30 began.")]
        page.keyboard.press("u")
        wait_message(page, "Undone")
        assert rows(page)[1] == ("Kapal 12 tiba.", "Ship 12 arrived. Meeting 30 began.")
        page.keyboard.press("U")
        wait_message(page, "Redone")
        assert rows(page)[2] == ("Rapat 30 mulai.", "Meeting 30 began.")

        # a 2-1: split the Indonesian where the reviewer clicked
        page.locator('tr[data-index="3"] td.src').click()
        page.evaluate("""() => { const td = document.querySelector('tr[data-index="3"] td.src');
            const r = document.createRange(); r.setStart(td.firstChild, 'Harga 50 naik.'.length); r.collapse(true);
            getSelection().removeAllRanges(); getSelection().addRange(r); }""")
        page.locator('tr[data-index="3"] button[data-fix=split]').click()
        wait_message(page, "Fixed: split")
        assert rows(page)[3:6] == [("Harga 50 naik.", "Price 50 rose."), ("Kurs 7 turun.", ""), ("", "Rate 7 fell.")]

        # 1-0 + 0-1: merge the next unit's English
        select(page, 4)
        page.keyboard.press("m")
        wait_message(page, "Fixed: merge")
        assert rows(page)[4] == ("Kurs 7 turun.", "Rate 7 fell.")
        assert len(rows(page)) == 6
        page.screenshot(path=str(SCREENSHOT), full_page=True)
        assert not errors
    finally:
        server.shutdown()
        server.server_close()

    units = read_tmx(path)
    assert [(u.source, u.target) for u in units] == [
        ("Menteri datang.", "The minister came."), ("Kapal 12 tiba.", "Ship 12 arrived."),
        ("Rapat 30 mulai.", "Meeting 30 began."), ("Harga 50 naik.", "Price 50 rose."),
        ("Kurs 7 turun.", "Rate 7 fell."), ("Selesai.", "Done.")]
    assert [u.prop("x-bead") for u in units] == ["1-1"] * 6
    assert [u.tuid for u in units] == ["d:0", "d:1", "d:2", "d:3", "d:3.1", "d:5"]
    assert units[0].changeid == "" and units[1].changeid == "e2e"  # untouched units stay as they were
    assert list(tmp_path.glob("aligned.tmx.~*~"))  # every fix kept a backup


def test_realign_search_and_bulk_approve_in_chromium(browser, tmp_path: Path):
    path = tmp_path / "aligned.tmx"
    write_tmx([
        bead_unit(0, "Menteri datang.", "The minister came.", status="approved"),
        bead_unit(1, "Kapal 12 tiba. Rapat 30 mulai.", ""),
        bead_unit(2, "", "Ship 12 arrived. Meeting 30 began."),
        bead_unit(3, "Selesai.", "Done.", status="approved"),
    ], path, omit_empty=True)
    server = serve(path)
    try:
        page, errors = open_page(browser, server)
        assert page.locator("#progress-text").inner_text() == "2 of 4 reviewed"
        select(page, 1)
        page.keyboard.press("R")
        wait_message(page, "Fixed: realign")
        assert rows(page) == [("Menteri datang.", "The minister came."), ("Kapal 12 tiba.", "Ship 12 arrived."),
                              ("Rapat 30 mulai.", "Meeting 30 began."), ("Selesai.", "Done.")]

        # search over both sides, the hit highlighted
        page.fill("#search", "meeting")
        assert len(rows(page)) == 1
        assert page.locator("td.tgt mark.hit").inner_text() == "Meeting"
        page.fill("#search", "")
        assert len(rows(page)) == 4

        # bulk approve of the filtered rows, with a confirmation naming the count
        page.locator("#filters button[data-filter=review]").click()
        seen = []
        page.once("dialog", lambda d: (seen.append(d.message), d.accept()))
        page.click("#bulk")
        assert seen == ["Approve 2 units?"]
        assert page.locator("#progress-text").inner_text() == "4 of 4 reviewed"
        page.keyboard.press("Control+z")
        assert page.locator("#progress-text").inner_text() == "2 of 4 reviewed"
        page.keyboard.press("Control+y")
        page.click("#save")
        wait_message(page, "Saved 2 units")
        assert not errors
    finally:
        server.shutdown()
        server.server_close()
    units = read_tmx(path)
    assert [(u.source, u.target, u.prop("x-status")) for u in units] == [
        ("Menteri datang.", "The minister came.", "approved"), ("Kapal 12 tiba.", "Ship 12 arrived.", "approved"),
        ("Rapat 30 mulai.", "Meeting 30 began.", "approved"), ("Selesai.", "Done.", "approved")]


def test_rows_show_target_segment_numbers_and_a_fix_renumbers_them_in_chromium(browser, tmp_path: Path):
    def unit(n: int, src: str, tgt: str, src_no: str, tgt_no: str) -> Unit:
        bead = f"{len(src_no.split())}-{len(tgt_no.split())}"
        return Unit(src, tgt, (("x-doc", "d"), ("x-segment", src_no), ("x-tgt-segment", tgt_no), ("x-status", "draft"),
                               ("x-bead", bead), ("x-align-score", "0.9000")), tuid=f"d:{n}")

    path = tmp_path / "numbered.tmx"
    write_tmx([unit(0, "Menteri datang.", "The minister came.", "0", "0"),
               unit(1, "Kapal 12 tiba.", "Ship 12 arrived. Meeting 30 began.", "1", "1 2"),
               unit(2, "Rapat 30 mulai.", "", "2", "")], path, omit_empty=True)
    server = serve(path)
    try:
        page, errors = open_page(browser, server)

        def numbers() -> list[tuple[str, str]]:
            return [(tr.locator("td.bead .segno:not(.tgt)").inner_text(),
                     tr.locator("td.bead .segno.tgt").all_inner_texts()[0] if tr.locator("td.bead .segno.tgt").count() else "")
                    for tr in page.locator("tbody tr").all()]

        assert numbers() == [("§0", "→§0"), ("§1", "→§1 2"), ("§2", "")]
        assert page.locator('tr[data-index="1"] td.bead .segno.tgt').get_attribute("title") == "target segment numbers"
        select(page, 1)
        page.keyboard.press("]")
        wait_message(page, "Fixed: move")
        assert numbers() == [("§0", "→§0"), ("§1", "→§1"), ("§2", "→§2")]
        assert not errors
    finally:
        server.shutdown()
        server.server_close()
    assert [u.prop("x-tgt-segment") for u in read_tmx(path)] == ["0", "1", "2"]
