"""A fake Slack Web API on 127.0.0.1 for tests and benchmarks, in the style of bolt-python's
mock servers: a small threaded HTTP server that answers the methods Chain Bot uses, records
every call, and can be told to fail.

Import it as ``from fakeslack import FakeSlack`` (pytest puts ``tests/`` on ``sys.path``;
benchmarks add it themselves). Usage::

    with FakeSlack() as slack:
        client = WebClient(token="xoxb-test", base_url=slack.api_url)
        client.chat_postMessage(channel="C1", text="hi")
        assert slack.calls("chat.postMessage")[0].params["text"] == "hi"

API (all methods are thread-safe):

* ``FakeSlack(clock=time.monotonic)``; ``start()`` / ``stop()`` or use it as a context manager
  (the pytest fixture ``fake_slack`` in the Slack tests does this).
* ``api_url``: the Web API base URL, ending in ``/api/`` (what ``SLACK_API_URL`` and
  ``WebClient(base_url=...)`` take). ``base_url`` is the server root.
* ``response_url(name="r")``: a ``response_url`` the server accepts; POSTs to it are recorded
  as calls with ``method == "response_url"`` and ``path`` set.
* Methods answered: ``chat.postMessage``, ``chat.postEphemeral``, ``chat.update``,
  ``chat.delete``, ``chat.getPermalink``, ``views.publish``, ``views.open``, ``views.update``,
  ``users.info``,
  ``conversations.info``, ``auth.test``. Anything else answers ``unknown_method`` unless
  programmed with ``set_response``. GET query strings, form bodies and JSON bodies are all
  accepted; a missing token answers ``not_authed``.
* ``calls(method=None)``: the recorded ``Call``s (method, params without the token, headers
  without ``Authorization``, ``token_sha`` a short hash of the token used, ``status`` returned,
  ``error`` when ``ok`` was false, ``at`` on the server clock, ``wall`` as ``time.time()``).
  ``ok_calls(method)`` keeps the ones answered ``ok: true``. ``reset()`` forgets calls and
  programming.
* ``wait_for(method, count=1, timeout=5.0)``: block until that many calls were recorded
  (returns them) or raise ``TimeoutError``.
* ``fail(method, error, times=None, channel=None, status=200)``: answer ``{"ok": false,
  "error": error}`` for the next ``times`` calls (forever when None), optionally only for one
  channel, e.g. ``fail("chat.postMessage", "is_archived", channel="C9")``. ``method`` may be
  ``"response_url"`` (use ``status=404`` with ``"expired_url"`` to mimic an expired one).
* ``rate_limit(method, times=1, retry_after=1)``: the next ``times`` calls get HTTP 429 with
  ``Retry-After`` and ``{"ok": false, "error": "ratelimited"}``.
* ``server_error(method, times=1, status=500)``: the next ``times`` calls get that status.
* ``enforce_rates(per_channel=1.0, workspace=None, methods=("chat.postMessage",))``: posts
  above ``per_channel`` messages per second to one channel, or above ``workspace = (count,
  seconds)`` across all channels of a token (a sliding window), are refused with 429 and a
  ``Retry-After`` (whole seconds, rounded up, as Slack sends it). Only accepted posts count.
* ``set_user(user_id, **fields)`` (e.g. ``tz="America/New_York"``), ``set_channel(channel_id,
  **fields)``: what ``users.info`` / ``conversations.info`` answer.
* ``set_response(method, payload)``: the ``ok`` answer for a method (merged over the default).
* ``socket_mode``: a ``FakeSocketMode`` (below); ``apps.connections.open`` with an ``xapp-``
  token answers its ``ws://`` URL, so ``chainbot serve --socket`` runs against the fake too.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import itertools
import json
import math
import re
import struct
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import BaseRequestHandler, ThreadingTCPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

_API_PATH = re.compile(r"^/api/([A-Za-z0-9_.]+)$")
_RESPONSE_PATH = re.compile(r"^/response/[A-Za-z0-9_.-]+$")
_STEADY_ERRORS = None  # marker: a programmed failure that never runs out

TEAM_ID = "T0FAKE"
BOT_USER_ID = "U0CHAINBOT"
BOT_ID = "B0CHAINBOT"


@dataclass(frozen=True)
class Call:
    """One request the fake received."""

    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    token_sha: str | None
    status: int
    error: str | None
    at: float
    wall: float
    path: str

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.error is None

    @property
    def channel(self) -> str | None:
        value = self.params.get("channel")
        return str(value) if value is not None else None


@dataclass
class _Failure:
    error: str
    remaining: int | None
    channel: str | None = None
    status: int = 200
    retry_after: int | None = None


@dataclass
class _Rates:
    per_channel: float | None
    workspace: tuple[int, float] | None
    methods: frozenset[str]
    last_by_channel: dict[tuple[str | None, str], float] = field(default_factory=dict)
    recent_by_token: dict[str | None, deque[float]] = field(
        default_factory=lambda: defaultdict(deque)
    )


class _Server(ThreadingHTTPServer):
    # Slack's edge takes thousands of connections at once; the standard library's listen
    # backlog of 5 would reset connections under a fan-out instead.
    request_queue_size = 256


class FakeSlack:
    """See the module docstring."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Condition()
        self._calls: list[Call] = []
        self._failures: dict[str, list[_Failure]] = defaultdict(list)
        self._responses: dict[str, dict[str, Any]] = {}
        self._users: dict[str, dict[str, Any]] = {}
        self._channels: dict[str, dict[str, Any]] = {}
        self._rates: _Rates | None = None
        self._ts = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.socket_mode = FakeSocketMode()

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> FakeSlack:
        fake = self

        class Handler(_Handler):
            owner = fake

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="fakeslack", daemon=True
        )
        self._thread.start()
        self.socket_mode.start()
        return self

    def stop(self) -> None:
        self.socket_mode.stop()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeSlack is not running")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}api/"

    def response_url(self, name: str = "r") -> str:
        return f"{self.base_url}response/{name}"

    # ------------------------------------------------------------------ inspection
    def calls(self, method: str | None = None) -> list[Call]:
        with self._lock:
            return [c for c in self._calls if method is None or c.method == method]

    def ok_calls(self, method: str) -> list[Call]:
        return [c for c in self.calls(method) if c.ok]

    def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                found = [c for c in self._calls if c.method == method]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{len(found)} {method} call(s) after {timeout}s")
                self._lock.wait(left)

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()
            self._failures.clear()
            self._responses.clear()
            self._users.clear()
            self._channels.clear()
            self._rates = None

    # ------------------------------------------------------------------ programming
    def fail(
        self,
        method: str,
        error: str,
        times: int | None = None,
        channel: str | None = None,
        status: int = 200,
    ) -> None:
        with self._lock:
            self._failures[method].append(_Failure(error, times, channel, status))

    def rate_limit(self, method: str, times: int = 1, retry_after: int = 1) -> None:
        with self._lock:
            self._failures[method].append(
                _Failure("ratelimited", times, None, 429, retry_after=retry_after)
            )

    def server_error(self, method: str, times: int = 1, status: int = 500) -> None:
        with self._lock:
            self._failures[method].append(_Failure("fatal_error", times, None, status))

    def enforce_rates(
        self,
        per_channel: float | None = 1.0,
        workspace: tuple[int, float] | None = None,
        methods: Iterable[str] = ("chat.postMessage",),
    ) -> None:
        with self._lock:
            self._rates = _Rates(per_channel, workspace, frozenset(methods))

    def set_user(self, user_id: str, **fields: Any) -> None:
        with self._lock:
            self._users[user_id] = fields

    def set_channel(self, channel_id: str, **fields: Any) -> None:
        with self._lock:
            self._channels[channel_id] = fields

    def set_response(self, method: str, payload: dict[str, Any]) -> None:
        with self._lock:
            self._responses[method] = payload

    # ------------------------------------------------------------------ serving
    def _handle(
        self, method: str, path: str, params: dict[str, Any], headers: dict[str, str]
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        """Decide the answer to one call and record it; returns (status, headers, body)."""
        token = params.pop("token", None)
        auth = headers.pop("Authorization", None) or headers.pop("authorization", None)
        if auth and auth.lower().startswith("bearer "):
            token = auth[7:]
        token_sha = hashlib.sha256(token.encode()).hexdigest()[:12] if token else None
        with self._lock:
            now = self._clock()
            status, extra_headers, body = self._answer(method, params, token, now)
            error = None if body.get("ok", False) else str(body.get("error", "unknown"))
            self._calls.append(
                Call(method, params, headers, token_sha, status, error, now, time.time(), path)
            )
            self._lock.notify_all()
        return status, extra_headers, body

    def _answer(
        self, method: str, params: dict[str, Any], token: str | None, now: float
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        channel = params.get("channel")
        channel = str(channel) if channel is not None else None
        failure = self._take_failure(method, channel)
        if failure is not None:
            headers = {}
            if failure.retry_after is not None:
                headers["Retry-After"] = str(failure.retry_after)
            return failure.status, headers, {"ok": False, "error": failure.error}
        if method == "response_url":
            return 200, {}, {"ok": True}
        if not token:
            return 200, {}, {"ok": False, "error": "not_authed"}
        limited = self._rate_limited(method, channel, token, now)
        if limited is not None:
            return 429, {"Retry-After": str(limited)}, {"ok": False, "error": "ratelimited"}
        body = self._default_answer(method, {**params, "_token": token}, channel)
        if body is None:
            if method not in self._responses:
                return 200, {}, {"ok": False, "error": "unknown_method"}
            body = {"ok": True}
        body.update(self._responses.get(method, {}))
        return 200, {}, body

    def _take_failure(self, method: str, channel: str | None) -> _Failure | None:
        for failure in self._failures.get(method, []):
            if failure.channel is not None and failure.channel != channel:
                continue
            if failure.remaining is _STEADY_ERRORS:
                return failure
            if failure.remaining > 0:
                failure.remaining -= 1
                return failure
        return None

    def _rate_limited(self, method: str, channel: str | None, token: str, now: float) -> int | None:
        """Seconds to wait when this call is over a configured rate, else None (and the
        call is counted)."""
        rates = self._rates
        if rates is None or method not in rates.methods:
            return None
        wait = 0.0
        key = (token, channel or "")
        if rates.per_channel:
            last = rates.last_by_channel.get(key)
            gap = 1.0 / rates.per_channel
            if last is not None and now - last < gap:
                wait = max(wait, gap - (now - last))
        recent = rates.recent_by_token[token]
        if rates.workspace:
            count, window = rates.workspace
            while recent and now - recent[0] >= window:
                recent.popleft()
            if len(recent) >= count:
                wait = max(wait, window - (now - recent[0]))
        if wait > 0:
            return max(1, math.ceil(wait))
        rates.last_by_channel[key] = now
        recent.append(now)
        return None

    def _default_answer(
        self, method: str, params: dict[str, Any], channel: str | None
    ) -> dict[str, Any] | None:
        if method == "chat.postMessage":
            ts = self._next_ts()
            message = {k: params[k] for k in ("text", "blocks", "thread_ts") if k in params}
            return {"ok": True, "channel": channel, "ts": ts, "message": {**message, "ts": ts}}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._next_ts()}
        if method in ("chat.update", "chat.delete"):
            return {"ok": True, "channel": channel, "ts": params.get("ts")}
        if method == "chat.getPermalink":
            ts = str(params.get("message_ts", ""))
            link = f"https://fake.slack.test/archives/{channel}/p{ts.replace('.', '')}"
            return {"ok": True, "channel": channel, "permalink": link}
        if method in ("views.open", "views.update"):
            view = params.get("view")
            if isinstance(view, str):
                view = json.loads(view)
            view_id = params.get("view_id") or f"V{self._next_ts().replace('.', '')}"
            return {"ok": True, "view": {**(view or {}), "id": view_id}}
        if method == "views.publish":
            view = params.get("view")
            if isinstance(view, str):
                view = json.loads(view)
            return {"ok": True, "view": {"id": f"V{self._next_ts()}", **(view or {})}}
        if method == "users.info":
            user_id = str(params.get("user", ""))
            user = {
                "id": user_id,
                "team_id": TEAM_ID,
                "name": user_id.lower(),
                "is_bot": False,
                "tz": "UTC",
                "tz_label": "Coordinated Universal Time",
                "tz_offset": 0,
                **self._users.get(user_id, {}),
            }
            return {"ok": True, "user": user}
        if method == "conversations.info":
            info = {
                "id": channel,
                "name": f"channel-{(channel or '').lower()}",
                "is_channel": True,
                "is_archived": False,
                "is_member": True,
                **self._channels.get(channel or "", {}),
            }
            return {"ok": True, "channel": info}
        if method == "apps.connections.open":
            if not str(params.get("_token", "")).startswith("xapp-"):
                return {"ok": False, "error": "not_allowed_token_type"}
            return {"ok": True, "url": self.socket_mode.url}
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://fake.slack.test/",
                "team": "Fake Team",
                "user": "chainbot",
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "bot_id": BOT_ID,
            }
        return None

    def _next_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts):06d}"


