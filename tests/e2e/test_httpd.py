"""The guest's web server (user/httpd.c) against curl and raw sockets from Linux (issue 14).

One lab: guest a (10.0.0.2) runs `httpd -t 3` (a 3 s request timeout, so that the
slow-client test is short), Linux (10.0.0.1) on the bridge. curl fetches the
status page, a 1 MiB binary (checked against the file the build put in the
initramfs), HEAD, 100 URLs over one connection; raw sockets pipeline requests and
send every kind of bad request. The server must answer each with the right status,
never show a file outside /var/www, keep serving afterwards, log each request in
the common log format, give its buffers back, and put nothing on the wire that
tshark calls malformed.
"""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import sys
import time
from pathlib import Path

import pytest
from labtools import ROOT, pool, running_lab, wait_for_pool

from xv6net import pcap
from xv6net.lab import Lab
from xv6net.topology import Guest, GuestNic, Lan, Peer, Topology

pytestmark = [pytest.mark.e2e, pytest.mark.root]

PEER_IP = "10.0.0.1"
GUEST_IP = "10.0.0.2"
BASE = f"http://{GUEST_IP}"
NOISE = ROOT / "build" / "www" / "noise.bin"
LOG = "/tmp/httpd.log"

# Send the base64 request (argv[3]) to ADDR:PORT in one write, optionally shut
# the sending side, read until the server closes (or argv[5] seconds pass), and
# print what came back in base64 with the seconds it took.
RAW_CLIENT = """
import base64, socket, sys, time
addr, port, data = sys.argv[1], int(sys.argv[2]), base64.b64decode(sys.argv[3])
shut, limit = sys.argv[4] == "1", float(sys.argv[5])
s = socket.create_connection((addr, port), timeout=limit)
start = time.monotonic()
s.sendall(data)
if shut:
    s.shutdown(socket.SHUT_WR)
got = b""
try:
    while True:
        b = s.recv(65536)
        if not b:
            break
        got += b
except socket.timeout:
    print("timeout")
print(base64.b64encode(got).decode(), round(time.monotonic() - start, 2))
"""

# N clients at once, each fetching PATHS in turn over its own keep-alive
# connection (http.client); prints "ok K" for the fetches whose body had the
# SHA-256 given with the path.
CONCURRENT = """
import hashlib, http.client, sys, threading
addr, n = sys.argv[1], int(sys.argv[2])
wanted = [a.split("=") for a in sys.argv[3:]]
ok, errors = [], []
def one():
    try:
        c = http.client.HTTPConnection(addr, 80, timeout=60)
        for path, digest in wanted:
            c.request("GET", path)
            r = c.getresponse()
            body = r.read()
            ok.append(r.status == 200 and hashlib.sha256(body).hexdigest() == digest)
        c.close()
    except Exception as e:
        errors.append(repr(e))
ts = [threading.Thread(target=one) for _ in range(n)]
[t.start() for t in ts]
[t.join(120) for t in ts]
print("ok", sum(ok), "errors", errors)
"""


def one_guest() -> Topology:
    return Topology(lans=[Lan("lan0", "10.0.0.0/24")],
                    guests=[Guest("a", [GuestNic("lan0", ip=GUEST_IP)])],
                    peers=[Peer("lan0", PEER_IP)])


def curl(lab: Lab, *args: str, timeout: float = 60) -> str:
    result = lab.peer_run(["curl", "-sS", "--max-time", str(int(timeout) - 5), *args],
                          timeout=timeout)
    assert result.returncode == 0, result
    return result.stdout


def raw(lab: Lab, data: bytes, shut: bool = False, limit: float = 20) -> tuple[bytes, float]:
    """What the server sent back for data, and how long until it closed."""
    result = lab.peer_run([sys.executable, "-c", RAW_CLIENT, GUEST_IP, "80",
                           base64.b64encode(data).decode(), "1" if shut else "0", str(limit)],
                          timeout=limit + 10)
    lines = result.stdout.split()
    assert len(lines) == 2, result
    return base64.b64decode(lines[0]), float(lines[1])


