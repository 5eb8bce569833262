"""TCP time-sequence graphs from synthetic captures built with scapy."""

from __future__ import annotations

import pytest
from scapy.layers.inet import IP, TCP
from scapy.layers.l2 import Ether
from scapy.packet import Raw
from scapy.utils import wrpcap

from xv6net import cli, tcpgraph
from xv6net.tcpgraph import Endpoint

C, S = Endpoint("10.0.0.2", 40000), Endpoint("10.0.0.1", 5001)
ISN_C = (1 << 32) - 1500          # the client's data crosses 2^32
ISN_S = 7000


def seg(t: float, src: Endpoint, dst: Endpoint, flags: str, seq: int, ack: int = 0, *,  # noqa: PLR0917
        window: int = 1000, data: int = 0, options: list | None = None):
    packet = Ether() / IP(src=src.ip, dst=dst.ip) / TCP(
        sport=src.port, dport=dst.port, flags=flags, seq=seq % (1 << 32),
        ack=ack % (1 << 32), window=window, options=options or [])
    if data:
        packet = packet / Raw(b"x" * data)
    packet.time = t
    return packet


def transfer(isn_c: int = ISN_C, wscale: tuple[int | None, int | None] = (7, 2)):
    """Handshake (window scaling both ways unless a side is None), three 1000-byte
    segments from the client, the second lost and sent again, FIN, then a RST."""
    opt_c = [("MSS", 1460)] + ([("WScale", wscale[0])] if wscale[0] is not None else [])
    opt_s = [("MSS", 1460)] + ([("WScale", wscale[1])] if wscale[1] is not None else [])
    c = isn_c + 1
    return [
        seg(10.0, C, S, "S", isn_c, window=64240, options=opt_c),
        seg(10.1, S, C, "SA", ISN_S, c, window=65160, options=opt_s),
        seg(10.2, C, S, "A", c, ISN_S + 1),
        seg(10.3, C, S, "PA", c, ISN_S + 1, data=1000),
        seg(10.4, C, S, "PA", c + 1000, ISN_S + 1, data=1000),      # lost on the way
        seg(10.5, C, S, "PA", c + 2000, ISN_S + 1, data=1000),
        seg(10.6, S, C, "A", ISN_S + 1, c + 1000, window=500),
        seg(10.7, S, C, "A", ISN_S + 1, c + 1000, window=500),      # duplicate ACK
        seg(11.0, C, S, "PA", c + 1000, ISN_S + 1, data=1000),      # the retransmission
        seg(11.1, S, C, "A", ISN_S + 1, c + 3000, window=400),
        seg(11.2, C, S, "FA", c + 3000, ISN_S + 1),
        seg(11.3, S, C, "R", ISN_S + 1),
    ]


@pytest.fixture
def capture(tmp_path):
    def write(packets, name="t.pcap"):
        path = tmp_path / name
        wrpcap(str(path), packets)
        return path
    return write


def test_the_series_of_a_transfer_with_one_retransmission(capture):
    conns = tcpgraph.connections(tcpgraph.read_segments(capture(transfer())))
    assert len(conns) == 1 and (conns[0].client, conns[0].server) == (C, S)
    g = tcpgraph.graph(conns[0])
    assert (g.sender, g.receiver, g.scale) == (C, S, 2)
    times = lambda series: [round(item[0], 3) for item in series]   # noqa: E731
    assert [item[1:] for item in g.data] == [(1, 1001), (1001, 2001), (2001, 3001)]
    assert times(g.data) == [0.3, 0.4, 0.5]
    assert [item[1:] for item in g.retransmits] == [(1001, 2001)] and times(g.retransmits) == [1.0]
    assert [a for _, a in g.acks] == [1, 1001, 1001, 3001]
    # the SYN-ACK's window is never scaled; the others by the server's shift, 2
    assert [w for _, w in g.windows] == [1 + 65160, 1001 + 2000, 1001 + 2000, 3001 + 1600]
    assert [(round(t, 3), y, label) for t, y, label in g.marks] == [
        (0.0, 0, "SYN"), (0.1, 1, "SYN (peer)"), (1.2, 3001, "FIN"), (1.3, 3001, "RST (peer)")]


def test_sequence_numbers_are_unwrapped_across_two_to_the_32():
    wrap = tcpgraph._Unwrapper((1 << 32) - 10)
    assert [wrap(x) for x in [(1 << 32) - 10, (1 << 32) - 1, 5, 1000, 900]] == \
        [0, 9, 15, 1010, 910]


def test_the_same_series_whatever_the_isn(capture):
    low = tcpgraph.graph(tcpgraph.connections(tcpgraph.read_segments(
        capture(transfer(isn_c=12345), "low.pcap")))[0])
    high = tcpgraph.graph(tcpgraph.connections(tcpgraph.read_segments(
        capture(transfer(), "high.pcap")))[0])
    assert (low.data, low.retransmits, low.acks, low.windows) == \
        (high.data, high.retransmits, high.acks, high.windows)


def test_no_scaling_unless_both_syns_offer_it(capture):
    conn = tcpgraph.connections(tcpgraph.read_segments(capture(transfer(wscale=(7, None)))))[0]
    g = tcpgraph.graph(conn)
    assert g.scale == 0
    assert [w for _, w in g.windows][1:] == [1001 + 500, 1001 + 500, 3001 + 400]