class _Handler(BaseHTTPRequestHandler):
    owner: FakeSlack
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        pass

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        url = urlsplit(self.path)
        params: dict[str, Any] = dict(parse_qsl(url.query))
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        content_type = self.headers.get("Content-Type", "")
        try:
            if raw and "json" in content_type:
                loaded = json.loads(raw)
                if isinstance(loaded, dict):
                    params.update(loaded)
            elif raw:
                params.update(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
        except (ValueError, UnicodeDecodeError):
            self._send(400, {}, {"ok": False, "error": "invalid_form_data"})
            return
        for key in ("blocks", "attachments", "view"):
            # Form-encoded clients send these as JSON strings; tests want them parsed.
            if isinstance(params.get(key), str):
                with contextlib.suppress(ValueError):
                    params[key] = json.loads(params[key])
        match = _API_PATH.match(url.path)
        if match:
            method = match.group(1)
        elif _RESPONSE_PATH.match(url.path):
            method = "response_url"
        else:
            self._send(404, {}, {"ok": False, "error": "not_found"})
            return
        headers = {k: v for k, v in self.headers.items()}
        status, extra, body = self.owner._handle(method, url.path, params, headers)
        self._send(status, extra, body)

    def _send(self, status: int, headers: dict[str, str], body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)


class FakeSocketMode:
    """Slack's Socket Mode end, as far as slack_sdk's built-in client uses it: a WebSocket
    server on 127.0.0.1 (``url``, which ``apps.connections.open`` hands out to ``xapp-``
    tokens). It greets each connection with ``hello``, answers pings, and records acks.

    * ``wait_connected(timeout=10)``: block until a client is connected.
    * ``send(kind, payload, **fields) -> envelope_id``: push an envelope (``kind`` is
      ``slash_commands``, ``events_api`` or ``interactive``) to the newest connection.
    * ``wait_ack(envelope_id, timeout=5) -> dict``: the client's ack (with any ``payload``).
    """

    GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._connections: list[tuple[Any, threading.Lock]] = []
        self._acks: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(1)
        self._server: ThreadingTCPServer | None = None

    def start(self) -> None:
        owner = self

        class Handler(BaseRequestHandler):
            def handle(self) -> None:
                owner._serve(self.request)

        self._server = ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="fakeslack-ws", daemon=True
        ).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        with self._cond:
            for sock, _lock in self._connections:
                with contextlib.suppress(OSError):
                    sock.close()
            self._connections.clear()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeSocketMode is not running")
        return f"ws://127.0.0.1:{self._server.server_address[1]}/link/?ticket=fake"

    def wait_connected(self, timeout: float = 10.0) -> None:
        with self._cond:
            if not self._cond.wait_for(lambda: self._connections, timeout):
                raise TimeoutError("no Socket Mode client connected")

    def send(self, kind: str, payload: dict[str, Any], **fields: Any) -> str:
        envelope_id = f"env-{next(self._ids)}"
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": kind != "events_api",
            **fields,
        }
        with self._cond:
            if not self._connections:
                raise RuntimeError("no Socket Mode client connected")
            sock, lock = self._connections[-1]
        with lock:
            sock.sendall(_frame(0x1, json.dumps(envelope).encode()))
        return envelope_id

    def wait_ack(self, envelope_id: str, timeout: float = 5.0) -> dict[str, Any]:
        with self._cond:
            if not self._cond.wait_for(lambda: envelope_id in self._acks, timeout):
                raise TimeoutError(f"no ack for {envelope_id}")
            return self._acks[envelope_id]

    def _serve(self, sock: Any) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(1024)
            if not chunk:
                return
            head += chunk
        key = ""
        for line in head.decode("latin-1").split("\r\n"):
            name, _, value = line.partition(":")
            if name.strip().lower() == "sec-websocket-key":
                key = value.strip()
        accept = base64.b64encode(hashlib.sha1((key + self.GUID).encode()).digest()).decode()
        sock.sendall(
            (
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
            ).encode()
        )
        lock = threading.Lock()
        hello = {"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0FAKE"}}
        with lock:
            sock.sendall(_frame(0x1, json.dumps(hello).encode()))
        with self._cond:
            self._connections.append((sock, lock))
            self._cond.notify_all()
        try:
            while True:
                opcode, data = _read_frame(sock)
                if opcode == 0x8:  # close
                    with lock, contextlib.suppress(OSError):
                        sock.sendall(_frame(0x8, data[:2]))
                    return
                if opcode == 0x9:  # ping
                    with lock:
                        sock.sendall(_frame(0xA, data))
                elif opcode == 0x1:
                    message = json.loads(data)
                    if "envelope_id" in message:
                        with self._cond:
                            self._acks[message["envelope_id"]] = message
                            self._cond.notify_all()
        except (OSError, ConnectionError, ValueError):
            return
        finally:
            with self._cond:
                if (sock, lock) in self._connections:
                    self._connections.remove((sock, lock))


def _frame(opcode: int, data: bytes) -> bytes:
    """One unmasked, final frame (servers never mask)."""
    size = len(data)
    if size < 126:
        head = struct.pack("!BB", 0x80 | opcode, size)
    elif size < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 126, size)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 127, size)
    return head + data


def _recv_exactly(sock: Any, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("socket closed")
        data += chunk
    return data


def _read_frame(sock: Any) -> tuple[int, bytes]:
    """One frame from a client (clients always mask); fragments are not used by slack_sdk."""
    first, second = _recv_exactly(sock, 2)
    size = second & 0x7F
    if size == 126:
        (size,) = struct.unpack("!H", _recv_exactly(sock, 2))
    elif size == 127:
        (size,) = struct.unpack("!Q", _recv_exactly(sock, 8))
    mask = _recv_exactly(sock, 4) if second & 0x80 else b"\0\0\0\0"
    data = _recv_exactly(sock, size)
    return first & 0x0F, bytes(b ^ mask[i % 4] for i, b in enumerate(data))
