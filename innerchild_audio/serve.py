"""Serve a published site over HTTP: HEAD, byte ranges, exact content types, safe paths.

Podcast apps stream with range requests (iOS restarts playback when a range request gets
200), and Python's `http.server` answers every request with the whole file, so this
handler does ranges itself. Only files inside the site folder are ever served: `..`,
hidden files and symlinks leading out are refused. By default the feed is served with its
published base URL replaced by the address the client used, so a phone that subscribes to
this server also downloads the episodes from it.
"""

from __future__ import annotations

import email.utils
import io
import logging
import re
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import BinaryIO, Final
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
_RANGE_RE: Final = re.compile(r"^bytes=(\d*)-(\d*)$")
_HOST_RE: Final = re.compile(r"^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$")
_SELF_RE: Final = re.compile(rb'<atom:link href="([^"]+)/feed\.xml"')


def content_type(path: Path) -> str:
    if path.name == FEED_NAME:
        return FEED_TYPE
    return CONTENT_TYPES.get(path.suffix.lower(), "application/octet-stream")


def resolve_path(root: Path, target: str) -> tuple[Path | None, HTTPStatus]:
    """The file a request target names inside `root`, or None and the status to answer.

    Percent-decoding happens once; `..`, hidden names, NUL and backslashes are refused
    before touching the file system, and the resolved path (symlinks followed) must stay
    inside the resolved root.
    """
    path = unquote(urlsplit(target).path, errors="strict") if target else "/"
    parts = path.split("/")
    if "\x00" in path or "\\" in path or any(p.startswith(".") and p != "." for p in parts):
        return None, HTTPStatus.FORBIDDEN
    base = root.resolve()
    candidate = base.joinpath(*[p for p in parts if p not in ("", ".")])
    try:
        real = candidate.resolve()
    except (OSError, RuntimeError):
        return None, HTTPStatus.NOT_FOUND
    if real != base and base not in real.parents:
        return None, HTTPStatus.FORBIDDEN
    if real.is_dir():
        real = real / "index.html"
    if not real.is_file():
        return None, HTTPStatus.NOT_FOUND
    return real, HTTPStatus.OK


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # inclusive

    @property
    def length(self) -> int:
        return self.end - self.start + 1


def parse_range(header: str | None, size: int) -> ByteRange | None | HTTPStatus:
    """One `bytes=` range, None to send the whole file, or 416 when it cannot be satisfied.

    Malformed and multi-part ranges are ignored (RFC 9110 lets a server send the whole
    file instead); a range starting at or after the end is unsatisfiable.
    """
    if not header:
        return None
    match = _RANGE_RE.match(header.strip().replace(" ", ""))
    if not match or match.group(1) == match.group(2) == "":
        return None
    first, last = match.group(1), match.group(2)
    if first == "":  # suffix range: the last N bytes
        count = int(last)
        if count == 0 or size == 0:
            return HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE
        return ByteRange(max(0, size - count), size - 1)
    start = int(first)
    if last != "" and int(last) < start:
        return None  # invalid syntax: ignored
    if start >= size:
        return HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE
    end = size - 1 if last == "" else min(int(last), size - 1)
    return ByteRange(start, end)


class SiteHandler(BaseHTTPRequestHandler):
    """GET/HEAD/OPTIONS for the files of one site folder (set on the server as `site_root`)."""

    server_version = "innerchild-serve"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        log.info("%s %s", self.address_string(), format % args)

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

    # -- helpers ---------------------------------------------------------------------------
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

    def _origin(self) -> str | None:
        host = self.headers.get("Host", "")
        return f"http://{host}" if _HOST_RE.match(host) else None

    def _feed_bytes(self, path: Path) -> bytes:
        data = path.read_bytes()
        origin = self._origin()
        match = _SELF_RE.search(data)
        if origin is None or match is None:
            return data
        return data.replace(match.group(1) + b"/", origin.encode() + b"/")

    def _serve(self, *, send_body: bool) -> None:
        root: Path = self.server.site_root  # type: ignore[attr-defined]
        try:
            path, status = resolve_path(root, self.path)
        except UnicodeDecodeError:
            path, status = None, HTTPStatus.BAD_REQUEST
        if path is None:
            self._plain(status, send_body=send_body)
            return
        stat = path.stat()
        rewrite = path.name == FEED_NAME and self.server.rewrite_feed  # type: ignore[attr-defined]
        data = self._feed_bytes(path) if rewrite else None
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
        try:
            if data is not None:
                self._copy(io.BytesIO(data), span)
            else:
                with path.open("rb") as handle:
                    self._copy(handle, span)
        except (BrokenPipeError, ConnectionResetError):
            # Players drop range requests all the time when seeking; nothing to report.
            self.close_connection = True

    def _not_modified(self, etag: str, mtime: float) -> bool:
        tags = self.headers.get("If-None-Match")
        if tags is not None:
            return etag in [t.strip() for t in tags.split(",")] or tags.strip() == "*"
        since = self.headers.get("If-Modified-Since")
        if since and not self.headers.get("Range"):
            try:
                moment = email.utils.parsedate_to_datetime(since)
            except (TypeError, ValueError):
                return False
            return int(mtime) <= moment.timestamp()
        return False

    def _copy(self, source: BinaryIO, span: ByteRange) -> None:
        source.seek(span.start)
        remaining = span.length
        while remaining > 0:
            chunk = source.read(min(CHUNK_BYTES, remaining))
            if not chunk:
                break
            self.wfile.write(chunk)
            remaining -= len(chunk)


class SiteServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, directory: Path, host: str, port: int, *, rewrite_feed: bool) -> None:
        self.site_root = directory.resolve()
        self.rewrite_feed = rewrite_feed
        if ":" in host:
            self.address_family = socket.AF_INET6
        super().__init__((host, port), SiteHandler)

    @property
    def port(self) -> int:
        return int(self.server_address[1])


def make_server(
    directory: Path, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, *,
    rewrite_feed: bool = True,
) -> SiteServer:
    """A bound server for `directory` (port 0 picks a free port); call serve_forever()."""
    if not directory.is_dir():
        raise UsageError(f"{directory} is not a folder; run `innerchild publish` first")
    if not (directory / FEED_NAME).is_file():
        log.warning("%s has no %s; run `innerchild publish` first", directory, FEED_NAME)
    try:
        return SiteServer(directory, host, port, rewrite_feed=rewrite_feed)
    except OSError as error:
        raise UsageError(f"cannot listen on {host}:{port}: {error.strerror or error}") from error


def serve(
    directory: Path, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, *,
    rewrite_feed: bool = True, on_ready: Callable[[SiteServer], None] | None = None,
) -> None:
    """Serve until interrupted (Ctrl-C) or until another thread calls server.shutdown()."""
    server = make_server(directory, host, port, rewrite_feed=rewrite_feed)
    with server:
        if on_ready is not None:
            on_ready(server)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            log.info("stopped")


def serve_in_thread(directory: Path, host: str = DEFAULT_HOST, port: int = 0, *,
                    rewrite_feed: bool = True) -> tuple[SiteServer, threading.Thread]:
    """Start a server in a daemon thread; stop it with server.shutdown(); server.server_close()."""
    server = make_server(directory, host, port, rewrite_feed=rewrite_feed)
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
    "DEFAULT_HOST", "DEFAULT_PORT", "LAN_HOST", "SiteServer", "content_type", "lan_address",
    "make_server", "parse_range", "resolve_path", "serve", "serve_in_thread", "site_url",
    "terminal_qr",
]