def test_without_the_handshake_the_scale_is_unknown(capture):
    conn = tcpgraph.connections(tcpgraph.read_segments(capture(transfer()[3:])))[0]
    assert conn.client == C                       # the first segment's sender
    g = tcpgraph.graph(conn)
    assert g.scale is None
    assert [item[1:] for item in g.data] == [(0, 1000), (1000, 2000), (2000, 3000)]
    assert [w - a for (_, a), (_, w) in zip(g.acks, g.windows, strict=True)] == [500, 500, 400]


def test_connections_are_listed_in_order_and_a_reused_port_is_a_new_one(capture):
    other = Endpoint("10.0.0.3", 40001)
    packets = transfer()
    packets[5:5] = [seg(10.45, other, S, "S", 5), seg(10.46, S, other, "SA", 9, 6)]
    packets += [seg(12.0, C, S, "S", 777), seg(12.1, S, C, "SA", 55, 778),
                seg(12.2, S, C, "PA", 56, 778, data=300)]
    conns = tcpgraph.connections(tcpgraph.read_segments(capture(packets)))
    assert [(c.number, c.client, len(c.segments)) for c in conns] == \
        [(1, C, 12), (2, other, 2), (3, C, 3)]
    assert conns[0].payload(C) == 4000 and conns[0].flags_seen() == ["SYN", "FIN", "RST"]
    assert conns[0].line().startswith("  1  10.0.0.2:40000 > 10.0.0.1:5001  12 segments, "
                                      "4000 bytes >, 0 bytes <, SYN FIN RST")
    assert tcpgraph.graph(conns[2]).sender == S       # the side that sent data
    with pytest.raises(tcpgraph.TcpGraphError, match="no TCP connection 4"):
        tcpgraph.pick(conns, 4)


def test_non_tcp_and_truncated_frames_are_skipped(capture):
    packets = [Ether() / IP(src="10.0.0.2", dst="10.0.0.1", proto=6) / Raw(b"\x00" * 8),
               Ether() / IP(src="10.0.0.2", dst="10.0.0.1") / Raw(b"hello"), *transfer()]
    assert len(tcpgraph.read_segments(capture(packets))) == 12


def test_every_text_of_the_graph_is_inside_the_picture(capture, tmp_path):
    pytest.importorskip("matplotlib")
    g = tcpgraph.graph(tcpgraph.connections(tcpgraph.read_segments(capture(transfer())))[0])
    fig = tcpgraph.figure(g)
    fig.canvas.draw()
    drawn = fig.get_tightbbox(fig.canvas.get_renderer())
    picture = fig.bbox_inches
    assert drawn.x0 >= picture.x0 and drawn.x1 <= picture.x1, (drawn, picture)
    assert drawn.y0 >= picture.y0 and drawn.y1 <= picture.y1, (drawn, picture)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts == ["SYN", "SYN (peer)", "FIN", "RST (peer)"]
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert {"data segment (seq to seq+len)", "retransmission", "ACK", "SYN", "FIN",
            "RST"} <= set(labels)


def test_the_command_lists_and_draws(capture, tmp_path, capsys):
    path = capture(transfer())
    assert cli.main(["pcap", "tcp", str(path)]) == 0
    assert capsys.readouterr().out.startswith("  1  10.0.0.2:40000 > 10.0.0.1:5001")
    out = tmp_path / "g.png"
    assert cli.main(["pcap", "tcp", str(path), "--conn", "1", "-o", str(out)]) == 0
    assert "3 data segments, 1 retransmissions" in capsys.readouterr().out
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert cli.main(["pcap", "tcp", str(path), "--conn", "2"]) == 1
    assert "no TCP connection 2" in capsys.readouterr().err
    assert cli.main(["pcap", "tcp", str(path), "--conn", "1", "--sender",
                     "10.0.0.1:5001", "-o", str(out)]) == 0
    assert "0 data segments" in capsys.readouterr().out


def test_corrupted_segments_are_left_out_and_offloaded_ones_kept(capture):
    packets = [Ether(bytes(p)) for p in transfer()]   # checksums filled in
    for p in packets:
        p.time = 10.0
    flipped = bytearray(bytes(packets[6]))
    flipped[14 + 20 + 8] ^= 0x10                         # the ACK number of a server ACK
    offloaded = bytearray(bytes(packets[5]))
    ip = offloaded[14:]
    pseudo = bytes(ip[12:20]) + b"\0\x06" + (len(ip) - 20).to_bytes(2, "big")
    offloaded[14 + 20 + 16:14 + 20 + 18] = tcpgraph._ones_sum(pseudo).to_bytes(2, "big")
    assert tcpgraph.checksum_state(bytes(flipped[14:])) == "bad"
    assert tcpgraph.checksum_state(bytes(offloaded[14:])) == "offloaded"
    assert tcpgraph.checksum_state(bytes(packets[7])[14:]) == "ok"
    packets[6], packets[5] = Ether(bytes(flipped)), Ether(bytes(offloaded))
    segments = tcpgraph.read_segments(capture(packets))
    assert [s.corrupt for s in segments] == [False] * 6 + [True] + [False] * 5
    conn = tcpgraph.connections(segments)[0]
    assert len(conn.segments) == 11
    assert [a for _, a in tcpgraph.graph(conn).acks] == [1, 1001, 3001]