def responses(data: bytes, heads: frozenset[int] = frozenset()
              ) -> list[tuple[int, dict[str, str], bytes]]:
    """Split a stream of HTTP/1.1 responses (each with Content-Length; those
    whose index is in heads answer HEAD, and have no body)."""
    out: list[tuple[int, dict[str, str], bytes]] = []
    while data:
        head, sep, rest = data.partition(b"\r\n\r\n")
        assert sep, data[:200]
        lines = head.decode("latin-1").split("\r\n")
        m = re.fullmatch(r"HTTP/1\.1 (\d{3}) [\w ]+", lines[0])
        assert m, lines[0]
        fields = {k.lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])}
        length = 0 if len(out) in heads else int(fields["content-length"])
        out.append((int(m[1]), fields, rest[:length]))
        data = rest[length:]
    return out


def status_of(lab: Lab, request: bytes, **kwargs: object) -> tuple[int, dict[str, str], bytes]:
    got, _ = raw(lab, request, **kwargs)  # type: ignore[arg-type]
    answers = responses(got, heads=frozenset({0}) if request.startswith(b"HEAD") else frozenset())
    assert len(answers) == 1, answers
    return answers[0]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    results = tmp_path_factory.mktemp("httpd")
    with running_lab(one_guest(), results) as lab:
        vm = lab.guest("a")
        lab.pool_before = pool(vm)  # type: ignore[attr-defined]
        vm.run(f"httpd -t 3 > {LOG} &")
        deadline = time.monotonic() + 10
        while "0.0.0.0:80 " not in vm.run("netstat -tan"):
            assert time.monotonic() < deadline, "httpd does not listen"
            time.sleep(0.2)
        yield lab


def test_index_page_shows_the_guests_state(lab):
    page = curl(lab, f"{BASE}/")
    assert "<h1>Hello from xv6net</h1>" in page
    assert "<!--#status-->" not in page   # replaced by the state
    assert re.search(r'<p id="uptime">\d+:\d\d:\d\d\.\d\d \(\d+ ticks\)</p>', page), page
    assert re.search(rf"<tr><td>eth0</td><td>e1000</td><td>52:54:[0-9a-f:]+</td>"
                     rf"<td>{GUEST_IP}/255.255.255.0</td>", page), page
    assert re.search(rf"<tr><td>{PEER_IP}</td><td>[0-9a-f:]{{17}}</td><td>(REACHABLE|STALE)</td>"
                     r"<td>eth0</td>", page), page
    assert "<tr><td>tcp</td><td>0.0.0.0:80</td><td>0.0.0.0:*</td><td>LISTEN</td>" in page
    assert re.search(rf"<td>{GUEST_IP}:80</td><td>{PEER_IP}:\d+</td><td>ESTABLISHED</td>",
                     page), page   # this very connection


def test_status_is_generated_for_each_request(lab):
    first = re.search(r"\((\d+) ticks\)", curl(lab, f"{BASE}/index.html"))
    time.sleep(0.3)
    second = re.search(r"\((\d+) ticks\)", curl(lab, f"{BASE}/index.html"))
    assert first and second and int(second[1]) > int(first[1])


def test_a_binary_file_arrives_byte_identical(lab):
    out = curl(lab, "-o", "/tmp/xv6net-httpd-noise", "-w", "%{http_code} %{content_type} "
               "%{size_download}", f"{BASE}/noise.bin")
    assert out == f"200 application/octet-stream {NOISE.stat().st_size}", out
    got = Path("/tmp/xv6net-httpd-noise").read_bytes()
    Path("/tmp/xv6net-httpd-noise").unlink()
    assert hashlib.sha256(got).hexdigest() == hashlib.sha256(NOISE.read_bytes()).hexdigest()


