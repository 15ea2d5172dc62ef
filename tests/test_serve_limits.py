"""`serve` under load and hostile clients: listen queue, worker pool, timeouts, bodies, Host.

Loopback only. Timeouts are set to half a second so idle and drip-feeding clients are cut
off quickly; the bounds asserted on time are generous hang guards, not speed goals.
"""

from __future__ import annotations

import io
import logging
import random
import select
import socket
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from publish_helpers import build_library, sine_mp3

from innerchild_audio.publish import publish_site
from innerchild_audio.serve import (
    Limits,
    SiteServer,
    make_server,
    parse_authority,
    parse_range,
    serve_in_thread,
)

BASE = "https://podcast.example.org/inner-child"
MP3 = "/episodes/a-safe-place.mp3"
TIMEOUT_S = 0.5
HANG_S = 10.0  # far past any timeout here: only a hang takes this long


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("serve-limits")
    rendered, podcast = build_library(root, sine_mp3(root / "sine.mp3"))
    return publish_site(rendered, root / "site", channel_file=podcast, base_url=BASE).out_dir


def start(site: Path, **limits: object) -> SiteServer:
    server, _ = serve_in_thread(site, limits=Limits(**{"timeout_s": TIMEOUT_S, **limits}),
                                allowed_hosts=["studio.local"])
    return server


@pytest.fixture(scope="module")
def server(site: Path) -> Iterator[SiteServer]:
    running = start(site, workers=4)
    yield running
    running.shutdown()
    running.server_close()


def workers_of(server: SiteServer) -> int:
    return sum(t.name.startswith(f"innerchild-serve-{server.port}-")
               for t in threading.enumerate())


def connect(port: int, timeout: float = HANG_S) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=timeout)


def get(target: str, *, host: str = "127.0.0.1", headers: str = "", method: str = "GET",
        version: str = "HTTP/1.1") -> bytes:
    host_line = f"Host: {host}\r\n" if host else ""
    return f"{method} {target} {version}\r\n{host_line}{headers}\r\n".encode("latin-1")


def read_response(reader: io.BufferedReader, method: str = "GET"):
    """One response off a connection: (status, headers, body), or None at end of stream."""
    line = reader.readline()
    if not line:
        return None
    status = int(line.split()[1])
    headers: dict[str, str] = {}
    while (field := reader.readline()) not in (b"\r\n", b""):
        name, _, value = field.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    length = 0 if method == "HEAD" or status == 304 else int(headers.get("content-length", 0))
    return status, headers, reader.read(length)


def exchange(port: int, data: bytes, method: str = "GET"):
    """Send raw bytes, read every response until the server closes."""
    with connect(port) as sock:
        sock.sendall(data)
        reader = sock.makefile("rb")
        responses = []
        while (response := read_response(reader, method)) is not None:
            responses.append(response)
        return responses


def closed_by_server(sock: socket.socket, within: float) -> bool:
    """Does the server close `sock` (end of stream or reset) within `within` seconds?"""
    sock.settimeout(within)
    try:
        while sock.recv(65536):
            pass
    except TimeoutError:
        return False
    except ConnectionResetError:
        pass
    return True


# -- load ------------------------------------------------------------------------------------
def test_a_burst_of_64_connections_fits_the_listen_queue(site: Path):
    """64 clients connect before the server accepts any: none is dropped, all are answered."""
    server = make_server(site, port=0, limits=Limits(timeout_s=TIMEOUT_S, workers=8))
    data = (site / MP3.lstrip("/")).read_bytes()
    clients = []
    started = False
    try:
        for _ in range(64):
            # A full listen queue drops the SYN: connect() would wait for a retry (1 s).
            clients.append(connect(server.port, timeout=0.9))
        for sock in clients:
            sock.sendall(get(MP3))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        started = True
        for sock in clients:
            sock.settimeout(HANG_S)
            status, _, body = read_response(sock.makefile("rb"))
            assert (status, body) == (200, data)
        assert workers_of(server) <= 8
    finally:
        for sock in clients:
            sock.close()
        if started:
            server.shutdown()
        server.server_close()


