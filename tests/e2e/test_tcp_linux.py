"""TCP against Linux's own stack, on a bridge in a namespace (issue 12).

One lab: guests a (10.0.0.2) and b (10.0.0.3), Linux (10.0.0.1) on the bridge.
Python sockets, nc and socat in the namespace talk to the guests' tcpecho,
nc -l, tcpsink and nc/tcpblast, both ways; 10 MiB each way is checked by
SHA-256; the bridge capture must decode in tshark without a malformed frame.
"""

from __future__ import annotations

import hashlib
import re
import sys
import time
from pathlib import Path

import pytest
from labtools import SINK_SERVER, running_lab

from xv6net import pcap, topology
from xv6net.lab import Lab

pytestmark = [pytest.mark.e2e, pytest.mark.root]

PEER_IP = "10.0.0.1"
A_IP = "10.0.0.2"
B_IP = "10.0.0.3"
ECHO_PORT = 7
MIB10 = 10 * 1024 * 1024

# Send SIZE bytes (a seeded pseudo-random stream) to ADDR:PORT while reading
# what comes back on another thread; print both SHA-256 digests and lengths.
ECHO_CLIENT = """
import hashlib, random, socket, sys, threading
addr, port, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
data = random.Random(12).randbytes(size)
s = socket.create_connection((addr, port), timeout=120)
got = hashlib.sha256()
n = [0]
def reader():
    while True:
        b = s.recv(65536)
        if not b:
            return
        got.update(b)
        n[0] += len(b)
t = threading.Thread(target=reader)
t.start()
s.sendall(data)
s.shutdown(socket.SHUT_WR)
t.join(120)
print("sent", size, hashlib.sha256(data).hexdigest())
print("got", n[0], got.hexdigest())
"""

# Connect to ADDR:PORT, send SIZE bytes of tcpblast's pattern, close.
SEND_CLIENT = """
import socket, sys
addr, port, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.create_connection((addr, port), timeout=120)
s.sendall((bytes(range(251)) * (size // 251 + 1))[:size])
s.shutdown(socket.SHUT_WR)
s.settimeout(120)
while s.recv(65536):
    pass
print("done", flush=True)
"""

# A Linux TCP server that answers each connection with one line and closes.
LINE_SERVER = """
import socket, sys
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((sys.argv[1], int(sys.argv[2])))
srv.listen(4)
print("ready", flush=True)
while True:
    c, peer = srv.accept()
    data = b""
    c.settimeout(20)
    while not data.endswith(b"\\n"):
        b = c.recv(100)
        if not b:
            break
        data += b
    c.sendall(data.upper())
    c.close()
"""


def pattern_digest(size: int) -> str:
    """SHA-256 of tcpblast's pattern (byte i is i mod 251)."""
    period = bytes(range(251))
    whole, rest = divmod(size, 251)
    return hashlib.sha256(period * whole + period[:rest]).hexdigest()


def python_in_namespace(lab: Lab, script: str, *args: str, timeout: float = 180) -> str:
    result = lab.peer_run([sys.executable, "-c", script, *args], timeout=timeout)
    return result.stdout + result.stderr


