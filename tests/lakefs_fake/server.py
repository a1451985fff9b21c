"""A real HTTP server speaking the lakeFS REST API (base path /api/v1) over `FakeLakeFS`.

Started on 127.0.0.1, port 0, in a daemon thread. Basic auth is enforced (401 on bad credentials)
everywhere but `/setup_lakefs`, which lakeFS serves unauthenticated; a server started with
`initialized=False` answers 401 to everything else until setup has run.
`Faults` injects failures into the next N requests: a 5xx answer, a slow answer (sleep before the
answer, to exceed a client timeout), a dropped connection (closed without any answer), an action run
first (a concurrent writer) or an answer whose ETag header is stripped (a proxy).
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.lakefs_fake.state import ApiError, FakeLakeFS

API = "/api/v1"
PUBLIC = frozenset({("GET", API + "/setup_lakefs"), ("POST", API + "/setup_lakefs")})
"""(method, path) served without authentication (the spec's `security: []`)."""


@dataclass
class Faults:
    """Pending fault injections; each applies to the next `count` requests (optionally one method).

    Kinds: `fail` (answer with a 5xx), `slow` (sleep, then answer), `drop` (close the connection
    without an answer), `before` (run a callback first, to simulate a concurrent writer) and
    `strip_etag` (answer without the ETag header, as a proxy that drops it would).
    """

    lock: threading.Lock = field(default_factory=threading.Lock)
    pending: list[dict[str, Any]] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)
    """(method, path) of every request received, for assertions on retries."""

    def fail(self, count: int = 1, status: int = 503, method: str | None = None) -> None:
        self._add("status", count, method, status=status)

    def slow(self, count: int = 1, seconds: float = 1.0, method: str | None = None) -> None:
        self._add("slow", count, method, seconds=seconds)

    def drop(self, count: int = 1, method: str | None = None) -> None:
        self._add("drop", count, method)

    def before(self, method: str, action: Callable[[], object]) -> None:
        """Run `action` (e.g. a concurrent writer's change) just before the next `method` request."""
        self._add("before", 1, method, action=action)

    def strip_etag(self, count: int = 1, method: str | None = "GET") -> None:
        self._add("strip_etag", count, method)

    def clear(self) -> None:
        with self.lock:
            self.pending.clear()
            self.requests.clear()

    def _add(self, kind: str, count: int, method: str | None, **extra: Any) -> None:
        with self.lock:
            self.pending.append({"kind": kind, "count": count, "method": method, **extra})

    def take(self, method: str, path: str) -> dict[str, Any] | None:
        with self.lock:
            self.requests.append((method, path))
            for fault in self.pending:
                if fault["method"] in (None, method):
                    fault["count"] -= 1
                    if fault["count"] <= 0:
                        self.pending.remove(fault)
                    return fault
        return None


@dataclass
class Request:
    """What a route handler sees of one request."""

    query: dict[str, list[str]]
    raw: bytes
    headers: Any

    def q(self, name: str, default: Any = "") -> Any:
        """A query parameter; converted to int when the default is an int."""
        values = self.query.get(name)
        if not values:
            return default
        return int(values[0]) if isinstance(default, int) else values[0]

    @property
    def json(self) -> Any:
        try:
            return json.loads(self.raw or b"{}")
        except ValueError:
            raise ApiError(400, "request body has an error: doesn't match schema") from None


Handler = Callable[..., Any]
SEG = r"([^/]+)"


def _routes(s: FakeLakeFS) -> list[tuple[str, re.Pattern[str], Handler]]:
    """(method, path regex under /api/v1, handler(request, *path params)) for every operation."""
    repo = "/repositories/" + SEG
    branch = repo + "/branches/" + SEG
    table: list[tuple[str, str, Handler]] = [
        ("GET", "/setup_lakefs", lambda r: s.setup_state()),
        ("POST", "/setup_lakefs", lambda r: s.setup(r.json)),
        ("GET", "/user", lambda r: s.current_user()),
        ("GET", "/repositories", lambda r: s.list_repositories(r.q("after"), r.q("amount", -1))),
        ("POST", "/repositories", lambda r: (201, s.create_repository(r.json))),
        ("GET", repo, lambda r, rp: s.get_repository(rp)),
        ("DELETE", repo, lambda r, rp: _no_content(s.delete_repository, rp)),
        ("GET", repo + "/settings/branch_protection", lambda r, rp: (200, ("etag", *s.get_protection(rp)))),
        (
            "PUT",
            repo + "/settings/branch_protection",
            lambda r, rp: _no_content(s.set_protection, rp, _rules(r.json), r.headers.get("If-Match")),
        ),
        (
            "GET",
            repo + "/branches",
            lambda r, rp: s.list_refs(rp, "branches", r.q("after"), r.q("amount", -1)),
        ),
        ("POST", repo + "/branches", lambda r, rp: (201, ("text", s.create_branch(rp, r.json)))),
        ("GET", branch, lambda r, rp, b: {"id": b, "commit_id": s.branch(s.repo(rp), b).head}),
        ("DELETE", branch, lambda r, rp, b: _no_content(s.delete_branch, rp, b)),
        ("GET", branch + "/diff", lambda r, rp, b: s.uncommitted(rp, b, r.q("after"), r.q("amount", -1))),
        ("POST", branch + "/commits", lambda r, rp, b: (201, s.commit(rp, b, r.json))),
        ("POST", branch + "/objects", lambda r, rp, b: (201, s.stage(rp, b, r.q("path"), _upload(r)))),
        (
            "GET",
            repo + "/refs/" + SEG + "/objects",
            lambda r, rp, ref: (200, ("bytes", s.get_object(rp, ref, r.q("path")))),
        ),
        (
            "POST",
            branch + "/objects/copy",
            lambda r, rp, b: (201, s.copy_object(rp, b, r.q("dest_path"), r.json)),
        ),
        ("GET", repo + "/commits/" + SEG, lambda r, rp, c: s.get_commit(rp, c)),
        (
            "GET",
            repo + "/refs/" + SEG + "/commits",
            lambda r, rp, ref: s.log_commits(rp, ref, r.q("after"), r.q("amount", -1)),
        ),
        (
            "GET",
            repo + "/refs/" + SEG + "/diff/" + SEG,
            lambda r, rp, left, right: s.diff_refs(
                rp, left, right, r.q("type") or "three_dot", r.q("after"), r.q("amount", -1)
            ),
        ),
        ("GET", repo + "/tags", lambda r, rp: s.list_refs(rp, "tags", r.q("after"), r.q("amount", -1))),
        ("POST", repo + "/tags", lambda r, rp: (201, s.create_tag(rp, r.json))),
        ("GET", repo + "/tags/" + SEG, lambda r, rp, t: s.get_tag(rp, t)),
        ("DELETE", repo + "/tags/" + SEG, lambda r, rp, t: _no_content(s.delete_tag, rp, t)),
    ]
    return [(method, re.compile(path), handler) for method, path, handler in table]


