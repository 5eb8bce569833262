"""poll(2), fcntl(O_NONBLOCK) and select (issue 12): the usertests cases, the
console with a timeout, ^C while waiting, and a guest blocked in poll woken
by datagrams from Linux in a namespace (checked on the wire too)."""

import re
import sys
import time
from pathlib import Path

import pytest
from labtools import running_lab
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether

from xv6net import pcap
from xv6net.topology import Guest, GuestNic, Lan, Peer, Topology

pytestmark = pytest.mark.e2e

POLL_TESTS = ["pollpipe", "pollwait", "polltimeout", "pollmany", "pollargs", "pollsignal",
              "polludp", "fcntl", "select"]
WAITING = "polltest: waiting on"


def test_poll_usertests(guest):
    out = guest.run("usertests " + " ".join(POLL_TESTS), timeout=120)
    for name in POLL_TESTS:
        assert f"test {name}: ok" in out, out
    assert "ALL TESTS PASSED" in out, out


def test_console_poll_with_timeout_zero_does_not_wait(guest):
    out = guest.run("polltest -t 0")
    match = re.fullmatch(r"polltest: waiting on 1 files\npolltest: timeout after (\d+) ms\n", out)
    assert match, out
    assert int(match[1]) < 300, out   # 0 ms unless a loaded host preempts it a tick or two


def test_a_nonblocking_console_read_fails_with_eagain(guest):
    out = guest.run("polltest -r -t 0")
    assert out.startswith("polltest: non-blocking read: Resource temporarily unavailable\n"), out
    # polltest took O_NONBLOCK off again: the shell (same file) still waits for lines.
    assert guest.run("echo still here") == "still here\n"


def test_console_poll_timeout_is_about_right(guest):
    """500 ms, loosely (a loaded machine slows the guest): not a performance test."""
    start = time.monotonic()
    out = guest.run("polltest -t 500")
    took = time.monotonic() - start
    match = re.search(r"polltest: timeout after (\d+) ms", out)
    assert match, out
    assert 400 <= int(match[1]) <= 3000, out
    assert took >= 0.4


def test_console_line_wakes_a_poller(guest):
    guest.console.sendline("polltest -t 20000")
    guest.console.expect(WAITING, 10)
    time.sleep(0.3)          # let it go to sleep in poll
    guest.console.sendline("a line")
    out = guest.console.expect_prompt(10)
    assert "polltest: stdin ready (revents 1): a line" in out, out


def test_ctrl_d_is_end_of_input_to_a_poller(guest):
    guest.console.sendline("polltest")
    guest.console.expect(WAITING, 10)
    guest.console.send(b"\x04")
    out = guest.console.expect_prompt(10)
    assert "polltest: end of input (revents 1)" in out, out


def test_ctrl_c_interrupts_a_poll_with_eintr(guest):
    guest.console.sendline("polltest")
    guest.console.expect(WAITING, 10)
    time.sleep(0.3)
    guest.console.send(b"\x03")
    out = guest.console.expect_prompt(10)
    assert re.search(r"polltest: interrupted after \d+ ms", out), out
    assert guest.run("echo $?") == "130\n"


# ---- with a Linux peer ----------------------------------------------------------

PEER_IP = "10.0.0.1"
GUEST_IP = "10.0.0.2"
PORT = 7300
ECHO_PORT = 7301

SEND = """
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 0))
for word in sys.argv[4:]:
    s.sendto(word.encode(), (sys.argv[2], int(sys.argv[3])))
    time.sleep(0.2)
"""

# Echoes each datagram upper-cased, after a delay: a reply that comes while
# nc is waiting in poll, not at once.
SLOW_ECHO = """
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
print("ready", flush=True)
while True:
    data, peer = s.recvfrom(65536)
    time.sleep(0.3)
    s.sendto(data.upper(), peer)
"""


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    topo = Topology(lans=[Lan("lan0", "10.0.0.0/24")],
                    guests=[Guest("a", [GuestNic("lan0", ip=GUEST_IP)])],
                    peers=[Peer("lan0", PEER_IP)])
    with running_lab(topo, tmp_path_factory.mktemp("poll")) as lab:
        yield lab


