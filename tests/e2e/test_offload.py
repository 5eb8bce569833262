"""Transmit checksum offload (issue 12): the e1000 finishes TCP and UDP checksums
that the stack leaves partial; the ne2k and virtio-net, which do not offer it,
get them finished in software. One lab of three guests, one per card (a:
e1000, b: ne2k_pci, c: virtio-net-pci), and Linux on the bridge. Every TCP
segment and UDP datagram the guests put on the wire must carry a correct
checksum: Linux's stack would drop it otherwise (the SHA-256 and the
datagram counts check that), and tshark with checksum validation on and
scapy's own recomputation check every frame of the bridge's capture.
"""

from __future__ import annotations

import hashlib
import re
import sys
import time
from pathlib import Path

import pytest
from labtools import SINK_SERVER, running_lab
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.l2 import Ether
from scapy.utils import rdpcap

from xv6net import pcap, topology
from xv6net.lab import Lab

pytestmark = [pytest.mark.e2e, pytest.mark.root]

PEER_IP = "10.0.0.1"
GUESTS = {"a": "10.0.0.2", "b": "10.0.0.3", "c": "10.0.0.4"}   # e1000, ne2k, virtio
MIB = 1024 * 1024
UDP_SIZES = (4, 333, 1472)
UDP_COUNT = 40

# Count the UDP datagrams that reach PORT (Linux drops those with a bad
# checksum) until none came for a second; print the count and their sizes.
UDP_SINK = """
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
s.bind((sys.argv[1], int(sys.argv[2])))
print("ready", flush=True)
sizes = set()
n = 0
s.settimeout(20)
while True:
    try:
        b = s.recv(65536)
    except socket.timeout:
        break
    n += 1
    sizes.add(len(b))
    s.settimeout(1)
print("got", n, sorted(sizes), flush=True)
"""


def pattern_digest(size: int) -> str:
    """SHA-256 of tcpblast's pattern (byte i is i mod 251)."""
    period = bytes(range(251))
    whole, rest = divmod(size, 251)
    return hashlib.sha256(period * whole + period[:rest]).hexdigest()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with running_lab(topology.mixed_cards(), tmp_path_factory.mktemp("offload")) as lab:
        yield lab


def started(lab: Lab, script: str, *args: str):
    proc = lab.peer_popen([sys.executable, "-u", "-c", script, *args])
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


@pytest.mark.parametrize("guest", sorted(GUESTS))
def test_tcpblast_from_each_card_arrives_intact(lab, guest):
    port = 9100 + sorted(GUESTS).index(guest)
    server = started(lab, SINK_SERVER, PEER_IP, str(port))
    out = lab.guest(guest).run(f"tcpblast {PEER_IP} {port} {MIB}", timeout=60)
    assert re.search(rf"tcpblast: sent {MIB} bytes", out), out
    assert server.stdout is not None
    assert server.stdout.readline().split() == ["got", str(MIB), pattern_digest(MIB)]


@pytest.mark.parametrize("guest", sorted(GUESTS))
def test_udp_from_each_card_is_taken_by_linux(lab, guest):
    port = 9200 + sorted(GUESTS).index(guest)
    sink = started(lab, UDP_SINK, PEER_IP, str(port))
    for size in UDP_SIZES:
        out = lab.guest(guest).run(f"udpblast -n {UDP_COUNT} -s {size} {PEER_IP} {port}",
                                   timeout=30)
        assert "udpblast: sent" in out, out
    assert sink.stdout is not None
    line = sink.stdout.readline()
    # udpblast sends one warm-up datagram before its COUNT.
    assert line.startswith(f"got {(UDP_COUNT + 1) * len(UDP_SIZES)} "), line
    assert line.split(" ", 2)[2].strip() == str(list(UDP_SIZES)), line


def test_the_e1000_leaves_the_sums_to_the_card_and_the_ne2k_does_not(lab):
    """The packet trace's driver line says who finished the checksum (the ne2k's
    driver has no trace line: its frames must not claim the card's help)."""
    for guest in ("a", "b"):
        vm = lab.guest(guest)
        vm.run("nettrace on udp")
        vm.run("nettrace show")   # empty the ring of older lines
        port = 9298 + (guest == "b")
        started(lab, UDP_SINK, PEER_IP, str(port))   # (no port unreachable to stop udpblast)
        vm.run(f"udpblast -n 1 -s 32 {PEER_IP} {port}")   # and its warm-up datagram
        trace = vm.run("nettrace show")
        vm.run("nettrace off")
        assert trace.count("ether_output: eth0, 74 bytes, type 0x0800") == 2, trace
        by_card = [line for line in trace.splitlines()
                   if re.search(r"e1000_xmit: eth0 slot \d+, 74 bytes, checksum by the card"
                                r"( \(new context\))?$", line)]
        assert len(by_card) == (2 if guest == "a" else 0), trace
        assert "checksum by the card" not in trace or guest == "a", trace


