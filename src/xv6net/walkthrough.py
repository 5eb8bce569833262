"""A packet walkthrough: the frames of a capture interleaved with the kernel's
packet trace (nettrace) and links to the source lines that logged it.

Everything here is pure (no QEMU, no root): `xv6net trace` (trace.py) runs a
scenario and hands this module the guest's pcap and the text of `nettrace
show`; the unit tests hand it a small pcap and trace of their own.

The steps:

- `trace_points(root)` finds every trace call in the kernel's source
  (`NETTRACE(pb, "fmt", ...)` and `nettrace_log("fmt", ...)`), with its
  file, line, enclosing C function and a regex made from its format;
- `parse_trace(text)` reads the trace's lines and `locate` ties each one to
  the trace point whose format it matches;
- `journeys(lines)` groups the lines by the frame they were about: a
  received frame from ether_input on, a sent one from tcp_output or
  ip_output (or ether_output for ARP) to the driver's transmit;
- `match` pairs each journey with its frame in the capture, by direction,
  ethertype, length and IP addresses, in order;
- `render_markdown` / `render_html` write the walkthrough.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ETH_ZLEN = 60            # the shortest frame on the wire without its FCS: cards pad to it
ETH_P_IP = 0x0800
LINE = re.compile(r"^\[\s*(\d+)\.(\d{3})\] cpu(\d+) (\w+): (.*)$")
# A trace call: NETTRACE(pb, "...") or nettrace_log("..."); the format is the
# first string literal (adjacent literals are joined, as C does).
CALL = re.compile(r"\b(?:NETTRACE|SEGTRACE|nettrace_log)\s*\(")
LITERAL = re.compile(r'"((?:[^"\\]|\\.)*)"')
FUNCTION = re.compile(r"^([A-Za-z_]\w*)\s*\(")
CONVERSION = re.compile(r"%([-0]*)(\d*)(l*)([diuxXsc%])")
# Where a sent frame's trace starts before ip_output tags it: the transport
# builds the segment first.
PREAMBLE = ("tcp_output",)
TIMERS = ("tcp_timer",)
INPUT = ("ip_input", "arp_input", "icmp_input", "udp_input", "tcp_input", "ip_forward")


class WalkthroughError(RuntimeError):
    """The source or the trace could not be read."""


# ---- the source: where each trace line comes from ------------------------------

@dataclass(frozen=True)
class TracePoint:
    file: str            # relative to the tree's root, with forward slashes
    line: int            # of the trace call
    function: str        # the C function it is in
    fmt: str
    pattern: re.Pattern[str]

    @property
    def name(self) -> str:
        """What the trace line starts with ("ip_input" of "ip_input: ...")."""
        return self.fmt.split(":", 1)[0]

    @property
    def specificity(self) -> int:
        """Literal characters in the format: the more, the better a match."""
        return len(CONVERSION.sub("", self.fmt))


def functions(text: str) -> list[tuple[str, int, int]]:
    """The C functions of a file in xv6 style (name at column 0, braces at
    column 0): (name, first line, last line), lines counted from 1."""
    found: list[tuple[str, int, int]] = []
    lines = text.splitlines()
    name, start = "", 0
    for number, line in enumerate(lines, 1):
        if (m := FUNCTION.match(line)) and not line.rstrip().endswith(";"):
            name, start = m[1], number
        elif line.startswith("}") and name:
            found.append((name, start, number))
            name, start = "", 0
    return found


def enclosing(text: str, line: int) -> str | None:
    """The name of the C function whose body holds line, if any."""
    for name, first, last in functions(text):
        if first <= line <= last:
            return name
    return None


def fmt_pattern(fmt: str) -> re.Pattern[str]:
    """A regex that matches what the kernel's snprintf makes of fmt."""
    out, pos = [], 0
    for m in CONVERSION.finditer(fmt):
        out.append(re.escape(fmt[pos:m.start()]))
        conv = m[4]
        out.append({"d": r"-?\d+", "i": r"-?\d+", "u": r"\d+", "x": "[0-9a-f]+",
                    "X": "[0-9A-F]+", "s": ".*?", "c": ".", "%": "%"}[conv])
        pos = m.end()
    out.append(re.escape(fmt[pos:]))
    return re.compile("".join(out) + "$")


def _unescape(literal: str) -> str:
    return literal.encode().decode("unicode_escape")


