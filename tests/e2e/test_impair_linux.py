"""The impairment relay between two Linux hosts (namespaces), no guest needed.

    namespace C: c0 10.9.0.2 ==veth== ix0 [impair.py] im0 ==veth== ib0 on br0 10.9.0.1 :namespace N

This is the shape the lab gives an impaired guest NIC (tap instead of ix0),
with Linux's TCP on both ends: a bulk transfer must arrive intact through
loss, duplication, reordering, delay and corruption, with the relay's
counters and Linux's retransmission counter showing the work; no impairment
must pass every frame unchanged; reordering must be visible in a capture.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from xv6net import cli, pcap, tcpgraph
from xv6net.lab import BridgeCapture
from xv6net.netns import Netns
from xv6net.relay import ImpairRelay, packet_argv

pytestmark = [pytest.mark.e2e, pytest.mark.root]

XFER = Path(__file__).with_name("xfer.py")
SERVER, CLIENT = "10.9.0.1", "10.9.0.2"
MIB = 1024 * 1024
XFER_TIMEOUT = 100.0


@dataclass
class Link:
    n: Netns               # the LAN side: bridge, relay, 10.9.0.1
    c: Netns               # the "guest" side: 10.9.0.2
    relay: ImpairRelay
    stack: ExitStack

    def capture(self, side: str, path: Path) -> BridgeCapture:
        """dumpcap on c0 (C) or ib0 (N), stopped when the link goes."""
        netns, iface = (self.c, "c0") if side == "c" else (self.n, "ib0")
        capture = BridgeCapture(netns, iface, path)
        capture.start()
        self.stack.callback(capture.stop)
        return capture


@contextmanager
def linux_link(spec: str) -> Iterator[Link]:
    with ExitStack() as stack:
        n = stack.enter_context(Netns())
        c = stack.enter_context(Netns())
        n.add_bridge("br0")
        n.add_address("br0", f"{SERVER}/24")
        n.add_veth("im0", "ib0", bridge="br0")
        n.add_veth("ix0", "c0")
        n.detach("ix0")
        n.detach("im0")
        n.move_link("c0", c)
        c.no_offload("c0")
        c.add_address("c0", f"{CLIENT}/24")
        c.link_up("c0")
        relay = ImpairRelay(packet_argv("ix0", "im0", spec), n.popen, label="c0<->ib0")
        relay.start()
        stack.callback(relay.stop)
        yield Link(n, c, relay, stack)


def retransmits(netns: Netns) -> int:
    """Linux's TCP RetransSegs in the namespace."""
    lines = [line.split() for line in netns.run(["cat", "/proc/net/snmp"]).stdout.splitlines()
             if line.startswith("Tcp:")]
    return int(lines[1][lines[0].index("RetransSegs")])


def flows(frames: list[bytes]) -> dict[bytes, Counter[bytes]]:
    """Frames by flow (ethertype, and for IPv4 the protocol, addresses and
    ports), each flow's frames as a multiset: which frames and how many times
    each, not their order."""
    by_flow: dict[bytes, Counter[bytes]] = {}
    for frame in frames:
        key = frame[12:14] + (frame[23:24] + frame[26:38] if frame[12:14] == b"\x08\x00" else b"")
        by_flow.setdefault(key, Counter())[frame] += 1
    return by_flow


