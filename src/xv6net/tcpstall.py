"""Where a bulk TCP transfer waited, from a capture (`xv6net pcap stalls`).

    g = tcpgraph.graph(conn)            # the data sender's view (tcpgraph.py)
    report = stalls(g, gap=0.001)
    print("\\n".join(report.lines()))

The capture is replayed in time order, keeping what a watcher on the wire
knows: the highest sequence number the sender has sent (SND.MAX), the
receiver's highest cumulative ACK and the right edge of its window (ACK +
window). Between two frames that state holds still, so the transfer's time
(from the first data segment to the ACK of the last byte) splits into:

- **nothing in flight**: every byte sent is acknowledged; the sender has
  nothing outstanding and sends nothing: it is the one that is late (its
  program, its CPU, or its host);
- **window full**: less than one segment of room left in the receiver's
  advertised window (or a zero window): the sender may not send; the
  receiver is the one that is late (it has not read, or not said so);
- **open**: data in flight and room to send more: the sender may send, and
  either does, or is held by its congestion window, its CPU or its program.

And every gap between two data segments longer than `gap` is listed with
the state it spent most of its time in and what came before its end: the sender's next segment came
after a frame from the receiver (an ACK or a window update: how long after
it is the sender's reaction time) or after nothing (the sender resumed on
its own). Late ACKs are the receiver's ACKs that came more than 10 ms after
the first data segment it had not answered with any frame (a delayed-ACK
timer, or a receiver that did not run). A capture on the bridge sees frames
as they leave or reach the guest's tap: times are the wire's, between the
two stacks.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from xv6net.tcpgraph import Graph

LATE_ACK = 0.010   # an ACK later than this after the data it covers is a late one


@dataclass
class Gap:
    """A pause between two data segments of the sender."""

    start: float              # the last data segment before it
    end: float                # the first after it
    state: str                # "idle", "full" or "open": the state it spent most in
    after_peer: float | None  # seconds from the receiver's last frame to the end, if one came


@dataclass
class Stalls:
    """The split of a transfer's time, and its gaps."""

    sender: str
    receiver: str
    seconds: float = 0.0
    bytes: int = 0
    data_segments: int = 0
    acks: int = 0
    time_in: dict[str, float] = field(default_factory=lambda: {"idle": 0.0, "full": 0.0,
                                                               "open": 0.0})
    zero_window: float = 0.0
    gaps: list[Gap] = field(default_factory=list)
    late_acks: list[float] = field(default_factory=list)   # each one's lateness, seconds
    mss: int = 0
    max_inflight: int = 0      # the most bytes in flight at any time
    capped: float = 0.0        # time "open" with (nearly) that most in flight
    rtts: list[float] = field(default_factory=list)   # each first-sent segment to its ACK

    def gap_summary(self) -> dict[str, tuple[int, float]]:
        """Gaps by the state they spent most in: (count, total seconds)."""
        out: dict[str, tuple[int, float]] = {}
        for gap in self.gaps:
            count, total = out.get(gap.state, (0, 0.0))
            out[gap.state] = (count + 1, total + gap.end - gap.start)
        return out

    def lines(self) -> Iterator[str]:
        rate = self.bytes * 8 / self.seconds / 1e6 if self.seconds else 0.0
        yield (f"{self.sender} > {self.receiver}: {self.bytes} bytes in {self.seconds:.3f} s "
               f"({rate:.1f} Mbit/s), {self.data_segments} data segments "
               f"(MSS {self.mss}), {self.acks} ACKs")
        names = {"idle": "nothing in flight (the sender late)",
                 "full": "window full (the receiver late)",
                 "open": "in flight, room to send (sending, or cwnd/CPU)"}
        for state, label in names.items():
            share = self.time_in[state] / self.seconds if self.seconds else 0.0
            yield f"  {label}: {self.time_in[state]:.3f} s ({share:.1%})"
        share = self.capped / self.seconds if self.seconds else 0.0
        yield (f"    of which within a segment of the most in flight ({self.max_inflight} "
               f"bytes: the sender's buffer or cwnd): {self.capped:.3f} s ({share:.1%})")
        yield f"  zero window: {self.zero_window:.3f} s"
        if self.rtts:
            rtts = sorted(self.rtts)
            median, p90 = rtts[len(rtts) // 2], rtts[len(rtts) * 9 // 10]
            rate = self.bytes / self.seconds if self.seconds else 0.0
            yield (f"  segment to its ACK: median {median * 1e3:.2f} ms, p90 {p90 * 1e3:.2f} ms; "
                   f"rate x median = {rate * median / 1024:.0f} KiB in flight needed")
        summary = self.gap_summary()
        total = sum(t for _, t in summary.values())
        yield (f"  gaps between data segments > threshold: {len(self.gaps)}, "
               f"{total:.3f} s in all")
        for state, (count, seconds) in sorted(summary.items()):
            gaps = [g for g in self.gaps if g.state == state]
            peer = sorted(g.after_peer for g in gaps if g.after_peer is not None)
            reaction = (f", ended {len(peer)} times by a frame from the receiver, "
                        f"the next data {peer[len(peer) // 2] * 1e3:.2f} ms after it "
                        "(median)") if peer else ", none ended by a frame from the receiver"
            yield f"    mostly {state}: {count}, {seconds:.3f} s{reaction}"
        late = self.late_acks
        yield (f"  ACKs more than {LATE_ACK * 1e3:.0f} ms after the data: {len(late)}"
               + (f", longest {max(late) * 1e3:.1f} ms" if late else ""))


def _events(g: Graph) -> list[tuple[float, int, str, int, int]]:
    """Data segments and ACKs in time order: (time, order, kind, a, b);
    data: a, b = start, end; ACK: a, b = ack, right edge. The order keeps
    frames of one timestamp as captured (sender's first, as graph() read them
    in capture order per side)."""
    events = [(t, i, "data", start, end)
              for i, (t, start, end) in enumerate(sorted(g.data + g.retransmits))]
    events += [(t, i, "ack", ack, right)
               for i, ((t, ack), (_, right)) in enumerate(zip(g.acks, g.windows, strict=True))]
    events.sort(key=lambda e: (e[0], e[1], e[2] == "data"))
    return events


def _most_in_flight(events: list[tuple[float, int, str, int, int]], first_byte: int) -> int:
    sent = ack = first_byte
    most = 0
    for _, _, kind, a, b in events:
        if kind == "data":
            sent = max(sent, b)
        else:
            ack = max(ack, a)
        most = max(most, sent - ack)
    return most


def _mss(g: Graph) -> int:
    """The MSS the receiver announced; without its SYN, the most common
    length (the largest may be several segments that the sender's stack cuts
    only after the capture point: Linux's GSO, captured on a bridge)."""
    syn = next((s for s in g.conn.segments if s.src == g.receiver and s.has("S")), None)
    if syn is not None and syn.mss:
        return syn.mss
    return Counter(end - start for _, start, end in g.data + g.retransmits).most_common(1)[0][0]


def _state(sent: int, ack: int, right: int | None, mss: int) -> str:
    """right is None until the receiver's first frame: no window known, none full."""
    if right is not None and right - max(sent, ack) < mss:
        return "full"
    return "idle" if sent <= ack else "open"


def stalls(g: Graph, gap: float = 0.001) -> Stalls:
    """Split g's transfer (first data segment to the ACK of its last byte)."""
    out = Stalls(str(g.sender), str(g.receiver))
    segments = g.data + g.retransmits
    if not segments:
        return out
    out.mss = _mss(g)
    out.data_segments = len(segments)
    first_byte = min(start for _, start, _ in segments)
    last_byte = max(end for _, _, end in segments)
    out.bytes = last_byte - first_byte
    sent = ack = first_byte
    right: int | None = None
    start: float | None = None     # the first data segment's time
    then = 0.0                     # the previous event's time
    last_data = last_peer = None   # times of the sender's last data, the receiver's last frame
    waiting: float | None = None   # the first data segment no receiver frame has followed
    since_data = dict.fromkeys(out.time_in, 0.0)   # the split since the last data segment
    events = _events(g)
    out.max_inflight = _most_in_flight(events, first_byte)
    pending: list[tuple[int, float]] = []   # (end, time) of first-sent segments not yet ACKed
    for t, _, kind, a, b in events:
        if start is not None:
            state = _state(sent, ack, right, out.mss)
            out.time_in[state] += t - then
            since_data[state] += t - then
            if state == "open" and sent - ack > out.max_inflight - out.mss:
                out.capped += t - then
            if right is not None and right <= ack:
                out.zero_window += t - then
        then = t
        if kind == "data":
            start = t if start is None else start
            if last_data is not None and t - last_data > gap:
                peer = t - last_peer if last_peer is not None and last_peer > last_data else None
                out.gaps.append(Gap(last_data, t, max(since_data, key=since_data.__getitem__),
                                    peer))
            since_data = dict.fromkeys(out.time_in, 0.0)
            if b > sent and a >= sent:
                pending.append((b, t))
            sent = max(sent, b)
            last_data = t
            waiting = t if waiting is None else waiting
            continue
        out.acks += start is not None
        if a > ack and waiting is not None and t - waiting > LATE_ACK:
            out.late_acks.append(t - waiting)
        waiting = None
        while pending and pending[0][0] <= a:
            out.rtts.append(t - pending.pop(0)[1])
        ack, right, last_peer = max(ack, a), b, t
        if start is not None and ack >= last_byte:
            break
    out.seconds = then - start if start is not None else 0.0
    return out
