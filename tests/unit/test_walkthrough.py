"""The walkthrough of `xv6net trace` (walkthrough.py): trace points found in
the source, trace lines grouped by frame and matched to a capture, and the
Markdown and HTML it renders, on pcaps made here with scapy and traces
copied from real runs. No QEMU, no root."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from scapy.layers.inet import ICMP, IP, TCP
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Raw
from scapy.utils import wrpcap

from xv6net import walkthrough as wt

ROOT = Path(__file__).resolve().parents[2]
GUEST = "52:54:76:36:00:00"
PEER = "52:54:76:37:00:00"
BCAST = "ff:ff:ff:ff:ff:ff"
G_IP, P_IP = "10.0.0.2", "10.0.0.1"

# `xv6net trace ping`'s trace, as the guest printed it.
PING_TRACE = """\
$ nettrace show
[    1.080] cpu0 ip_output: proto 1 to 10.0.0.1 via eth0, 84 bytes
[    1.080] cpu0 arp_output: 10.0.0.1 is known -> ether
[    1.080] cpu0 ether_output: eth0, 98 bytes, type 0x0800
[    1.080] cpu0 e1000_xmit: eth0 slot 3, 98 bytes
[    1.080] cpu0 ether_input: eth0, 98 bytes, type 0x0800 -> ip
[    1.080] cpu0 ip_input: from 10.0.0.1, for us, proto 1 -> deliver
[    1.080] cpu0 icmp_input: type 0 code 0
[    1.090] cpu0 ether_input: eth0, 98 bytes, type 0x0800 -> ip
[    1.090] cpu0 ip_input: from 10.0.0.1, for us, proto 1 -> deliver
[    1.090] cpu0 icmp_input: type 8 code 0, echo request -> reply
[    1.090] cpu0 ip_output: proto 1 to 10.0.0.1 via eth0, 84 bytes
[    1.090] cpu0 arp_output: 10.0.0.1 is known -> ether
[    1.090] cpu0 ether_output: eth0, 98 bytes, type 0x0800
[    1.090] cpu0 e1000_xmit: eth0 slot 4, 98 bytes
"""

# `xv6net trace arp`: the echo request waits in ARP's queue; ARP's own
# request is sent first, though its journey began second.
ARP_TRACE = """\
[    1.000] cpu0 ip_output: proto 1 to 10.0.0.1 via eth0, 84 bytes
[    1.000] cpu0 arp_output: 10.0.0.1 unresolved -> queued, request sent
[    1.000] cpu0 ether_output: eth0, 60 bytes, type 0x0806
[    1.000] cpu0 e1000_xmit: eth0 slot 1, 60 bytes
[    1.000] cpu0 ether_input: eth0, 60 bytes, type 0x0806 -> arp
[    1.000] cpu0 ether_output: eth0, 98 bytes, type 0x0800
[    1.000] cpu0 e1000_xmit: eth0 slot 2, 98 bytes
[    1.010] cpu0 arp_input: reply from 10.0.0.1, learned -> done
[    1.010] cpu0 ether_input: eth0, 98 bytes, type 0x0800 -> ip
[    1.010] cpu0 ip_input: from 10.0.0.1, for us, proto 1 -> deliver
[    1.010] cpu0 icmp_input: type 0 code 0
"""

# A SYN lost on the way and sent again by the timer (`xv6net trace tcp-loss`).
LOSS_TRACE = """\
[    1.140] cpu0 tcp_output: port 49152 [S] seq 100 ack 0, 0 bytes
[    1.140] cpu0 ip_output: proto 6 to 10.0.0.1 via eth0, 40 bytes
[    1.140] cpu0 arp_output: 10.0.0.1 is known -> ether
[    1.140] cpu0 ether_output: eth0, 60 bytes, type 0x0800
[    1.140] cpu0 e1000_xmit: eth0 slot 2, 60 bytes
[    2.140] cpu0 tcp_timer: port 49152, retransmission timer expired (rto 100 ticks, backoff 0) \
-> send again from seq 100
[    2.140] cpu0 tcp_output: port 49152 [S] seq 100 ack 0, 0 bytes
[    2.140] cpu0 ip_output: proto 6 to 10.0.0.1 via eth0, 40 bytes
[    2.140] cpu0 arp_output: 10.0.0.1 is known -> ether
[    2.140] cpu0 ether_output: eth0, 60 bytes, type 0x0800
[    2.140] cpu0 e1000_xmit: eth0 slot 3, 60 bytes
"""


def echo(way, kind, ident=6, *, far=P_IP):
    """An ICMP echo (kind 8) or reply (0) the guest sends ("out") or receives ("in")."""
    macs, ips = ((GUEST, PEER), (G_IP, far)) if way == "out" else ((PEER, GUEST), (far, G_IP))
    return (Ether(src=macs[0], dst=macs[1]) / IP(src=ips[0], dst=ips[1], id=ident) /
            ICMP(type=kind, id=ident, seq=1) / Raw(bytes(range(56))))


def write(tmp_path: Path, packets) -> list[wt.WireFrame]:
    for offset, packet in enumerate(packets):
        packet.time = 1000.0 + offset * 0.01
    path = tmp_path / "c.pcap"
    wrpcap(str(path), packets)
    return wt.read_frames(path)


def arp_request():
    return Ether(src=GUEST, dst=BCAST) / ARP(op=1, hwsrc=GUEST, psrc=G_IP, pdst=P_IP) / \
        Raw(bytes(18))


def arp_reply():   # Linux's, unpadded: 42 bytes on the wire, 60 once the card pads it
    return Ether(src=PEER, dst=GUEST) / ARP(op=2, hwsrc=PEER, psrc=P_IP, hwdst=GUEST,
                                            pdst=G_IP)


@pytest.fixture(scope="module")
def points():
    return wt.trace_points(ROOT)


def by_number(walk: wt.Walkthrough) -> dict[int, list[str]]:
    """Frame number -> the messages of the trace lines beside it."""
    return {s.frame.number: [ln.message for ln in s.journey.lines] if s.journey else []
            for s in walk.steps if s.frame is not None}


# ---- the source ------------------------------------------------------------------

C_SOURCE = """\
// a comment(
#define TRACEIT(pb, ...) NETTRACE(pb, "never: a definition")