def _format_at(text: str, offset: int) -> str | None:
    """The format string of the trace call whose '(' ends at offset: its
    first argument that is a string literal, joined with adjacent ones."""
    rest = text[offset:offset + 400]
    m = LITERAL.search(rest)
    if not m or rest[:m.start()].count(";"):
        return None
    parts, pos = [m[1]], m.end()
    while (nxt := re.match(r'\s*"((?:[^"\\]|\\.)*)"', rest[pos:])) is not None:
        parts.append(nxt[1])
        pos += nxt.end()
    return _unescape("".join(parts))


def trace_points(root: Path, subdirs: Sequence[str] = ("kernel",)) -> list[TracePoint]:
    """Every trace call in the C source under root/subdirs."""
    points = []
    for sub in subdirs:
        for path in sorted((root / sub).rglob("*.c")):
            text = path.read_text(errors="replace")
            for m in CALL.finditer(text):
                line = text.count("\n", 0, m.start()) + 1
                if text[text.rfind("\n", 0, m.start()) + 1:m.start()].lstrip().startswith(
                        ("#define", "//")):
                    continue
                fmt = _format_at(text, m.end())
                function = enclosing(text, line)
                if fmt is None or function is None or ":" not in fmt:
                    continue
                rel = path.relative_to(root).as_posix()
                points.append(TracePoint(rel, line, function, fmt, fmt_pattern(fmt)))
    if not points:
        raise WalkthroughError(f"no trace points under {root}/{','.join(subdirs)}")
    return points


# ---- the trace ------------------------------------------------------------------

@dataclass
class TraceLine:
    time: float          # the guest's clock, seconds since boot
    cpu: int
    name: str            # what the line starts with: ether_input, ip_output, ...
    text: str            # after "name: "
    point: TracePoint | None = None
    index: int = 0       # its place in the trace

    @property
    def message(self) -> str:
        return f"{self.name}: {self.text}"


def parse_trace(text: str) -> list[TraceLine]:
    """The trace's lines; anything else (a prompt, "records lost") is left out."""
    lines: list[TraceLine] = []
    for raw in text.splitlines():
        if m := LINE.match(raw.strip()):
            lines.append(TraceLine(int(m[1]) + int(m[2]) / 1000, int(m[3]), m[4], m[5],
                                   index=len(lines)))
    return lines


def locate(lines: Iterable[TraceLine], points: Sequence[TracePoint]) -> None:
    """Tie each line to the trace point that logged it: the one whose format
    matches, the most literal one if several do."""
    for line in lines:
        fits = [p for p in points if p.pattern.match(line.message)]
        line.point = max(fits, key=lambda p: p.specificity) if fits else None


# ---- journeys: the lines about one frame ---------------------------------------

@dataclass
class Journey:
    direction: str | None            # "in", "out", or None: an event of no frame
    lines: list[TraceLine] = field(default_factory=list)
    ethertype: int | None = None
    length: int | None = None        # bytes of the frame, as the kernel counted them
    frame: int | None = None         # its index in the capture, once matched
    queued: bool = False             # held by ARP until the next hop answers
    sent: bool = False               # handed to the driver

    def has(self, name: str) -> bool:
        return any(line.name == name for line in self.lines)

    @property
    def wire_order(self) -> int:
        """Where in the trace the frame met the wire: the driver's line for a
        sent frame, the first line for a received one."""
        if self.direction == "out":
            return next((ln.index for ln in self.lines if ln.name.endswith("_xmit")), -1)
        return self.lines[0].index if self.lines else -1

    def address(self, name: str, word: str) -> str | None:
        """The IPv4 address after word in the line of name (ip_output "to", ip_input "from")."""
        for line in self.lines:
            if line.name == name and (m := re.search(rf"\b{word} (\d+\.\d+\.\d+\.\d+)",
                                                     line.text)):
                return m[1]
        return None


def _bytes_and_type(text: str) -> tuple[int | None, int | None]:
    n = re.search(r"(\d+) bytes", text)
    t = re.search(r"type 0x([0-9a-f]{4})", text)
    return (int(n[1]) if n else None, int(t[1], 16) if t else None)


