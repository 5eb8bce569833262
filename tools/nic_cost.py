"""Count the device register accesses per frame for each card (docs/nics.md).

    PYTHONPATH=src .venv/bin/python tools/nic_cost.py [MODEL ...]

Boots a guest per card with its eth0 cabled to a WirePeer (no root), with
QEMU's memory_region_ops_read/write traces on (every access to a device
register is one), then: 200 frames of 60 bytes one at a time, 5 ms apart (an
interrupt each); 200 back to back; 20 of 1514 bytes back to back; 200 sent by
the guest's ethsend. Prints the accesses per frame received (or sent) by
memory region, and the guest's `ifconfig eth0`.
"""

from __future__ import annotations

import collections
import re
import sys
import tempfile
import time
from pathlib import Path

from xv6net import nics
from xv6net.qemu import VMSpec
from xv6net.vm import VM
from xv6net.wire import WirePeer

GUEST_MAC = "52:54:76:36:00:02"
PEER_MAC = "02:00:00:00:00:01"
FRAMES = 200
TRACE = re.compile(r"memory_region_ops_(read|write) .* addr (0x[0-9a-f]+) .* name '([^']+)'")
# virtio-pci's notify is an ioeventfd in QEMU 7.2 even under TCG: the guest's
# port write signals QEMU's main loop and never reaches the register trace.
NOTIFY = re.compile(r"virtio_queue_notify .* n (\d+)")
NOT_THE_CARD = {"serial", "vga", "vga-lowmem", "kvmvapic", "apic-msi"}


def frame(seq: int, size: int = 60) -> bytes:
    head = bytes.fromhex(GUEST_MAC.replace(":", "") + PEER_MAC.replace(":", "")) + b"\x88\xb5"
    return (head + seq.to_bytes(4, "big")).ljust(size, b"\0")


class Trace:
    """The trace file, read from where the last reading stopped."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.pos = 0

    def since(self) -> collections.Counter[tuple[str, str]]:
        """(region, "r ADDR" or "w ADDR") -> accesses, and ("virtio", "notify
        queue N") -> notifies, since the last call."""
        text = self.path.read_text(errors="replace")
        counts = collections.Counter((m[3], f"{m[1][0]} {m[2]}")
                                     for m in TRACE.finditer(text, self.pos))
        counts.update(("virtio", f"notify queue {m[1]}") for m in NOTIFY.finditer(text, self.pos))
        self.pos = len(text)
        return counts


def received(vm: VM) -> int:
    return int(re.search(r"RX packets (\d+)", vm.run("ifconfig eth0"))[1])  # type: ignore[index]


def measure(model: str, workdir: Path) -> None:
    log = workdir / f"{model}.trace"
    with WirePeer() as peer:
        spec = VMSpec(name="cost", kernel=Path("build/kernel.elf"),
                      initramfs=Path("build/initramfs.cpio"),
                      cmdline="ip=10.0.0.2:::255.255.255.0::eth0:off",
                      nics=[peer.nic(mac=GUEST_MAC, model=model)],
                      serial=workdir / f"{model}.sock",
                      extra=["-trace", "memory_region_ops_read", "-trace",
                             "memory_region_ops_write", "-trace", "virtio_queue_notify",
                             "-D", str(log)])
        with VM(spec, logfile=workdir / f"{model}.console") as vm:
            peer.wait_connected(10)
            vm.wait_for_shell(30)
            time.sleep(nics.model(model).rx_hold_s + 0.5)
            trace = Trace(log)
            trace.since()
            steps = []
            before = received(vm)
            for seq in range(FRAMES):
                peer.send(frame(seq))
                time.sleep(0.005)
            time.sleep(0.5)
            steps.append(("receive, one per interrupt", trace.since(), received(vm) - before))
            before = received(vm)
            peer.send_many([frame(seq) for seq in range(FRAMES)])
            time.sleep(1.0)
            steps.append(("receive, 60 bytes, burst", trace.since(), received(vm) - before))
            before = received(vm)
            peer.send_many([frame(seq, 1514) for seq in range(FRAMES // 10)])
            time.sleep(1.0)
            steps.append(("receive, 1514 bytes, burst", trace.since(), received(vm) - before))
            vm.run(f"ethsend eth0 {PEER_MAC} 88b5 {FRAMES}", timeout=30)
            steps.append(("send, 60 bytes", trace.since(), FRAMES))
            print(f"== {model}")
            for what, counts, frames in steps:
                print(f"{what:28s} {frames:4d} frames; accesses per frame: "
                      f"{per_frame(counts, frames)}")
            print(vm.run("ifconfig eth0"))


def per_frame(counts: collections.Counter[tuple[str, str]], frames: int) -> str:
    """The card's accesses per frame by region, then by register (those at
    0.01 per frame or more)."""
    frames = max(frames, 1)
    card = {k: v / frames for k, v in counts.items() if k[0] not in NOT_THE_CARD}
    regions: collections.Counter[str] = collections.Counter()
    for (region, _), per in card.items():
        regions[region] += per
    out = []
    for region, per in regions.items():
        regs = [f"{reg} {v:.2f}" for (r, reg), v in sorted(card.items())
                if r == region and v >= 0.01]
        out.append(f"{region} {per:.2f} ({', '.join(regs)})")
    return "; ".join(out) or "0"


def main(argv: list[str]) -> int:
    models = argv or list(nics.NAMES)
    with tempfile.TemporaryDirectory(prefix="xv6net-cost-") as tmp:
        for model in models:
            measure(nics.model(model).name, Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
