"""TCP connections in a capture, and their time-sequence graphs (Stevens graphs).

    conns = connections(read_segments("build/lab/lan0.pcap"))
    for conn in conns:
        print(conn.line())        # 1  10.0.0.1:40000 > 10.0.0.2:5001  ...
    g = graph(conns[0])           # the direction that carried more data
    draw(g, Path("conn1.png"))

A graph is drawn from the data sender's side: each data segment a vertical
bar from its first to one past its last sequence number at the time it was
captured (retransmissions, the segments that cover bytes already sent, in
red), the receiver's cumulative ACK as a step line, and the receive window's
right edge (ACK + window, scaled when both SYNs carried the window-scale
option) as another; SYN, FIN and RST are marked where they happen. Segments
whose IP or TCP checksum is wrong (a corrupting link) are left out, as their
receiver left them out; a TCP checksum that holds only the pseudo-header sum
is checksum offload, not corruption (Linux's own frames, captured as sent). Sequence
numbers are relative to the sender's initial sequence number (the first data
byte is 1, as in Wireshark) and unwrapped, so a connection may cross 2^32.
"""

from __future__ import annotations

import array
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scapy.error import Scapy_Exception
from scapy.layers.inet import IP, TCP
from scapy.packet import Packet
from scapy.utils import PcapReader

SEQ_MOD = 1 << 32
HALF = 1 << 31
MAX_MARK_LABELS = 12     # a RST flood would bury the picture in text


class TcpGraphError(RuntimeError):
    """The capture cannot be read, or has no such connection."""


@dataclass(frozen=True, order=True)
class Endpoint:
    ip: str
    port: int

    def __str__(self) -> str:
        return f"{self.ip}:{self.port}"


@dataclass(frozen=True)
class Segment:
    """One TCP segment as captured: header fields and payload length."""

    time: float              # seconds since the first frame of the capture
    src: Endpoint
    dst: Endpoint
    seq: int
    ack: int
    flags: str               # scapy's letters: S, A, F, R, P, U, E, C
    window: int              # as on the wire, unscaled
    length: int              # payload bytes
    wscale: int | None = None  # the window-scale option, on a SYN
    mss: int | None = None     # the MSS option, on a SYN
    corrupt: bool = False      # a checksum is wrong: the receiver dropped it

    def has(self, flag: str) -> bool:
        return flag in self.flags


def _ones_sum(data: bytes) -> int:
    """The 16-bit one's complement sum of data (RFC 1071), folded."""
    if len(data) % 2:
        data += b"\0"
    total = sum(array.array("H", data))      # native order: swapped back below if need be
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return socket.ntohs(total)


def checksum_state(ip: bytes) -> str:
    """An IPv4 packet's checksums: "ok"; "offloaded" when the TCP checksum holds
    only the pseudo-header sum (Linux left it to the NIC: what a capture on a
    sending Linux interface shows); "bad" otherwise (a corrupted segment: the
    receiver drops it, so the graph leaves it out). "ok" when truncated."""
    ihl = (ip[0] & 0x0F) * 4
    total = int.from_bytes(ip[2:4], "big")
    if len(ip) < total or total < ihl + 20:
        return "ok"
    if _ones_sum(ip[:ihl]) != 0xFFFF:
        return "bad"
    segment = ip[ihl:total]
    pseudo = ip[12:20] + b"\0\x06" + len(segment).to_bytes(2, "big")
    if _ones_sum(pseudo + segment) == 0xFFFF:
        return "ok"
    return "offloaded" if segment[16:18] == _ones_sum(pseudo).to_bytes(2, "big") else "bad"


def segment_of(packet: Packet, start: float) -> Segment | None:
    """The Segment in a captured frame, None if it holds no whole TCP header."""
    if IP not in packet or TCP not in packet:
        return None
    ip, tcp = packet[IP], packet[TCP]
    if ip.frag or ip.flags.MF:
        return None
    corrupt = checksum_state(bytes(ip)) == "bad"
    length = max(0, ip.len - ip.ihl * 4 - tcp.dataofs * 4) if ip.len else len(tcp.payload)
    wscale = next((value for name, value in tcp.options if name == "WScale"), None)
    mss = next((value for name, value in tcp.options if name == "MSS"), None)
    return Segment(time=float(packet.time) - start, src=Endpoint(ip.src, tcp.sport),
                   dst=Endpoint(ip.dst, tcp.dport), seq=tcp.seq, ack=tcp.ack,
                   flags=str(tcp.flags), window=tcp.window, length=length,
                   wscale=None if wscale is None else int(wscale),
                   mss=None if mss is None else int(mss), corrupt=corrupt)


