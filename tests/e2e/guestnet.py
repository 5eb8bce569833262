"""Shared by the wire tests: a guest whose eth0 is cabled to a WirePeer, readers
for what the guest's netstat, ifconfig and arp print, and an IPv4 host for the
peer to play (IpResponder).

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
from scapy.layers.inet import ICMP, IP, UDP, defragment, fragment
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Raw

from xv6net import nics
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


def parse_driver(text: str) -> str | None:
    """The driver `ifconfig IF` names ("ether ...  (Ethernet)  driver ne2k")."""
    match = re.search(r"^\s+ether \S+\s+\(Ethernet\)\s+driver (\S+)$", text, re.MULTILINE)
    return match[1] if match else None


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


# The Ip/Icmp/Udp lines of `netstat -s`, exactly as user/netstat.c prints them;
# each {name} is the kernel's own counter (kernel/net/ip.c, icmp.c, udp.c).
# parse_netstat cannot tell Icmp's received "echo replies" from its sent ones.
IPSTATS_LINES = {
    "Ip": ["{rx} total packets received, {delivered} delivered",
           "{hdrerrors} with bad headers, {badsum} with bad checksums, "
           "{addrerrors} with bad addresses",
           "{ttlzero} with TTL 0, {unknownproto} with unknown protocol, {notforus} for other hosts",
           "{tx} requests sent out, {noroute} without a route, {nobufs} without buffers",
           "{fragcreated} fragments created, {fragfails} fragmentations failed",
           "{reasmreqds} fragments received, {reasmoks} reassembled, "
           "{reasmfails} reassemblies failed, {reasmtimeouts} timed out",
           "{reasmdups} duplicate fragments dropped",
           "{forwdatagrams} forwarded, {forwttlexceeded} with TTL exceeded, "
           "{forwnoroute} without a route, {forwfragneeded} too big with DF set",
           "{forwmartians} with martian addresses, {forwlinkbcast} in link-layer broadcasts "
           "not forwarded, {forwfragcreated} forwarded fragments created, "
           "{forwnobufs} without buffers"],
    "Icmp": ["{rx} messages received, {rxerrors} input errors",
             "{echo} echo requests, {echoreply} echo replies, {unreach} destination unreachable, "
             "{timeexceeded} time exceeded",
             "{tx} messages sent, {txechoreply} echo replies, {txunreach} destination unreachable, "
             "{txtimeexceeded} time exceeded",
             "{ratelimited} errors held back by the rate limit"],
    "Udp": ["{rx} packets received, {noport} to unknown port, {errors} receive errors",
            "{badsum} with bad checksums, {queuedrops} receive buffer errors, {tx} packets sent"],
}


def _ipstats_regex() -> re.Pattern[str]:
    """All the lines as one regular expression: "{rx}" under Ip: becomes (?P<ip_rx>\\d+)."""
    parts = []
    for section, lines in IPSTATS_LINES.items():
        parts.append(rf"^{section}:\n")
        for line in lines:
            pieces = re.split(r"\{(\w+)\}", line)      # text, name, text, ..., name, text
            parts.append(" +" + "".join(
                rf"(?P<{section.lower()}_{piece}>\d+)" if i % 2 else re.escape(piece)
                for i, piece in enumerate(pieces)) + r"\n")
    return re.compile("".join(parts), re.MULTILINE)


IPSTATS = _ipstats_regex()


def parse_ipstats(text: str) -> dict[str, int]:
    """The Ip, Icmp and Udp counters of netstat as {"ip.rx": n, "icmp.txunreach": n, ...}.

    Raises ValueError unless all of them are there, in netstat's order.
    """
    match = IPSTATS.search(text)
    if match is None:
        raise ValueError(f"no Ip/Icmp/Udp counters in:\n{text}")
    return {key.replace("_", ".", 1): int(value) for key, value in match.groupdict().items()}


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


def inet_checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071) of data; 0 over data that carries a right one."""
    if len(data) % 2:
        data += b"\0"
    total = sum(int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


class IpResponder:
    """An IPv4 host, or a gateway, for a WirePeer to play: pass it to WirePeer.respond().

    It answers ARP for `ip`; ICMP echo requests to `ip` or to any address in
    `routed` (a gateway answering for hosts behind it), with TTL `ttl`; UDP to
    `upper_port` with the payload in upper case; UDP to `refused_port` with an
    ICMP port unreachable. Fragments are reassembled first (scapy's defragment),
    and replies longer than the MTU go out in fragments (scapy's fragment).
    Everything else is ignored. `requests` keeps each datagram it answered.
    """

    def __init__(self, mac: str, ip: str, *, routed: tuple[str, ...] = (), ttl: int = 77,
                 upper_port: int = 5555, refused_port: int = 5556) -> None:
        self.mac = mac
        self.ip = ip
        self.addresses = {ip, *routed}
        self.ttl = ttl
        self.upper_port = upper_port
        self.refused_port = refused_port
        self.requests: list[IP] = []
        self._fragments: dict[tuple[str, str, int, int], list[IP]] = {}
        self._next_id = 0x7700

    def __call__(self, frame: bytes) -> list[bytes] | None:
        ether = Ether(frame)
        if ARP in ether:
            arp = ether[ARP]
            if arp.op == 1 and arp.pdst == self.ip:
                return [arp_frame(2, self.mac, self.ip, arp.psrc, tha=arp.hwsrc)]
            return None
        if IP not in ether or ether.dst != self.mac or ether[IP].dst not in self.addresses:
            return None
        packet = self._reassemble(ether[IP])
        reply = None if packet is None else self._answer(packet)
        if packet is None or reply is None:
            return None
        self.requests.append(packet)
        self._next_id += 1
        datagram = IP(src=reply[0], dst=packet.src, ttl=self.ttl, id=self._next_id) / reply[1]
        pieces = fragment(datagram, 1480) if len(datagram) > 1500 else [datagram]
        return [bytes(Ether(dst=ether.src, src=self.mac) / piece) for piece in pieces]

    def _reassemble(self, packet: IP) -> IP | None:
        if packet.flags.MF == 0 and packet.frag == 0:
            return trim_ip(packet)
        key = (packet.src, packet.dst, packet.id, packet.proto)
        pieces = self._fragments.setdefault(key, [])
        pieces.append(packet)
        whole = defragment_ip(pieces)
        if whole is not None:
            del self._fragments[key]
        return whole

    def _answer(self, packet: IP) -> tuple[str, ICMP | UDP] | None:
        """(source address, ICMP or UDP message) of the reply to packet, or None."""
        if ICMP in packet and packet[ICMP].type == 8:
            echo = packet[ICMP]
            return packet.dst, ICMP(type=0, id=echo.id, seq=echo.seq) / Raw(bytes(echo.payload))
        if UDP in packet and packet.dst == self.ip:
            udp = packet[UDP]
            if udp.dport == self.upper_port:
                data = bytes(udp.payload).upper()
                return self.ip, UDP(sport=udp.dport, dport=udp.sport) / Raw(data)
            if udp.dport == self.refused_port:
                quote = bytes(packet)[:packet.ihl * 4 + 8]
                return self.ip, ICMP(type=3, code=3) / Raw(quote)
        return None


def trim_ip(packet: IP) -> IP:
    """packet re-read without what followed it in the frame (scapy keeps Ethernet
    padding in the payload, and its defragment would keep it in the data)."""
    return IP(bytes(packet)[:packet.len])


def defragment_ip(pieces: list[IP]) -> IP | None:
    """The datagram the fragments make, once they cover it without holes; else None.

    Reassembly is scapy's (defragment); this only decides when it is complete.
    """
    ordered = sorted((trim_ip(p) for p in pieces), key=lambda p: p.frag)
    end = 0
    for piece in ordered:
        if piece.frag * 8 != end:
            return None
        end += piece.len - piece.ihl * 4
    if ordered[-1].flags.MF:
        return None
    whole = defragment(ordered)
    if len(whole) != 1 or whole[0].flags.MF or whole[0].frag:
        return None
    return IP(bytes(whole[0]))


# ---- the guest on a wire --------------------------------------------------------------

class WiredGuest:
    """A booted guest (vm) and the peer at the other end of its eth0 cable (peer);
    model is the card eth0 is."""

    def __init__(self, vm: VM, peer: WirePeer, model: nics.NicModel) -> None:
        self.vm = vm
        self.peer = peer
        self.model = model

    def netstat(self) -> dict[str, int]:
        return parse_netstat(self.vm.run("netstat"))

    def ifconfig(self) -> dict[str, int]:
        text = self.vm.run("ifconfig eth0")
        driver = parse_driver(text)
        assert driver == self.model.driver, f"eth0 is driven by {driver}, not {self.model.driver}"
        return parse_ifconfig(text)

    def arp_table(self) -> dict[str, ArpEntry]:
        return parse_arp(self.vm.run("arp -a"))

    def pbufs_in_use(self) -> int:
        return parse_netstat(self.vm.run("netstat -m"))["pbufs in use"]

    def overruns_in_qemu(self) -> int | None:
        """Frames QEMU's card has dropped so far because the receive ring was full:
        counted from its trace (e1000); 0 for a card that holds frames back instead
        (virtio-net); None when QEMU drops them without a word (ne2k)."""
        if self.model.overrun_trace:
            return self.vm.read_stderr().count(self.model.overrun_trace + " ")
        return None if self.model.drops_when_full else 0

    def counters(self) -> dict[str, int]:
        """ifconfig eth0 and netstat together, and QEMU's drop count as "qemu_overruns"
        when it is known (overruns_in_qemu)."""
        known = {} if (lost := self.overruns_in_qemu()) is None else {"qemu_overruns": lost}
        return {**self.ifconfig(), **self.netstat(), **known}

    def assert_nothing_lost_in_card(self, change: dict[str, int]) -> None:
        """No frame was lost to a full receive ring during the change: QEMU's count
        where it gives one; else the driver never found its ring full (ne2k, whose
        QEMU model drops only then); a virtio-net card loses nothing (it holds
        frames until there are buffers)."""
        if "qemu_overruns" in change:
            assert change["qemu_overruns"] == 0, "frames were lost in the card"
        else:
            assert change["rx_ringfull"] == 0, "the ring was full: frames may have been lost"

    def settle(self, quiet: float = 0.3, timeout: float = 20.0) -> dict[str, int]:
        """Wait until the guest has taken in all it will (RX and drop counts stand still).

        Returns the counters then. Raises TimeoutError if they keep moving.
        """
        deadline = time.monotonic() + timeout
        last = self.counters()
        while time.monotonic() < deadline:
            time.sleep(quiet)
            now = self.counters()
            moving = ("rx_packets", "qemu_overruns", "tx_packets")
            if all(now.get(k) == last.get(k) for k in moving):
                return now
            last = now
        raise TimeoutError(f"the guest's counters still move after {timeout:g} s: {last}")

    def wait_rx(self, packets: int, timeout: float = 10.0) -> None:
        """Wait until the guest's RX packet count has reached packets."""
        deadline = time.monotonic() + timeout
        while (got := (now := self.ifconfig())["rx_packets"]) < packets:
            if time.monotonic() >= deadline:
                raise TimeoutError(f"the guest received {got} packets, not {packets}, "
                                   f"within {timeout:g} s: {now}")
            time.sleep(0.02)

    def wait_receiving(self, timeout: float = 5.0) -> None:
        """Send a frame of an unhandled type to the guest and wait until it counts it.

        QEMU's e1000 holds received frames back for about a second after every
        write to RCTL (the driver writes it at boot): frames sent meanwhile
        arrive late, after a test may have read its counters. (The other cards
        pass the first frame on at once.)
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
def wired_guest(cmdline: str, logdir: Path, name: str = "guest",
                model: str = nics.DEFAULT) -> Iterator[WiredGuest]:
    """Boot a guest whose eth0 (GUEST_MAC, a card of the model) is cabled to a
    WirePeer; stop both afterwards.

    Where QEMU traces every receive overrun (e1000), the trace is on, so tests
    can tell frames the card dropped from frames the kernel lost. Everything
    the peer saw or sent is in logdir/NAME-wire.pcap and the console in
    logdir/NAME-console.log.
    """
    require_kernel()
    card = nics.model(model)
    trace = ["-trace", card.overrun_trace] if card.overrun_trace else []
    with WirePeer(pcap=logdir / f"{name}-wire.pcap") as peer:
        spec = VMSpec(name=name, kernel=KERNEL, initramfs=INITRD, cmdline=cmdline,
                      nics=[peer.nic(mac=GUEST_MAC, model=model)], extra=trace)
        vm = VM(spec, logfile=logdir / f"{name}-console.log")
        try:
            vm.start()
            peer.wait_connected(10)
            vm.wait_for_shell(BOOT_TIMEOUT)
            guest = WiredGuest(vm, peer, card)
            guest.wait_receiving()
            yield guest
        finally:
            vm.close()
            # pytest shows this only when a test failed
            print(f"--- {name} console (tail) ---\n{vm.log[-3000:]}\n"
                  f"--- QEMU output (head) ---\n{vm.stderr[:2000]}")
