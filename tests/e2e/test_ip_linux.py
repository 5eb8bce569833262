"""IPv4, ICMP and UDP against Linux's own stack, on a bridge in a namespace (issue 5).

One lab: guests a (10.0.0.2) and b (10.0.0.3), Linux (10.0.0.1) on the bridge.
Linux's iputils ping and Python sockets in the namespace talk to the guests'
ping, udpecho and nc; the bridge capture is checked with tshark afterwards.
"""

import re
import sys
import time
from pathlib import Path

import pytest
from labtools import running_lab

from xv6net import pcap, topology
from xv6net.lab import Lab

pytestmark = [pytest.mark.e2e, pytest.mark.root]

PEER_IP = "10.0.0.1"
A_IP = "10.0.0.2"
B_IP = "10.0.0.3"
ECHO_PORT = 7777
SERVER_PORT = 9000
CLOSED_PORT = 9999
LOSS = re.compile(r"(\d+) packets transmitted, (\d+) received, (\d+)% packet loss")

# A UDP client run in the namespace: sends COUNT datagrams to ADDR:PORT, one at a
# time, and prints how many came back unchanged.
UDP_CLIENT = """
import socket, sys
addr, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2.0)
s.connect((addr, port))
good = 0
for i in range(count):
    data = ("datagram %d " % i).encode() * (1 + i % 50)
    s.send(data)
    try:
        if s.recv(65536) == data:
            good += 1
    except (TimeoutError, socket.timeout):
        pass
print("echoed", good)
"""

# A datagram to a closed port: Linux must report the ICMP port unreachable.
UDP_REFUSED = """
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3.0)
s.connect((sys.argv[1], int(sys.argv[2])))
s.send(b"anyone?")
try:
    s.recv(100)
    print("answered")
except ConnectionRefusedError:
    print("refused")
except (TimeoutError, socket.timeout):
    print("timeout")
"""

# A UDP flood in the namespace: bursts of 100 datagrams a millisecond to
# ADDR:PORT for SECONDS, more than the guest answers under TCG, each one a
# wakeup of its reader; prints "flooding" when it starts and then how many
# it sent and how many came back.
UDP_FLOOD = """
import socket, sys, time
addr, port, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect((addr, port))
s.setblocking(False)
print("flooding", flush=True)
sent = got = 0
end = time.monotonic() + seconds
while time.monotonic() < end:
    for _ in range(100):
        try:
            s.send(b"flood %d" % sent)
            sent += 1
        except (BlockingIOError, ConnectionRefusedError):
            pass
    try:
        while True:
            s.recv(100)
            got += 1
    except (BlockingIOError, ConnectionRefusedError):
        pass
    time.sleep(0.001)
print("sent", sent, "echoed", got, flush=True)
"""

# A UDP server in the namespace: answers each datagram upper-cased.
UDP_SERVER = """
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
print("ready", flush=True)
while True:
    data, peer = s.recvfrom(65536)
    s.sendto(data.upper(), peer)
"""


def linux_ping(lab: Lab, addr: str, count: int, size: int, interval: str) -> str:
    result = lab.peer_run(["ping", "-n", "-c", str(count), "-s", str(size), "-i", interval,
                           "-W", "2", addr], timeout=60)
    return result.stdout + result.stderr


def python_in_namespace(lab: Lab, script: str, *args: str, timeout: float = 60) -> str:
    result = lab.peer_run([sys.executable, "-c", script, *args], timeout=timeout)
    return result.stdout + result.stderr


@pytest.fixture(scope="module")
def lab(tmp_path_factory, nic_model):
    results = tmp_path_factory.mktemp("ip")
    with running_lab(topology.two_guests(), results, nic_model=nic_model) as lab:
        # Quiet in the background, so that nothing it prints can land between a
        # later command and its prompt; ready once netstat shows its port.
        lab.guest("a").run(f"udpecho {ECHO_PORT} > /dev/null &")
        deadline = time.monotonic() + 10
        while f"0.0.0.0:{ECHO_PORT}" not in lab.guest("a").run("netstat"):
            assert time.monotonic() < deadline, "udpecho did not bind"
            time.sleep(0.2)
        yield lab


def assert_no_loss(output: str, count: int) -> None:
    match = LOSS.search(output)
    assert match, output
    assert (int(match[1]), int(match[2]), int(match[3])) == (count, count, 0), output


@pytest.mark.parametrize("size", [56, 3000])
def test_linux_pings_guest_without_loss(lab, size):
    """100 pings from Linux's iputils ping; 3000 bytes go fragmented both ways."""
    before = lab.guest("a").run("netstat -s")
    assert_no_loss(linux_ping(lab, A_IP, 100, size, "0.02"), 100)
    after = lab.guest("a").run("netstat -s")
    if size > 1472:
        reassembled = [int(re.search(r"(\d+) reassembled", text)[1]) for text in (before, after)]
        created = [int(re.search(r"(\d+) fragments created", text)[1]) for text in (before, after)]
        assert reassembled[1] - reassembled[0] >= 100
        assert created[1] - created[0] >= 300   # 3 fragments per reply