def test_the_e1000_cuts_large_tcp_sends_itself(lab):
    """With segmentation offload the stack hands the e1000 several segments'
    worth at once (the trace says so); what reaches Linux is intact."""
    vm = lab.guest("a")
    server = started(lab, SINK_SERVER, PEER_IP, "9110")
    vm.run("nettrace on tcp")
    vm.run("nettrace show")
    out = vm.run(f"tcpblast {PEER_IP} 9110 30000", timeout=60)
    trace = vm.run("nettrace show")
    vm.run("nettrace off")
    assert "tcpblast: sent 30000 bytes" in out, out
    assert server.stdout is not None
    assert server.stdout.readline().split() == ["got", "30000", pattern_digest(30000)]
    cuts = re.findall(r"e1000_xmit: eth0 slot \d+, (\d+) bytes, cut by the card into segments "
                      r"of 1460$", trace, re.M)
    tcp = re.findall(r"tcp_output: port \d+ \[F?\.\] seq \d+ ack \d+, (\d+) bytes, the card "
                     r"cuts (\d+) segments$", trace, re.M)
    assert cuts and len(cuts) == len(tcp), trace[-3000:]
    for frame_len, (payload, nsegs) in zip(cuts, tcp, strict=True):
        assert int(frame_len) == 14 + 20 + 20 + int(payload)
        assert int(nsegs) == -(-int(payload) // 1460) >= 2


def guest_frames(path: Path) -> list[Ether]:
    return [p for p in rdpcap(str(path))
            if IP in p and p[IP].src in GUESTS.values() and (TCP in p or UDP in p)]


def scapy_sum(packet: Ether, layer: type) -> int:
    """The checksum scapy computes for the packet's TCP or UDP header."""
    copy = packet.copy()
    del copy[layer].chksum
    return Ether(bytes(copy))[layer].chksum


def card_ffff(ip_src: str, tcp_sum: str) -> bool:
    """QEMU's e1000 finishes every checksum it is left with 0xFFFF where the
    sum comes out 0 (hw/net/e1000.c putsum: net_checksum_finish_nozero), for
    TCP as for UDP. The same number in ones' complement, so every receiver
    takes it; Wireshark calls it bad for TCP ("0xffff instead of 0x0000",
    RFC 1624). It happens to one segment in 65,536 on average, only where the
    card summed: the e1000's guest. Where the stack sums, TCP gets 0."""
    return ip_src == GUESTS["a"] and tcp_sum.lower() == "0xffff"


def test_every_segment_and_datagram_from_the_guests_has_a_correct_checksum(lab):
    # Runs last in this module: everything above is in the capture.
    lab.stop_captures()
    time.sleep(0.5)
    path = Path(lab.lan_pcap("lan0"))
    srcs = " || ".join(f"ip.src == {ip}" for ip in GUESTS.values())
    rows = pcap.tshark_decode(path, ("ip.src", "tcp.checksum", "tcp.checksum.status",
                                     "udp.checksum.status"),
                              f"({srcs}) && (tcp || udp)", prefs=pcap.CHECKSUM_PREFS)
    per_guest = {ip: 0 for ip in GUESTS.values()}
    bad = []
    for row in rows:
        status = row["tcp.checksum.status"] or row["udp.checksum.status"]
        per_guest[row["ip.src"]] += 1
        # 1: good; 0: bad; 2: unverified
        if status != "1" and not (status == "0" and card_ffff(row["ip.src"],
                                                               row["tcp.checksum"])):
            bad.append(row)
    assert bad == [], bad[:5]
    # Each guest's MiB (about 720 segments) and its datagrams are in it.
    assert all(n > MIB // 1460 + UDP_COUNT * len(UDP_SIZES) for n in per_guest.values()), \
        per_guest
    # scapy, independently of Wireshark.
    frames = guest_frames(path)
    wrong = []
    for p in frames:
        layer = TCP if TCP in p else UDP
        want, got = scapy_sum(p, layer), p[layer].chksum
        if got != want and not (layer is TCP and want == 0 and card_ffff(p[IP].src, hex(got))):
            wrong.append(p.summary())
    assert len(frames) == len(rows) and wrong == [], wrong[:5]
    # However much the stack handed the e1000 at once, the wire carries
    # Ethernet frames: no TCP segment longer than the MSS.
    longest = max(len(p[TCP].payload) for p in frames if TCP in p and p[IP].src == GUESTS["a"])
    assert longest == 1460
    assert max(len(p) for p in frames) <= 1514