def read_segments(path: Path | str) -> list[Segment]:
    """Every IPv4 TCP segment in a pcap, in capture order."""
    segments = []
    start: float | None = None
    try:
        with PcapReader(str(path)) as reader:
            for packet in reader:
                if start is None:
                    start = float(packet.time)
                segment = segment_of(packet, start)
                if segment is not None:
                    segments.append(segment)
    except (OSError, EOFError, ValueError, Scapy_Exception) as err:
        raise TcpGraphError(f"{path}: {err}") from None
    return segments


# ---- connections ---------------------------------------------------------------------

@dataclass
class Connection:
    """The segments of one connection (both directions), numbered from 1 in
    the order they first appear. The client sent the first SYN without ACK
    (or, if the capture missed it, the first segment)."""

    number: int
    client: Endpoint
    server: Endpoint
    segments: list[Segment] = field(default_factory=list)

    def payload(self, sender: Endpoint) -> int:
        """Payload bytes sent by one side, retransmissions included."""
        return sum(s.length for s in self.segments if s.src == sender)

    def flags_seen(self) -> list[str]:
        names = {"S": "SYN", "F": "FIN", "R": "RST"}
        return [name for letter, name in names.items()
                if any(s.has(letter) for s in self.segments)]

    def line(self) -> str:
        first, last = self.segments[0].time, self.segments[-1].time
        return (f"{self.number:3d}  {self.client} > {self.server}  "
                f"{len(self.segments)} segments, {self.payload(self.client)} bytes >, "
                f"{self.payload(self.server)} bytes <, {' '.join(self.flags_seen()) or '-'}, "
                f"{first:.3f}-{last:.3f} s")


def _key(segment: Segment) -> tuple[Endpoint, Endpoint]:
    low, high = sorted((segment.src, segment.dst))
    return low, high


def connections(segments: Iterable[Segment]) -> list[Connection]:
    """Group segments by connection, leaving out corrupted ones (whose addresses
    and numbers cannot be trusted). A SYN without ACK that carries another
    initial sequence number than the one before starts a new connection on the
    same addresses and ports (a port reused)."""
    result: list[Connection] = []
    current: dict[tuple[Endpoint, Endpoint], Connection] = {}
    for segment in segments:
        if segment.corrupt:
            continue
        key = _key(segment)
        conn = current.get(key)
        opening = segment.has("S") and not segment.has("A")
        if conn is None or (opening and _opened_otherwise(conn, segment)):
            client, server = segment.src, segment.dst
            conn = Connection(len(result) + 1, client, server)
            result.append(conn)
            current[key] = conn
        conn.segments.append(segment)
    return result


def _opened_otherwise(conn: Connection, syn: Segment) -> bool:
    return any(s.has("S") and not s.has("A") and s.seq != syn.seq for s in conn.segments)


# ---- the graph's series ----------------------------------------------------------------

@dataclass
class Graph:
    """What the time-sequence graph shows, in relative sequence numbers."""

    conn: Connection
    sender: Endpoint
    receiver: Endpoint
    scale: int | None            # the receiver's window shift; None: SYNs not captured
    data: list[tuple[float, int, int]] = field(default_factory=list)          # t, start, end
    retransmits: list[tuple[float, int, int]] = field(default_factory=list)
    acks: list[tuple[float, int]] = field(default_factory=list)               # t, ack
    windows: list[tuple[float, int]] = field(default_factory=list)            # t, ack+window
    marks: list[tuple[float, int, str]] = field(default_factory=list)         # t, seq, label


class _Unwrapper:
    """32-bit sequence numbers to integers relative to a base, across wraparound:
    each value is taken as the nearest one to the previous value."""

    def __init__(self, base: int) -> None:
        self.base = base
        self.last = 0

    def __call__(self, seq: int) -> int:
        delta = (seq - self.base - self.last) % SEQ_MOD
        if delta >= HALF:
            delta -= SEQ_MOD
        self.last += delta
        return self.last


def window_shift(conn: Connection, receiver: Endpoint) -> int | None:
    """The receiver's window scale shift: its SYN's WScale if both SYNs carried
    one (RFC 7323), 0 if either SYN did not, None if a SYN is not captured."""
    syns = {s.src: s for s in conn.segments if s.has("S")}
    if len(syns) < 2:
        return None
    if any(s.wscale is None for s in syns.values()):
        return 0
    return min(syns[receiver].wscale or 0, 14)


def graph(conn: Connection, sender: Endpoint | None = None) -> Graph:
    """The series for one direction: sender's data, receiver's ACKs and window.
    By default the sender is the side that sent more payload."""
    if sender is None:
        sender = max((conn.client, conn.server), key=conn.payload)   # a tie: the client
    if sender not in (conn.client, conn.server):
        raise TcpGraphError(f"{sender} is not an end of connection {conn.number}")
    receiver = conn.server if sender == conn.client else conn.client
    own = [s for s in conn.segments if s.src == sender]
    isn = next((s.seq for s in own if s.has("S")), own[0].seq if own else 0)
    result = Graph(conn, sender, receiver, window_shift(conn, receiver))
    seq_of, ack_of = _Unwrapper(isn), _Unwrapper(isn)
    highest = None
    for segment in conn.segments:
        if segment.src == sender:
            highest = _sender_segment(result, segment, seq_of(segment.seq), highest)
        else:
            _receiver_segment(result, segment, ack_of)
    return result