def test_guest_pings_linux_and_the_other_guest(lab):
    out = lab.guest("a").run(f"ping -c 3 -i 0.2 {PEER_IP}", timeout=20)
    assert_no_loss(out, 3)
    assert re.search(rf"bytes from {PEER_IP}: icmp_seq=1 ttl=64 time=[\d.]+ ms", out), out
    out = lab.guest("b").run(f"ping -c 3 -i 0.2 -s 3000 {A_IP}", timeout=20)
    assert_no_loss(out, 3)


def test_linux_udp_client_gets_every_datagram_back(lab):
    out = python_in_namespace(lab, UDP_CLIENT, A_IP, str(ECHO_PORT), "200")
    assert out.strip() == "echoed 200", out


def test_guest_answers_with_a_cpu_hog_running(lab):
    """Issue 16: a CPU-bound program (`spin`) does not keep guest a from
    answering: every one of Linux's pings (answered by the kernel's netrx
    thread) and every datagram to udpecho (a user program that the datagram
    wakes) comes back while it runs. Correctness, not timing; the hog must
    still be there at the end, or it proved nothing."""
    guest = lab.guest("a")
    guest.run("spin 60 > spin.out &", timeout=30)   # quiet, like udpecho
    deadline = time.monotonic() + 30
    while not (started := re.search(r"spin: pid (\d+) for 60 s",
                                    guest.run("cat spin.out", timeout=30))):
        assert time.monotonic() < deadline, "spin did not start"
        time.sleep(0.2)
    pid = started[1]
    try:
        assert_no_loss(linux_ping(lab, A_IP, 100, 56, "0.01"), 100)
        out = python_in_namespace(lab, UDP_CLIENT, A_IP, str(ECHO_PORT), "100")
        assert out.strip() == "echoed 100", out
    finally:
        killed = guest.run(f"kill {pid}", timeout=30)
    # kill says nothing, or the shell already reports the job it killed
    # (whether spin dies before the shell's next prompt is the scheduler's
    # choice); a spin that had ended makes kill fail with "kill: (pid): ...".
    assert re.fullmatch(r"(\[\d+\]  Killed \(SIGTERM\) spin 60 > spin.out)?", killed.strip()), \
        f"spin had ended before the pings did: {killed}"


def spin_rounds(out: str) -> int:
    """How far `spin` got (its last line), or fail."""
    done = re.search(r"spin: (\d+) rounds of 2\^20", out)
    assert done, f"spin did not finish: {out}"
    return int(done[1])


def test_hog_is_not_starved_by_a_stream_of_wakeups(lab):
    """Issue 16: the boost for woken processes must not starve a CPU-bound
    program. Linux floods udpecho (every datagram wakes it, and netrx) and
    pings the guest in flood mode while `spin 3` runs in the foreground;
    spin must still get a share of the CPU: at least a twentieth of what it
    gets alone in the same guest (a starvation check, not a timing test: the
    bound is far below any fair share; measured, spin keeps about half).
    Not shown failing: with the run of boosted picks unbounded
    (KDEFS=-DBOOSTRUN=1000000) spin still kept about half, because netrx's
    batching and the full socket queue bound what a flood costs
    (docs/kernel.md)."""
    guest = lab.guest("a")
    alone = spin_rounds(guest.run("spin 1", timeout=60))
    assert alone > 0
    flood = lab.peer_popen([sys.executable, "-u", "-c", UDP_FLOOD, A_IP, str(ECHO_PORT), "6"])
    assert flood.stdout is not None
    assert flood.stdout.readline().strip() == "flooding"
    pings = lab.peer_popen(["ping", "-n", "-q", "-f", "-w", "6", A_IP])
    flooded = spin_rounds(guest.run("spin 3", timeout=90))
    pinged = pings.communicate(timeout=30)[0]
    assert not re.search(r" 0 received", pinged), pinged
    report = flood.stdout.readline()
    flood.wait(timeout=30)
    counts = re.search(r"sent (\d+) echoed (\d+)", report)
    assert counts, report
    # udpecho was answering through the flood: the wakeups did happen.
    assert int(counts[2]) > 0, report
    print(f"spin alone: {alone} rounds/s; with the floods: {flooded / 3:.1f} rounds/s; "
          f"{report}{pinged}")
    assert flooded / 3 >= alone / 20, (alone, flooded, report)


def test_guest_nc_talks_to_a_linux_udp_server(lab):
    server = lab.peer_popen([sys.executable, "-u", "-c", UDP_SERVER, PEER_IP, str(SERVER_PORT)])
    assert server.stdout is not None
    assert server.stdout.readline().strip() == "ready"
    out = lab.guest("b").run(f"echo hello from b | nc -u {PEER_IP} {SERVER_PORT}", timeout=20)
    assert out == "HELLO FROM B\n", out


def test_closed_guest_port_is_reported_to_linux(lab):
    out = python_in_namespace(lab, UDP_REFUSED, A_IP, str(CLOSED_PORT))
    assert out.strip() == "refused", out


def test_guest_nc_to_a_closed_linux_port_is_refused(lab):
    out = lab.guest("b").run(f"echo x | nc -u {PEER_IP} {CLOSED_PORT}", timeout=20)
    assert "nc: Connection refused" in out, out


def test_capture_has_no_malformed_packets(lab):
    # Runs last in this module (pytest keeps file order): everything above is in it.
    lab.stop_captures()
    time.sleep(0.5)
    path = Path(lab.lan_pcap("lan0"))
    assert path.stat().st_size > 10000
    problems = pcap.tshark_problems(path)
    assert problems == [], problems
