"""`serve` over real sockets: HEAD, byte ranges, content types, CORS and refused traversal."""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
import segno
from publish_helpers import build_library, sine_mp3

from innerchild_audio.publish import publish_site
from innerchild_audio.serve import make_server, parse_range, serve_in_thread, terminal_qr

BASE = "https://podcast.example.org/inner-child"
SECRET = b"do not serve me"
MP3 = "/episodes/a-safe-place.mp3"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("serve")
    rendered, podcast = build_library(root, sine_mp3(root / "sine.mp3"))
    result = publish_site(rendered, root / "site", channel_file=podcast, base_url=BASE)
    (root / "secret.txt").write_bytes(SECRET)
    (result.out_dir / ".hidden").write_bytes(SECRET)
    (result.out_dir / "escape.txt").symlink_to(root / "secret.txt")
    return result.out_dir


@pytest.fixture(scope="module")
def port(site: Path) -> Iterator[int]:
    server, thread = serve_in_thread(site)
    assert server.server_address[0] == "127.0.0.1"
    yield server.port
    server.shutdown()
    server.server_close()
    thread.join(5)


def request(port: int, method: str, target: str, headers: dict[str, str] | None = None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, target, headers=headers or {})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def raw_request(port: int, target: str) -> tuple[int, bytes]:
    """Send the request line byte for byte (no client-side path clean-up)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                     .encode("latin-1"))
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    status = int(data.split(b" ", 2)[1])
    return status, data.split(b"\r\n\r\n", 1)[1]


def test_head_answers_headers_without_a_body(site: Path, port: int):
    status, headers, body = request(port, "HEAD", MP3)
    assert status == 200 and body == b""
    assert int(headers["content-length"]) == (site / MP3.lstrip("/")).stat().st_size
    assert headers["content-type"] == "audio/mpeg"
    assert headers["accept-ranges"] == "bytes"
    assert "etag" in headers and "last-modified" in headers


def test_range_request_is_answered_206_with_exactly_those_bytes(site: Path, port: int):
    data = (site / MP3.lstrip("/")).read_bytes()
    size = len(data)
    cases = {
        "bytes=100-199": (100, 199),
        "bytes=0-0": (0, 0),
        f"bytes={size - 10}-": (size - 10, size - 1),
        "bytes=-5": (size - 5, size - 1),
        f"bytes=1000-{size + 5000}": (1000, size - 1),  # end clipped to the file
        f"bytes=-{size * 2}": (0, size - 1),
    }
    for header, (first, last) in cases.items():
        status, headers, body = request(port, "GET", MP3, {"Range": header})
        assert status == 206, header
        assert headers["content-range"] == f"bytes {first}-{last}/{size}", header
        assert int(headers["content-length"]) == last - first + 1 == len(body)
        assert body == data[first:last + 1], header
        assert headers["content-type"] == "audio/mpeg"


def test_head_with_a_range_reports_the_range(site: Path, port: int):
    size = (site / MP3.lstrip("/")).stat().st_size
    status, headers, body = request(port, "HEAD", MP3, {"Range": "bytes=0-1"})
    assert (status, headers["content-range"], headers["content-length"], body) == (
        206, f"bytes 0-1/{size}", "2", b"")


def test_unsatisfiable_range_is_416(site: Path, port: int):
    size = (site / MP3.lstrip("/")).stat().st_size
    for header in (f"bytes={size}-", f"bytes={size + 100}-{size + 200}", "bytes=-0"):
        status, headers, _ = request(port, "GET", MP3, {"Range": header})
        assert status == 416, header
        assert headers["content-range"] == f"bytes */{size}"


def test_malformed_or_stale_ranges_get_the_whole_file(site: Path, port: int):
    data = (site / MP3.lstrip("/")).read_bytes()
    for headers in ({"Range": "bytes=abc"}, {"Range": "items=0-5"},
                    {"Range": "bytes=0-1,5-6"}, {"Range": "bytes=9-3"},
                    {"Range": "bytes=0-1", "If-Range": '"an-old-etag"'}):
        status, _, body = request(port, "GET", MP3, headers)
        assert (status, body) == (200, data), headers


def test_if_range_with_the_current_etag_keeps_the_range(port: int):
    _, headers, _ = request(port, "HEAD", MP3)
    status, _, body = request(port, "GET", MP3, {"Range": "bytes=0-3", "If-Range": headers["etag"]})
    assert status == 206 and len(body) == 4


def test_conditional_get_is_304(port: int):
    _, headers, _ = request(port, "HEAD", MP3)
    status, _, body = request(port, "GET", MP3, {"If-None-Match": headers["etag"]})
    assert (status, body) == (304, b"")


@pytest.mark.parametrize(("target", "content_type", "cors"), [
    ("/", "text/html; charset=utf-8", False),
    ("/index.html", "text/html; charset=utf-8", False),
    ("/feed.xml", "application/rss+xml; charset=utf-8", True),
    ("/cover.jpg", "image/jpeg", False),
    ("/episodes/a-safe-place.vtt", "text/vtt; charset=utf-8", True),
    ("/episodes/a-safe-place.srt", "application/x-subrip; charset=utf-8", True),
    ("/episodes/a-safe-place.chapters.json", "application/json; charset=utf-8", True),
    (MP3, "audio/mpeg", False),
])
def test_content_type_and_cors(port: int, target: str, content_type: str, cors: bool):
    status, headers, body = request(port, "GET", target)
    assert status == 200 and body
    assert headers["content-type"] == content_type
    assert (headers.get("access-control-allow-origin") == "*") is cors


@pytest.mark.parametrize("target", [
    "/../secret.txt",
    "/episodes/../../secret.txt",
    "/%2e%2e/secret.txt",
    "/%2E%2E%2Fsecret.txt",
    "/episodes/..%2f..%2fsecret.txt",
    "/..%5csecret.txt",
    "/episodes/%2e%2e%2f%2e%2e%2fsecret.txt",
    "/.hidden",
    "/%2ehidden",
    "/escape.txt",
    "/secret.txt%00.mp3",
    "http://127.0.0.1/../secret.txt",
    "/%ff%fe",
])
def test_traversal_is_refused(port: int, target: str):
    status, body = raw_request(port, target)
    assert status in (400, 403, 404), target
    assert SECRET not in body


def test_other_methods_are_not_allowed(port: int):
    status, headers, _ = request(port, "POST", "/feed.xml")
    assert status == 405 and headers["allow"] == "GET, HEAD, OPTIONS"


def test_keep_alive_serves_several_requests_on_one_connection(port: int):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        for header in ("bytes=0-9", "bytes=10-19", "bytes=20-29"):
            connection.request("GET", MP3, headers={"Range": header})
            response = connection.getresponse()
            assert response.status == 206 and len(response.read()) == 10
    finally:
        connection.close()


def test_served_feed_points_at_this_server(site: Path, port: int):
    status, _, body = request(port, "GET", "/feed.xml")
    assert status == 200
    root = ET.fromstring(body)
    urls = [e.get("url") for e in root.iter("enclosure")]
    local = f"http://127.0.0.1:{port}/"
    assert urls and all(u.startswith(local) for u in urls)
    for url in urls:
        got, headers, _ = request(port, "HEAD", url.removeprefix(local[:-1]))
        assert got == 200 and headers["content-type"] == "audio/mpeg"
    # The GUIDs and the channel's podcast:guid are identity, not location: unchanged.
    published = ET.fromstring((site / "feed.xml").read_bytes())
    assert [g.text for g in root.iter("guid")] == [g.text for g in published.iter("guid")]
    assert BASE not in body.decode()


def test_feed_can_be_served_as_published(site: Path):
    server, thread = serve_in_thread(site, rewrite_feed=False)
    try:
        _, _, body = request(server.port, "GET", "/feed.xml")
        assert body == (site / "feed.xml").read_bytes()
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_parse_range_edges():
    assert parse_range(None, 10) is None
    assert parse_range("bytes=0-", 0) == 416
    assert parse_range("bytes=-3", 10).start == 7


def test_missing_folder_is_a_usage_error(tmp_path: Path):
    from innerchild_audio.errors import UsageError

    with pytest.raises(UsageError, match="is not a folder"):
        make_server(tmp_path / "nothing", port=0)


def test_terminal_qr_encodes_the_url():
    url = "http://192.168.1.20:8000/feed.xml"
    drawn = terminal_qr(url).splitlines()
    # Each character holds two rows: upper and lower half-blocks, light modules drawn.
    upper = {"█": True, "▀": True, "▄": False, " ": False}
    lower = {"█": True, "▀": False, "▄": True, " ": False}
    rows = []
    for line in drawn:
        rows.append([upper[c] for c in line])
        rows.append([lower[c] for c in line])
    qr = segno.make(url, error="m")
    border = 4
    expected = [[not dark for dark in row] for row in qr.matrix]
    inner = [row[border:border + len(expected)]
             for row in rows[border:border + len(expected)]]
    assert inner == expected


def test_serve_command_on_the_lan_prints_the_feed_url_and_a_qr_code(site: Path):
    process = subprocess.Popen(
        [sys.executable, "-m", "innerchild_audio", "serve", str(site), "--port", "0", "--lan"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        lines = []
        for line in process.stdout:
            lines.append(line)
            if line.startswith("Press Ctrl-C"):
                break
        output = "".join(lines)
        match = re.search(r"Feed: http://([0-9.]+):(\d+)/feed\.xml", output)
        assert match, output
        assert "▀" in output or "▄" in output  # the QR code
        status, headers, _ = request(int(match.group(2)), "HEAD", "/feed.xml")
        assert status == 200 and headers["content-type"].startswith("application/rss+xml")
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(10)
    assert process.returncode == 0


def test_serve_command_usage_errors(tmp_path: Path):
    from click.testing import CliRunner

    from innerchild_audio.cli import main

    missing = CliRunner().invoke(main, ["serve", str(tmp_path / "nothing"), "--port", "0"])
    assert missing.exit_code == 2 and "is not a folder" in missing.output
    both = CliRunner().invoke(main, ["serve", str(tmp_path), "--lan", "--host", "::1"])
    assert both.exit_code == 2 and "--lan and --host cannot be used together" in both.output
