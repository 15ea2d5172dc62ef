"""Serve a published site over HTTP: HEAD, byte ranges, exact content types, safe paths.

Podcast apps stream with range requests (iOS restarts playback when a range request gets
200), and Python's `http.server` answers every request with the whole file, so this
handler does ranges itself. Only files inside the site folder are ever served: `..`,
hidden files and symlinks leading out are refused. By default the feed is served with its
published base URL replaced by the address the client used, so a phone that subscribes to
this server also downloads the episodes from it; that address must be one this server
answers to (see `SiteServer.check_host`), so a DNS-rebinding page cannot point the feed
anywhere else.

The server holds under load and hostile clients: connections are served by a bounded pool
of worker threads, the listen queue is deep enough for a burst, a request must arrive whole
within the timeout (an idle or drip-feeding connection is closed, not kept forever),
request bodies are drained when small and the connection closed when not, and a
connection waiting for its next request holds no worker.
"""

from __future__ import annotations

import email.utils
import io
import logging
import os
import queue
import re
import selectors
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, BinaryIO, Final
from urllib.parse import unquote, urlsplit

from innerchild_audio.errors import UsageError

log = logging.getLogger(__name__)

DEFAULT_HOST: Final = "127.0.0.1"
LAN_HOST: Final = "0.0.0.0"
DEFAULT_PORT: Final = 8000
FEED_NAME: Final = "feed.xml"
CHUNK_BYTES: Final = 64 * 1024
CONTENT_TYPES: Final = {
    ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4",
    ".xml": "application/xml; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".vtt": "text/vtt; charset=utf-8",
    ".srt": "application/x-subrip; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
    ".svg": "image/svg+xml",
    ".ico": "image/x-icon",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}
FEED_TYPE: Final = "application/rss+xml; charset=utf-8"
# Web players fetch transcripts and chapters from other origins.
CORS_SUFFIXES: Final = (".vtt", ".srt", ".json", ".xml")
# Names that always mean this machine.
LOCAL_NAMES: Final = frozenset({"localhost", "127.0.0.1", "::1"})
_WILDCARDS: Final = frozenset({"", "0.0.0.0", "::"})
_RANGE_RE: Final = re.compile(r"bytes=([0-9]*)-([0-9]*)", re.ASCII)
_HOST_RE: Final = re.compile(
    r"(?P<name>[A-Za-z0-9.-]+|\[(?P<v6>[0-9A-Fa-f:.]+)\])(?::(?P<port>[0-9]{1,5}))?", re.ASCII)
_DIGITS_RE: Final = re.compile(r"[0-9]+", re.ASCII)
_SELF_RE: Final = re.compile(rb'<atom:link href="([^"]+)/feed\.xml"')
# Any number longer than this is past the end of any file; int() is never asked to parse
# the rest (Python refuses over 4,300 digits).
_MAX_DIGITS: Final = 18
_HUGE: Final = 10**_MAX_DIGITS
# Request line and headers are logged; control characters would rewrite the terminal.
_LOG_SAFE: Final = {c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7F, 0xA0))}
_BUSY_RESPONSE: Final = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
                         b"Content-Length: 20\r\nRetry-After: 1\r\nConnection: close\r\n\r\n"
                         b"503 server is busy\r\n")


# An accepted connection: its socket, the client's address and when it was accepted.
_Accepted = tuple[socket.socket, Any, float]


@dataclass(frozen=True)
class Limits:
    """How much the server takes on at once, and how long it waits for a client."""

    workers: int = 32  # connections served at the same moment
    waiting: int = 256  # accepted connections queued for a worker; more are answered 503
    backlog: int = 128  # the kernel's queue of connections not yet accepted
    timeout_s: float = 10.0  # a request must arrive whole (or a reply chunk be taken) in this
    drain_bytes: int = 64 * 1024  # larger request bodies are not read: the connection closes

    def __post_init__(self) -> None:
        if self.workers < 1 or self.waiting < 0 or self.backlog < 1 or self.drain_bytes < 0:
            raise ValueError(f"invalid server limits: {self}")
        if not self.timeout_s > 0:
            raise ValueError("the timeout must be a positive number of seconds")