class _Grouper:
    """Walks the trace in order, keeping the journeys still open."""

    def __init__(self) -> None:
        self.items: list[Journey] = []
        self.current_in: Journey | None = None
        self.preamble: Journey | None = None
        self.outgoing: list[Journey] = []   # sent journeys not yet at the driver

    def add(self, line: TraceLine) -> None:
        name = line.name
        if name == "ether_input" and "type 0x" in line.text:
            length, ethertype = _bytes_and_type(line.text)
            self.current_in = self._new("in", ethertype, length)
            self.current_in.lines.append(line)
        elif name in ("ether_input", *INPUT):
            (self.current_in or self._new(None)).lines.append(line)
        elif name in PREAMBLE:
            self.preamble = self._new("out")
            self.preamble.lines.append(line)
        elif name == "ip_output":
            j = self.preamble or self._new("out")
            self.preamble = None
            j.ethertype = ETH_P_IP
            j.lines.append(line)
            self.outgoing.append(j)
        elif name == "arp_output":
            self._arp_output(line)
        elif name == "ether_output":
            self._ether_output(line)
        elif name.endswith("_xmit"):
            self._xmit(line)
        else:                                    # timers and anything new: an event
            self._new(None).lines.append(line)

    def _new(self, direction: str | None, ethertype: int | None = None,
             length: int | None = None) -> Journey:
        j = Journey(direction, ethertype=ethertype, length=length)
        self.items.append(j)
        return j

    def _arp_output(self, line: TraceLine) -> None:
        waiting = [j for j in self.outgoing if j.has("ip_output") and not j.has("arp_output")]
        j = waiting[-1] if waiting else self._new("out", ETH_P_IP)
        j.lines.append(line)
        j.queued = "queued" in line.text

    def _ether_output(self, line: TraceLine) -> None:
        length, ethertype = _bytes_and_type(line.text)
        j = None
        if ethertype == ETH_P_IP:
            ready = [j for j in self.outgoing if not j.has("ether_output")]
            fresh = [j for j in ready if not j.queued]
            j = fresh[-1] if fresh else (ready[0] if ready else None)
        if j is None:
            j = self._new("out", ethertype)
            self.outgoing.append(j)
        j.length = length
        j.ethertype = ethertype
        j.lines.append(line)

    def _xmit(self, line: TraceLine) -> None:
        built = [j for j in self.outgoing if j.has("ether_output")]
        j = built[0] if built else self._new("out")
        j.lines.append(line)
        j.sent = True
        if j in self.outgoing:
            self.outgoing.remove(j)


def journeys(lines: Iterable[TraceLine]) -> list[Journey]:
    """The trace grouped by frame, in the order each journey began."""
    grouper = _Grouper()
    for line in lines:
        grouper.add(line)
    return grouper.items


# ---- the capture ----------------------------------------------------------------

@dataclass(frozen=True)
class WireFrame:
    """One captured frame, as the walkthrough needs it."""

    number: int          # from 1, as Wireshark counts
    time: float          # seconds since the capture's first frame
    data: bytes

    @property
    def src(self) -> str:
        return ":".join(f"{b:02x}" for b in self.data[6:12])

    @property
    def ethertype(self) -> int:
        return int.from_bytes(self.data[12:14], "big") if len(self.data) >= 14 else 0

    def ip_addresses(self) -> tuple[str, str] | None:
        if self.ethertype != ETH_P_IP or len(self.data) < 34:
            return None
        return (".".join(map(str, self.data[26:30])), ".".join(map(str, self.data[30:34])))


def read_frames(path: Path) -> list[WireFrame]:
    """Every frame of a pcap file (tolerates a last record cut short, as a
    capture still being written has)."""
    from scapy.layers.l2 import Ether  # noqa: PLC0415, F401 (registers Ethernet for the reader)
    from scapy.utils import PcapReader  # noqa: PLC0415 (scapy is slow to import)
    frames: list[WireFrame] = []
    start = None
    try:
        with PcapReader(str(path)) as reader:
            for packet in reader:
                start = float(packet.time) if start is None else start
                frames.append(WireFrame(len(frames) + 1, float(packet.time) - start,
                                        bytes(packet)))
    except EOFError:
        pass
    return frames


def count_frames(path: Path) -> int:
    """How many whole records a pcap file holds now (QEMU's filter-dump
    writes each frame as it passes, so this is the count so far)."""
    data = path.read_bytes() if path.exists() else b""
    if len(data) < 24:
        return 0
    order = "little" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else "big"
    count, pos = 0, 24
    while pos + 16 <= len(data):
        caplen = int.from_bytes(data[pos + 8:pos + 12], order)
        if pos + 16 + caplen > len(data):
            break
        pos += 16 + caplen
        count += 1
    return count


