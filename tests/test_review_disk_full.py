"""The review page on a full disk: the save is refused with the reason, the file on disk unchanged."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

from tests.test_review_server import edit, get_json, request, server, tmx  # noqa: F401  (fixtures)


def test_a_save_on_a_full_disk_answers_500_naming_the_file_and_loses_nothing(server, tmx: Path, monkeypatch):  # noqa: F811
    before = tmx.read_bytes()
    row = get_json(server)["units"][0]

    def full(src, dst):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "replace", full)
    resp, payload = request(server, "POST", "/api/save", {"edits": [edit(row, target="Edited.", status="approved")]})
    assert resp.status == 500
    message = json.loads(payload)["error"]
    assert str(tmx) in message and "No space left on device" in message
    assert tmx.read_bytes() == before
    assert not [p for p in tmx.parent.iterdir() if p.name.endswith(".tmp")]
    monkeypatch.undo()
    resp, payload = request(server, "POST", "/api/save", {"edits": [edit(row, target="Edited.", status="approved")]})
    assert resp.status == 200, payload