def wait_listening(lab: Lab, guest: str, port: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while f"0.0.0.0:{port} " not in lab.guest(guest).run("netstat -tan"):
        assert time.monotonic() < deadline, f"nothing listens on {guest}:{port}"
        time.sleep(0.2)


def tcp_counters(text: str) -> dict[str, int]:
    names = {"active connection openings": "active", "passive connection openings": "passive",
             "segments retransmitted": "retrans", "segments received": "in",
             "segments sent out": "out", "resets sent": "rsts"}
    out = {}
    for phrase, key in names.items():
        m = re.search(rf"(\d+) {phrase}", text)
        assert m, text
        out[key] = int(m[1])
    return out


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    results = tmp_path_factory.mktemp("tcp")
    with running_lab(topology.two_guests(), results) as lab:
        lab.guest("a").run(f"tcpecho {ECHO_PORT} > /dev/null &")
        wait_listening(lab, "a", ECHO_PORT)
        yield lab


def test_linux_echoes_a_line_through_the_guest_tcpecho(lab):
    out = lab.peer_run(["sh", "-c", f"echo hello over tcp | socat -t 5 - TCP:{A_IP}:{ECHO_PORT}"],
                       timeout=20)
    assert out.stdout == "hello over tcp\n", out


def test_netstat_shows_linux_columns(lab):
    """b holds a connection open to a's tcpecho; both list it as Linux does."""
    job = re.search(r"\[1\] (\d+)", lab.guest("b").run(f"sleep 30 | nc {A_IP} {ECHO_PORT} &"))
    assert job
    deadline = time.monotonic() + 10
    while True:
        out = lab.guest("a").run("netstat -tan")
        if "ESTABLISHED" in out or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert "Proto Recv-Q Send-Q Local Address           Foreign Address         State" in out
    assert re.search(rf"^tcp +0 +0 {A_IP}:{ECHO_PORT} +{B_IP}:\d+ +ESTABLISHED", out, re.M), out
    assert re.search(rf"^tcp +0 +0 0.0.0.0:{ECHO_PORT} +0.0.0.0:\* +LISTEN", out, re.M), out
    out = lab.guest("b").run("netstat -t")
    assert re.search(rf"^tcp +0 +0 {B_IP}:\d+ +{A_IP}:{ECHO_PORT} +ESTABLISHED", out, re.M), out
    lab.guest("b").run(f"kill -- -{job[1]}")


def test_ten_mib_echoed_by_the_guest_intact(lab):
    """10 MiB from Linux to the guest and back: both directions of the guest's TCP."""
    before = tcp_counters(lab.guest("a").run("netstat -s"))
    out = python_in_namespace(lab, ECHO_CLIENT, A_IP, str(ECHO_PORT), str(MIB10))
    sent = re.search(r"sent (\d+) (\w+)", out)
    got = re.search(r"got (\d+) (\w+)", out)
    assert sent and got, out
    assert got[1] == str(MIB10) and got[2] == sent[2], out
    after = tcp_counters(lab.guest("a").run("netstat -s"))
    assert after["passive"] > before["passive"]
    assert after["in"] - before["in"] > MIB10 // 1460 // 2   # delayed ACKs: half as many out


def test_guest_tcpblast_to_linux_arrives_intact(lab):
    """10 MiB to Linux, intact; Linux's window and cwnd outgrow the 128 KiB
    send buffer, which autotuning grows."""
    server = lab.peer_popen([sys.executable, "-u", "-c", SINK_SERVER, PEER_IP, "9001"])
    assert server.stdout is not None and server.stdout.readline().strip() == "ready"
    before = netstat_count(lab.guest("b"), SNDGROWTHS)
    out = lab.guest("b").run(f"tcpblast -i {PEER_IP} 9001 {MIB10}", timeout=120)
    assert re.search(rf"tcpblast: sent {MIB10} bytes in \d+ us \(\d+ kbit/s\)", out), out
    # -i: the system's idle time over the transfer, a part of it (sysinfo's clock).
    idle = re.search(r"tcpblast: idle (\d+) us of (\d+) us \((\d+)\.\d%\)", out)
    assert idle and int(idle[1]) <= int(idle[2]) and int(idle[2]) > 0, out
    line = server.stdout.readline().split()
    assert line == ["got", str(MIB10), pattern_digest(MIB10)], line
    assert netstat_count(lab.guest("b"), SNDGROWTHS) > before


def test_guest_tcpblast_with_a_ttl_arrives_intact(lab):
    # The TTL on the wire is checked in the capture by test_ttl_in_the_capture.
    server = lab.peer_popen([sys.executable, "-u", "-c", SINK_SERVER, PEER_IP, "9010"])
    assert server.stdout is not None and server.stdout.readline().strip() == "ready"
    out = lab.guest("b").run(f"tcpblast -t 9 {PEER_IP} 9010 100000", timeout=60)
    assert re.search(r"tcpblast: sent 100000 bytes in \d+ us", out), out
    line = server.stdout.readline().split()
    assert line == ["got", "100000", pattern_digest(100000)], line


def netstat_count(vm, what: str) -> int:
    """The number before `what` in netstat -s."""
    found = re.search(rf"(\d+) {what}", vm.run("netstat -s"))
    assert found, what
    return int(found[1])


TRAINSEGS = "segments received in trains"
RCVGROWTHS = "times a receive buffer grew"
SNDGROWTHS = "times a send buffer"


def linux_to_tcpsink(lab, port: int, options: str = "") -> str:
    """10 MiB from Linux to `tcpsink OPTIONS PORT` on guest b; its output."""
    vm = lab.guest("b")
    vm.console.sendline(f"tcpsink {options}{port}")
    vm.console.expect(f"tcpsink: listening on port {port}", timeout=10)
    out = python_in_namespace(lab, SEND_CLIENT, B_IP, str(port), str(MIB10))
    assert out.strip() == "done", out
    text = vm.console.expect_prompt(60)
    assert re.search(rf"tcpsink: received {MIB10} bytes in \d+ us", text), text
    return text


def test_linux_to_guest_tcpsink_arrives_intact(lab):
    """10 MiB from Linux, intact; runs of its segments in a poll's batch
    went up as trains (gro.c), each still counted as a segment."""
    before = netstat_count(lab.guest("b"), TRAINSEGS)
    text = linux_to_tcpsink(lab, 9002, "-iv ")
    assert "tcpsink: pattern intact" in text, text
    idle = re.search(r"tcpsink: idle (\d+) us of (\d+) us", text)
    assert idle and int(idle[1]) <= int(idle[2]) and int(idle[2]) > 0, text
    assert netstat_count(lab.guest("b"), TRAINSEGS) > before


def test_a_reader_that_keeps_up_gets_a_larger_window(lab):
    """tcpsink without -v reads as fast as the data comes: Linux's sender
    fills the window the guest offers, so autotuning grows the receive
    buffer (on the wire: test_windows_grow_in_the_capture)."""
    before = netstat_count(lab.guest("b"), RCVGROWTHS)
    linux_to_tcpsink(lab, 9004)
    assert netstat_count(lab.guest("b"), RCVGROWTHS) > before


def test_guest_nc_talks_to_a_linux_server(lab):
    server = lab.peer_popen([sys.executable, "-u", "-c", LINE_SERVER, PEER_IP, "9003"])
    assert server.stdout is not None and server.stdout.readline().strip() == "ready"
    out = lab.guest("b").run(f"echo hello from b | nc {PEER_IP} 9003", timeout=20)
    assert out == "HELLO FROM B\n", out


def linux_nc_to_guest_nc_listening(lab, guest_input: str, port: int) -> tuple[str, str]:
    """`GUEST_INPUT | nc -l PORT` on guest b, `echo from linux | nc -N` from Linux: what
    Linux's nc printed, and the guest's console up to its next prompt."""
    vm = lab.guest("b")
    vm.console.sendline(f"{guest_input} | nc -l {port}")
    vm.console.expect(f"nc -l {port}", timeout=5)
    # The console is nc's: retry from Linux until it listens (refusals are quick).
    out = lab.peer_run(["sh", "-c", "for i in $(seq 50); do echo from linux | "
                        f"nc -N {B_IP} {port} && exit 0; sleep 0.2; done; exit 1"], timeout=30)
    text = vm.console.expect_prompt(20)   # before any assert, so that no nc is left behind
    assert out.returncode == 0, out
    return out.stdout, text


def test_linux_nc_talks_to_guest_nc_listening(lab):
    linux, guest = linux_nc_to_guest_nc_listening(lab, "echo from the guest", 9004)
    assert linux == "from the guest\n"
    assert "from linux" in guest, guest
    assert f"Connection received on {PEER_IP}" in guest, guest


def test_guest_nc_listening_sends_piped_input_that_comes_after_linux_closed(lab):
    # Linux's nc -N sends and shuts its side down at once; the guest's input arrives a second
    # later. The guest's nc still sends it (it is a pipe: it ends by itself), then closes.
    linux, guest = linux_nc_to_guest_nc_listening(lab, "(sleep 1; echo late from the guest)",
                                                  9005)
    assert linux == "late from the guest\n"
    assert "from linux" in guest, guest


def test_a_closed_guest_port_refuses_linux(lab):
    out = python_in_namespace(lab, "import socket,sys\n"
                              "try:\n socket.create_connection((sys.argv[1], 9999), timeout=5)\n"
                              " print('connected')\n"
                              "except ConnectionRefusedError:\n print('refused')\n", A_IP)
    assert out.strip() == "refused", out


def test_guest_nc_to_a_closed_linux_port_is_refused(lab):
    out = lab.guest("b").run(f"echo x | nc {PEER_IP} 9998", timeout=20)
    assert "Connection refused" in out, out


def test_many_clients_at_once(lab):
    script = """
import socket, sys, threading
ok = []
def one(i):
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=30)
    msg = (b"client %d " % i) * 100
    s.sendall(msg)
    s.shutdown(socket.SHUT_WR)
    got = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        got += b
    ok.append(got == msg)
ts = [threading.Thread(target=one, args=(i,)) for i in range(8)]
[t.start() for t in ts]
[t.join(60) for t in ts]
print("ok", sum(ok))
"""
    out = python_in_namespace(lab, script, A_IP, str(ECHO_PORT))
    assert out.strip() == "ok 8", out


def test_capture_has_no_malformed_packets(lab):
    # Runs last in this module (pytest keeps file order): everything above is in it.
    lab.stop_captures()
    time.sleep(0.5)
    path = Path(lab.lan_pcap("lan0"))
    assert path.stat().st_size > 10000
    # tshark's TCP sequence analysis warns of full and zero windows (the guest
    # reads slower than Linux sends: flow control at work) and of the resets
    # of refused connections; those are TCP doing its job. Malformed frames
    # and errors are not.
    problems = pcap.tshark_problems(path, least="error")
    assert problems == [], problems
    tcp = pcap.tshark_decode(path, ("frame.number",), "tcp")
    assert len(tcp) > 2 * MIB10 // 1460   # the transfers are in it


def test_ttl_in_the_capture(lab):
    # After test_capture_has_no_malformed_packets (captures stopped). tcpblast -t 9
    # set IP_TTL on its socket: every segment of that connection from the guest,
    # SYN to FIN, carries TTL 9; the 10 MiB tcpblast without -t carries 64.
    path = Path(lab.lan_pcap("lan0"))
    rows = pcap.tshark_decode(path, ("tcp.dstport", "ip.ttl", "tcp.flags"),
                              f"ip.src == {B_IP} && (tcp.dstport == 9010 || tcp.dstport == 9001)")
    ttls: dict[str, set[str]] = {"9010": set(), "9001": set()}
    for row in rows:
        ttls[row["tcp.dstport"]].add(row["ip.ttl"])
    assert ttls == {"9010": {"9"}, "9001": {"64"}}, ttls
    flags = [int(r["tcp.flags"], 16) for r in rows if r["tcp.dstport"] == "9010"]
    assert any(f & 0x02 for f in flags) and any(f & 0x01 for f in flags), flags[:3]


def test_windows_grow_in_the_capture(lab):
    # After test_capture_has_no_malformed_packets (captures stopped). The
    # guest's SYN-ACK (or SYN-ACKs, if one was sent again) to the sender of
    # test_a_reader_that_keeps_up_gets_a_larger_window asks scale 5 (for
    # autotuning's 1 MiB), and its later ACKs offer more than the 128 KiB its
    # buffer started with.
    path = Path(lab.lan_pcap("lan0"))
    fields = ("tcp.flags", "tcp.window_size_value", "tcp.options.wscale.shift")
    rows = pcap.tshark_decode(path, fields, f"ip.src == {B_IP} && tcp.srcport == 9004")
    synack = [r for r in rows if int(r["tcp.flags"], 16) & 0x02]
    assert synack and {r["tcp.options.wscale.shift"] for r in synack} == {"5"}, synack
    most = max(int(r["tcp.window_size_value"]) << 5 for r in rows if r not in synack)
    assert most > 131072, most