def test_64_concurrent_clients_are_all_answered_by_a_bounded_pool(site: Path):
    server = start(site, workers=8)
    data = (site / MP3.lstrip("/")).read_bytes()
    barrier = threading.Barrier(64)
    results: list[bool] = []

    def client() -> None:
        barrier.wait(HANG_S)
        with connect(server.port) as sock:
            reader = sock.makefile("rb")
            sock.sendall(get(MP3) + get(MP3, headers="Range: bytes=100-199\r\n")
                         + get(MP3, method="HEAD", headers="Connection: close\r\n"))
            got = [read_response(reader), read_response(reader), read_response(reader, "HEAD")]
        results.append(got[0][:1] + got[0][2:] == (200, data)
                       and got[1][0] == 206 and got[1][2] == data[100:200]
                       and got[2][0] == 200 and got[2][2] == b"")

    threads = [threading.Thread(target=client) for _ in range(64)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(HANG_S * 3)
        assert results.count(True) == 64
        assert workers_of(server) <= 8
    finally:
        server.shutdown()
        server.server_close()


def test_when_every_worker_and_queue_place_is_taken_new_clients_get_503(site: Path):
    server = start(site, workers=1, waiting=1, timeout_s=HANG_S)
    try:
        first, second = connect(server.port), connect(server.port)
        time.sleep(0.1)  # both accepted: one served (idle), one waiting
        responses = exchange(server.port, get("/feed.xml"))
        assert [r[0] for r in responses] == [503]
        assert responses[0][1]["retry-after"] == "1"
        first.close()
        second.close()
    finally:
        server.shutdown()
        server.server_close()


# -- timeouts --------------------------------------------------------------------------------
def test_idle_connections_are_closed_within_the_timeout(server: SiteServer):
    idle = [connect(server.port) for _ in range(16)]  # four times the workers
    try:
        assert all(closed_by_server(sock, within=HANG_S) for sock in idle)
        assert workers_of(server) <= 4
        assert [r[0] for r in exchange(server.port, get("/", headers="Connection: close\r\n"))] \
            == [200]
    finally:
        for sock in idle:
            sock.close()


def test_connections_that_say_nothing_hold_no_worker(site: Path):
    server = start(site, workers=2, timeout_s=HANG_S)
    idle = [connect(server.port) for _ in range(16)]
    try:
        # Answered at once, though every worker would be taken if idle connections held one.
        responses = exchange(server.port, get("/", headers="Connection: close\r\n"))
        assert [r[0] for r in responses] == [200]
        assert workers_of(server) == 1
        assert select.select(idle, [], [], 0)[0] == []  # all still open, waiting
    finally:
        for sock in idle:
            sock.close()
        server.shutdown()
        server.server_close()


def test_idle_keep_alive_connections_hold_no_worker(site: Path):
    server = start(site, workers=2, timeout_s=HANG_S)
    clients = [connect(server.port) for _ in range(16)]
    try:
        readers = [sock.makefile("rb") for sock in clients]
        for _ in range(2):  # every connection is kept and serves a second request
            for sock in clients:
                sock.sendall(get("/feed.xml"))
            for reader in readers:
                status, headers, _ = read_response(reader)
                assert status == 200 and headers.get("connection") != "close"
        assert workers_of(server) <= 2
    finally:
        for sock in clients:
            sock.close()
        server.shutdown()
        server.server_close()


def test_an_idle_keep_alive_connection_is_closed_after_its_reply(server: SiteServer):
    with connect(server.port) as sock:
        sock.sendall(get("/feed.xml"))
        status, headers, _ = read_response(sock.makefile("rb"))
        assert status == 200 and headers.get("connection") != "close"
        assert closed_by_server(sock, within=HANG_S)


def test_a_drip_feeding_client_is_cut_off(server: SiteServer):
    """One header byte every 50 ms never trips a read timeout, but the request deadline."""
    with connect(server.port) as sock:
        sock.sendall(b"GET /feed.xml HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        began = time.monotonic()
        cut = False
        while time.monotonic() - began < HANG_S and not cut:
            try:
                sock.sendall(b"a")
            except (BrokenPipeError, ConnectionResetError):
                cut = True
                break
            readable, _, _ = select.select([sock], [], [], 0.05)
            if readable:
                try:
                    cut = sock.recv(65536) == b""
                except ConnectionResetError:
                    cut = True
        assert cut, "the server kept a drip-feeding connection open"


# -- ranges and bodies -----------------------------------------------------------------------
def test_range_numbers_of_any_length_never_break_the_connection(site: Path, server: SiteServer):
    data = (site / MP3.lstrip("/")).read_bytes()
    huge = "9" * 5000
    cases = [
        (f"bytes={huge}-", 416, b""),
        (f"bytes={huge}-{huge}", 416, b""),
        (f"bytes=0-{huge}", 206, data),
        (f"bytes=-{huge}", 206, data),
        (f"bytes={'0' * 5000}5-{'0' * 5000}9", 206, data[5:10]),
    ]
    request = b"".join(get(MP3, headers=f"Range: {header}\r\n") for header, _, _ in cases)
    responses = exchange(server.port, request + get("/", headers="Connection: close\r\n"))
    assert [r[0] for r in responses] == [status for _, status, _ in cases] + [200]
    responses.pop()
    for (header, status, body), (_, headers, got) in zip(cases, responses, strict=True):
        if status == 206:
            assert got == body, header[:20]
        else:
            assert headers["content-range"] == f"bytes */{len(data)}"


def test_parse_range_takes_numbers_past_python_int_limit():
    assert parse_range("bytes=" + "1" * 4301 + "-", 10) == 416
    assert parse_range("bytes=-" + "1" * 4301, 10).start == 0
    assert parse_range("bytes=2-" + "1" * 4301, 10).end == 9
    assert parse_range("bytes=٣-٤", 10) is None  # only ASCII digits are numbers


def test_a_post_body_is_not_taken_for_the_next_request(server: SiteServer):
    smuggled = get("/index.html")
    post = get("/feed.xml", method="POST", headers=f"Content-Length: {len(smuggled)}\r\n")
    responses = exchange(server.port, post + smuggled + get(
        "/cover.jpg", headers="Connection: close\r\n"))
    assert [r[0] for r in responses] == [405, 200]
    assert responses[1][1]["content-type"] == "image/jpeg"


@pytest.mark.parametrize("headers", [
    "Content-Length: 10000000\r\n",  # too big to read away: answered, then closed
    "Transfer-Encoding: chunked\r\n",
])
def test_a_body_that_is_not_read_closes_the_connection(server: SiteServer, headers: str):
    responses = exchange(server.port, get("/feed.xml", method="POST", headers=headers)
                         + b"5\r\nGET /\r\n" + get("/index.html"))
    assert [r[0] for r in responses] == [405]
    assert responses[0][1]["connection"] == "close"


@pytest.mark.parametrize("headers", [
    "Content-Length: 12, 13\r\n", "Content-Length: -1\r\n", "Content-Length: \xb2\r\n",
    "Content-Length: 3\r\nContent-Length: 4\r\n",
])
def test_a_bad_content_length_is_400(server: SiteServer, headers: str):
    responses = exchange(server.port, get("/feed.xml", method="POST", headers=headers)
                         + get("/index.html"))
    assert [r[0] for r in responses] == [400]


# -- Host ------------------------------------------------------------------------------------
def feed_urls(body: bytes) -> list[str]:
    return [e.get("url") for e in ET.fromstring(body).iter("enclosure")]


@pytest.mark.parametrize("host", [
    "evil.example", "evil.example:{port}", "127.0.0.1.evil.example", "127.0.0.1@evil.example",
    "localhost:99999", "[::1", "", "a b",
])
def test_a_host_that_is_not_ours_is_refused(server: SiteServer, host: str):
    host = host.format(port=server.port)
    for target in ("/feed.xml", MP3):
        request = f"GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        responses = exchange(server.port, request.encode("latin-1"))
        assert [r[0] for r in responses] == [400], host
        assert b"evil" not in responses[0][2]


def test_a_request_without_host_or_with_two_is_refused(server: SiteServer):
    assert [r[0] for r in exchange(server.port, get("/feed.xml", host=""))] == [400]
    two = get("/feed.xml", headers="Host: 127.0.0.1\r\n")
    assert [r[0] for r in exchange(server.port, two)] == [400]
    absolute = get("http://evil.example/feed.xml", headers="Connection: close\r\n")
    assert [r[0] for r in exchange(server.port, absolute)] == [400]


def test_the_feed_points_at_the_name_the_client_used_when_it_is_ours(server: SiteServer):
    port = server.port
    for host, prefix in ((f"localhost:{port}", f"http://localhost:{port}/"),
                         (f"LOCALHOST.:{port}", f"http://localhost:{port}/"),
                         (f"[::1]:{port}", f"http://[::1]:{port}/"),
                         (f"studio.local:{port}", f"http://studio.local:{port}/"),
                         ("podcast.example.org", f"{BASE}/")):
        request = get("/feed.xml", host=host, headers="Connection: close\r\n")
        (status, _, body), = exchange(port, request)
        urls = feed_urls(body)
        assert status == 200 and urls and all(u.startswith(prefix) for u in urls), host
    # HTTP/1.0 may leave Host out: the feed is then served as published.
    (status, _, body), = exchange(port, get("/feed.xml", host="", version="HTTP/1.0"))
    assert status == 200 and all(u.startswith(f"{BASE}/") for u in feed_urls(body))


def test_parse_authority():
    assert str(parse_authority("Example.ORG.:8000")) == "example.org:8000"
    assert str(parse_authority("[::1]")) == "[::1]"
    for bad in ("", ":80", "a:0", "a:65536", "a:b", "a/b", "[::1]x", "ä.example"):
        assert parse_authority(bad) is None, bad


# -- anything a client sends -----------------------------------------------------------------
HOSTILE = [
    b"\r\n\r\n",
    b"GET\r\n\r\n",
    b"GET / HTTP/9.9\r\nHost: 127.0.0.1\r\n\r\n",
    b"GET / HTTP/1.x\r\nHost: 127.0.0.1\r\n\r\n",
    b"GET / HTTP/1.1 extra\r\nHost: 127.0.0.1\r\n\r\n",
    b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX: " + b"a" * 70000 + b"\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"X: y\r\n" * 200 + b"\r\n",
    b"GET http://[::1/x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    b"GET http://127.0.0.1:99999999/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    b"GET /" + b"a/" * 3000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    b"GET /\xff\xfe\x00 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    b"GET /%00 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    b"GET /\x1b[2J HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: \xff\xfe\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    b"If-Modified-Since: Mon, 01 Jan 99999 00:00:00 GMT\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nIf-Modified-Since: \x00\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nIf-None-Match: ,,,\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nIf-Range: x\r\nRange: bytes=0-1\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nRange: bytes=--1\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nRange: bytes=\xb2-\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx",
    b"BREW / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    b"OPTIONS * HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    b"HEAD /feed.xml HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    b"Content-Length: 99999999999999999999999\r\n\r\n",
]


def test_hostile_requests_get_an_answer_and_log_no_error(
        server: SiteServer, caplog: pytest.LogCaptureFixture):
    randomly = random.Random(10)
    fuzzed = []
    for _ in range(60):
        base = bytearray(randomly.choice(HOSTILE[2:]))
        for _ in range(randomly.randint(1, 4)):
            base[randomly.randrange(len(base) - 4)] = randomly.randrange(256)
        fuzzed.append(bytes(base).split(b"\r\n\r\n")[0] + b"\r\n\r\n")
    with caplog.at_level(logging.WARNING, logger="innerchild_audio.serve"):
        for data in HOSTILE + fuzzed:
            with connect(server.port) as sock:
                sock.sendall(data)
                sock.shutdown(socket.SHUT_WR)
                reply = b""
                try:
                    while chunk := sock.recv(65536):
                        reply += chunk
                except ConnectionResetError:
                    pass
            assert reply.startswith(b"HTTP/1.1 ") or data.startswith(b"\r\n"), data[:80]
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, errors[0].getMessage()