def test_head_gives_the_fields_of_get_and_no_body(lab):
    status, fields, body = status_of(
        lab, b"HEAD /noise.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert (status, body) == (200, b"")
    assert fields["content-length"] == str(NOISE.stat().st_size)
    assert fields["content-type"] == "application/octet-stream"
    assert fields["connection"] == "close"
    head = curl(lab, "-I", f"{BASE}/files/hello.txt")   # (text mode: CR LF read as LF)
    assert head.startswith("HTTP/1.1 200 OK\n"), head
    assert "Content-Type: text/plain; charset=utf-8\n" in head
    assert "Content-Length: 42\n" in head


def test_missing_file_is_404(lab):
    out = curl(lab, "-o", "/dev/null", "-w", "%{http_code}", f"{BASE}/no/such/file")
    assert out == "404"


def test_directory_listing_and_redirect(lab):
    page = curl(lab, f"{BASE}/files/")
    assert "<title>Index of /files/</title>" in page
    assert '<a href="hello.txt">hello.txt</a></td><td>42</td>' in page
    assert '<a href="../">../</a>' in page
    out = curl(lab, "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", f"{BASE}/files")
    assert out == f"301 {BASE}/files/", out
    # a name that needs escaping is escaped again in the Location and the listing's link
    lab.guest("a").run("mkdir /var/www/files/100%")
    status, fields, _ = status_of(lab, b"GET /files/100%25 HTTP/1.1\r\nHost: a\r\n"
                                  b"Connection: close\r\n\r\n")
    assert (status, fields["location"]) == (301, "/files/100%25/")
    assert '<a href="100%25/">100%/</a></td><td>-</td>' in curl(lab, f"{BASE}/files/")
    lab.guest("a").run("rmdir /var/www/files/100%")


def test_hundred_requests_over_one_connection(lab):
    urls = [f"{BASE}/files/hello.txt"] * 50 + [f"{BASE}/"] * 50
    out = curl(lab, "-o", "/dev/null", *[a for u in urls[1:] for a in ("-o", "/dev/null", u)],
               "-w", "%{http_code} %{num_connects}\n", urls[0], timeout=120)
    rows = [line.split() for line in out.splitlines()]
    assert len(rows) == 100, out
    assert all(code == "200" for code, _ in rows), out
    assert sum(int(n) for _, n in rows) == 1, out   # one TCP connection for all


def test_pipelined_requests_are_answered_in_order(lab):
    request = (b"GET /files/hello.txt HTTP/1.1\r\nHost: a\r\n\r\n"
               b"HEAD / HTTP/1.1\r\nHost: a\r\n\r\n"
               b"GET /nothing HTTP/1.1\r\nHost: a\r\n\r\n"
               b"GET /files/hello.txt HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    got, _ = raw(lab, request)
    answers = responses(got, heads=frozenset({1}))
    assert [status for status, _, _ in answers] == [200, 200, 404, 200], answers
    assert answers[0][2] == b"A plain text file served by xv6net httpd.\n"
    assert answers[1][2] == b"" and int(answers[1][1]["content-length"]) > 1000
    assert answers[3][1]["connection"] == "close"


@pytest.mark.parametrize("target", [
    b"/../etc/hosts", b"/%2e%2e/etc/hosts", b"/files/..%2f..%2fetc/hosts",
    b"/files/%2E%2E/%2e%2e/etc/hosts", b"/./../../etc/hosts", b"/..",
])
def test_traversal_is_refused(lab, target):
    status, _, body = status_of(lab, b"GET " + target + b" HTTP/1.1\r\nHost: a\r\n"
                                b"Connection: close\r\n\r\n")
    assert status == 403, (status, body)
    assert b"localhost" not in body   # /etc/hosts


def test_nul_and_bad_escapes_are_refused(lab):
    for target in (b"/index.html%00.txt", b"/files/%zz", b"/files/%4", b"no-slash"):
        status, _, _ = status_of(lab, b"GET " + target + b" HTTP/1.1\r\nHost: a\r\n\r\n")
        assert status == 400, target


def test_curl_path_as_is_cannot_climb_out(lab):
    out = curl(lab, "--path-as-is", "-o", "/dev/null", "-w", "%{http_code}",
               f"{BASE}/files/../../etc/hosts")
    assert out == "403"


@pytest.mark.parametrize(("request_bytes", "status"), [
    (b"GARBAGE\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\n\r\n", 400),                             # HTTP/1.1 without Host
    (b"GET / HTTP/1.1\r\nHost: a\r\nBad Field: x\r\n\r\n", 400),  # space before the colon
    (b"GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", 400),
    (b"POST / HTTP/1.1\r\nHost: a\r\n\r\n", 405),
    (b"DELETE /index.html HTTP/1.1\r\nHost: a\r\n\r\n", 405),
    (b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello", 413),
    (b"GET /" + b"a" * 2000 + b" HTTP/1.1\r\nHost: a\r\n\r\n", 414),
    (b"BREW /pot HTTP/1.1\r\nHost: a\r\n\r\n", 501),
    (b"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 501),
    (b"GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505),
])
def test_bad_requests_get_their_status(lab, request_bytes, status):
    got, fields, body = status_of(lab, request_bytes, shut=True)
    assert got == status, (got, body)
    assert fields["content-type"] == "text/html; charset=utf-8"
    assert f"<h1>{status} ".encode() in body and len(body) < 300


def test_ten_thousand_header_bytes_are_refused_cleanly(lab):
    request = (b"GET / HTTP/1.1\r\nHost: a\r\n"
               + b"".join(b"X-Filler-%04d: %s\r\n" % (i, b"y" * 80) for i in range(110))
               + b"\r\n")
    assert len(request) > 10000
    status, fields, _ = status_of(lab, request)
    assert status == 431 and fields["connection"] == "close"


def test_a_slow_client_is_timed_out(lab):
    got, took = raw(lab, b"GET /index.html HTTP/1.1\r\nHost: a\r\n", limit=20)
    answers = responses(got)
    assert [a[0] for a in answers] == [408], answers
    assert 2.5 <= took < 10, took   # httpd -t 3
    # an idle keep-alive connection is closed without a word after the same time
    got, took = raw(lab, b"GET /files/hello.txt HTTP/1.1\r\nHost: a\r\n\r\n", limit=20)
    assert [a[0] for a in responses(got)] == [200] and 2.5 <= took < 10, took


# A request head trickled in, a field every half second for up to 12 s: print
# the status line that came back and when the server closed.
TRICKLE = """
import socket, sys, time
s = socket.create_connection((sys.argv[1], 80), timeout=20)
start = time.monotonic()
s.sendall(b"GET / HTTP/1.1\\r\\nHost: a\\r\\n")
s.setblocking(False)
got = b""
while time.monotonic() - start < 12:
    try:
        b = s.recv(4096)
        if not b:
            break
        got += b
    except BlockingIOError:
        try:
            s.sendall(b"X-Slow: y\\r\\n")
        except OSError:
            pass
        time.sleep(0.5)
    except OSError:
        break
print(got.split(b"\\r\\n")[0].decode(), round(time.monotonic() - start, 1))
"""


def test_a_trickling_client_is_cut_off_after_the_timeout(lab):
    """Bytes that keep coming do not move the deadline: the head must be whole in -t s."""
    out = lab.peer_run([sys.executable, "-c", TRICKLE, GUEST_IP], timeout=30).stdout.split()
    assert out[:3] == ["HTTP/1.1", "408", "Request"], out
    assert 2.5 <= float(out[-1]) < 8, out


def test_many_clients_at_once(lab):
    noise = hashlib.sha256(NOISE.read_bytes()).hexdigest()
    hello = hashlib.sha256(b"A plain text file served by xv6net httpd.\n").hexdigest()
    result = lab.peer_run([sys.executable, "-c", CONCURRENT, GUEST_IP, "20",
                           f"/files/hello.txt={hello}", f"/noise.bin={noise}",
                           f"/files/hello.txt={hello}"], timeout=300)
    assert result.stdout.strip() == "ok 60 errors []", result


def test_server_still_answers_and_logs_every_request(lab):
    assert curl(lab, f"{BASE}/files/hello.txt") == "A plain text file served by xv6net httpd.\n"
    log = lab.guest("a").run(f"cat {LOG}")
    clf = re.compile(rf'^{re.escape(PEER_IP)} - - \[\d\d/Jan/1970:\d\d:\d\d:\d\d \+0000\] '
                     r'"(.*)" (\d{3}) (\d+|-)$')
    lines = [clf.match(line) for line in log.splitlines() if line.startswith(PEER_IP)]
    assert len(lines) > 150 and all(lines), log[-2000:]
    seen = {(m[1], m[2]) for m in lines if m}
    assert ("GET /noise.bin HTTP/1.1", "200") in seen
    assert ("BREW /pot HTTP/1.1", "501") in seen
    assert ("GET /no/such/file HTTP/1.1", "404") in seen
    assert any(status == "408" for _, status in seen)


def chromium_argv(profile: Path, *args: str) -> list[str]:
    """Headless Chromium with nothing of its own on the network: no updates, sync or
    prefetching (the namespace has no route out anyway); as root it needs --no-sandbox."""
    return ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-default-apps", "--disable-extensions", "--dns-prefetch-disable",
            f"--user-data-dir={profile}", *args]


def test_a_real_browser_shows_the_page(lab, tmp_path):
    """Headless Chromium in the namespace loads the guest's page: the DOM it built has
    the greeting and the guest's tables, and its screenshot is kept in build/artefacts."""
    if shutil.which("chromium") is None:
        pytest.skip("chromium is not installed (make bootstrap installs it)")
    dom = lab.peer_run(chromium_argv(tmp_path / "profile", "--dump-dom", f"{BASE}/"),
                       timeout=120)
    assert "<h1>Hello from xv6net</h1>" in dom.stdout, dom
    assert re.search(r'<p id="uptime">\d+:\d\d:\d\d\.\d\d \(\d+ ticks\)</p>', dom.stdout)
    assert f"<td>{GUEST_IP}/255.255.255.0</td>" in dom.stdout
    assert '<a href="/files/">Other files</a>' in dom.stdout
    shot = ROOT / "build" / "artefacts" / "httpd-index.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    shot.unlink(missing_ok=True)
    made = lab.peer_run(chromium_argv(tmp_path / "profile", "--window-size=1024,900",
                                      f"--screenshot={shot}", f"{BASE}/"), timeout=120)
    png = shot.read_bytes() if shot.exists() else b""
    assert png[:8] == b"\x89PNG\r\n\x1a\n", made
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (width, height) == (1024, 900) and len(png) > 10000, (width, height, len(png))
    print(f"screenshot: {shot}")


@pytest.mark.parametrize("keepalive", [True, False], ids=["keep-alive", "connection-per-request"])
def test_twenty_clients_for_ten_seconds_with_apachebench(lab, keepalive):
    if shutil.which("ab") is None:
        pytest.skip("ab is not installed (make bootstrap installs apache2-utils)")
    seconds = 10 if keepalive else 5
    argv = ["ab", *(["-k"] if keepalive else []), "-c", "20", "-t", str(seconds), "-n", "1000000",
            "-s", "30", f"{BASE}/files/hello.txt"]
    result = lab.peer_run(argv, timeout=seconds + 60)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out   # ab ends at once on a reset or a timeout
    done = re.search(r"^Complete requests:\s+(\d+)$", out, re.M)
    assert done and int(done[1]) > 100, out
    assert re.search(r"^Failed requests:\s+0$", out, re.M), out
    assert "Non-2xx responses" not in out, out
    if keepalive:
        kept = re.search(r"^Keep-Alive requests:\s+(\d+)$", out, re.M)
        assert kept and int(kept[1]) == int(done[1]), out
    rate = re.search(r"^Requests per second:.*$", out, re.M)
    print(rate[0] if rate else out)   # shown with -s: a figure, not a pass mark


def test_buffers_come_back(lab):
    vm = lab.guest("a")
    assert wait_for_pool(vm, lab.pool_before, timeout=10) == lab.pool_before


def test_capture_has_no_malformed_http(lab):
    # Runs last in this module: everything above is in the capture.
    lab.stop_captures()
    time.sleep(0.5)
    path = Path(lab.lan_pcap("lan0"))
    problems = pcap.tshark_problems(path, least="error")
    assert problems == [], problems
    http = pcap.tshark_decode(path, ("http.response.code",), "http.response")
    codes = {row["http.response.code"] for row in http}
    assert {"200", "301", "404", "408", "431", "501"} <= codes, codes