def _no_content(operation: Callable[..., None], *args: Any) -> tuple[int, None]:
    operation(*args)
    return 204, None


def _upload(request: Request) -> bytes:
    """An upload's content: the multipart part named `content` (as lakefs-sdk sends it), else the body."""
    content_type = request.headers.get("Content-Type", "")
    if not content_type.startswith("multipart/form-data"):
        return request.raw
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + request.raw)
    for part in message.iter_parts():
        if part.get_param("name", header="content-disposition") == "content":
            payload = part.get_payload(decode=True)
            return payload if isinstance(payload, bytes) else b""
    raise ApiError(400, "request body has an error: no part named content")


def _rules(body: Any) -> list[dict[str, Any]]:
    if not isinstance(body, list) or not all(isinstance(rule, dict) for rule in body):
        raise ApiError(400, "request body has an error: doesn't match schema")
    return body


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: with Nagle on, each keep-alive answer waited ~40 ms
    # for the client's delayed ACK.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output quiet

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    # -- plumbing --------------------------------------------------------------------------------
    def _handle(self, method: str) -> None:
        url = urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        fault = self.server.faults.take(method, url.path)
        if fault is not None and self._inject(fault):
            return
        keep_etag = fault is None or fault["kind"] != "strip_etag"
        try:
            if (method, url.path) not in PUBLIC and not self._authorized():
                raise ApiError(401, "error authenticating request")
            with self.server.state.lock:
                request = Request(parse_qs(url.query), body, self.headers)
                status, payload = self._dispatch(method, url.path, request)
        except ApiError as err:
            status, payload = err.status, {"message": err.message}
        if not keep_etag and isinstance(payload, tuple) and payload[0] == "etag":
            payload = payload[1]
        self._send(status, payload)

    def _inject(self, fault: dict[str, Any]) -> bool:
        """Apply a fault; True when the request is fully handled by it."""
        if fault["kind"] == "slow":
            time.sleep(fault["seconds"])
            return False
        if fault["kind"] == "strip_etag":
            return False
        if fault["kind"] == "before":
            with self.server.state.lock:
                fault["action"]()
            return False
        if fault["kind"] == "drop":
            self.close_connection = True
            self.connection.close()
            return True
        self._send(fault["status"], {"message": "injected server error"})
        return True

    def _authorized(self) -> bool:
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return (user, password) == self.server.state.credentials

    def _dispatch(self, method: str, path: str, request: Request) -> tuple[int, Any]:
        if not path.startswith(API):
            raise ApiError(404, "path not found")
        path = path[len(API) :]
        for verb, pattern, handler in self.server.routes:
            match = pattern.fullmatch(path)
            if verb == method and match is not None:
                result = handler(request, *(unquote(part) for part in match.groups()))
                return result if isinstance(result, tuple) else (200, result)
        raise ApiError(404, "path not found")

    def _send(self, status: int, payload: Any) -> None:
        headers = {}
        if isinstance(payload, tuple) and payload[0] == "text":
            data, content_type = payload[1].encode(), "text/html"
        elif isinstance(payload, tuple) and payload[0] == "bytes":
            data, content_type = payload[1], "application/octet-stream"
        else:
            if isinstance(payload, tuple) and payload[0] == "etag":
                headers["ETag"], payload = payload[2], payload[1]
            data = b"" if payload is None else json.dumps(payload).encode()
            content_type = "application/json"
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if data:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that timed out and hung up (slow-answer fault) is expected, not an error

    state: FakeLakeFS
    faults: Faults
    routes: list[tuple[str, re.Pattern[str], Handler]]


class FakeLakeFSServer:
    """Start/stop the fake on an ephemeral port; `endpoint`, `state` and `faults` for tests."""

    def __init__(
        self,
        access_key_id: str = "AKIAFAKE",
        secret_access_key: str = "fake-secret",
        initialized: bool = True,
        delete_lag_seconds: float = 1.0,
    ) -> None:
        self.state = FakeLakeFS(
            access_key_id, secret_access_key, initialized, delete_lag_seconds=delete_lag_seconds
        )
        self.faults = Faults()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.state, self._server.faults = self.state, self.faults
        self._server.routes = _routes(self.state)
        # A short poll interval: `stop` waits for it, and tests start a server of their own.
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="fake-lakefs", daemon=True
        )

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeLakeFSServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
