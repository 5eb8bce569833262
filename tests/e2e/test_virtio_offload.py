"""virtio-net's offloads (issue 15): on a tap that carries virtio-net headers
(QEMU's default for this card), the driver takes CSUM and HOST_TSO4 (the host
finishes the checksums of what the guest sends, and cuts its large TCP
segments) and GUEST_CSUM (the host hands over frames whose checksums it
checked, or, from its own stack, never made, and says so).

No NIC is captured here: QEMU's filter-dump cannot read those headers, so a
captured virtio-net tap is opened without them and the card then offers none
of this (test_offload.py covers that case). What crosses is checked by what
arrives: the SHA-256 of a MiB each way, datagrams in both directions, and the
guest's packet trace, which says what the device was asked to do and which
checksums the guest did not check itself. A datagram with a wrong checksum,
which the host's stack neither made nor checked, is still dropped.
"""

from __future__ import annotations

import re
import sys
import time

import pytest
from labtools import SINK_SERVER, running_lab
from test_offload import pattern_digest

from xv6net.topology import Guest, GuestNic, Lan, Peer, Topology

pytestmark = [pytest.mark.e2e, pytest.mark.root]

PEER_IP = "10.0.0.1"
GUEST_IP = "10.0.0.4"
MIB = 1024 * 1024

# Linux's side of the receive direction: connect, send tcpblast's pattern,
# close, wait for the guest's end of file.
PATTERN_SENDER = """
import socket, sys
size = int(sys.argv[2])
s = socket.create_connection((sys.argv[1], int(sys.argv[3])), timeout=60)
s.sendall((bytes(range(251)) * (size // 251 + 1))[:size])
s.shutdown(socket.SHUT_WR)
while s.recv(65536):
    pass
print("done", flush=True)
"""

# A datagram from Linux's socket (its checksum left to the host, which never
# makes it for a virtual link), then the same with a wrong checksum sent
# through a packet socket (which the host neither makes nor checks).
DATAGRAMS = """
import socket, struct, sys
dst, port = sys.argv[1], int(sys.argv[2])
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.sendto(b"from the socket", (dst, port))
from scapy.all import Ether, IP, UDP, Raw, sendp, get_if_hwaddr
frame = Ether(dst=sys.argv[3], src=get_if_hwaddr(sys.argv[4])) / \\
    IP(src=sys.argv[5], dst=dst) / UDP(sport=5555, dport=port, chksum=0x1234) / Raw(b"bad sum")
sendp(frame, iface=sys.argv[4], verbose=False)
print("sent", flush=True)
"""


def topology() -> Topology:
    return Topology(lans=[Lan("lan0", "10.0.0.0/24")],
                    guests=[Guest("c", [GuestNic("lan0", ip=GUEST_IP,
                                                 model="virtio-net-pci")])],
                    peers=[Peer("lan0", PEER_IP)])


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with running_lab(topology(), tmp_path_factory.mktemp("voffload"),
                     capture_nics=False) as lab:
        yield lab


def udp_badsums(netstat: str) -> int:
    """netstat -s: the datagrams UDP dropped for a bad checksum."""
    udp = netstat.split("\nUdp:", 1)[1]
    found = re.search(r"(\d+) with bad checksums", udp)
    assert found, netstat
    return int(found[1])


def traced(vm, command: str, what: str, timeout: float = 60) -> tuple[str, str]:
    """Run command with the packet trace on for what; its output and the trace."""
    vm.run(f"nettrace on {what}")
    vm.run("nettrace show")   # empty the ring of older lines
    out = vm.run(command, timeout=timeout)
    trace = vm.run("nettrace show")
    vm.run("nettrace off")
    return out, trace


def test_the_driver_takes_the_offloads_the_tap_allows(lab):
    out = lab.guest("c").run("ethtool -k eth0")
    assert out.splitlines()[:4] == ["Features for eth0:",
                                    "rx-checksumming: on [fixed]",
                                    "tx-checksumming: on [fixed]",
                                    "tcp-segmentation-offload: on [fixed]"], out


