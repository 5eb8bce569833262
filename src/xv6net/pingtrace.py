"""`xv6net pingtrace`: where one ping's microseconds go, from the host's side.

Boots xv6net (or any kernel given) on a tap of a bridge in a network
namespace that the run creates and deletes, with a few of QEMU's trace
events on (`-trace ... -D FILE`: each line is `PID@SECONDS.MICROS:event
args`, the host's wall clock) and dumpcap on the tap (the same clock), then
pings it from the namespace and cuts each echo into stages:

  wire     the request is on the tap (dumpcap)
  rx       QEMU's event loop read it from the tap and the e1000 model's
           receive filter accepted it (e1000x_rx_flt_ucast_match)
  irq      the model wrote it into the ring and raised its line
           (ioapic_set_irq, level 1)
  ack      the guest's handler read ICR, which lowers the line
           (ioapic_set_irq, level 0): the interrupt has been taken
  eoi      the handler's end: the guest writes the local APIC's EOI
           register (apic_mem_writel, offset 0xb0)
  reply    the reply is on the tap (dumpcap)

A kernel built with KDEFS=-DLATMARK also writes marks into the local APIC's
task priority register (apic_mem_writel, offset 0x80, value n), which cut
the guest's part finer: 1 the handler's first line (`isr`, before `ack`),
2 the netrx thread runs (`netrx`), 3 `icmp_input` (`icmp`), 4 just before
e1000_xmit's TDT write (`tdt`) and 5 just after it: QEMU transmits the frame
inside that write, so 4 -> 5 is the emulator's transmit, tap write included.

QEMU 7.2's e1000 has no trace events of its own for register accesses, so
the stages are marked by what the accesses cause: the line's level and the
local APIC. The card's line is
the one raised first after most requests; nothing else may share it (one
NIC, as in the bench).
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import re
import statistics
import struct
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from xv6net.netns import Netns, NetnsError
from xv6net.qemu import NicSpec, VMSpec
from xv6net.vm import VM, VMError

BRIDGE = "br-ptrace"
TAP = "tap-ptrace"
PEER_IP = "10.0.0.1"
GUEST_IP = "10.0.0.2"
EVENTS = ("e1000x_rx_flt_ucast_match", "ioapic_set_irq", "apic_mem_writel")
STAGES = ("wire", "rx", "irq", "ack", "eoi", "reply")
MARKED = ("wire", "rx", "irq", "isr", "ack", "eoi", "netrx", "icmp", "tdt", "reply")
MARKS = {"isr": 1, "netrx": 2, "icmp": 3, "tdt": 4, "tdt_done": 5}
EOI_OFFSET = 0xB0
TPR_OFFSET = 0x80

_LINE = re.compile(r"^\d+@(\d+)\.(\d+):(\w+) ?(.*)$")
_IOAPIC = re.compile(r"vector: (\d+) level: (\d+)")
_APIC_WRITE = re.compile(r"^0x([0-9a-f]+) = ")
_APIC_VALUE = re.compile(r"= 0x([0-9a-f]+)")


@dataclass(frozen=True)
class Event:
    time: float
    name: str
    args: str


def parse_trace(text: str) -> list[Event]:
    """QEMU's log-backend trace lines (other lines are skipped)."""
    events = []
    for line in text.splitlines():
        m = _LINE.match(line.strip())
        if m:
            events.append(Event(int(m.group(1)) + int(m.group(2)) / 1e6, m.group(3),
                                m.group(4)))
    return events


def pcap_icmp(data: bytes) -> list[tuple[float, int, int]]:
    """(time, ICMP type, sequence) of each IPv4 ICMP echo frame in a classic
    pcap (microsecond timestamps, Ethernet)."""
    if len(data) < 24 or data[:4] not in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4"):
        raise ValueError("not a pcap file with microsecond timestamps")
    endian = "<" if data[:4] == b"\xd4\xc3\xb2\xa1" else ">"
    out, off = [], 24
    while off + 16 <= len(data):
        sec, usec, incl, _ = struct.unpack_from(endian + "IIII", data, off)
        frame = data[off + 16: off + 16 + incl]
        off += 16 + incl
        if len(frame) < 42 or frame[12:14] != b"\x08\x00" or frame[23] != 1:
            continue
        ihl = (frame[14] & 0x0F) * 4
        icmp = frame[14 + ihl:]
        if len(icmp) >= 8 and icmp[0] in (0, 8):
            out.append((sec + usec / 1e6, icmp[0], struct.unpack_from("!H", icmp, 6)[0]))
    return out


def card_line(events: Sequence[Event], starts: Sequence[float]) -> int | None:
    """The card's interrupt line: the IOAPIC input raised first after the
    receive filter took most of the requests (the timer's and the UART's rise
    on their own; a vote keeps one of them that happens to come first from
    deciding)."""
    raised = [(ev.time, int(m.group(1))) for ev in events if ev.name == "ioapic_set_irq"
              and (m := _IOAPIC.search(ev.args)) and m.group(2) == "1"]
    taken = [ev.time for ev in events if ev.name == "e1000x_rx_flt_ucast_match"]
    votes: dict[int, int] = {}
    for start in starts:
        after = next((t for t in taken if t >= start), start)
        first = next((line for t, line in raised if t >= after), None)
        if first is not None:
            votes[first] = votes.get(first, 0) + 1
    return max(votes, key=lambda line: votes[line]) if votes else None