def content_type(path: Path) -> str:
    if path.name == FEED_NAME:
        return FEED_TYPE
    return CONTENT_TYPES.get(path.suffix.lower(), "application/octet-stream")


def resolve_path(root: Path, target: str) -> tuple[Path | None, HTTPStatus]:
    """The file a request target names inside `root`, or None and the status to answer.

    Percent-decoding happens once; `..`, hidden names, NUL and backslashes are refused
    before touching the file system, and the resolved path (symlinks followed) must stay
    inside the resolved root. Never raises: a target that cannot be parsed is a 400.
    """
    try:
        path = unquote(urlsplit(target).path, errors="strict") if target else "/"
    except ValueError:  # UnicodeDecodeError, or an authority urlsplit cannot parse
        return None, HTTPStatus.BAD_REQUEST
    parts = path.split("/")
    if "\x00" in path or "\\" in path or any(p.startswith(".") and p != "." for p in parts):
        return None, HTTPStatus.FORBIDDEN
    try:
        base = root.resolve()
        real = base.joinpath(*[p for p in parts if p not in ("", ".")]).resolve()
        if real != base and base not in real.parents:
            return None, HTTPStatus.FORBIDDEN
        if real.is_dir():
            real = real / "index.html"
        if not real.is_file():
            return None, HTTPStatus.NOT_FOUND
    except (OSError, RuntimeError):  # over-long names, symlink loops
        return None, HTTPStatus.NOT_FOUND
    return real, HTTPStatus.OK


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # inclusive

    @property
    def length(self) -> int:
        return self.end - self.start + 1


def _number(digits: str) -> int:
    digits = digits.lstrip("0") or "0"
    return int(digits) if len(digits) <= _MAX_DIGITS else _HUGE


def parse_range(header: str | None, size: int) -> ByteRange | None | HTTPStatus:
    """One `bytes=` range, None to send the whole file, or 416 when it cannot be satisfied.

    Malformed and multi-part ranges are ignored (RFC 9110 lets a server send the whole
    file instead); a range starting at or after the end is unsatisfiable. Numbers of any
    length are taken (one past every file size stands in for the huge ones).
    """
    if not header:
        return None
    match = _RANGE_RE.fullmatch(header.strip().replace(" ", "").replace("\t", ""))
    if not match or match.group(1) == match.group(2) == "":
        return None
    first, last = match.group(1), match.group(2)
    if first == "":  # suffix range: the last N bytes
        count = _number(last)
        if count == 0 or size == 0:
            return HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE
        return ByteRange(max(0, size - count), size - 1)
    start = _number(first)
    if last != "" and _number(last) < start:
        return None  # invalid syntax: ignored
    if start >= size:
        return HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE
    end = size - 1 if last == "" else min(_number(last), size - 1)
    return ByteRange(start, end)


@dataclass(frozen=True)
class Authority:
    """A checked `Host:` value: a lower-case name (IPv6 without brackets) and its port."""

    name: str
    port: int | None

    def __str__(self) -> str:
        shown = f"[{self.name}]" if ":" in self.name else self.name
        return shown if self.port is None else f"{shown}:{self.port}"


def parse_authority(value: str) -> Authority | None:
    """`host[:port]` as a client sends it in `Host:`, or None when it is not one."""
    match = _HOST_RE.fullmatch(value.strip())
    if match is None:
        return None
    port = match.group("port")
    if port is not None and not 0 < int(port) < 65536:
        return None
    name = (match.group("v6") or match.group("name")).lower().rstrip(".")
    if not name:
        return None
    return Authority(name, int(port) if port is not None else None)


def host_name(host: str) -> str:
    """A name or address as `Authority.name` spells it, to compare with what clients send."""
    return host.strip().strip("[]").lower().rstrip(".")


