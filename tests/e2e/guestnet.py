"""Shared by the wire tests: a guest whose eth0 is cabled to a WirePeer, and readers
for what the guest's netstat, ifconfig and arp print.

Not a test module (pytest collects test_*.py only); the test modules import it
from their own directory.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from scapy.layers.l2 import ARP, Ether

from xv6net.qemu import VMSpec
from xv6net.vm import VM
from xv6net.wire import WirePeer

ROOT = Path(__file__).resolve().parents[2]
KERNEL = ROOT / "build" / "kernel.elf"
INITRD = ROOT / "build" / "initramfs.cpio"
BOOT_TIMEOUT = 30.0

GUEST_MAC = "52:54:76:36:00:02"
GUEST_IP = "10.0.0.2"
PEER_MAC = "02:00:00:00:00:01"
PEER_IP = "10.0.0.1"
IP_ARG = f"ip={GUEST_IP}:::255.255.255.0::eth0:off"
# QEMU logs every frame its e1000 drops for want of a receive buffer.
OVERRUN_TRACE = "e1000_receiver_overrun"


def require_kernel() -> None:
    for path in (KERNEL, INITRD):
        if not path.is_file():
            pytest.skip(f"{path.relative_to(ROOT)} is missing: run `make` first")


# ---- what the guest prints ----------------------------------------------------

NETSTAT_ITEM = re.compile(r"(\d+) ([A-Za-z][A-Za-z ]*?)\s*(?:,|$)")
PBUFS = re.compile(r"(\d+)/(\d+)/(\d+) pbufs in use/free/total")
ARP_LINE = re.compile(
    r"^\? \((?P<ip>[\d.]+)\) at (?P<mac><incomplete>|[0-9a-f:]{17})(?: \[ether\])? "
    r"(?:(?P<state>PERM|STALE) )?on (?P<ifname>\S+)$")


def parse_netstat(text: str) -> dict[str, int]:
    """netstat's counters as {"Section.label": n}, e.g. "Arp.malformed"; and the pbufs."""
    counters: dict[str, int] = {}
    section = ""
    for line in text.splitlines():
        if line and not line[0].isspace() and line.rstrip().endswith(":"):
            section = line.strip()[:-1]
            continue
        pool = PBUFS.search(line)
        if pool:
            used, free, total = (int(g) for g in pool.groups())
            counters.update({"pbufs in use": used, "pbufs free": free, "pbufs total": total})
            continue
        for match in NETSTAT_ITEM.finditer(line.strip()):
            counters[f"{section}.{match[2]}"] = int(match[1])
    return counters


def parse_ifconfig(text: str) -> dict[str, int]:
    """One interface's counters: rx_packets, rx_bytes, rx_errors, ..., interrupts."""
    counters: dict[str, int] = {}
    for line in text.splitlines():
        words = line.split()
        if words[:1] in (["RX"], ["TX"]):
            prefix = words[0].lower()
            for name, value in zip(words[1::2], words[2::2], strict=True):
                counters[f"{prefix}_{name}"] = int(value)
        elif words[:1] == ["interrupts"]:
            counters["interrupts"] = int(words[1])
    return counters


@dataclass(frozen=True)
class ArpEntry:
    ip: str
    mac: str          # "<incomplete>" while unresolved
    state: str        # REACHABLE, STALE, PERM, INCOMPLETE
    ifname: str


def parse_arp(text: str) -> dict[str, ArpEntry]:
    """`arp -a` as {ip: entry}; raises on a line it does not understand."""
    table: dict[str, ArpEntry] = {}
    for line in text.splitlines():
        if not line.strip() or line.strip() == "arp: no entries":
            continue
        match = ARP_LINE.match(line.strip())
        if match is None:
            raise ValueError(f"unexpected arp line {line!r}")
        state = match["state"] or ("INCOMPLETE" if match["mac"] == "<incomplete>"
                                   else "REACHABLE")
        table[match["ip"]] = ArpEntry(match["ip"], match["mac"], state, match["ifname"])
    return table