def _sender_segment(g: Graph, s: Segment, start: int, highest: int | None) -> int | None:
    """Add a sender's segment; return the highest data end sent so far."""
    t = s.time
    if s.has("S"):
        g.marks.append((t, start, "SYN"))
    data_start = start + (1 if s.has("S") else 0)
    if s.length:
        end = data_start + s.length
        retransmitted = highest is not None and data_start < highest
        (g.retransmits if retransmitted else g.data).append((t, data_start, end))
        highest = end if highest is None else max(highest, end)
    if s.has("F"):
        g.marks.append((t, data_start + s.length, "FIN"))
    if s.has("R"):
        g.marks.append((t, start, "RST"))
    return highest


def _receiver_segment(g: Graph, s: Segment, ack_of: _Unwrapper) -> None:
    t = s.time
    ack = ack_of(s.ack) if s.has("A") else None
    if ack is not None:
        g.acks.append((t, ack))
        shift = 0 if s.has("S") or g.scale is None else g.scale   # a SYN's window: unscaled
        g.windows.append((t, ack + (s.window << shift)))
    where = ack if ack is not None else (g.acks[-1][1] if g.acks else 0)
    for letter, label in (("S", "SYN (peer)"), ("F", "FIN (peer)"), ("R", "RST (peer)")):
        if s.has(letter):
            g.marks.append((t, where, label))


# ---- drawing --------------------------------------------------------------------------------

def figure(g: Graph) -> Any:  # noqa: ANN401 (a matplotlib Figure)
    """The graph as a matplotlib figure (constrained layout: every label inside)."""
    import matplotlib  # noqa: PLC0415 (heavy; only when drawing)
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    fig, ax = plt.subplots(figsize=(10, 6), layout="constrained")
    for series, colour, label in ((g.data, "tab:blue", "data segment (seq to seq+len)"),
                                  (g.retransmits, "tab:red", "retransmission")):
        if series:
            ax.vlines([t for t, _, _ in series], [a for _, a, _ in series],
                      [b for _, _, b in series], colors=colour, linewidth=1.5, label=label)
            ax.plot([t for t, _, _ in series], [b for _, _, b in series], linestyle="none",
                    marker="_", color=colour, markersize=4)
    if g.acks:
        ax.step([t for t, _ in g.acks], [a for _, a in g.acks], where="post",
                color="tab:green", linewidth=1, label="ACK")
    if g.windows:
        scaled = "" if not g.scale else f" (window << {g.scale})"
        ax.step([t for t, _ in g.windows], [w for _, w in g.windows], where="post",
                color="tab:olive", linewidth=1, label=f"ACK + receive window{scaled}")
    _draw_marks(ax, g.marks)
    ax.set_xlabel("time since the capture's first frame (s)")
    ax.set_ylabel("relative sequence number (bytes)")
    scale = "not captured (SYNs missing): windows unscaled" if g.scale is None else g.scale
    ax.set_title(f"TCP connection {g.conn.number}: {g.sender} > {g.receiver}\n"
                 f"{sum(b - a for _, a, b in g.data)} bytes in {len(g.data)} segments, "
                 f"{len(g.retransmits)} retransmitted; window scale {scale}", fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.ticklabel_format(axis="y", style="plain", useOffset=False)
    ax.legend(loc="upper left", fontsize=8)
    return fig


def _draw_marks(ax: Any, marks: Sequence[tuple[float, int, str]]) -> None:  # noqa: ANN401
    styles = {"SYN": ("^", "black"), "FIN": ("s", "tab:purple"), "RST": ("x", "tab:red")}
    for kind, (marker, colour) in styles.items():
        points = [(t, y) for t, y, label in marks if label.startswith(kind)]
        if points:
            ax.plot([t for t, _ in points], [y for _, y in points], linestyle="none",
                    marker=marker, color=colour, markersize=7, label=kind)
    for t, y, label in marks[:MAX_MARK_LABELS]:
        ax.annotate(label, (t, y), textcoords="offset points", xytext=(4, 4), fontsize=7)


def draw(g: Graph, path: Path) -> None:
    import matplotlib.pyplot as plt  # noqa: PLC0415
    fig = figure(g)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def pick(conns: Sequence[Connection], number: int) -> Connection:
    for conn in conns:
        if conn.number == number:
            return conn
    raise TcpGraphError(f"no TCP connection {number}; the capture has "
                        f"{len(conns) or 'none'}{' (1-' + str(len(conns)) + ')' if conns else ''}")