def transfer(link: Link, size: int, seeds: tuple[int, int] = (1, 2)) -> float:
    """size bytes C->N and N->C at the same time; both checked by SHA-256; the time taken."""
    from xfer import expected  # noqa: PLC0415 (beside this file, not a package)
    sinks = [link.n.popen([sys.executable, str(XFER), "sink", "5001"]),
             link.c.popen([sys.executable, str(XFER), "sink", "5002"])]
    procs = list(sinks)
    try:
        for sink in sinks:
            assert sink.stdout is not None
            assert sink.stdout.readline().strip() == "listening"
        start = time.monotonic()
        procs += [link.c.popen([sys.executable, str(XFER), "source", SERVER, "5001",
                                str(size), str(seeds[0])]),
                  link.n.popen([sys.executable, str(XFER), "source", CLIENT, "5002",
                                str(size), str(seeds[1])])]
        results = [proc.communicate(timeout=XFER_TIMEOUT) for proc in procs]
        took = time.monotonic() - start
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    for proc, (_, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err
    got = [json.loads(out.splitlines()[-1]) for out, _ in results]
    assert got[0] == got[2] == expected(size, seeds[0])    # C -> N
    assert got[1] == got[3] == expected(size, seeds[1])    # N -> C
    return took


def test_no_impairment_passes_every_frame_unchanged(tmp_path):
    with linux_link("seed=1") as link:
        before, after = link.capture("c", tmp_path / "c0.pcap"), \
            link.capture("n", tmp_path / "ib0.pcap")
        ping = link.c.run(["ping", "-c", "50", "-i", "0.01", "-s", "300", "-p", "a5c3",
                           "-W", "2", SERVER], timeout=30, check=False)
        assert " 0% packet loss" in ping.stdout, ping.stdout
        took = transfer(link, 10 * MIB)
        before.stop()
        after.stop()
        counts = link.relay.stop()
        c_mac_text = link.c.link_mac("c0")
    print(f"10 MiB each way at once, no impairment: {took:.1f} s, "
          f"{2 * 10 / took:.1f} MiB/s through the relay")
    # Nothing lost outside the relay's sight: neither capture nor the relay's sockets.
    assert before.dropped == after.dropped == 0, (before.dropped, after.dropped)
    for direction in counts.values():
        assert direction["in"] == direction["out"] > 1000
        assert direction["dropped"] == direction["duplicated"] == direction["reordered"] == \
            direction["corrupted"] == direction["overflow"] == direction["errors"] == \
            direction["missed"] == 0, direction
    sent = [f.data for f in pcap.frames(before.path)]
    seen = [f.data for f in pcap.frames(after.path)]
    c_mac = bytes.fromhex(c_mac_text.replace(":", ""))
    # every frame C sent reached the bridge byte for byte, and back, once each.
    # Not their order, even within a flow: a veth hands each frame to the
    # receiving side through the backlog of the CPU that sent it, so two
    # frames sent on two CPUs (a TCP receiver's ACKs go out from its softirq
    # and from the reading process) may reach ix0 in the other order than c0's
    # capture saw them (CI saw it once, under load). That the relay itself kept
    # the order it read is its counters' "reordered": 0 below.
    # (Linux's unsolicited IGMP reports, sent to 01:00:5e:..., may pass while
    # only one of the two captures runs: left out)
    sent = [d for d in sent if d[:3] != b"\x01\x00\x5e"]
    seen = [d for d in seen if d[:3] != b"\x01\x00\x5e"]
    for outbound in (True, False):
        here = [d for d in sent if (d[6:12] == c_mac) == outbound]
        there = [d for d in seen if (d[6:12] == c_mac) == outbound]
        assert len(here) > 5000
        assert flows(here) == flows(there)


def test_five_percent_loss_transfer_arrives_intact(tmp_path):
    with linux_link("loss=5%,seed=3") as link:
        retrans = [retransmits(link.c), retransmits(link.n)]
        took = transfer(link, 10 * MIB)
        retrans = [retransmits(link.c) - retrans[0], retransmits(link.n) - retrans[1]]
        counts = link.relay.stop()
    print(f"10 MiB each way at once through loss=5%: {took:.1f} s; relay {counts}; "
          f"retransmitted C {retrans[0]} N {retrans[1]}")
    for direction in counts.values():
        assert 0.03 < direction["dropped"] / direction["in"] < 0.07
        assert direction["out"] == direction["in"] - direction["dropped"] - direction["pending"]
    assert min(retrans) > 0


def test_the_issue_mix_transfer_arrives_intact(tmp_path):
    spec = "loss=5%,reorder=25%,dup=1%,corrupt=1%,delay=20ms:10ms,seed=5"
    with linux_link(spec) as link:
        retrans = [retransmits(link.c), retransmits(link.n)]
        took = transfer(link, 10 * MIB)
        retrans = [retransmits(link.c) - retrans[0], retransmits(link.n) - retrans[1]]
        counts = link.relay.stop()
    print(f"10 MiB each way at once through {spec}: {took:.1f} s; relay {counts}; "
          f"retransmitted C {retrans[0]} N {retrans[1]}")
    for direction in counts.values():
        for action in ("dropped", "duplicated", "reordered", "corrupted"):
            assert direction[action] > 0, (action, direction)
        # (frames still delayed when the relay stopped, the last ACKs of a
        # 20 ms link, never left: "pending")
        assert direction["out"] == direction["in"] - direction["dropped"] + \
            direction["duplicated"] - direction["overflow"] - direction["errors"] - \
            direction["pending"]
    assert min(retrans) > 0


def test_reordering_shows_in_a_capture(tmp_path):
    with linux_link("reorder=25%,seed=4") as link:
        ping = link.c.run(["ping", "-c", "1", "-W", "2", SERVER], timeout=10, check=False)
        assert " 0% packet loss" in ping.stdout, ping.stdout     # ARP done before
        capture = link.capture("n", tmp_path / "ib0.pcap")
        link.c.run([sys.executable, str(XFER), "datagrams", SERVER, "9", "200", "0.002"],
                   timeout=30)
        capture.stop()
        counts = link.relay.stop()
    numbers = [int.from_bytes(f.data[42:46], "big") for f in pcap.frames(capture.path)
               if f.ethertype == 0x0800 and f.data[23] == 17 and f.data[36:38] == b"\x00\x09"]
    assert sorted(numbers) == list(range(200))
    late = sum(1 for i in range(1, len(numbers)) if numbers[i] < numbers[i - 1])
    to_lan = counts["ix0>im0"]
    print(f"{late} of 200 datagrams arrived after a later one; relay {to_lan}")
    assert late > 20
    assert to_lan["reordered"] - late <= 3      # ARP or the ping may be the ones held


def test_the_graph_of_a_lossy_transfer_marks_its_retransmissions(tmp_path):
    """xv6net pcap tcp on Linux's TCP through loss: the retransmissions it marks
    are the ones tshark's TCP analysis finds."""
    with linux_link("loss=5%,seed=6") as link:
        capture = link.capture("n", tmp_path / "ib0.pcap")      # N's data before the loss
        transfer(link, MIB)
        capture.stop()
    conns = tcpgraph.connections(tcpgraph.read_segments(capture.path))
    assert len(conns) == 2
    conn = next(c for c in conns if c.server.port == 5002)     # N sends to C
    g = tcpgraph.graph(conn)
    assert str(g.sender.ip) == SERVER
    assert sum(b - a for _, a, b in g.data) == MIB              # every byte once, in order
    assert max(b for _, _, b in g.data + g.retransmits) == MIB + 1
    sent = [label for _, _, label in g.marks if label in ("SYN", "FIN")]
    assert sent[0] == "SYN" and sent[-1] == "FIN"     # either may be sent again if lost
    flagged = pcap.tshark_decode(
        capture.path, ("frame.number",),
        f"tcp.srcport == {g.sender.port} && tcp.len > 0 && (tcp.analysis.retransmission || "
        "tcp.analysis.fast_retransmission || tcp.analysis.spurious_retransmission || "
        "tcp.analysis.out_of_order)")
    print(f"{len(g.retransmits)} retransmissions marked, tshark flags {len(flagged)}")
    assert len(g.retransmits) == len(flagged) > 0
    out = tmp_path / "conn.png"
    assert cli.main(["pcap", "tcp", str(capture.path), "--conn", str(conn.number),
                     "-o", str(out)]) == 0
    assert out.stat().st_size > 10_000