def test_large_sends_are_cut_by_the_host_and_arrive_intact(lab):
    vm = lab.guest("c")
    server = lab.peer_popen([sys.executable, "-u", "-c", SINK_SERVER, PEER_IP, "9300"])
    assert server.stdout is not None and server.stdout.readline().strip() == "ready"
    out, trace = traced(vm, f"tcpblast {PEER_IP} 9300 {MIB}", "tcp")
    assert f"tcpblast: sent {MIB} bytes" in out, out
    assert server.stdout.readline().split() == ["got", str(MIB), pattern_digest(MIB)]
    cuts = [int(n) for n in re.findall(r"virtio_xmit: eth0 (\d+) bytes, cut by the device "
                                       r"into segments of 1460$", trace, re.M)]
    tcp = re.findall(r"tcp_output: port \d+ \[F?\.\] seq \d+ ack \d+, (\d+) bytes, the card "
                     r"cuts \d+ segments$", trace, re.M)
    # (The trace ring may have lost the oldest lines of a MiB; what it kept
    # pairs up.)
    assert cuts and len(cuts) >= len(tcp) - 1, trace[-3000:]
    assert all(1514 < n <= 65535 for n in cuts), cuts
    assert max(cuts) > 16384, cuts   # a TSO buffer's worth once the windows allow
    assert "checksum by the device" in trace   # the small segments: the handshake's ACK


def receive_mib(lab, vm, port: int, before_sending=None) -> None:
    """A MiB of tcpblast's pattern from Linux to the guest's `tcpsink -v`
    on port, checked whole and intact; before_sending(vm) runs once the
    sink listens."""
    out_file = f"sink{port}.out"
    vm.run(f"tcpsink -v {port} > {out_file} &")
    deadline = time.monotonic() + 20
    while "listening" not in vm.run(f"cat {out_file}") and time.monotonic() < deadline:
        time.sleep(0.2)
    if before_sending:
        before_sending(vm)
    sender = lab.peer_popen([sys.executable, "-u", "-c", PATTERN_SENDER, GUEST_IP, str(MIB),
                             str(port)])
    out, _ = sender.communicate(timeout=90)
    assert out.strip() == "done", out
    text = ""
    deadline = time.monotonic() + 30
    while "tcpsink: pattern" not in text and time.monotonic() < deadline:
        text = vm.run(f"cat {out_file}")
        time.sleep(0.2)
    assert re.search(rf"tcpsink: received {MIB} bytes", text), text
    assert "tcpsink: pattern intact" in text, text


def test_linux_segments_with_sums_never_made_are_taken_intact(lab):
    vm = lab.guest("c")
    receive_mib(lab, vm, 9301, lambda vm: (vm.run("nettrace on tcp"), vm.run("nettrace show")))
    trace = vm.run("nettrace show")
    vm.run("nettrace off")
    assert "tcp_input: checksum not checked: the card vouched for it" in trace, trace[-3000:]
    stats = vm.run("netstat -s")
    assert re.search(r"^\s+0 segments with bad checksums$", stats, re.M), stats


def trainsegs(netstat: str) -> int:
    """netstat -s: the segments TCP took behind the first of a train."""
    found = re.search(r"(\d+) segments received in trains", netstat)
    assert found, netstat
    return int(found[1])


def test_uncut_segments_go_up_as_trains_and_arrive_intact(lab):
    """With the trace off, the segments gso.c cuts in place go up as trains
    (IPv4 checks the first, TCP takes all under one lock): a MiB from Linux
    arrives intact, and TCP counts the segments that came in trains."""
    vm = lab.guest("c")
    before = trainsegs(vm.run("netstat -s"))
    receive_mib(lab, vm, 9303)
    stats = vm.run("netstat -s")
    assert trainsegs(stats) - before > 100, stats   # a MiB is 500-odd buffers
    assert re.search(r"^\s+0 bad segments received$", stats, re.M), stats


def test_a_datagram_with_a_wrong_sum_is_still_dropped(lab):
    vm = lab.guest("c")
    mac = re.search(r"ether (\S+)", vm.run("ifconfig eth0"))
    assert mac
    iface = lab.peer_run(["ip", "-o", "-4", "addr", "show", "to", PEER_IP]).stdout.split()[1]
    vm.run("udpsink -t 10 -w 5000 9302 > udp.out &")
    time.sleep(0.5)
    before = vm.run("netstat -s")
    vm.run("nettrace on udp")
    vm.run("nettrace show")
    sent = lab.peer_run([sys.executable, "-c", DATAGRAMS, GUEST_IP, "9302", mac[1], iface,
                         PEER_IP], timeout=60)
    assert "sent" in sent.stdout, sent.stderr
    time.sleep(1)
    trace = vm.run("nettrace show")
    vm.run("nettrace off")
    after = vm.run("netstat -s")
    bad = [udp_badsums(t) for t in (before, after)]
    assert bad[1] - bad[0] == 1, (before, after)
    lines = [ln for ln in trace.splitlines() if "udp_input: port 9302" in ln]
    assert len(lines) == 1, trace
    assert "(checksum vouched for by the card) -> socket" in lines[0], lines
