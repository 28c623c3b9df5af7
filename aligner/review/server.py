"""The review web app's HTTP server (standard library only, 127.0.0.1 only).

It serves exactly three kinds of thing: the page and its static files (from a
fixed list made at start-up, so no request path ever reaches the file system),
the units of the one TMX under review, and saves to that file.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import webbrowser
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aligner.formats.tmx import TmxError
from aligner.review.session import EditError, ReviewSession

STATIC_DIR = Path(__file__).resolve().parent / "static"
MAX_BODY = 32 * 1024 * 1024
ALLOWED_HOSTS = ("127.0.0.1", "localhost")
CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                 ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def static_files() -> dict[str, tuple[bytes, str]]:
    """URL path -> (bytes, content type) for the page and its assets, read once."""
    files = {}
    for path in sorted(STATIC_DIR.iterdir()):
        if path.is_file() and path.suffix in CONTENT_TYPES:
            files[f"/static/{path.name}"] = (path.read_bytes(), CONTENT_TYPES[path.suffix])
    files["/"] = files["/static/index.html"]
    return files


class ReviewServer(ThreadingHTTPServer):
    """A threaded server holding the session and the static files."""

    daemon_threads = True

    def __init__(self, session: ReviewSession | list[ReviewSession], port: int = 0) -> None:
        self.sessions = list(session) if isinstance(session, list) else [session]
        if not self.sessions:
            raise ValueError("no file to review")
        self.files = static_files()
        super().__init__(("127.0.0.1", port), ReviewHandler)
        # QA of every unit runs once, in the background: the page shows the rows at once
        # and their issues when they are ready.
        threading.Thread(target=self._warm, daemon=True).start()

    def _warm(self) -> None:
        # First what the page shows at once (rows without QA), for every file; then the QA.
        for session in self.sessions:
            session.light_json()
        for session in self.sessions:
            session.warm()

    @property
    def session(self) -> ReviewSession:
        """The first (or only) file's session."""
        return self.sessions[0]

    def pick(self, number: Any) -> ReviewSession:
        """The session of file ``number`` (0 when not given); :class:`EditError` for a bad one."""
        if number in (None, ""):
            return self.sessions[0]
        try:
            n = int(number)
        except (TypeError, ValueError):
            raise EditError(f"no file {number!r}") from None
        if not 0 <= n < len(self.sessions):
            raise EditError(f"no file {number!r}")
        return self.sessions[n]

    def file_list(self) -> list[dict[str, Any]]:
        """Each file of the project: name, units, and how many are approved or rejected."""
        return [{"index": n, **s.summary()} for n, s in enumerate(self.sessions)]

    @property
    def port(self) -> int:
        return self.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"


