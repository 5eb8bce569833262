"""Where a transfer waited (tcpstall.py), on hand-made graphs whose answer is known."""

from __future__ import annotations

import pytest
from scapy.utils import wrpcap
from test_tcpgraph import C, S, seg

from xv6net import cli, tcpstall
from xv6net.tcpgraph import Connection, Graph


def graph(data, acks):
    """A Graph of the client's data: data = [(t, start, end)], acks = [(t, ack, right)]."""
    return Graph(Connection(1, C, S), C, S, 0, data=list(data),
                 acks=[(t, a) for t, a, _ in acks], windows=[(t, r) for t, _, r in acks])


def test_a_window_of_two_segments_makes_the_sender_wait_for_each_ack():
    # Two segments fill the window; each ACK opens it for two more, 0.2 ms later.
    g = graph([(0.0, 0, 1000), (0.0001, 1000, 2000),
               (0.0052, 2000, 3000), (0.0053, 3000, 4000)],
              [(-0.001, 0, 2000), (0.005, 2000, 4000), (0.010, 4000, 6000)])
    r = tcpstall.stalls(g)   # the first "ACK": the window the handshake said
    assert r.bytes == 4000 and r.mss == 1000 and r.data_segments == 4 and r.acks == 2
    assert r.seconds == pytest.approx(0.010)
    assert r.time_in["full"] == pytest.approx(0.0049 + 0.0047)
    # After each ACK everything sent is acknowledged until the sender's next
    # segment; with one segment out and room for another, the window is open.
    assert r.time_in["idle"] == pytest.approx(0.0002)
    assert r.time_in["open"] == pytest.approx(0.0001 + 0.0001)
    assert [(gap.state, round(gap.after_peer, 6)) for gap in r.gaps] == [("full", 0.0002)]
    assert r.zero_window == 0.0
    assert [round(x, 6) for x in sorted(r.rtts)] == [0.0047, 0.0048, 0.0049, 0.005]
    assert r.max_inflight == 2000 and r.capped == 0.0


def test_a_sender_held_by_its_own_buffer_is_capped():
    # Three segments out at most, whatever the (wide) window: the sender's limit.
    g = graph([(0.0, 0, 1000), (0.0001, 1000, 2000), (0.0002, 2000, 3000),
               (0.0031, 3000, 4000)],
              [(-0.001, 0, 100000), (0.003, 1000, 101000), (0.006, 4000, 104000)])
    r = tcpstall.stalls(g)
    assert r.max_inflight == 3000
    assert r.time_in["full"] == 0.0 and r.time_in["idle"] == 0.0
    assert r.capped == pytest.approx(0.0028 + 0.0029)
    assert any("of which within a segment of the most in flight (3000 bytes" in line
               for line in r.lines())


def test_a_late_sender_has_nothing_in_flight():
    # Everything is acknowledged 0.5 ms after it left, with a wide window, and
    # the sender comes back 3.5 ms later, after nothing.
    g = graph([(0.0, 0, 1000), (0.004, 1000, 2000)],
              [(0.0005, 1000, 100000), (0.0045, 2000, 101000)])
    r = tcpstall.stalls(g)
    assert r.time_in["idle"] == pytest.approx(0.0035)
    assert r.time_in["open"] == pytest.approx(0.001)
    assert r.time_in["full"] == 0.0
    (gap,) = r.gaps
    assert gap.state == "idle" and gap.after_peer == pytest.approx(0.0035)
    assert any("nothing in flight (the sender late): 0.004 s (77.8%)" in line
               for line in r.lines())


def test_a_zero_window_and_a_late_ack():
    # The receiver takes one segment, says window 0 20 ms later, opens it at 50 ms.
    g = graph([(0.0, 0, 1000), (0.0501, 1000, 2000)],
              [(0.020, 1000, 1000), (0.050, 1000, 5000), (0.051, 2000, 5000)])
    r = tcpstall.stalls(g)
    assert r.zero_window == pytest.approx(0.030)
    assert r.time_in["full"] == pytest.approx(0.030)   # a zero window is full, in flight or not
    assert r.time_in["open"] == pytest.approx(0.020 + 0.0009)
    assert [round(x, 6) for x in r.late_acks] == [0.020]
    assert r.gaps[0].state == "full" and r.gaps[0].after_peer == pytest.approx(0.0001)


def test_gaps_under_the_threshold_are_not_listed():
    g = graph([(0.0, 0, 1000), (0.0005, 1000, 2000)], [(0.001, 2000, 9000)])
    assert tcpstall.stalls(g).gaps == []
    assert len(tcpstall.stalls(g, gap=0.0001).gaps) == 1


def test_no_data_no_figures():
    r = tcpstall.stalls(graph([], [(0.0, 1, 100)]))
    assert r.seconds == 0.0 and r.bytes == 0 and r.gaps == []


def test_cli_reports_the_busiest_connection(tmp_path, capsys):
    c, s = 1001, 7001
    packets = [
        seg(1.0, C, S, "S", c - 1, window=64240),
        seg(1.001, S, C, "SA", s - 1, c, window=2000, options=[("MSS", 1000)]),
        seg(1.002, C, S, "A", c, s),
        seg(1.003, C, S, "PA", c, s, data=2000),   # two segments, cut after the capture
        # (GSO): the window is full
        seg(1.010, S, C, "A", s, c + 2000, window=2000),
        seg(1.011, C, S, "PA", c + 2000, s, data=1000),
        seg(1.012, S, C, "A", s, c + 3000, window=2000),
    ]
    path = tmp_path / "t.pcap"
    wrpcap(str(path), packets)
    assert cli.main(["pcap", "stalls", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("connection 1: 10.0.0.2:40000 > 10.0.0.1:5001: 3000 bytes")
    assert "2 data segments (MSS 1000)" in out   # the receiver's SYN says, not the lengths
    assert "window full (the receiver late): 0.007 s" in out
    assert "mostly full: 1, 0.008 s, ended 1 times by a frame from the receiver, " \
        "the next data 1.00 ms after it (median)" in out
    assert cli.main(["pcap", "stalls", str(path), "--conn", "2"]) == 1