def _fits(j: Journey, frame: WireFrame) -> bool:
    if j.ethertype is not None and frame.ethertype != j.ethertype:
        return False
    if j.length is not None:
        wire = len(frame.data)
        if wire != j.length and not (j.direction == "in" and wire < ETH_ZLEN == j.length):
            return False
    addresses = frame.ip_addresses()
    if addresses and j.direction == "out" and (dst := j.address("ip_output", "to")):
        return addresses[1] == dst
    if addresses and j.direction == "in" and (src := j.address("ip_input", "from")):
        return addresses[0] == src
    return True


def match(items: Sequence[Journey], frames: Sequence[WireFrame], guest_mac: str,
          start: int = 0, end: int | None = None) -> None:
    """Give each journey its frame: in the order they met the wire, the next
    one of the same direction (from the guest's MAC: sent) in
    frames[start:end] that fits it."""
    end = len(frames) if end is None else end
    guest_mac = guest_mac.lower()
    nxt = {"in": start, "out": start}
    for j in sorted(items, key=lambda j: j.wire_order):
        if j.direction is None or (j.direction == "out" and not j.sent):
            continue
        for k in range(nxt[j.direction], end):
            outgoing = frames[k].src == guest_mac
            if outgoing == (j.direction == "out") and _fits(j, frames[k]):
                j.frame, nxt[j.direction] = k, k + 1
                break


# ---- the walkthrough ------------------------------------------------------------

@dataclass
class Step:
    """One entry of the walkthrough: a frame with the kernel's lines about it,
    a frame the trace did not follow, or kernel lines of no frame."""

    frame: WireFrame | None
    journey: Journey | None


@dataclass
class Walkthrough:
    title: str
    intro: str                      # Markdown: what the scenario did
    steps: list[Step]
    guest_mac: str
    unplaced: int = 0               # trace lines no trace point in the source matches


def build(title: str, intro: str, trace_text: str, frames: Sequence[WireFrame], *,
          points: Sequence[TracePoint], guest_mac: str, start: int = 0,
          end: int | None = None) -> Walkthrough:
    """Merge a capture and a trace into steps in the order things happened."""
    lines = parse_trace(trace_text)
    locate(lines, points)
    items = journeys(lines)
    end = len(frames) if end is None else min(end, len(frames))
    match(items, frames, guest_mac, start, end)
    by_frame = {j.frame: j for j in items if j.frame is not None}
    keyed: list[tuple[float, int, Step]] = []
    for k in range(start, end):
        keyed.append((k, 1, Step(frames[k], by_frame.get(k))))
    # Kernel lines of no frame go before the next frame whose journey began after them.
    position = end + 0.5
    for j in reversed(items):
        if j.frame is not None:
            position = j.frame
        else:
            keyed.append((position - 0.5, len(keyed) + 2, Step(None, j)))
    keyed.sort(key=lambda t: (t[0], t[1]))
    unplaced = sum(line.point is None for line in lines)
    return Walkthrough(title, intro, [s for _, _, s in keyed], guest_mac, unplaced)


def layers(data: bytes) -> list[tuple[str, list[tuple[str, str]], int, int]]:
    """The frame decoded by scapy: (layer, [(field, value)], first byte, end byte)."""
    from scapy.layers import inet  # noqa: PLC0415, F401 (IPv4, ICMP, UDP, TCP)
    from scapy.layers.l2 import Ether  # noqa: PLC0415
    from scapy.packet import NoPayload, Raw  # noqa: PLC0415
    out = []
    layer = Ether(data)
    offset = 0
    while layer is not None and not isinstance(layer, NoPayload):
        size = len(bytes(layer)) - len(bytes(layer.payload))
        if isinstance(layer, Raw) or layer.name == "Padding":
            fields = [("bytes", str(len(layer.load)))]
        else:
            # only what the frame has (an echo has no ICMP timestamp fields)
            fields = [(f.name, layer.get_field(f.name).i2repr(layer, layer.getfieldval(f.name)))
                      for f in layer.fields_desc if f.name in layer.fields]
        out.append((layer.name, fields, offset, offset + max(size, 0)))
        offset += max(size, 0)
        layer = layer.payload
    return out