class _DeadlineReader(io.RawIOBase):
    """Socket reads that give up at the handler's deadline, however slowly bytes drip in.

    A socket timeout alone is reset by every byte, so a client sending one byte a second
    would hold its worker forever; here each read may only wait until the deadline. Past
    it, bytes already received are still taken (a queued client's request is not lost).
    """

    def __init__(self, sock: socket.socket, handler: SiteHandler) -> None:
        self._sock = sock
        self._handler = handler

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        left = self._handler.deadline - time.monotonic()
        self._sock.settimeout(max(left, 0.0))  # 0: non-blocking, only what is already here
        try:
            return self._sock.recv_into(buffer)
        except BlockingIOError:
            raise TimeoutError("the request did not arrive in time") from None
        finally:
            self._sock.settimeout(self._handler.server.limits.timeout_s)  # for the replies


class SiteHandler(BaseHTTPRequestHandler):
    """GET/HEAD/OPTIONS for the files of one site folder, on a `SiteServer`."""

    server: SiteServer
    authority: Authority | None = None  # the checked Host of the current request
    server_version = "innerchild-serve"
    protocol_version = "HTTP/1.1"
    # Replies to a request line without a version (HTTP/0.9), or with one that cannot be
    # parsed, still get a status line and headers.
    default_request_version = "HTTP/1.0"

    def __init__(self, request: socket.socket, client_address: Any, server: SiteServer,
                 ready_at: float | None = None) -> None:
        # The deadline counts from when the connection became free for a request (accepted,
        # or its last reply sent): waiting for a worker is waiting too.
        self._ready_at = time.monotonic() if ready_at is None else ready_at
        self.deadline = self._ready_at + server.limits.timeout_s
        self._said_close = False
        self.parked = False  # idle between requests: handed back to the waiting room
        super().__init__(request, client_address, server)

    def setup(self) -> None:
        self.timeout = self.server.limits.timeout_s  # type: ignore[misc]  # socketserver reads it
        super().setup()
        self.rfile.close()  # the plain makefile reader: replaced by one that keeps time
        self.rfile = io.BufferedReader(_DeadlineReader(self.connection, self))

    def handle(self) -> None:
        """Requests while they keep coming; an idle keep-alive connection frees its worker."""
        self.close_connection = True
        try:
            self.handle_one_request()
            while not self.close_connection:
                if not self._next_request_is_here():
                    self.parked = True
                    return
                self.handle_one_request()
        except OSError as error:  # the client went away or stopped reading mid-reply
            log.debug("%s connection ended: %s", self.address_string(), error)
            self.close_connection = True

    def _next_request_is_here(self) -> bool:
        """Has the next request (or the end of the stream) arrived already? Never waits."""
        self.deadline = time.monotonic()
        try:
            self.rfile.peek(1)  # type: ignore[attr-defined]  # our reader is buffered
        except TimeoutError:
            return False
        return True

    def handle_one_request(self) -> None:
        self.deadline = self._ready_at + self.server.limits.timeout_s
        self._said_close = False
        super().handle_one_request()
        self._ready_at = time.monotonic()  # a keep-alive connection's idle time starts now

    def parse_request(self) -> bool:
        """The request line and headers, then the checks that come before any reply."""
        return super().parse_request() and self._check_host() and self._skip_body()

    def log_message(self, format: str, *args: object) -> None:
        log.info("%s %s", self.address_string(), (format % args).translate(_LOG_SAFE))

    def send_header(self, keyword: str, value: str) -> None:
        if keyword.lower() == "connection" and value.lower() == "close":
            self._said_close = True
        super().send_header(keyword, value)

    def end_headers(self) -> None:
        if self.close_connection and not self._said_close:
            self.send_header("Connection", "close")
        super().end_headers()

    # -- methods ---------------------------------------------------------------------------
    def do_GET(self) -> None:
        self._serve(send_body=True)

    def do_HEAD(self) -> None:
        self._serve(send_body=False)

    def do_OPTIONS(self) -> None:
        self.send_response(HTTPStatus.NO_CONTENT)
        self._cors()
        self.send_header("Allow", "GET, HEAD, OPTIONS")
        self.send_header("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
        self.send_header("Access-Control-Allow-Headers", "Range")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _not_allowed(self) -> None:
        self._plain(HTTPStatus.METHOD_NOT_ALLOWED, send_body=True,
                    extra={"Allow": "GET, HEAD, OPTIONS"})

    do_POST = do_PUT = do_DELETE = do_PATCH = _not_allowed

    # -- checks before the reply -----------------------------------------------------------
    def _check_host(self) -> bool:
        """One `Host:` this server answers to (HTTP/1.1 must send one, RFC 9112 3.2)."""
        hosts = self.headers.get_all("Host") or []
        if not hosts and self.request_version == "HTTP/1.0":
            return True  # an old client: served, with the feed as published
        authority = parse_authority(hosts[0]) if len(hosts) == 1 else None
        if authority is None or not self.server.check_host(authority):
            self.send_error(HTTPStatus.BAD_REQUEST, "Host not served here",
                            "This server answers only to the addresses it was started for.")
            return False
        target = self.path
        if "://" in target[:10]:  # absolute form: the authority in the target counts too
            try:
                named = parse_authority(urlsplit(target).netloc)
            except ValueError:
                named = None
            if named is None or not self.server.check_host(named):
                self.send_error(HTTPStatus.BAD_REQUEST, "Host not served here")
                return False
        self.authority = authority
        return True

    def _skip_body(self) -> bool:
        """Read a small request body away, so it is not taken for the next request.

        Nothing here uses bodies. A large or chunked one is left unread and the connection
        closes after the reply; a Content-Length that is not one plain number is a 400.
        """
        if self.headers.get_all("Transfer-Encoding"):
            self.close_connection = True
            return True
        lengths = self.headers.get_all("Content-Length")
        if not lengths:
            return True
        values = {v.strip() for v in ",".join(lengths).split(",")}
        value = values.pop() if len(values) == 1 else ""
        if not _DIGITS_RE.fullmatch(value):
            self.send_error(HTTPStatus.BAD_REQUEST, "Bad Content-Length")
            return False
        remaining = _number(value)
        if remaining > self.server.limits.drain_bytes:
            self.close_connection = True
            return True
        while remaining > 0:
            chunk = self.rfile.read(min(remaining, CHUNK_BYTES))
            if not chunk:
                self.close_connection = True
                return False  # the client hung up mid-body: nothing to answer
            remaining -= len(chunk)
        return True

    # -- replies ---------------------------------------------------------------------------
    def _cors(self) -> None:
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Access-Control-Expose-Headers",
                         "Content-Length, Content-Range, Accept-Ranges")

    def _plain(self, status: HTTPStatus, *, send_body: bool,
               extra: dict[str, str] | None = None) -> None:
        body = f"{status.value} {status.phrase}\n".encode()
        self.send_response(status)
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def _feed_bytes(self, data: bytes) -> bytes:
        """The feed with its links pointing at the address the client used (already checked)."""
        match = _SELF_RE.search(data)
        authority = self.authority
        if match is None or authority is None:
            return data
        if authority.name == self.server.published_host():
            return data  # reached under the published name (a proxy in front): as published
        return data.replace(match.group(1) + b"/", f"http://{authority}/".encode())

    def _serve(self, *, send_body: bool) -> None:
        path, status = resolve_path(self.server.site_root, self.path)
        if path is None:
            self._plain(status, send_body=send_body)
            return
        try:
            handle = path.open("rb")
        except OSError:  # removed since (a publish in progress) or unreadable
            self._plain(HTTPStatus.NOT_FOUND, send_body=send_body)
            return
        with handle:
            self._send_file(path, handle, send_body=send_body)

    def _send_file(self, path: Path, handle: BinaryIO, *, send_body: bool) -> None:
        stat = os.fstat(handle.fileno())
        data = None
        if path.name == FEED_NAME and self.server.rewrite_feed:
            data = self._feed_bytes(handle.read())
        size = len(data) if data is not None else stat.st_size
        etag = f'"{stat.st_mtime_ns:x}-{size:x}"'
        modified = email.utils.formatdate(stat.st_mtime, usegmt=True)

        if self._not_modified(etag, stat.st_mtime):
            self.send_response(HTTPStatus.NOT_MODIFIED)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        wanted = self.headers.get("Range")
        if_range = self.headers.get("If-Range")
        if wanted and if_range and if_range not in (etag, modified):
            wanted = None  # the file changed since the client's copy: send it whole
        chosen = parse_range(wanted, size)
        if chosen is HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE:
            self._plain(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE, send_body=send_body,
                        extra={"Content-Range": f"bytes */{size}", "Accept-Ranges": "bytes"})
            return
        span = chosen if isinstance(chosen, ByteRange) else ByteRange(0, size - 1)
        self.send_response(HTTPStatus.PARTIAL_CONTENT if isinstance(chosen, ByteRange)
                           else HTTPStatus.OK)
        self.send_header("Content-Type", content_type(path))
        self.send_header("Content-Length", str(max(span.length, 0)))
        if isinstance(chosen, ByteRange):
            self.send_header("Content-Range", f"bytes {span.start}-{span.end}/{size}")
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", modified)
        self.send_header("Cache-Control", "no-cache")  # always revalidate: the site changes
        if path.suffix.lower() in CORS_SUFFIXES:
            self._cors()
        self.end_headers()
        if not send_body or span.length <= 0:
            return
        self._copy(io.BytesIO(data) if data is not None else handle, span)

    def _not_modified(self, etag: str, mtime: float) -> bool:
        tags = self.headers.get("If-None-Match")
        if tags is not None:
            return etag in [t.strip() for t in tags.split(",")] or tags.strip() == "*"
        since = self.headers.get("If-Modified-Since")
        if since and not self.headers.get("Range"):
            try:
                return int(mtime) <= email.utils.parsedate_to_datetime(since).timestamp()
            except (TypeError, ValueError, OverflowError, OSError):  # not a date we can use
                return False
        return False

    def _copy(self, source: BinaryIO, span: ByteRange) -> None:
        source.seek(span.start)
        remaining = span.length
        while remaining > 0:
            chunk = source.read(min(CHUNK_BYTES, remaining))
            if not chunk:
                # The file shrank under us: the promised length cannot be kept.
                self.close_connection = True
                break
            self.wfile.write(chunk)
            remaining -= len(chunk)