def deltas(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {key: after[key] - before.get(key, 0) for key in after}


# ---- frames ----------------------------------------------------------------------

def arp_frame(op: int, sha: str, spa: str, tpa: str, *, tha: str = "00:00:00:00:00:00",
              dst: str | None = None) -> bytes:
    """A whole ARP frame (42 bytes; QEMU pads it to 60 on the way in)."""
    dst = dst or ("ff:ff:ff:ff:ff:ff" if op == 1 else tha)
    return bytes(Ether(dst=dst, src=sha) /
                 ARP(op=op, hwsrc=sha, psrc=spa, hwdst=tha, pdst=tpa))


def who_has(target: str, sender_mac: str = PEER_MAC, sender_ip: str = PEER_IP) -> bytes:
    return arp_frame(1, sender_mac, sender_ip, target)


def is_arp(op: int | None = None, psrc: str | None = None, pdst: str | None = None,
           hwdst: str | None = None) -> Callable[[bytes], bool]:
    """A predicate for frames from the guest: ARP with these fields."""
    def pred(frame: bytes) -> bool:
        if len(frame) < 42 or frame[12:14] != b"\x08\x06":
            return False
        arp = Ether(frame)[ARP]
        return ((op is None or arp.op == op) and (psrc is None or arp.psrc == psrc) and
                (pdst is None or arp.pdst == pdst) and (hwdst is None or arp.hwdst == hwdst))
    return pred


# ---- the guest on a wire --------------------------------------------------------------

class WiredGuest:
    """A booted guest (vm) and the peer at the other end of its eth0 cable (peer)."""

    def __init__(self, vm: VM, peer: WirePeer) -> None:
        self.vm = vm
        self.peer = peer

    def netstat(self) -> dict[str, int]:
        return parse_netstat(self.vm.run("netstat"))

    def ifconfig(self) -> dict[str, int]:
        return parse_ifconfig(self.vm.run("ifconfig eth0"))

    def arp_table(self) -> dict[str, ArpEntry]:
        return parse_arp(self.vm.run("arp -a"))

    def pbufs_in_use(self) -> int:
        return parse_netstat(self.vm.run("netstat -m"))["pbufs in use"]

    def overruns_in_qemu(self) -> int:
        """Frames QEMU's e1000 has dropped so far because the receive ring was full."""
        return self.vm.read_stderr().count(OVERRUN_TRACE + " ")

    def counters(self) -> dict[str, int]:
        """ifconfig eth0 and netstat together, and QEMU's drop count as "qemu_overruns"."""
        return {**self.ifconfig(), **self.netstat(), "qemu_overruns": self.overruns_in_qemu()}

    def settle(self, quiet: float = 0.3, timeout: float = 20.0) -> dict[str, int]:
        """Wait until the guest has taken in all it will (RX and drop counts stand still).

        Returns the counters then. Raises TimeoutError if they keep moving.
        """
        deadline = time.monotonic() + timeout
        last = self.counters()
        while time.monotonic() < deadline:
            time.sleep(quiet)
            now = self.counters()
            if all(now[k] == last[k] for k in ("rx_packets", "qemu_overruns", "tx_packets")):
                return now
            last = now
        raise TimeoutError(f"the guest's counters still move after {timeout:g} s: {last}")

    def wait_rx(self, packets: int, timeout: float = 10.0) -> None:
        """Wait until the guest's RX packet count has reached packets."""
        deadline = time.monotonic() + timeout
        while (got := self.ifconfig()["rx_packets"]) < packets:
            if time.monotonic() >= deadline:
                raise TimeoutError(f"the guest received {got} packets, not {packets}, "
                                   f"within {timeout:g} s")
            time.sleep(0.02)

    def wait_receiving(self, timeout: float = 5.0) -> None:
        """Send a frame of an unhandled type to the guest and wait until it counts it.

        QEMU's e1000 holds received frames back for about a second after every
        write to RCTL (the driver writes it at boot): frames sent meanwhile
        arrive late, after a test may have read its counters.
        """
        before = self.ifconfig()["rx_packets"]
        mac = bytes.fromhex(GUEST_MAC.replace(":", ""))
        self.peer.send(mac + bytes.fromhex(PEER_MAC.replace(":", "")) + b"\x88\xb5" + bytes(46))
        deadline = time.monotonic() + timeout
        while self.ifconfig()["rx_packets"] == before:
            if time.monotonic() >= deadline:
                raise TimeoutError(f"the guest received nothing within {timeout:g} s")
            time.sleep(0.05)

    def wait_arp(self, ip: str, want: Callable[[ArpEntry | None], bool],
                 timeout: float) -> tuple[float, ArpEntry | None]:
        """Poll `arp -a` until want(entry for ip) holds; (when it did, monotonic; entry)."""
        deadline = time.monotonic() + timeout
        while True:
            entry = self.arp_table().get(ip)
            if want(entry):
                return time.monotonic(), entry
            if time.monotonic() >= deadline:
                raise TimeoutError(f"arp entry for {ip} is {entry} after {timeout:g} s")
            time.sleep(0.05)


@contextmanager
def wired_guest(cmdline: str, logdir: Path, name: str = "guest") -> Iterator[WiredGuest]:
    """Boot a guest whose eth0 (GUEST_MAC) is cabled to a WirePeer; stop both afterwards.

    QEMU traces every receive overrun, so tests can tell frames the card
    dropped from frames the kernel lost. Everything the peer saw or sent is
    in logdir/NAME-wire.pcap and the console in logdir/NAME-console.log.
    """
    require_kernel()
    with WirePeer(pcap=logdir / f"{name}-wire.pcap") as peer:
        spec = VMSpec(name=name, kernel=KERNEL, initramfs=INITRD, cmdline=cmdline,
                      nics=[peer.nic(mac=GUEST_MAC)], extra=["-trace", OVERRUN_TRACE])
        vm = VM(spec, logfile=logdir / f"{name}-console.log")
        try:
            vm.start()
            peer.wait_connected(10)
            vm.wait_for_shell(BOOT_TIMEOUT)
            guest = WiredGuest(vm, peer)
            guest.wait_receiving()
            yield guest
        finally:
            vm.close()
            # pytest shows this only when a test failed
            print(f"--- {name} console (tail) ---\n{vm.log[-3000:]}\n"
                  f"--- QEMU output (head) ---\n{vm.stderr[:2000]}")