static int
helper(int x)
{
  return x;
}

void
foo_input(struct pbuf *pb)
{
  int n = helper(1);
  NETTRACE(pb, "foo_input: %d bytes, type 0x%04x "
               "-> %s", n, 1, "bar");
  if (n)
    nettrace_log("foo_input: 100%% done");
}

int proto(void);
"""


def test_functions_and_the_trace_points_of_a_small_tree(tmp_path):
    assert wt.functions(C_SOURCE) == [("helper", 5, 8), ("foo_input", 11, 18)]
    assert wt.enclosing(C_SOURCE, 14) == "foo_input"
    assert wt.enclosing(C_SOURCE, 9) is None
    (tmp_path / "kernel" / "net").mkdir(parents=True)
    (tmp_path / "kernel" / "net" / "foo.c").write_text(C_SOURCE)
    found = wt.trace_points(tmp_path)
    assert [(p.file, p.line, p.function, p.fmt) for p in found] == [
        ("kernel/net/foo.c", 14, "foo_input", "foo_input: %d bytes, type 0x%04x -> %s"),
        ("kernel/net/foo.c", 17, "foo_input", "foo_input: 100%% done")]
    assert found[0].pattern.match("foo_input: 60 bytes, type 0x0806 -> arp")
    assert not found[0].pattern.match("foo_input: 60 bytes, type 0x0806")
    assert found[1].pattern.match("foo_input: 100% done")
    with pytest.raises(wt.WalkthroughError):
        wt.trace_points(tmp_path / "kernel")


def test_the_kernels_trace_points_are_found_where_they_are(points):
    names = {(p.name, p.function) for p in points}
    for pair in [("ether_input", "ether_input"), ("ip_output", "ip_output"),
                 ("e1000_xmit", "e1000_xmit"), ("tcp_output", "sendseg"),
                 ("tcp_timer", "timers"), ("tcp_input", "seginput")]:
        assert pair in names
    for p in points:   # each at a line that makes the call, inside its function
        text = (ROOT / p.file).read_text()
        assert re.search(r"NETTRACE|SEGTRACE|nettrace_log", text.splitlines()[p.line - 1])
        assert wt.enclosing(text, p.line) == p.function


# ---- merging -------------------------------------------------------------------

def test_a_ping_both_ways_is_merged_frame_by_frame(tmp_path, points):
    before = [arp_request(), arp_reply(), echo("out", 8, 4),
              echo("in", 0, 4)]   # the untraced warm-up ping
    traced = [echo("out", 8), echo("in", 0),
              echo("in", 8, 9), echo("out", 0, 9)]
    frames = write(tmp_path, before + traced)
    walk = wt.build("t", "intro", PING_TRACE, frames, points=points, guest_mac=GUEST,
                    start=4, end=8)
    got = by_number(walk)
    assert sorted(got) == [5, 6, 7, 8]                 # only the traced window
    assert [m.split(":")[0] for m in got[5]] == ["ip_output", "arp_output", "ether_output",
                                                 "e1000_xmit"]
    assert got[6][-1] == "icmp_input: type 0 code 0"
    assert got[7][-1] == "icmp_input: type 8 code 0, echo request -> reply"
    assert got[8][0] == "ip_output: proto 1 to 10.0.0.1 via eth0, 84 bytes"
    assert walk.unplaced == 0
    step = next(s for s in walk.steps if s.frame and s.frame.number == 7)
    assert [(ln.point.function, ln.point.file) for ln in step.journey.lines] == [
        ("ether_input", "kernel/net/ether.c"), ("ip_input", "kernel/net/ip.c"),
        ("icmp_input", "kernel/net/icmp.c")]


def test_a_queued_packet_and_arps_request_each_get_their_own_frame(tmp_path, points):
    frames = write(tmp_path, [arp_request(), arp_reply(), echo("out", 8),
                              echo("in", 0)])
    walk = wt.build("t", "", ARP_TRACE, frames, points=points, guest_mac=GUEST)
    got = by_number(walk)
    assert got[1] == ["ether_output: eth0, 60 bytes, type 0x0806",
                      "e1000_xmit: eth0 slot 1, 60 bytes"]
    assert got[2] == ["ether_input: eth0, 60 bytes, type 0x0806 -> arp",
                      "arp_input: reply from 10.0.0.1, learned -> done"]
    assert got[3] == ["ip_output: proto 1 to 10.0.0.1 via eth0, 84 bytes",
                      "arp_output: 10.0.0.1 unresolved -> queued, request sent",
                      "ether_output: eth0, 98 bytes, type 0x0800",
                      "e1000_xmit: eth0 slot 2, 98 bytes"]
    assert got[4][-1] == "icmp_input: type 0 code 0"


def syn(seq=100):
    return Ether(src=GUEST, dst=PEER) / IP(src=G_IP, dst=P_IP) / \
        TCP(sport=49152, dport=7009, flags="S", seq=seq, window=65535) / Raw(bytes(6))


def test_a_timer_goes_before_the_segment_it_sent_again(tmp_path, points):
    frames = write(tmp_path, [syn(), syn()])
    walk = wt.build("t", "", LOSS_TRACE, frames, points=points, guest_mac=GUEST)
    kinds = [("frame", s.frame.number) if s.frame else ("kernel", s.journey.lines[0].name)
             for s in walk.steps]
    assert kinds == [("frame", 1), ("kernel", "tcp_timer"), ("frame", 2)]
    assert by_number(walk)[2][0] == "tcp_output: port 49152 [S] seq 100 ack 0, 0 bytes"
    timer = walk.steps[1].journey.lines[0].point
    assert (timer.file, timer.function) == ("kernel/net/tcp_timer.c", "timers")


def test_a_frame_of_another_size_is_not_taken(tmp_path, points):
    frames = write(tmp_path, [echo("out", 8, 4) / Raw(b"extra"),
                              echo("out", 8, far="10.0.0.9")])
    walk = wt.build("t", "", PING_TRACE, frames, points=points, guest_mac=GUEST)
    assert by_number(walk) == {1: [], 2: []}           # longer; not to 10.0.0.1


# ---- rendering -------------------------------------------------------------------

def test_markdown_and_html_link_each_line_to_its_source(tmp_path, points):
    frames = write(tmp_path, [echo("out", 8), echo("in", 0),
                              arp_request()])
    walk = wt.build("Ping <one>", "It pings.", PING_TRACE, frames, points=points,
                    guest_mac=GUEST)
    md = wt.render_markdown(walk, "../")
    assert md.startswith("# Ping <one>\n\nIt pings.\n")
    assert "| 1 | +0.000 | sent | IPv4 10.0.0.2 > 10.0.0.1 ICMP echo request id 6 seq 1 | 4 |" \
        in md
    ip = next(p for p in points if p.name == "ip_output")
    assert f"[ip_output() at kernel/net/ip.c:{ip.line}](../kernel/net/ip.c#L{ip.line})" in md
    assert "*Not in the trace (outside its filter, or before it was on).*" in md   # the ARP
    assert "0000  52 54 76 37 00 00 52 54 76 36 00 00 08 00 45 00" in md
    # a sent frame: the code, then the bytes; a received one the other way round
    sent = md.index("### Frame 1")
    assert md.index("ip_output:", sent) < md.index("- **Ethernet**", sent)
    got = md.index("### Frame 2")
    assert md.index("- **Ethernet**", got) < md.index("ether_input:", got)
    page = wt.render_html(walk, "../")
    assert "<title>Ping &lt;one&gt;</title>" in page
    assert f'<a href="../kernel/net/ip.c#L{ip.line}">' in page
    assert "<script" not in page


def test_the_frames_of_a_capture_still_being_written_are_counted(tmp_path):
    frames = write(tmp_path, [arp_request(), arp_reply()])
    path = tmp_path / "c.pcap"
    assert wt.count_frames(path) == len(frames) == 2
    path.write_bytes(path.read_bytes()[:-5])           # the last record cut short
    assert wt.count_frames(path) == 1
    assert wt.count_frames(tmp_path / "missing.pcap") == 0


def test_relative_base(tmp_path):
    assert wt.relative_base(ROOT / "docs", ROOT) == "../"
    assert wt.relative_base(ROOT, ROOT) == ""


def test_check_links_finds_a_link_that_rotted(tmp_path, points):
    frames = write(tmp_path, [echo("out", 8), echo("in", 0)])
    walk = wt.build("t", "", PING_TRACE, frames, points=points, guest_mac=GUEST)
    md = wt.render_markdown(walk, "../")
    docs = ROOT / "docs"
    assert len(wt.source_links(md)) == 14   # the unmatched ones too, as kernel steps
    assert wt.check_links(md, docs, ROOT) == []
    ip = next(p for p in points if p.name == "ip_input" and "from" in p.fmt)
    moved = md.replace(f"ip.c:{ip.line}](../kernel/net/ip.c#L{ip.line})",
                       f"ip.c:{ip.line + 1}](../kernel/net/ip.c#L{ip.line + 1})")
    assert set(wt.check_links(moved, docs, ROOT)) == {
        f"ip_input() at kernel/net/ip.c:{ip.line + 1}: no trace call on that line"}
    renamed = md.replace("[icmp_input() at", "[icmp_inputx() at")
    assert wt.check_links(renamed, docs, ROOT)[0].endswith("that line is in icmp_input()")
    assert wt.check_links(md, ROOT, ROOT)[0].startswith("ip_output() at kernel/net/ip.c")


def test_the_life_of_a_packet_doc_still_points_at_the_code():
    """docs/life-of-a-packet.md is generated (xv6net trace ... --markdown): each
    of its links must still lead to the function it names, at a trace call."""
    doc = ROOT / "docs" / "life-of-a-packet.md"
    text = doc.read_text()
    assert "## A ping, both ways" in text and "## A TCP connection" in text
    assert len(wt.source_links(text)) >= 40
    assert wt.check_links(text, doc.parent, ROOT) == []