class SiteServer(HTTPServer):
    """Accepts on one thread and hands each connection to a bounded pool of workers.

    A connection waits in a selector (one thread for all of them) until its request starts
    to arrive, when new and between keep-alive requests, so connections that say nothing
    hold no worker; they are closed at the timeout.
    """

    def __init__(self, directory: Path, host: str, port: int, *, rewrite_feed: bool,
                 limits: Limits | None = None, allowed_hosts: Iterable[str] = ()) -> None:
        self.site_root = directory.resolve()
        self.rewrite_feed = rewrite_feed
        self.limits = limits or Limits()
        self.request_queue_size = self.limits.backlog
        # Its own address (a wildcard is no address), localhost names, and those it was given.
        self._names = (set(LOCAL_NAMES) | {host_name(h) for h in (host, *allowed_hosts)}) \
            - _WILDCARDS
        self._published: tuple[int, str | None] = (-1, None)
        self._lock = threading.Lock()
        self._open = 0  # connections accepted and not yet closed
        self._idle = 0  # workers waiting for a connection
        self._queued = 0  # connections handed to the queue and not yet taken
        self._workers: list[threading.Thread] = []
        self._queue: queue.SimpleQueue[_Accepted | None] = queue.SimpleQueue()
        self._arrivals: queue.SimpleQueue[_Accepted] = queue.SimpleQueue()
        self._closing = False
        if ":" in host:
            self.address_family = socket.AF_INET6
        super().__init__((host, port), SiteHandler)
        self._wake, self._waker = socket.socketpair()
        self._waker.setblocking(False)
        threading.Thread(target=self._wait_for_requests, name=f"innerchild-wait-{self.port}",
                         daemon=True).start()

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    # -- which Host values are ours --------------------------------------------------------
    def published_host(self) -> str | None:
        """The host of the feed's published base URL (re-read when feed.xml changes)."""
        feed = self.site_root / FEED_NAME
        try:
            stamp = feed.stat().st_mtime_ns
        except OSError:
            return None
        if stamp != self._published[0]:
            host = None
            try:
                with feed.open("rb") as handle:
                    match = _SELF_RE.search(handle.read(CHUNK_BYTES))
                if match is not None:
                    host = urlsplit(match.group(1).decode("utf-8", "replace")).hostname
            except (OSError, ValueError):
                host = None
            self._published = (stamp, host_name(host) if host else None)
        return self._published[1]

    def check_host(self, authority: Authority) -> bool:
        return authority.name in self._names or authority.name == self.published_host()

    # -- the worker pool -------------------------------------------------------------------
    def process_request(self, request: Any, client_address: Any) -> None:
        with self._lock:
            full = self._open >= self.limits.workers + self.limits.waiting
            if not full:
                self._open += 1
        if full:
            self._refuse(request)
            return
        self._wait_room((request, client_address, time.monotonic()))

    def _wait_room(self, accepted: _Accepted) -> None:
        """Wait for the connection's next request without holding a worker."""
        self._arrivals.put(accepted)
        try:
            self._waker.send(b"\0")
        except OSError:  # its buffer is full: the waiting thread is awake anyway
            pass

    def _refuse(self, request: socket.socket) -> None:
        """Too many connections: a 503 sent without waiting, then closed."""
        try:
            request.setblocking(False)
            request.send(_BUSY_RESPONSE)
        except OSError:
            pass
        self.shutdown_request(request)

    def _wait_for_requests(self) -> None:
        """Hand connections to the workers once they have something to read."""
        selector = selectors.DefaultSelector()
        selector.register(self._wake, selectors.EVENT_READ)
        timeout_s = self.limits.timeout_s
        while not self._closing:
            waiting = [key for key in selector.get_map().values() if key.fileobj is not self._wake]
            first = min((key.data[2] for key in waiting), default=None)
            wait = None if first is None else max(first + timeout_s - time.monotonic(), 0.0)
            for key, _ in selector.select(wait):
                if key.fileobj is self._wake:
                    try:
                        self._wake.recv(4096)
                    except OSError:
                        pass
                    while not self._arrivals.empty():
                        accepted = self._arrivals.get()
                        try:
                            selector.register(accepted[0], selectors.EVENT_READ, accepted)
                        except (OSError, ValueError):  # closed meanwhile
                            self._finished(accepted[0])
                else:
                    selector.unregister(key.fileobj)
                    self._dispatch(key.data)
            now = time.monotonic()
            for key in list(selector.get_map().values()):
                if key.fileobj is not self._wake and key.data[2] + timeout_s <= now:
                    selector.unregister(key.fileobj)
                    self._finished(key.data[0])  # said nothing in time
        for key in list(selector.get_map().values()):
            if key.fileobj is not self._wake:
                self._finished(key.data[0])
        selector.close()
        self._wake.close()

    def _dispatch(self, accepted: _Accepted) -> None:
        with self._lock:
            self._queued += 1
            if self._queued > self._idle and len(self._workers) < self.limits.workers:
                name = f"innerchild-serve-{self.port}-{len(self._workers)}"
                worker = threading.Thread(target=self._work, name=name, daemon=True)
                self._workers.append(worker)
                worker.start()
        self._queue.put(accepted)

    def _finished(self, request: socket.socket) -> None:
        self.shutdown_request(request)
        with self._lock:
            self._open -= 1

    def _work(self) -> None:
        while True:
            with self._lock:
                self._idle += 1
            item = self._queue.get()
            with self._lock:
                self._idle -= 1
                if item is not None:
                    self._queued -= 1
            if item is None:
                return
            request, client_address, accepted = item
            try:
                handler = SiteHandler(request, client_address, self, ready_at=accepted)
            except Exception:
                self.handle_error(request, client_address)
                self._finished(request)
                continue
            if handler.parked and not self._closing:
                self._wait_room((request, client_address, time.monotonic()))
            else:
                self._finished(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.exception("error while serving %s", client_address)

    def server_close(self) -> None:
        super().server_close()
        self._closing = True
        try:
            self._waker.send(b"\0")
        except OSError:
            pass
        self._waker.close()
        with self._lock:
            workers = list(self._workers)
        for _ in workers:
            self._queue.put(None)


def make_server(
    directory: Path, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, *,
    rewrite_feed: bool = True, limits: Limits | None = None, allowed_hosts: Iterable[str] = (),
) -> SiteServer:
    """A bound server for `directory` (port 0 picks a free port); call serve_forever().

    It answers to its own address, localhost names, the published base URL's host and
    `allowed_hosts`; other `Host:` values get 400.
    """
    if not directory.is_dir():
        raise UsageError(f"{directory} is not a folder; run `innerchild publish` first")
    if not (directory / FEED_NAME).is_file():
        log.warning("%s has no %s; run `innerchild publish` first", directory, FEED_NAME)
    try:
        return SiteServer(directory, host, port, rewrite_feed=rewrite_feed, limits=limits,
                          allowed_hosts=allowed_hosts)
    except OSError as error:
        raise UsageError(f"cannot listen on {host}:{port}: {error.strerror or error}") from error


def serve(
    directory: Path, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, *,
    rewrite_feed: bool = True, limits: Limits | None = None, allowed_hosts: Iterable[str] = (),
    on_ready: Callable[[SiteServer], None] | None = None,
) -> None:
    """Serve until interrupted (Ctrl-C) or until another thread calls server.shutdown()."""
    server = make_server(directory, host, port, rewrite_feed=rewrite_feed, limits=limits,
                         allowed_hosts=allowed_hosts)
    with server:
        if on_ready is not None:
            on_ready(server)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            log.info("stopped")


def serve_in_thread(directory: Path, host: str = DEFAULT_HOST, port: int = 0, *,
                    rewrite_feed: bool = True, limits: Limits | None = None,
                    allowed_hosts: Iterable[str] = ()) -> tuple[SiteServer, threading.Thread]:
    """Start a server in a daemon thread; stop it with server.shutdown(); server.server_close()."""
    server = make_server(directory, host, port, rewrite_feed=rewrite_feed, limits=limits,
                         allowed_hosts=allowed_hosts)
    thread = threading.Thread(target=server.serve_forever, name="innerchild-serve", daemon=True)
    thread.start()
    return server, thread


def lan_address() -> str:
    """This machine's address on the local network (127.0.0.1 when it has none)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # UDP connect only picks a route; nothing is sent
            address = probe.getsockname()[0]
        except OSError:
            address = ""
    if not address or address.startswith("127.") or address == "0.0.0.0":
        try:
            address = socket.gethostbyname(socket.gethostname())
        except OSError:
            address = "127.0.0.1"
    return address


def terminal_qr(text: str) -> str:
    """`text` as a QR code drawn with block characters, for a phone camera to scan."""
    import segno  # only `serve --lan` needs it

    buffer = io.StringIO()
    segno.make(text, error="m").terminal(out=buffer, compact=True)
    return buffer.getvalue()


def site_url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


__all__ = [
    "DEFAULT_HOST", "DEFAULT_PORT", "LAN_HOST", "Authority", "Limits", "SiteServer",
    "content_type", "host_name", "lan_address", "make_server", "parse_authority",
    "parse_range", "resolve_path", "serve", "serve_in_thread", "site_url", "terminal_qr",
]