class ReviewHandler(BaseHTTPRequestHandler):
    server: ReviewServer
    server_version = "aligner-review"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass  # one line per request would bury the URL the user needs

    # -- responses --------------------------------------------------------

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in SECURITY_HEADERS.items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, payload: Any) -> None:
        self._send(status, json.dumps(payload, ensure_ascii=False).encode("utf-8"), "application/json; charset=utf-8")

    def _error(self, status: int, message: str) -> None:
        self._json(status, {"error": message})

    # -- request checks ---------------------------------------------------

    def _host_ok(self) -> bool:
        """Refuse any Host but localhost/127.0.0.1 on our port (DNS rebinding)."""
        host = self.headers.get("Host", "")
        try:
            parts = urlsplit(f"//{host}")
            name, port = parts.hostname, parts.port
        except ValueError:
            return False
        return name in ALLOWED_HOSTS and port in (None, self.server.port) and "@" not in host

    def _origin_ok(self) -> bool:
        """Writes only from our own page: JSON body, and same origin when the browser says."""
        origin = self.headers.get("Origin")
        if origin is not None:
            parts = urlsplit(origin)
            try:
                port = parts.port
            except ValueError:
                return False
            if parts.scheme != "http" or parts.hostname not in ALLOWED_HOSTS or port != self.server.port:
                return False
        if self.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
            return False
        return self.headers.get("Content-Type", "").split(";")[0].strip() == "application/json"

    # -- methods ----------------------------------------------------------

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        if not self._host_ok():
            return self._error(HTTPStatus.FORBIDDEN, "forbidden host")
        path = urlsplit(self.path).path
        query = parse_qs(urlsplit(self.path).query)
        try:
            session = self.server.pick(query.get("file", [None])[0])
        except EditError as exc:
            return self._error(HTTPStatus.NOT_FOUND, str(exc))
        if path == "/api/files":
            return self._json(HTTPStatus.OK, self.server.file_list())
        if path == "/api/status":
            return self._json(HTTPStatus.OK, session.progress())
        if path == "/api/units":
            light = query.get("light") == ["1"]
            try:
                body = session.light_json() if light else session.state_json()
                return self._send(HTTPStatus.OK, body, "application/json; charset=utf-8")
            except (OSError, TmxError) as exc:
                return self._error(HTTPStatus.INTERNAL_SERVER_ERROR, str(exc))
        found = self.server.files.get(path)
        if found is None:
            return self._error(HTTPStatus.NOT_FOUND, "not found")
        self._send(HTTPStatus.OK, *found)

    do_HEAD = do_GET

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        if not self._host_ok():
            return self._error(HTTPStatus.FORBIDDEN, "forbidden host")
        if not self._origin_ok():
            return self._error(HTTPStatus.FORBIDDEN, "cross-origin or non-JSON request refused")
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            return self._error(HTTPStatus.BAD_REQUEST, "bad Content-Length")
        try:
            body = json.loads(self.rfile.read(length) or b"null")
        except (ValueError, UnicodeDecodeError):
            return self._error(HTTPStatus.BAD_REQUEST, "body is not JSON")
        if not isinstance(body, dict):
            return self._error(HTTPStatus.BAD_REQUEST, "body must be a JSON object")
        path = urlsplit(self.path).path
        try:
            session = self.server.pick(body.get("file"))
            if path == "/api/save":
                edits = body.get("edits")
                if not isinstance(edits, list):
                    raise EditError("expected {edits: [...]}")
                # Conflicting edits are not an HTTP error: the others are saved and
                # the answer lists the conflicts for the reviewer to choose.
                since = body.get("since")
                return self._json(HTTPStatus.OK, session.save(edits, since=since if isinstance(since, str) else None))
            if path == "/api/fix":
                return self._json(HTTPStatus.OK, session.fix(body.get("op"), body.get("key"), body.get("side", "tgt"),
                                                             body.get("at", 0), body.get("last"), body.get("version")))
            if path == "/api/check":
                return self._json(HTTPStatus.OK, session.check(body.get("index"), body.get("target"), body.get("key")))
        except EditError as exc:
            return self._error(HTTPStatus.BAD_REQUEST, str(exc))
        except (OSError, TmxError) as exc:
            return self._error(HTTPStatus.INTERNAL_SERVER_ERROR, f"could not save: {exc}")
        return self._error(HTTPStatus.NOT_FOUND, "not found")


def _open_browser(url: str) -> None:
    """Open ``url`` in a graphical browser, in the background.

    Without a display, Python's webbrowser falls back to console browsers
    (lynx, w3m) that would take over this terminal, so there we only print.
    """
    headless = sys.platform.startswith("linux") and not any(
        os.environ.get(v) for v in ("DISPLAY", "WAYLAND_DISPLAY", "BROWSER")
    )
    if headless:
        print("no display: open the URL above in your browser", file=sys.stderr)
        return
    threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()


def serve(session: ReviewSession | list[ReviewSession], port: int = 8765, open_browser: bool = True) -> None:
    """Serve the review page until Ctrl+C; print the URL and open a browser tab."""
    server = ReviewServer(session, port)
    what = server.session.path if len(server.sessions) == 1 else f"{len(server.sessions)} files"
    print(f"Reviewing {what} at {server.url}  (Ctrl+C to stop)", flush=True)
    if open_browser:
        _open_browser(server.url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
    finally:
        server.server_close()
        for each in server.sessions:
            each.flush_tm()  # the last saves reach the memory before the process ends
