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

With `--nic-model virtio-net-pci` the device has trace events of its own
(QEMU's generic virtio ones), and the stages are:

  rx       QEMU's event loop read the frame and took a receive buffer for
           it (virtqueue_pop of a device-writable element)
  irq, ack, eoi  as above (ack: the guest's read of the ISR port)
  notify   the guest's transmit notify, a port write (virtio_queue_notify,
           queue 1); QEMU only schedules a bottom half there
  txpop    the bottom half runs in QEMU's main loop and takes the reply
           from the ring (virtqueue_pop of a device-readable element)
  reply    on the tap

The marked kernel's marks are the same (4 just before the notify, 5 just
after it), but for virtio the reply goes out from the bottom half, not
inside the notify: 5 is not waited for.
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


@dataclass(frozen=True)
class Profile:
    """What pingtrace asks QEMU to trace for one card model, and its stages
    (plain and marked kernels, in the order they happen)."""

    events: tuple[str, ...]
    stages: tuple[str, ...]
    marked: tuple[str, ...]
    wait_tdt_done: bool   # the transmit happens inside the marked register write


VIRTIO_EVENTS = ("virtqueue_pop", "virtio_queue_notify", "ioapic_set_irq", "apic_mem_writel")
PROFILES = {
    "e1000": Profile(EVENTS, STAGES, MARKED, wait_tdt_done=True),
    "virtio-net-pci": Profile(
        VIRTIO_EVENTS, ("wire", "rx", "irq", "ack", "eoi", "notify", "txpop", "reply"),
        ("wire", "rx", "irq", "isr", "ack", "eoi", "netrx", "icmp", "tdt", "notify", "txpop",
         "reply"), wait_tdt_done=False),
}
# The receive thread's mark: missing when the interrupt found the CPU idle
# and handled the frames on its way out (netrx_idle).
OPTIONAL = ("netrx",)
MARKS = {"isr": 1, "netrx": 2, "icmp": 3, "tdt": 4, "tdt_done": 5}
EOI_OFFSET = 0xB0
TPR_OFFSET = 0x80

_LINE = re.compile(r"^\d+@(\d+)\.(\d+):(\w+) ?(.*)$")
_IOAPIC = re.compile(r"vector: (\d+) level: (\d+)")
_APIC_WRITE = re.compile(r"^0x([0-9a-f]+) = ")
_APIC_VALUE = re.compile(r"= 0x([0-9a-f]+)")
_POP = re.compile(r"in_num (\d+) out_num (\d+)")
_NOTIFY = re.compile(r"\bn (\d+)")
TXQ = 1   # virtio-net's transmit queue


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
    taken = [ev.time for ev in events if _is(ev, "rx", None)]
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
    profile = profile_of(events)
    marked = any(_is(ev, "isr", line) for ev in events)
    order = [*(profile.marked if marked else profile.stages)][1:-1]
    if marked and profile.wait_tdt_done:
        order.append("tdt_done")
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
            if want[0] in OPTIONAL and len(want) > 1 and _is(ev, want[1], line):
                want.pop(0)   # not taken this time
            if _is(ev, want[0], line):
                marks[want.pop(0)] = ev.time
        if not want:
            result.append(marks)
    return result


def profile_of(events: Sequence[Event]) -> Profile:
    """The card model whose events the trace holds."""
    virtio = any(ev.name == "virtqueue_pop" for ev in events)
    return PROFILES["virtio-net-pci" if virtio else "e1000"]


def _pop(ev: Event) -> tuple[int, int] | None:
    """(in_num, out_num) of a virtqueue_pop: device-writable and -readable
    pieces of the element."""
    m = _POP.search(ev.args) if ev.name == "virtqueue_pop" else None
    return (int(m.group(1)), int(m.group(2))) if m else None


def _is(ev: Event, stage: str, line: int | None) -> bool:  # noqa: PLR0911
    if stage == "rx":
        pop = _pop(ev)
        return ev.name == "e1000x_rx_flt_ucast_match" or (pop is not None and pop[1] == 0)
    if stage == "txpop":
        pop = _pop(ev)
        return pop is not None and pop[0] == 0 and pop[1] > 0
    if stage == "notify":
        m = _NOTIFY.search(ev.args) if ev.name == "virtio_queue_notify" else None
        return bool(m) and int(m.group(1)) == TXQ
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
    profile = PROFILES["virtio-net-pci" if "txpop" in marks[0] else "e1000"]
    names = profile.marked if "isr" in marks[0] else profile.stages
    pairs: list[tuple[str, str]] = []
    for m in marks:   # consecutive stages of each echo (an optional one may be missing)
        pairs += [pair for pair in itertools.pairwise(n for n in names if n in m)
                  if pair not in pairs]
    pairs.sort(key=lambda pair: (names.index(pair[0]), names.index(pair[1])))
    pairs.append(("wire", "reply"))
    if "tdt_done" in marks[0]:
        pairs.insert(-1, ("tdt", "tdt_done"))
    for a, b in pairs:
        values = sorted((m[b] - m[a]) * 1e6 for m in marks if a in m and b in m)
        if values:
            p90 = values[min(len(values) - 1, int(0.9 * len(values)))]
            rows.append((f"{a} -> {b}", statistics.median(values), p90))
    return rows


def run(kernel: Path, initramfs: Path, pings: int, interval: float, out: Path,  # noqa: PLR0917
        append: str = "", model: str = "e1000") -> list[dict[str, float]]:
    out.mkdir(parents=True, exist_ok=True)
    trace, pcap = out / "qemu-trace.log", out / "tap.pcap"
    trace.unlink(missing_ok=True)
    # -msg timestamp=on: the log backend then starts each line with PID@TIME.
    extra = [arg for ev in PROFILES[model].events for arg in ("-trace", ev)] + [
        "-D", str(trace), "-msg", "timestamp=on"]
    cmdline = " ".join(filter(None, (f"ip={GUEST_IP}:::255.255.255.0::eth0:off", append)))
    spec = VMSpec(name="pingtrace", index=0, memory_mb=128, cpus=1, kernel=kernel,
                  initramfs=initramfs, cmdline=cmdline,
                  nics=[NicSpec("tap", model=model, ifname=TAP)], extra=extra)
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
    parser.add_argument("--nic-model", choices=sorted(PROFILES), default="e1000",
                        help="the card the guest gets (default e1000)")
    parser.add_argument("--out", type=Path, default=Path("build/pingtrace"),
                        help="where the trace, the capture and the console log go")


def cmd_pingtrace(args: argparse.Namespace) -> int:
    try:
        marks = run(args.kernel, args.initrd, args.pings, args.interval, args.out, args.append,
                    args.nic_model)
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