def stages(events: Sequence[Event], frames: Sequence[tuple[float, int, int]]
           ) -> list[dict[str, float]]:
    """Per echo with a reply, the time of each stage (absolute seconds)."""
    requests = {seq: t for t, kind, seq in frames if kind == 8}
    replies = {seq: t for t, kind, seq in frames if kind == 0}
    line = card_line(events, list(requests.values()))
    marked = any(_is(ev, "isr", line) for ev in events)
    order = [*(MARKED if marked else STAGES)][1:-1] + (["tdt_done"] if marked else [])
    result = []
    for seq in sorted(requests):
        if seq not in replies:
            continue
        marks = {"wire": requests[seq], "reply": replies[seq]}
        want = list(order)
        for ev in events:
            if not want or ev.time > marks["reply"] + 0.001:
                break
            if ev.time < marks["wire"]:
                continue
            if _is(ev, want[0], line):
                marks[want.pop(0)] = ev.time
        if not want:
            result.append(marks)
    return result


def _is(ev: Event, stage: str, line: int | None) -> bool:
    if stage == "rx":
        return ev.name == "e1000x_rx_flt_ucast_match"
    if stage in ("irq", "ack"):
        m = _IOAPIC.search(ev.args) if ev.name == "ioapic_set_irq" else None
        level = "0" if stage == "ack" else "1"
        return bool(m) and int(m.group(1)) == line and m.group(2) == level
    m = _APIC_WRITE.search(ev.args) if ev.name == "apic_mem_writel" else None
    if not m:
        return False
    if stage == "eoi":
        return int(m.group(1), 16) == EOI_OFFSET
    value = _APIC_VALUE.search(ev.args)
    return (int(m.group(1), 16) == TPR_OFFSET and value is not None
            and int(value.group(1), 16) == MARKS[stage])


def breakdown(marks: Sequence[dict[str, float]]) -> list[tuple[str, float, float]]:
    """(interval, median us, p90 us) for each pair of consecutive stages and
    the whole, over the echoes."""
    rows: list[tuple[str, float, float]] = []
    if not marks:
        return rows
    names = MARKED if "isr" in marks[0] else STAGES
    pairs = [*itertools.pairwise(names), ("wire", "reply")]
    if "tdt_done" in marks[0]:
        pairs.insert(-1, ("tdt", "tdt_done"))
    for a, b in pairs:
        values = sorted((m[b] - m[a]) * 1e6 for m in marks)
        if values:
            p90 = values[min(len(values) - 1, int(0.9 * len(values)))]
            rows.append((f"{a} -> {b}", statistics.median(values), p90))
    return rows


def run(kernel: Path, initramfs: Path, pings: int, interval: float, out: Path,  # noqa: PLR0917
        append: str = "") -> list[dict[str, float]]:
    out.mkdir(parents=True, exist_ok=True)
    trace, pcap = out / "qemu-trace.log", out / "tap.pcap"
    trace.unlink(missing_ok=True)
    # -msg timestamp=on: the log backend then starts each line with PID@TIME.
    extra = [arg for ev in EVENTS for arg in ("-trace", ev)] + [
        "-D", str(trace), "-msg", "timestamp=on"]
    cmdline = " ".join(filter(None, (f"ip={GUEST_IP}:::255.255.255.0::eth0:off", append)))
    spec = VMSpec(name="pingtrace", index=0, memory_mb=128, cpus=1, kernel=kernel,
                  initramfs=initramfs, cmdline=cmdline,
                  nics=[NicSpec("tap", model="e1000", ifname=TAP)], extra=extra)
    with Netns() as ns:
        ns.add_bridge(BRIDGE)
        ns.add_address(BRIDGE, f"{PEER_IP}/24")
        ns.add_tap(TAP, BRIDGE)
        vm = VM(spec, logfile=out / "console.log", prefix=ns.exec_argv([]), with_monitor=False)
        try:
            vm.start()
            vm.wait_for_shell(60)
            ns.run(["ping", "-n", "-q", "-c", "3", "-i", "0.2", "-W", "1", GUEST_IP],
                   timeout=15, check=False)
            cap = ns.popen(["dumpcap", "-q", "-P", "-i", TAP, "-f", "icmp", "-w", str(pcap)])
            try:
                time.sleep(1.0)   # dumpcap has no "ready" line; it starts in well under 1 s
                ns.run(["ping", "-n", "-q", "-c", str(pings), "-i", str(interval), "-W", "1",
                        GUEST_IP], timeout=pings * interval + 20, check=False)
                time.sleep(0.5)
            finally:
                cap.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    cap.communicate(timeout=10)
        finally:
            vm.close()
    return stages(parse_trace(trace.read_text()), pcap_icmp(pcap.read_bytes()))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--kernel", type=Path, default=Path("build/kernel.elf"),
                        help="a kernel built with KDEFS=-DLATMARK cuts the guest's part finer")
    parser.add_argument("--initrd", type=Path, default=Path("build/initramfs.cpio"))
    parser.add_argument("--pings", type=int, default=200)
    parser.add_argument("--interval", type=float, default=0.02)
    parser.add_argument("--append", default="", help="more of the kernel's command line")
    parser.add_argument("--out", type=Path, default=Path("build/pingtrace"),
                        help="where the trace, the capture and the console log go")


def cmd_pingtrace(args: argparse.Namespace) -> int:
    try:
        marks = run(args.kernel, args.initrd, args.pings, args.interval, args.out, args.append)
    except (NetnsError, VMError, TimeoutError, OSError, ValueError) as err:
        print(f"xv6net pingtrace: {err}", file=sys.stderr)
        return 1
    print(f"{len(marks)} echoes cut into stages (of {args.pings})")
    print("| interval | median us | p90 us |\n|---|---|---|")
    for name, med, p90 in breakdown(marks):
        print(f"| {name} | {med:.0f} | {p90:.0f} |")
    return 0 if marks else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="xv6net pingtrace", description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    return cmd_pingtrace(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
