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
TRACE = re.compile(r"memory_region_ops_(?:read|write) .* name '([^']+)'")
NOT_THE_CARD = {"serial", "vga", "vga-lowmem", "kvmvapic", "apic-msi"}


def frame(seq: int, size: int = 60) -> bytes:
    head = bytes.fromhex(GUEST_MAC.replace(":", "") + PEER_MAC.replace(":", "")) + b"\x88\xb5"
    return (head + seq.to_bytes(4, "big")).ljust(size, b"\0")


class Trace:
    """The trace file, read from where the last reading stopped."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.pos = 0

    def since(self) -> collections.Counter[str]:
        text = self.path.read_text(errors="replace")
        counts = collections.Counter(m[1] for m in TRACE.finditer(text, self.pos))
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
                             "memory_region_ops_write", "-D", str(log)])
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
                card = {k: v for k, v in counts.items() if k not in NOT_THE_CARD}
                per = ", ".join(f"{k} {v / max(frames, 1):.2f}" for k, v in card.items())
                print(f"{what:28s} {frames:4d} frames; accesses per frame: {per or '0'}")
            print(vm.run("ifconfig eth0"))


def main(argv: list[str]) -> int:
    models = argv or list(nics.NAMES)
    with tempfile.TemporaryDirectory(prefix="xv6net-cost-") as tmp:
        for model in models:
            measure(nics.model(model).name, Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