@pytest.mark.root
def test_datagrams_from_linux_wake_a_poller(lab):
    vm = lab.guest("a")
    vm.console.sendline(f"polltest -u {PORT} -n 3")
    vm.console.expect(WAITING, 10)
    time.sleep(0.3)
    result = lab.peer_run([sys.executable, "-c", SEND, PEER_IP, GUEST_IP, str(PORT),
                           "one", "two", "three"],
                          timeout=20)
    assert result.returncode == 0, result.stderr
    out = vm.console.expect_prompt(20)
    got = re.findall(rf"polltest: udp ready \(revents 1\) from {PEER_IP}:\d+: (\w+)", out)
    assert got == ["one", "two", "three"], out


@pytest.mark.root
def test_nc_waits_in_poll_for_a_slow_reply(lab):
    vm = lab.guest("a")
    server = lab.peer_popen([sys.executable, "-u", "-c", SLOW_ECHO, PEER_IP, str(ECHO_PORT)])
    try:
        assert server.stdout is not None
        assert server.stdout.readline().strip() == "ready"
        out = vm.run(f"echo slow hello | nc -u -w 2 {PEER_IP} {ECHO_PORT}", timeout=20)
        assert out == "SLOW HELLO\n", out
    finally:
        server.kill()
        server.wait()


@pytest.mark.root
def test_nc_prints_a_late_reply_while_waiting_for_input(lab):
    """The reply comes 0.3 s after the line, while nc waits on the terminal: it
    is printed then, not after the next line (the old nc read replies for only
    0.2 s after each line, then blocked reading the console)."""
    vm = lab.guest("a")
    server = lab.peer_popen([sys.executable, "-u", "-c", SLOW_ECHO, PEER_IP, str(ECHO_PORT)])
    try:
        assert server.stdout is not None
        assert server.stdout.readline().strip() == "ready"
        vm.console.sendline(f"nc -u -w 1 {PEER_IP} {ECHO_PORT}")
        time.sleep(0.5)
        vm.console.sendline("late reply")
        vm.console.expect("LATE REPLY", 10)
        start = time.monotonic()
        vm.console.send(b"\x04")                     # end of input: nc ends after -w 1
        vm.console.expect_prompt(10)
        assert time.monotonic() - start >= 0.9
        assert vm.run("echo $?") == "0\n"
    finally:
        server.kill()
        server.wait()


def udp_payloads(path: Path) -> list[tuple[str, str, int, bytes]]:
    """(source, destination, destination port, payload) of each UDP datagram."""
    found = []
    for frame in pcap.frames(path):
        packet = Ether(frame.data)
        if IP in packet and UDP in packet:
            found.append((packet[IP].src, packet[IP].dst, packet[UDP].dport,
                          bytes(packet[UDP].payload)))
    return found


@pytest.mark.root
def test_the_wire_shows_both_ways(lab):
    # Runs last in this module: the datagrams above are in the capture.
    lab.stop_captures()
    time.sleep(0.5)
    datagrams = udp_payloads(Path(lab.lan_pcap("lan0")))
    to_poller = [d[3] for d in datagrams if d[:3] == (PEER_IP, GUEST_IP, PORT)]
    assert to_poller == [b"one", b"two", b"three"], datagrams
    to_echo = [d[3] for d in datagrams if d[:3] == (GUEST_IP, PEER_IP, ECHO_PORT)]
    assert to_echo == [b"slow hello\n", b"late reply\n"], datagrams
    replies = [d[3] for d in datagrams if d[:2] == (PEER_IP, GUEST_IP)]
    assert replies.count(b"SLOW HELLO\n") == 1, datagrams
    assert replies.count(b"LATE REPLY\n") == 1, datagrams
