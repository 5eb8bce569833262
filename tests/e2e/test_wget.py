"""The guest's web client (user/wget.c) against Python's http.server in the namespace (issue 14).

One lab: guest a takes its address and name server from dnsmasq (DHCP), which
also names the peer web.lab (10.0.0.1). A Python http.server there serves a
directory with a 5 MiB file of noise, plus a few made-up paths: a redirect
chain, a chunked body, a response that is not HTTP, one that never comes. The
guest's wget must save the file intact (the guest's own sha256sum against
Python's), follow redirects (at most 5), decode chunks, and report 404, a refused
connection, a timeout and a bad response with GNU wget's exit statuses.
"""

from __future__ import annotations

import hashlib
import random
import re
import select
import sys
import time

import pytest
from labtools import running_lab

from xv6net.lab import Lab
from xv6net.topology import DHCP, Dnsmasq, Guest, GuestNic, Lan, Peer, Topology

pytestmark = [pytest.mark.e2e, pytest.mark.root]

PEER_IP = "10.0.0.1"
PORT = 8000
# 5 MiB: past ramfs's indirect page, into its double-indirect one.
BIG = random.Random(1414).randbytes(5 * 1024 * 1024)
TOPOLOGY = Topology(
    lans=[Lan("lan0", "10.0.0.0/24")],
    guests=[Guest("a", [GuestNic("lan0", ip=DHCP)])],
    peers=[Peer("lan0", PEER_IP)],
    services=[Dnsmasq("lan0", PEER_IP, dhcp_range=("10.0.0.100", "10.0.0.150"),
                      names={"web": PEER_IP})],
)

# http.server on ADDR:PORT for directory DIR, with made-up paths:
#   /hop/N     302 to /hop/N-1, /hop/0 302 to /small.txt (relative Location)
#   /chunked   a chunked body of 3 chunks
#   /garbage   bytes that are not an HTTP response
#   /silent    accepts and never answers
SERVER = """
import functools, http.server, sys, time
addr, port, directory = sys.argv[1], int(sys.argv[2]), sys.argv[3]
class Handler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        if self.path.startswith("/hop/"):
            n = int(self.path[5:])
            self.send_response(302)
            self.send_header("Location", "/hop/%d" % (n - 1) if n > 0 else "../small.txt")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b"first chunk, ", b"second, " * 300, b"last\\n"):
                self.wfile.write(b"%x;ext=1\\r\\n%s\\r\\n" % (len(part), part))
            self.wfile.write(b"0\\r\\nX-Trailer: yes\\r\\n\\r\\n")
        elif self.path == "/garbage":
            self.wfile.write(b"SSH-2.0-OpenSSH_9.2\\r\\n\\r\\n")
            self.close_connection = True
        elif self.path == "/silent":
            time.sleep(8)
            self.close_connection = True
        else:
            super().do_GET()
    def log_message(self, fmt, *args):
        pass
server = http.server.ThreadingHTTPServer((addr, port),
                                         functools.partial(Handler, directory=directory))
print("listening", flush=True)
server.serve_forever()
"""


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    www = tmp_path_factory.mktemp("www")
    (www / "big.bin").write_bytes(BIG)
    (www / "small.txt").write_text("small file\n")
    (www / "sub").mkdir()
    (www / "sub" / "inner.txt").write_text("inside\n")
    with running_lab(TOPOLOGY, tmp_path_factory.mktemp("wget")) as lab:
        proc = lab.peer_popen([sys.executable, "-u", "-c", SERVER, PEER_IP, str(PORT), str(www)])
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 10)
        assert ready and proc.stdout.readline().strip() == "listening", proc.poll()
        yield lab


def wget(lab: Lab, args: str, timeout: float = 120) -> tuple[str, int]:
    """wget's output and exit status."""
    out = lab.guest("a").run(f"wget {args}; echo status $?", timeout=timeout)
    m = re.search(r"status (\d+)\n$", out)
    assert m, out
    return out[:m.start()], int(m[1])


def test_a_big_file_arrives_intact(lab):
    vm = lab.guest("a")
    out, status = wget(lab, f"-O /tmp/big.bin http://web.lab:{PORT}/big.bin", timeout=300)
    assert status == 0, out
    assert f"Connecting to web.lab ({PEER_IP}):{PORT}... connected." in out
    assert "HTTP request sent, awaiting response... 200 OK" in out
    assert re.search(rf"wget: saved '/tmp/big.bin' \[{len(BIG)} bytes in \d+\.\d\d s, "
                     r"\d+ KiB/s\]", out), out
    digest = vm.run("sha256sum /tmp/big.bin", timeout=120)
    assert digest == f"{hashlib.sha256(BIG).hexdigest()}  /tmp/big.bin\n"
    vm.run("rm /tmp/big.bin")


def test_the_name_comes_from_the_url(lab):
    out, status = wget(lab, f"-q http://web.lab:{PORT}/small.txt")
    assert (out, status) == ("", 0)
    assert lab.guest("a").run("cat small.txt; rm small.txt") == "small file\n"


def test_redirects_are_followed(lab):
    out, status = wget(lab, f"-O - http://{PEER_IP}:{PORT}/hop/4")
    assert status == 0, out
    assert out.count("302 Found") == 5
    assert f"Location: http://{PEER_IP}:{PORT}/hop/3 [following]" in out
    assert f"Location: http://{PEER_IP}:{PORT}/small.txt [following]" in out   # dots removed
    assert "small file\n" in out
    # http.server's own redirect: a directory named without its slash
    out, status = wget(lab, f"-O - http://{PEER_IP}:{PORT}/sub")
    assert status == 0 and "301 Moved Permanently" in out and "inner.txt" in out, out


def test_more_than_five_redirects_fail(lab):
    out, status = wget(lab, f"-O /tmp/x http://{PEER_IP}:{PORT}/hop/5")
    assert status == 7 and "wget: 5 redirections exceeded" in out, out


def test_a_chunked_body_is_decoded(lab):
    out, status = wget(lab, f"-q -O - http://{PEER_IP}:{PORT}/chunked")
    assert status == 0, out
    assert out == "first chunk, " + "second, " * 300 + "last\n"


def test_404_is_reported(lab):
    out, status = wget(lab, f"-O /tmp/x http://{PEER_IP}:{PORT}/no-such-file")
    assert status == 8 and "wget: server answered 404 Not Found" in out, out


def test_a_refused_connection_is_reported(lab):
    out, status = wget(lab, f"http://{PEER_IP}:8001/")
    assert status == 4 and f"connect to {PEER_IP} port 8001: Connection refused" in out, out


def test_a_silent_server_times_out(lab):
    start = time.monotonic()
    out, status = wget(lab, f"-T 2 -O /tmp/x http://{PEER_IP}:{PORT}/silent")
    assert status == 4 and "wget: read timed out after 2 s" in out, out
    assert time.monotonic() - start < 8


def test_a_bad_response_is_reported(lab):
    out, status = wget(lab, f"-O /tmp/x http://{PEER_IP}:{PORT}/garbage")
    assert status == 7 and 'wget: bad response: not HTTP/1.x: "SSH-2.0-OpenSSH_9.2"' in out, out


def test_bad_urls_and_unknown_names(lab):
    out, status = wget(lab, "https://web.lab/")
    assert status == 1 and "not an http://host[:port]/path URL" in out, out
    out, status = wget(lab, f"http://nosuch.lab:{PORT}/")
    assert status == 4 and "unable to resolve host address 'nosuch.lab'" in out, out