def summary(data: bytes) -> str:
    """One line about a frame, in tcpdump's words (numbers, not service names)."""
    from scapy.layers.inet import ICMP, IP, TCP, UDP  # noqa: PLC0415
    from scapy.layers.l2 import ARP, Ether  # noqa: PLC0415
    frame = Ether(data)
    if ARP in frame:
        arp = frame[ARP]
        return (f"ARP who-has {arp.pdst} tell {arp.psrc}" if arp.op == 1
                else f"ARP {arp.psrc} is-at {arp.hwsrc}")
    if IP not in frame:
        return f"type 0x{frame.type:04x}"
    ip = frame[IP]
    head = f"IPv4 {ip.src} > {ip.dst}"
    if ICMP in ip:
        icmp = ip[ICMP]
        kind = {0: "echo reply", 8: "echo request"}.get(icmp.type, f"type {icmp.type}")
        ids = f" id {icmp.id} seq {icmp.seq}" if icmp.type in (0, 8) else ""
        return f"{head} ICMP {kind}{ids}"
    if UDP in ip:
        udp = ip[UDP]
        return f"{head} UDP {udp.sport} > {udp.dport}, {udp.len - 8} bytes"
    if TCP in ip:
        tcp = ip[TCP]
        flags = "".join(c for c, bit in zip("SFRP.", (2, 1, 4, 8, 16), strict=True)
                        if tcp.flags.value & bit)
        size = ip.len - ip.ihl * 4 - tcp.dataofs * 4   # not the padding
        return (f"{head} TCP {tcp.sport} > {tcp.dport} [{flags}] seq {tcp.seq}"
                + (f" ack {tcp.ack}" if tcp.flags.value & 16 else "") + f", {size} bytes")
    return f"{head} proto {ip.proto}"


def hexdump(data: bytes) -> list[str]:
    """16 bytes a row: offset, hex, ASCII."""
    rows = []
    for off in range(0, len(data), 16):
        chunk = data[off:off + 16]
        hexes = " ".join(f"{b:02x}" for b in chunk)
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        rows.append(f"{off:04x}  {hexes:<47}  {text}")
    return rows


def source_link(point: TracePoint, base: str) -> tuple[str, str]:
    """(text, href) of a link to a trace point: `fn() at file:line`."""
    return (f"{point.function}() at {point.file}:{point.line}",
            f"{base}{point.file}#L{point.line}")


def _heading(step: Step, guest_mac: str) -> str:
    if step.frame is None:
        return "The kernel, on its own (a timer, or a frame it made no trace of)"
    f = step.frame
    who = "the guest sends" if f.src == guest_mac.lower() else "the guest receives"
    return f"Frame {f.number} (+{f.time:.3f} s, {len(f.data)} bytes): {who} {summary(f.data)}"


def _trace_table(journey: Journey, base: str) -> list[str]:
    rows = ["| guest time | CPU | the kernel decided | logged by |", "|---|---|---|---|"]
    for line in journey.lines:
        where = "(no trace point matches)"
        if line.point is not None:
            text, href = source_link(line.point, base)
            where = f"[{text}]({href})"
        message = line.message.replace("|", "\\|")
        rows.append(f"| {line.time:.3f} | {line.cpu} | `{message}` | {where} |")
    return rows


def _wire(frame: WireFrame) -> list[str]:
    out = []
    for name, fields, first, last in layers(frame.data):
        values = ", ".join(f"{k}={v}" for k, v in fields)
        out.append(f"- **{name}** (bytes {first}-{last - 1}): {values}".replace("|", "\\|"))
    out += ["", "```", *hexdump(frame.data), "```"]
    return out


def _step_markdown(step: Step, guest_mac: str, base: str) -> list[str]:
    out = [f"### {_heading(step, guest_mac)}", ""]
    kernel = _trace_table(step.journey, base) if step.journey else \
        ["*Not in the trace (outside its filter, or before it was on).*"]
    wire = _wire(step.frame) if step.frame else []
    sent = step.frame is not None and step.frame.src == guest_mac.lower()
    # A sent frame: the code that built it, then the bytes; received: the other way round.
    parts = [kernel, wire] if sent or step.frame is None else [wire, kernel]
    for part in parts:
        if part:
            out += [*part, ""]
    return out


def render_markdown(walk: Walkthrough, base: str) -> str:
    """The walkthrough in Markdown; base leads from the file to the tree's root."""
    out = [f"# {walk.title}", "", walk.intro.strip(), "", "## Overview", "",
           "| frame | time | direction | summary | trace lines |", "|---|---|---|---|---|"]
    for step in walk.steps:
        if step.frame is None:
            continue
        f = step.frame
        way = "sent" if f.src == walk.guest_mac.lower() else "received"
        n = len(step.journey.lines) if step.journey else 0
        out.append(f"| {f.number} | +{f.time:.3f} | {way} | {summary(f.data)} | {n} |")
    out += ["", "## Frame by frame", ""]
    for step in walk.steps:
        out += _step_markdown(step, walk.guest_mac, base)
    if walk.unplaced:
        out.append(f"({walk.unplaced} trace lines match no trace point in this source tree.)")
    return "\n".join(out).rstrip() + "\n"


def render_html(walk: Walkthrough, base: str) -> str:
    """The same walkthrough as one HTML page (no scripts, no external files)."""
    e = html.escape
    body = [f"<h1>{e(walk.title)}</h1>", f"<pre class=intro>{e(walk.intro.strip())}</pre>"]
    for step in walk.steps:
        body.append(f"<h3>{e(_heading(step, walk.guest_mac))}</h3>")
        rows = []
        for line in step.journey.lines if step.journey else []:
            link = "(no trace point matches)"
            if line.point is not None:
                text, href = source_link(line.point, base)
                link = f'<a href="{e(href)}">{e(text)}</a>'
            rows.append(f"<tr><td>{line.time:.3f}</td><td>{line.cpu}</td>"
                        f"<td><code>{e(line.message)}</code></td><td>{link}</td></tr>")
        kernel = ("<table><tr><th>guest time</th><th>CPU</th><th>the kernel decided</th>"
                  f"<th>logged by</th></tr>{''.join(rows)}</table>" if rows
                  else "<p><em>Not in the trace.</em></p>")
        wire = ""
        if step.frame is not None:
            items = "".join(
                f"<li><b>{e(name)}</b> (bytes {first}-{last - 1}): "
                f"{e(', '.join(f'{k}={v}' for k, v in fields))}</li>"
                for name, fields, first, last in layers(step.frame.data))
            wire = f"<ul>{items}</ul><pre>{e(chr(10).join(hexdump(step.frame.data)))}</pre>"
        sent = step.frame is not None and step.frame.src == walk.guest_mac.lower()
        body.append(kernel + wire if sent or step.frame is None else wire + kernel)
    style = ("body{font-family:sans-serif;max-width:70em;margin:auto}"
             "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px}"
             "pre{background:#f4f4f4;padding:6px}")
    return (f"<!DOCTYPE html>\n<html><head><meta charset=utf-8><title>{e(walk.title)}</title>"
            f"<style>{style}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


def relative_base(output_dir: Path, root: Path) -> str:
    """The link prefix from files in output_dir to the tree's root."""
    rel = os.path.relpath(root.resolve(), output_dir.resolve())
    return "" if rel == "." else rel.replace(os.sep, "/") + "/"


LINK = re.compile(r"\[(\w+)\(\) at ([^\]:]+):(\d+)\]\(([^)#]*)#L(\d+)\)")


def source_links(markdown: str) -> list[tuple[str, str, int, str, int]]:
    """Every source link of a walkthrough: (function, file, line, href path, href line)."""
    return [(m[1], m[2], int(m[3]), m[4], int(m[5])) for m in LINK.finditer(markdown)]


def check_links(markdown: str, md_dir: Path, root: Path) -> list[str]:
    """What is wrong with the source links of a walkthrough written in md_dir:
    each must lead to root/file, at the line it names, where that function
    makes a trace call. Empty when all is well."""
    problems = []
    for function, file, line, href, href_line in source_links(markdown):
        where = f"{function}() at {file}:{line}"
        path = root / file
        if (md_dir / href).resolve() != path.resolve() or href_line != line:
            problems.append(f"{where}: the link goes to {href}#L{href_line}")
        elif not path.is_file():
            problems.append(f"{where}: no such file")
        else:
            text = path.read_text(errors="replace")
            lines = text.splitlines()
            if enclosing(text, line) != function:
                problems.append(f"{where}: that line is in {enclosing(text, line)}()")
            elif line > len(lines) or not CALL.search(lines[line - 1]):
                problems.append(f"{where}: no trace call on that line")
    return problems
