"""IPv4, ICMP and UDP on the wire (issue 5): a guest (10.0.0.2/24) against a WirePeer that
plays 10.0.0.1, checked frame by frame.

One guest for the module, booted with ip.reasmtime=2 (an incomplete datagram is
dropped after 2 s) and a tighter limit on ICMP errors than the default (100 a
second, bursts of 10; the default is Linux's 1000 and 50), and running
`udpecho 7777` in the background. The peer
answers ARP, echo requests and UDP for 10.0.0.1 through IpResponder; the tests
send the rest. Well-formed traffic is built with scapy (fragments with its
fragment()), bad input byte by byte so that every field is exactly as given.

Counters come from `netstat -s` before and after a test's traffic. Instead of
waiting for the guest to go quiet, a test ends its traffic with a *fence*: an
echo request whose reply proves that the guest has handled every frame sent
before it (one receive ring, one receive thread, in order). The fence's own
counts (FENCE) are known exactly, so every other counter change is predicted.
"""

import itertools
import re
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from guestnet import (
    GUEST_IP,
    GUEST_MAC,
    IP_ARG,
    PEER_IP,
    PEER_MAC,
    IpResponder,
    WiredGuest,
    defragment_ip,
    deltas,
    inet_checksum,
    parse_ipstats,
    trim_ip,
    wired_guest,
)
from scapy.layers.inet import ICMP, IP, UDP, fragment
from scapy.layers.l2 import Ether
from scapy.packet import Raw

from xv6net import pcap as xpcap
from xv6net.vm import VM
from xv6net.wire import PcapWriter, WirePeer

pytestmark = pytest.mark.e2e

REASM_TIME = 2.0           # ip.reasmtime on the command line below
ICMP_RATE, ICMP_BURST = 100, 10   # icmp.msgs_per_sec and icmp.msgs_burst, likewise
NREASS = 8                 # reassemblies at once (kernel/net/ip.c)
REASM_LIMIT = 16256 - 20   # the most data a reassembled datagram holds (IP_MAXPACKET - 20)
MTU = 1500
CHUNK = 1480               # data per fragment the guest sends: (MTU - 20) & ~7
TTL = 64                   # the guest's IP_TTL
PEER_TTL = 77              # what IpResponder puts in its replies
ECHO_PORT = 7777           # the guest's udpecho
CLOSED_PORT = 9
UPPER_PORT = 5555          # IpResponder's UDP "server"
REFUSED_PORT = 5556        # IpResponder answers with ICMP port unreachable
SUBNET_BROADCAST = "10.0.0.255"
BROADCAST_MAC = "ff:ff:ff:ff:ff:ff"
SLACK = 0.15               # guest ticks against the host clock

ICMP_ECHOREPLY, ICMP_UNREACH, ICMP_ECHO, ICMP_TIMXCEED = 0, 3, 8, 11
TIMXCEED_REASS = 1
UNREACH_PROTO, UNREACH_PORT = 2, 3
IP_MF = 1                  # the flag, as ipv4() takes flags

# What one fence adds: an echo request in, an echo reply out.
FENCE = {"ip.rx": 1, "ip.delivered": 1, "ip.tx": 1, "icmp.rx": 1, "icmp.echo": 1,
         "icmp.tx": 1, "icmp.txechoreply": 1}
FENCE_ICMP_ID = 0xFE
_ip_ids = itertools.count(0x1000)       # a fresh IP identification for each datagram we send
_fence_seqs = itertools.count(1)


# ---- building packets byte by byte ---------------------------------------------

def addr(ip: str) -> bytes:
    return bytes(int(part) for part in ip.split("."))


def mac(text: str) -> bytes:
    return bytes.fromhex(text.replace(":", ""))


def ipv4(src: str, dst: str, proto: int, payload: bytes, *, ident: int | None = None,
         ttl: int = 64, flags: int = 0, offset: int = 0, version: int = 4,
         ihl: int | None = None, total: int | None = None, options: bytes = b"",
         checksum: int | None = None) -> bytes:
    """An IPv4 packet with every header field as given (offset in 8-byte units);
    by default a correct one with a fresh identification."""
    hlen = 20 + len(options)
    header = struct.pack(">BBHHHBBH4s4s", version << 4 | (hlen // 4 if ihl is None else ihl), 0,
                         hlen + len(payload) if total is None else total,
                         next(_ip_ids) if ident is None else ident, flags << 13 | offset,
                         ttl, proto, 0, addr(src), addr(dst)) + options
    checksum = inet_checksum(header) if checksum is None else checksum
    return header[:10] + checksum.to_bytes(2, "big") + header[12:] + payload


def icmp(type_: int, code: int, rest: bytes, data: bytes, checksum: int | None = None) -> bytes:
    message = bytes([type_, code, 0, 0]) + rest + data
    checksum = inet_checksum(message) if checksum is None else checksum
    return message[:2] + checksum.to_bytes(2, "big") + message[4:]


def echo_request(ident: int, seq: int, data: bytes, checksum: int | None = None) -> bytes:
    return icmp(ICMP_ECHO, 0, struct.pack(">HH", ident, seq), data, checksum)


def udp(src: str, dst: str, sport: int, dport: int, data: bytes, *, length: int | None = None,
        checksum: int | None = None) -> bytes:
    message = struct.pack(">HHHH", sport, dport, 8 + len(data) if length is None else length,
                          0) + data
    if checksum is None:
        pseudo = addr(src) + addr(dst) + struct.pack(">BBH", 0, 17, len(message))
        checksum = inet_checksum(pseudo + message) or 0xFFFF
    return message[:6] + checksum.to_bytes(2, "big") + message[8:]


def to_guest(packet: bytes, dst: str = GUEST_MAC) -> bytes:
    """packet in an Ethernet frame from the peer."""
    return mac(dst) + mac(PEER_MAC) + b"\x08\x00" + packet


def pattern(size: int, seed: int) -> bytes:
    """size bytes that repeat only every 64 KiB and differ with seed, so that data put
    at the wrong offset, or taken from another datagram, shows."""
    return bytes((seed * 131 + i * 7 + (i >> 8)) & 0xFF for i in range(size))


def scapy_fragments(packet: IP, dst: str = GUEST_MAC) -> list[bytes]:
    """The frames of packet from the peer: scapy's fragments when it is over the MTU."""
    pieces = fragment(packet, CHUNK) if len(packet) > MTU else [packet]
    return [bytes(Ether(dst=dst, src=PEER_MAC) / piece) for piece in pieces]


# ---- what the guest sends ------------------------------------------------------------

def ip_from_guest(frame: bytes) -> bool:
    return frame[12:14] == b"\x08\x00" and frame[26:30] == addr(GUEST_IP)


@dataclass
class Datagram:
    """One datagram from the guest: its frames as they came, and it reassembled."""

    frames: list[bytes]
    whole: IP

    @property
    def packets(self) -> list[IP]:
        return [trim_ip(Ether(f)[IP]) for f in self.frames]


def recv_datagram(guest: "IpGuest", pred: Callable[[IP], bool],
                  timeout: float = 5.0) -> Datagram | None:
    """The next datagram from the guest for which pred(reassembled datagram) holds."""
    deadline = time.monotonic() + timeout
    pending: dict[int, list[bytes]] = {}
    while True:
        frame = guest.peer.recv_until(ip_from_guest, max(deadline - time.monotonic(), 0))
        if frame is None:
            return None
        packet = trim_ip(Ether(frame)[IP])
        if packet.flags.MF or packet.frag:
            frames = pending.setdefault(packet.id, [])
            frames.append(frame)
            whole = defragment_ip([Ether(f)[IP] for f in frames])
            if whole is None:
                continue
            del pending[packet.id]
        else:
            frames, whole = [frame], packet
        if pred(whole):
            return Datagram(frames, whole)


def is_echo_reply(ident: int, seq: int) -> Callable[[IP], bool]:
    return lambda ip: (ICMP in ip and ip[ICMP].type == ICMP_ECHOREPLY and ip[ICMP].id == ident
                       and ip[ICMP].seq == seq)


def assert_guest_frames(datagram: Datagram, proto: int, dst: str = PEER_IP) -> None:
    """Every frame of a datagram from the guest: Ethernet and IP header fields, header
    checksums, and fragments as the guest cuts them (CHUNK bytes, MF on all but the last)."""
    packets = datagram.packets
    for frame, packet in zip(datagram.frames, packets, strict=True):
        ether = Ether(frame)
        assert (ether.dst, ether.src, ether.type) == (PEER_MAC, GUEST_MAC, 0x0800)
        assert len(frame) == max(14 + packet.len, 60), "frame longer than its datagram"
        assert packet.len <= MTU
        assert (packet.version, packet.ihl, packet.tos, packet.ttl) == (4, 5, 0, TTL)
        assert (packet.proto, packet.src, packet.dst) == (proto, GUEST_IP, dst)
        assert not packet.flags.DF
        assert inet_checksum(bytes(packet)[:20]) == 0, f"bad header checksum: {packet!r}"
    assert len({p.id for p in packets}) == 1, "fragments with different identifications"
    offset = 0
    for number, packet in enumerate(packets):
        last = number == len(packets) - 1
        data = packet.len - 20
        assert packet.frag * 8 == offset, "fragments out of order, or a hole"
        assert bool(packet.flags.MF) == (not last)
        assert data == CHUNK or last
        offset += data


def assert_icmp_checksum(packet: IP) -> None:
    assert inet_checksum(bytes(packet[ICMP])) == 0, f"bad ICMP checksum: {packet!r}"


def assert_udp_checksum(packet: IP) -> None:
    segment = bytes(packet[UDP])
    pseudo = addr(packet.src) + addr(packet.dst) + struct.pack(">BBH", 0, 17, len(segment))
    assert packet[UDP].chksum != 0, "the guest sent UDP without a checksum"
    assert inet_checksum(pseudo + segment) == 0, f"bad UDP checksum: {packet!r}"


# ---- the guest ---------------------------------------------------------------------

@dataclass
class IpGuest:
    wired: WiredGuest
    responder: IpResponder
    logdir: Path
    pbufs: int                        # pbufs in use once booted and idle

    @property
    def peer(self) -> WirePeer:
        return self.wired.peer

    @property
    def vm(self) -> VM:
        return self.wired.vm

    def stats(self) -> dict[str, int]:
        return parse_ipstats(self.vm.run("netstat -s"))

    def send(self, frames: list[bytes]) -> None:
        """Back to back; but never more at once than the card's receive ring takes
        (the ne2k's holds 8 full-size frames: a 16 KiB datagram's 11 fragments
        sent in one go would lose some in QEMU), waiting for the guest to take
        each share before the next."""
        share = max(1, self.wired.model.ring_capacity(max(map(len, frames), default=60)) - 2)
        for first in range(0, len(frames), share):
            rx = self.wired.ifconfig()["rx_packets"] if len(frames) > share else 0
            self.peer.send_many(frames[first:first + share])
            if len(frames) > share:
                self.wired.wait_rx(rx + len(frames[first:first + share]))

    def fence(self, timeout: float = 10.0) -> Datagram:
        """Ping the guest and wait for the reply (see the module docstring)."""
        seq = next(_fence_seqs)
        self.send([to_guest(ipv4(PEER_IP, GUEST_IP, 1, echo_request(FENCE_ICMP_ID, seq,
                                                                    b"fence")))])
        reply = recv_datagram(self, is_echo_reply(FENCE_ICMP_ID, seq), timeout)
        assert reply is not None, "the guest stopped answering pings"
        return reply

    def wait_pbufs(self, timeout: float = 5.0) -> None:
        """Wait until the pbuf pool is back to its count after boot; fail if it is not."""
        deadline = time.monotonic() + timeout
        while True:
            line = self.vm.run("netstat -m")
            used = int(line.split("/")[0])
            if used == self.pbufs:
                return
            assert time.monotonic() < deadline, f"pbufs in use: {used}, after boot {self.pbufs}"
            time.sleep(0.1)

    def wait_stat(self, key: str, value: int, timeout: float) -> tuple[float, dict[str, int]]:
        """Poll netstat until counter key reaches value; (when, monotonic; the counters)."""
        deadline = time.monotonic() + timeout
        while True:
            stats = self.stats()
            if stats[key] >= value:
                return time.monotonic(), stats
            assert time.monotonic() < deadline, f"{key} is {stats[key]}, not {value}"
            time.sleep(0.05)


def ip_changes(before: dict[str, int], after: dict[str, int], fences: int = 1) -> dict[str, int]:
    """The counters that moved between before and after, the fences' share taken out."""
    change = deltas(before, after)
    for key, count in FENCE.items():
        change[key] -= count * fences
    return {key: n for key, n in change.items() if n}


@pytest.fixture(scope="module")
def guest(tmp_path_factory, nic_model):
    logdir = tmp_path_factory.mktemp("ipwire")
    cmdline = (f"{IP_ARG} ip.reasmtime={REASM_TIME:.0f} icmp.msgs_per_sec={ICMP_RATE} "
               f"icmp.msgs_burst={ICMP_BURST}")
    with wired_guest(cmdline, logdir, model=nic_model) as wired:
        responder = IpResponder(PEER_MAC, PEER_IP, ttl=PEER_TTL, upper_port=UPPER_PORT,
                                refused_port=REFUSED_PORT)
        wired.peer.respond(responder)
        out = wired.vm.run(f"udpecho {ECHO_PORT} &")
        if "listening" not in out:            # it may print after the prompt
            wired.vm.console.expect(f"udpecho: listening on port {ECHO_PORT}\n", 5)
        pbufs = int(wired.vm.run("netstat -m").split("/")[0])
        yield IpGuest(wired, responder, logdir, pbufs)


@pytest.fixture
def clean(guest):
    """Nothing left in the peer's inbox before the test; the pool whole after it."""
    guest.peer.clear()
    yield
    guest.wait_pbufs()


# ---- echo ---------------------------------------------------------------------------

def echo_frames(ident: int, seq: int, data: bytes, ip_id: int | None = None) -> list[bytes]:
    """An echo request from the peer, in scapy's fragments when it is over the MTU."""
    packet = (IP(src=PEER_IP, dst=GUEST_IP, id=next(_ip_ids) if ip_id is None else ip_id) /
              ICMP(type=ICMP_ECHO, id=ident, seq=seq) / Raw(data))
    return scapy_fragments(packet)


def fragment_count(icmp_bytes: int) -> int:
    return -(-icmp_bytes // CHUNK)


@pytest.mark.parametrize("size", [0, 56, 1473, 3000, REASM_LIMIT - 8])
def test_echo_request_gets_a_correct_reply(guest, clean, size):
    data = pattern(size, size)
    before = guest.stats()
    frames = echo_frames(0x4242, size, data)
    assert len(frames) == fragment_count(8 + size)
    guest.send(frames)
    reply = recv_datagram(guest, is_echo_reply(0x4242, size))
    assert reply is not None, f"no echo reply to {size} bytes"
    assert_guest_frames(reply, proto=1)
    assert len(reply.frames) == fragment_count(8 + size)
    whole = reply.whole
    assert (whole[ICMP].type, whole[ICMP].code) == (ICMP_ECHOREPLY, 0)
    assert_icmp_checksum(whole)
    assert bytes(whole[ICMP].payload) == data
    change = ip_changes(before, guest.stats(), fences=0)
    frags = len(frames) if len(frames) > 1 else 0
    assert change == {"ip.rx": len(frames), "ip.delivered": 1, "ip.tx": 1, "icmp.rx": 1,
                      "icmp.echo": 1, "icmp.tx": 1, "icmp.txechoreply": 1,
                      **({"ip.reasmreqds": frags, "ip.reasmoks": 1,
                          "ip.fragcreated": len(reply.frames)} if frags else {})}


def test_echo_request_with_ip_options_is_answered_without_them(guest, clean):
    options = bytes([1, 1, 1, 0])        # NOP, NOP, NOP, end of options list
    data = pattern(40, 3)
    guest.send([to_guest(ipv4(PEER_IP, GUEST_IP, 1, echo_request(0x0505, 1, data),
                              options=options))])
    reply = recv_datagram(guest, is_echo_reply(0x0505, 1))
    assert reply is not None
    assert_guest_frames(reply, proto=1)
    assert bytes(reply.whole[ICMP].payload) == data


@pytest.mark.parametrize("last", ["last fragment", "first fragment"])
def test_options_in_the_first_fragment_only(guest, clean, last):
    # RFC 791: options not copied into every fragment (NOP is one) appear in
    # the first only; the datagram keeps the first fragment's header.
    sport, data = 40123 + (last == "first fragment"), pattern(100, 11)
    segment = udp(PEER_IP, GUEST_IP, sport, ECHO_PORT, data)
    ident = next(_ip_ids)
    first = ipv4(PEER_IP, GUEST_IP, 17, segment[:64], ident=ident, flags=IP_MF,
                 options=bytes([1, 1, 1, 0]))
    rest = ipv4(PEER_IP, GUEST_IP, 17, segment[64:], ident=ident, offset=8)
    before = guest.stats()
    guest.send([to_guest(first), to_guest(rest)][:: 1 if last == "last fragment" else -1])
    reply = recv_datagram(guest, is_udp_to_peer(ECHO_PORT, sport))
    assert reply is not None, "the datagram was not echoed"
    assert bytes(reply.whole[UDP].payload) == data
    change = ip_changes(before, guest.stats(), fences=0)
    assert (change["ip.reasmoks"], change["udp.rx"]) == (1, 1)
    assert not {"udp.errors", "udp.badsum", "ip.reasmfails"} & change.keys()


@pytest.mark.parametrize("ttl", [0, 1])
def test_a_host_takes_datagrams_whatever_their_ttl(guest, clean, ttl):
    # RFC 1122 3.2.1.7: a host must not discard a datagram just because its TTL
    # is below 2 (a router would); TTL 0 is counted, not dropped.
    before = guest.stats()
    guest.send([to_guest(ipv4(PEER_IP, GUEST_IP, 1, echo_request(0x7777, ttl, b"low ttl"),
                              ttl=ttl)),
                to_guest(ipv4(PEER_IP, GUEST_IP, 17, udp(PEER_IP, GUEST_IP, 44000 + ttl,
                                                         ECHO_PORT, b"low ttl"), ttl=ttl))])
    assert recv_datagram(guest, is_echo_reply(0x7777, ttl)) is not None
    reply = recv_datagram(guest, is_udp_to_peer(ECHO_PORT, 44000 + ttl))
    assert reply is not None and bytes(reply.whole[UDP].payload) == b"low ttl"
    assert reply.whole.ttl == TTL                        # and never sends TTL 0 itself
    change = ip_changes(before, guest.stats(), fences=0)
    assert change.get("ip.ttlzero", 0) == (2 if ttl == 0 else 0)


@pytest.mark.parametrize("size", [56, 3000])
def test_hundred_pings_no_loss(guest, clean, size):
    before = guest.stats()
    lost = []
    for seq in range(1, 101):
        data = pattern(size, seq)
        guest.send(echo_frames(0x6400 + size % 256, seq, data))
        reply = recv_datagram(guest, is_echo_reply(0x6400 + size % 256, seq))
        if reply is None or bytes(reply.whole[ICMP].payload) != data:
            lost.append(seq)
    assert lost == []
    change = ip_changes(before, guest.stats(), fences=0)
    assert change["icmp.echo"] == change["icmp.txechoreply"] == 100
    if size > MTU:
        assert change["ip.reasmoks"] == 100
        assert change["ip.fragcreated"] == 100 * fragment_count(8 + size)
        assert change.get("ip.reasmfails", 0) == 0


# ---- UDP ----------------------------------------------------------------------------

def is_udp_to_peer(sport: int, dport: int) -> Callable[[IP], bool]:
    return lambda ip: UDP in ip and ip[UDP].sport == sport and ip[UDP].dport == dport


@pytest.mark.parametrize("size", [0, 1, 100, 1472, 1473, 3000, 8000])
def test_udp_is_echoed_with_a_valid_checksum(guest, clean, size):
    sport, data = 40000 + size, pattern(size, size + 1)
    before = guest.stats()
    packet = IP(src=PEER_IP, dst=GUEST_IP, id=next(_ip_ids)) / UDP(sport=sport,
                                                                    dport=ECHO_PORT) / Raw(data)
    guest.send(scapy_fragments(packet))
    reply = recv_datagram(guest, is_udp_to_peer(ECHO_PORT, sport))
    assert reply is not None, f"no echo of {size} bytes"
    assert_guest_frames(reply, proto=17)
    whole = reply.whole
    assert whole[UDP].len == 8 + size
    assert_udp_checksum(whole)
    assert bytes(whole[UDP].payload) == data
    change = ip_changes(before, guest.stats(), fences=0)
    assert change["udp.rx"] == change["udp.tx"] == 1
    assert not {"udp.errors", "udp.noport", "udp.queuedrops"} & change.keys()


def test_udp_without_checksum_is_accepted(guest, clean):
    data = b"no checksum"
    guest.send([to_guest(ipv4(PEER_IP, GUEST_IP, 17,
                              udp(PEER_IP, GUEST_IP, 40999, ECHO_PORT, data, checksum=0)))])
    reply = recv_datagram(guest, is_udp_to_peer(ECHO_PORT, 40999))
    assert reply is not None
    assert bytes(reply.whole[UDP].payload) == data
    assert_udp_checksum(reply.whole)


def is_unreachable(code: int) -> Callable[[IP], bool]:
    return lambda ip: ICMP in ip and (ip[ICMP].type, ip[ICMP].code) == (ICMP_UNREACH, code)


def assert_quotes(error: Datagram, original: bytes) -> None:
    """An ICMP error from the guest: right fields, and the original IP header + 8 bytes."""
    assert_guest_frames(error, proto=1)
    whole = error.whole
    assert_icmp_checksum(whole)
    message = bytes(whole[ICMP])
    assert message[4:8] == bytes(4)                          # unused
    header_len = (original[0] & 15) * 4
    assert message[8:] == original[:header_len + 8]


def test_udp_to_a_closed_port_brings_port_unreachable(guest, clean):
    before = guest.stats()
    packet = ipv4(PEER_IP, GUEST_IP, 17, udp(PEER_IP, GUEST_IP, 41000, CLOSED_PORT,
                                             b"anyone there?"))
    guest.send([to_guest(packet)])
    error = recv_datagram(guest, is_unreachable(UNREACH_PORT))
    assert error is not None, "no ICMP port unreachable"
    assert_quotes(error, packet)
    change = ip_changes(before, guest.stats(), fences=0)
    assert change == {"ip.rx": 1, "ip.delivered": 1, "ip.tx": 1, "udp.rx": 1, "udp.noport": 1,
                      "icmp.tx": 1, "icmp.txunreach": 1}


def test_icmp_errors_are_rate_limited(guest, clean):
    # RFC 1812 4.3.2.8; a token bucket as Linux's. 200 datagrams to a closed port,
    # back to back, draw the burst and what the rate adds while they arrive.
    time.sleep(ICMP_BURST / ICMP_RATE + 0.05)          # the bucket is full again
    frames = [to_guest(ipv4(PEER_IP, GUEST_IP, 17, udp(PEER_IP, GUEST_IP, 41000 + n,
                                                       CLOSED_PORT, b"anyone?")))
              for n in range(200)]
    before = guest.stats()
    start_wall, start = time.time(), time.monotonic()
    guest.send(frames)
    guest.fence()
    elapsed = time.monotonic() - start
    change = ip_changes(before, guest.stats())
    sent = change.get("icmp.txunreach", 0)
    assert sent + change.get("icmp.ratelimited", 0) == change["udp.noport"] == 200
    assert ICMP_BURST <= sent <= ICMP_BURST + ICMP_RATE * (elapsed + 0.02) + 1, (sent, elapsed)
    errors = guest.peer.received(lambda f: ip_from_guest(f) and f[23] == 1 and f[34] == 3,
                                 since=start_wall)
    assert len(errors) == sent


# ---- the guest's own programs against the peer ------------------------------------------

PING_LINE = re.compile(r"^(\d+) bytes from (\S+): icmp_seq=(\d+) ttl=(\d+) time=(\d+\.\d{3}) ms$",
                       re.MULTILINE)


@pytest.mark.parametrize("size", [56, 3000])
def test_guest_ping_to_the_peer(guest, clean, size):
    start = len(guest.responder.requests)
    out = guest.vm.run(f"ping -c 3 -i 0.2 -s {size} {PEER_IP}", timeout=15)
    assert out.startswith(f"PING {PEER_IP} ({PEER_IP}) {size}({size + 28}) bytes of data.\n")
    lines = PING_LINE.findall(out)
    assert [(int(n), ip, int(seq), int(ttl)) for n, ip, seq, ttl, _ in lines] == [
        (size + 8, PEER_IP, seq, PEER_TTL) for seq in (1, 2, 3)]
    assert f"--- {PEER_IP} ping statistics ---" in out
    assert re.search(r"^3 packets transmitted, 3 received, 0% packet loss, time \d+ms$", out,
                     re.MULTILINE), out
    rtt = re.search(r"^rtt min/avg/max = (\d+\.\d{3})/(\d+\.\d{3})/(\d+\.\d{3}) ms$", out,
                    re.MULTILINE)
    assert rtt is not None, out
    low, avg, high = (float(x) for x in rtt.groups())
    assert low <= avg <= high
    requests = guest.responder.requests[start:]
    assert [r[ICMP].seq for r in requests] == [1, 2, 3]
    assert len({r[ICMP].id for r in requests}) == 1
    for request in requests:
        assert (request.src, request[ICMP].type, request[ICMP].code) == (GUEST_IP, ICMP_ECHO, 0)
        assert len(request[ICMP].payload) == size
        assert_icmp_checksum(request)


def test_a_fragmented_datagram_waits_whole_for_arp(guest, clean):
    # 12,008 bytes of ICMP are 9 fragments, all queued before the peer's MAC is known.
    guest.vm.run(f"arp -d {PEER_IP}")
    start, before = len(guest.responder.requests), guest.wired.netstat()
    out = guest.vm.run(f"ping -c 1 -W 3 -s 12000 {PEER_IP}", timeout=15)
    assert "1 packets transmitted, 1 received, 0% packet loss" in out, out
    (request,) = guest.responder.requests[start:]
    assert len(request[ICMP].payload) == 12000
    change = deltas(before, guest.wired.netstat())
    assert (change["Arp.requests sent"], change["Arp.queued packets dropped"]) == (1, 0)


def test_guest_nc_talks_to_a_udp_server(guest, clean):
    start = len(guest.responder.requests)
    out = guest.vm.run(f"echo hello from the guest | nc -u -w 1 {PEER_IP} {UPPER_PORT}",
                       timeout=10)
    assert out == "HELLO FROM THE GUEST\n"
    (request,) = guest.responder.requests[start:]
    assert (request.src, request[UDP].dport) == (GUEST_IP, UPPER_PORT)
    assert 49152 <= request[UDP].sport <= 65535
    assert bytes(request[UDP].payload) == b"hello from the guest\n"
    assert_udp_checksum(request)


def from_loopback_net(frame: bytes) -> bool:
    return frame[12:14] == b"\x08\x00" and frame[26] == 127


def test_a_socket_bound_to_127_cannot_send_onto_the_wire(guest, clean):
    start = time.time()
    out = guest.vm.run(f"echo from lo | nc -u -s 127.0.0.1 -w 1 {PEER_IP} {UPPER_PORT}",
                       timeout=10)
    assert out == "nc: Invalid argument\n"
    fence = guest.fence()
    assert guest.peer.received(ip_from_guest, since=start) == fence.frames
    assert guest.peer.received(from_loopback_net) == []     # nor ever did, in this module


def test_guest_nc_reports_port_unreachable(guest, clean):
    before = guest.stats()
    out = guest.vm.run(f"echo knock knock | nc -u -w 1 {PEER_IP} {REFUSED_PORT}", timeout=10)
    assert out == "nc: Connection refused\n"
    change = ip_changes(before, guest.stats(), fences=0)
    assert change["icmp.unreach"] == 1


def port_unreachable(sport: int, dport: int, *, src: str = GUEST_IP,
                     dst: str = PEER_IP) -> bytes:
    """A port unreachable from the peer about a UDP datagram src:sport -> dst:dport."""
    quote = ipv4(src, dst, 17, udp(src, dst, sport, dport, b"forged"))[:28]
    return to_guest(ipv4(PEER_IP, GUEST_IP, 1, icmp(ICMP_UNREACH, UNREACH_PORT, bytes(4), quote)))


def assert_echoes(guest: "IpGuest", sport: int) -> None:
    """udpecho is still there: a datagram from the peer comes back."""
    guest.send([to_guest(ipv4(PEER_IP, GUEST_IP, 17,
                              udp(PEER_IP, GUEST_IP, sport, ECHO_PORT, b"still there?")))])
    reply = recv_datagram(guest, is_udp_to_peer(ECHO_PORT, sport))
    assert reply is not None, "udpecho is gone"
    assert bytes(reply.whole[UDP].payload) == b"still there?"


def test_a_forged_port_unreachable_does_not_end_a_server(guest, clean):
    # udpecho's socket is bound, not connected: an error quoting its port
    # cannot be told from a forgery (Linux's rule: connected sockets only).
    before = guest.stats()
    guest.send([port_unreachable(ECHO_PORT, 40000), port_unreachable(ECHO_PORT, 7)])
    guest.fence()
    assert ip_changes(before, guest.stats()) == {"ip.rx": 2, "ip.delivered": 2, "icmp.rx": 2,
                                                 "icmp.unreach": 2}
    assert_echoes(guest, 40001)
    assert guest.vm.run("echo alive") == "alive\n"   # no "udpecho: recvfrom: ..." either


def test_port_unreachable_must_match_both_ends_of_a_connected_socket(guest, clean):
    lport = 45123
    guest.vm.console.sendline(f"echo ping | nc -u -p {lport} -w 2 {PEER_IP} {UPPER_PORT}")
    assert recv_datagram(guest, is_udp_to_peer(lport, UPPER_PORT)) is not None
    # The answer is on its way back; now errors that quote the wrong
    # local address, remote port, local port or remote address.
    guest.send([port_unreachable(lport, UPPER_PORT, src="10.0.0.99"),
                port_unreachable(lport, UPPER_PORT + 1),
                port_unreachable(lport + 1, UPPER_PORT),
                port_unreachable(lport, UPPER_PORT, dst="10.0.0.98")])
    out = guest.vm.console.expect_prompt(10)
    assert out.splitlines()[1:] == ["PING"], out       # no "nc: Connection refused"


# ---- bad input ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Bad:
    """Frames the guest must drop, the counters that say so, and any ICMP error it owes."""

    name: str
    frames: list[bytes]
    counts: dict[str, int]
    error: int | None = None          # the ICMP unreachable code the guest sends back


def echo_packet(src: str = PEER_IP, dst: str = GUEST_IP, **ip_fields: int | bytes) -> bytes:
    """An echo request to the guest: answered if the guest took it, so a miss shows."""
    return ipv4(src, dst, 1, echo_request(0xBAD, 1, pattern(56, 9)), **ip_fields)


def udp_packet(dport: int = ECHO_PORT, dst: str = GUEST_IP, **udp_fields: int) -> bytes:
    """A datagram for udpecho: echoed if the guest took it."""
    return ipv4(PEER_IP, dst, 17, udp(PEER_IP, dst, 42000, dport, b"drop me", **udp_fields))


def bad_ip_checksum() -> bytes:
    good = echo_packet()
    return good[:10] + bytes([good[10] ^ 0x55, good[11]]) + good[12:]


def bad_fragments(*pieces: tuple[int, int, bool], ident: int) -> list[bytes]:
    """Fragments (offset in bytes, length, more fragments) of one datagram to the guest."""
    data = echo_request(0xBAD, 2, pattern(20000, 4))
    return [to_guest(ipv4(PEER_IP, GUEST_IP, 1, data[start:start + length].ljust(length, b"\0"),
                          ident=ident, flags=IP_MF if more else 0, offset=start // 8))
            for start, length, more in pieces]


def oversized_datagram(ident: int) -> list[bytes]:
    """An echo request one byte longer than reassembly holds, in scapy's fragments."""
    packet = (IP(src=PEER_IP, dst=GUEST_IP, id=ident) / ICMP(type=ICMP_ECHO, id=0xBAD, seq=3) /
              Raw(pattern(REASM_LIMIT - 8 + 1, 5)))
    return scapy_fragments(packet)


IP_RX = {"ip.rx": 1}
DELIVERED = {"ip.rx": 1, "ip.delivered": 1}
ERROR_SENT = {"ip.tx": 1, "icmp.tx": 1, "icmp.txunreach": 1}
OVERSIZED = oversized_datagram(0xB011)

BAD = [
    Bad("header checksum wrong", [to_guest(bad_ip_checksum())], IP_RX | {"ip.badsum": 1}),
    Bad("version 6", [to_guest(echo_packet(version=6))], IP_RX | {"ip.hdrerrors": 1}),
    Bad("version 15", [to_guest(echo_packet(version=15))], IP_RX | {"ip.hdrerrors": 1}),
    Bad("header length 4 (16 bytes)", [to_guest(echo_packet(ihl=4))],
        IP_RX | {"ip.hdrerrors": 1}),
    Bad("header length 0", [to_guest(echo_packet(ihl=0))], IP_RX | {"ip.hdrerrors": 1}),
    Bad("header longer than the total length",
        [to_guest(echo_packet(options=bytes([1, 1, 1, 0]), total=22))],
        IP_RX | {"ip.hdrerrors": 1}),
    Bad("header longer than the frame",
        [to_guest(ipv4(PEER_IP, GUEST_IP, 1, echo_request(0xBAD, 1, b""), ihl=15))],
        IP_RX | {"ip.hdrerrors": 1}),
    Bad("total length beyond the frame", [to_guest(echo_packet(total=1000))],
        IP_RX | {"ip.hdrerrors": 1}),
    Bad("total length below the header", [to_guest(echo_packet(total=19))],
        IP_RX | {"ip.hdrerrors": 1}),
    Bad("source 255.255.255.255", [to_guest(echo_packet(src="255.255.255.255"))],
        IP_RX | {"ip.addrerrors": 1}),
    Bad("source the subnet broadcast", [to_guest(echo_packet(src=SUBNET_BROADCAST))],
        IP_RX | {"ip.addrerrors": 1}),
    Bad("source multicast 224.0.0.1", [to_guest(echo_packet(src="224.0.0.1"))],
        IP_RX | {"ip.addrerrors": 1}),
    Bad("source multicast 239.255.255.250", [to_guest(echo_packet(src="239.255.255.250"))],
        IP_RX | {"ip.addrerrors": 1}),
    Bad("destination 0.0.0.0", [to_guest(echo_packet(dst="0.0.0.0"))],
        IP_RX | {"ip.addrerrors": 1}),
    # RFC 1122 3.2.1.3: 127/8 never appears on a wire; udpecho (bound to
    # 0.0.0.0) would echo the datagram, as a socket bound to 127.0.0.1 would.
    Bad("echo request to 127.0.0.1 from the wire", [to_guest(echo_packet(dst="127.0.0.1"))],
        IP_RX | {"ip.addrerrors": 1}),
    Bad("UDP to 127.0.0.1 from the wire", [to_guest(udp_packet(dst="127.0.0.1"))],
        IP_RX | {"ip.addrerrors": 1}),
    Bad("echo request to 127.1.2.3 from the wire", [to_guest(echo_packet(dst="127.1.2.3"))],
        IP_RX | {"ip.addrerrors": 1}),
    Bad("for another host on the LAN", [to_guest(echo_packet(dst="10.0.0.77"))],
        IP_RX | {"ip.notforus": 1}),
    Bad("for another network", [to_guest(echo_packet(dst="192.168.1.1"))],
        IP_RX | {"ip.notforus": 1}),
    Bad("for a multicast group", [to_guest(echo_packet(dst="224.0.0.1"))],
        IP_RX | {"ip.notforus": 1}),
    Bad("unknown protocol 253", [to_guest(ipv4(PEER_IP, GUEST_IP, 253, pattern(16, 6)))],
        IP_RX | {"ip.unknownproto": 1} | ERROR_SENT, error=UNREACH_PROTO),
    Bad("unknown protocol, to the subnet broadcast",
        [to_guest(ipv4(PEER_IP, SUBNET_BROADCAST, 253, pattern(16, 6)), BROADCAST_MAC)],
        IP_RX | {"ip.unknownproto": 1}),
    Bad("UDP checksum wrong", [to_guest(udp_packet(checksum=0x1234))],
        DELIVERED | {"udp.rx": 1, "udp.badsum": 1, "udp.errors": 1}),
    Bad("UDP length beyond the IP payload", [to_guest(udp_packet(length=8 + 7 + 1))],
        DELIVERED | {"udp.rx": 1, "udp.errors": 1}),
    Bad("UDP length below its header", [to_guest(udp_packet(length=7))],
        DELIVERED | {"udp.rx": 1, "udp.errors": 1}),
    Bad("UDP header cut short", [to_guest(ipv4(PEER_IP, GUEST_IP, 17, udp_packet()[20:26]))],
        DELIVERED | {"udp.rx": 1, "udp.errors": 1}),
    # RFC 1122 3.2.2: no ICMP error about a datagram sent as a link-layer broadcast.
    Bad("UDP to a closed port in a link-layer broadcast",
        [to_guest(udp_packet(CLOSED_PORT), BROADCAST_MAC)],
        DELIVERED | {"udp.rx": 1, "udp.noport": 1}),
    Bad("unknown protocol in a link-layer broadcast",
        [to_guest(ipv4(PEER_IP, GUEST_IP, 253, pattern(16, 6)), BROADCAST_MAC)],
        IP_RX | {"ip.unknownproto": 1}),
    Bad("UDP to a closed port at the subnet broadcast",
        [to_guest(udp_packet(CLOSED_PORT, SUBNET_BROADCAST), BROADCAST_MAC)],
        DELIVERED | {"udp.rx": 1, "udp.noport": 1}),
    Bad("ICMP checksum wrong",
        [to_guest(ipv4(PEER_IP, GUEST_IP, 1, echo_request(0xBAD, 1, b"x" * 8, checksum=7)))],
        DELIVERED | {"icmp.rx": 1, "icmp.rxerrors": 1}),
    Bad("ICMP shorter than its header",
        [to_guest(ipv4(PEER_IP, GUEST_IP, 1, echo_request(0xBAD, 1, b"")[:4]))],
        DELIVERED | {"icmp.rx": 1, "icmp.rxerrors": 1}),
    Bad("echo request to the subnet broadcast",
        [to_guest(echo_packet(dst=SUBNET_BROADCAST), BROADCAST_MAC)],
        DELIVERED | {"icmp.rx": 1, "icmp.echo": 1}),
    Bad("echo request to 255.255.255.255",
        [to_guest(echo_packet(dst="255.255.255.255"), BROADCAST_MAC)],
        DELIVERED | {"icmp.rx": 1, "icmp.echo": 1}),
    # Fragments: each set ends its datagram, so no reassembly is left waiting.
    Bad("overlapping fragments",
        bad_fragments((0, 1480, True), (2960, 48, False), (1472, 1480, True), ident=0xB001),
        {"ip.rx": 3, "ip.reasmreqds": 3, "ip.reasmfails": 1}),
    Bad("a fragment inside another",
        bad_fragments((0, 1480, True), (8, 16, True), ident=0xB002),
        {"ip.rx": 2, "ip.reasmreqds": 2, "ip.reasmfails": 1}),
    # (The same fragment twice is no overlap: test_an_exact_duplicate_fragment...)
    Bad("the same offset with another length",
        bad_fragments((0, 1480, True), (0, 1472, True), ident=0xB003),
        {"ip.rx": 2, "ip.reasmreqds": 2, "ip.reasmfails": 1}),
    Bad("two last fragments that disagree",
        bad_fragments((1480, 24, False), (1504, 16, False), ident=0xB004),
        {"ip.rx": 2, "ip.reasmreqds": 2, "ip.reasmfails": 1}),
    Bad("a non-final fragment not a multiple of 8",
        bad_fragments((0, 100, True), ident=0xB005),
        {"ip.rx": 1, "ip.reasmreqds": 1, "ip.reasmfails": 1}),
    Bad("a fragment past what reassembly holds",
        bad_fragments((REASM_LIMIT // 8 * 8, 8, True), ident=0xB006),
        {"ip.rx": 1, "ip.reasmreqds": 1, "ip.reasmfails": 1}),
    Bad("a fragment at the largest offset",
        bad_fragments((8191 * 8, 8, False), ident=0xB007),
        {"ip.rx": 1, "ip.reasmreqds": 1, "ip.reasmfails": 1}),
    Bad("a datagram one byte longer than reassembly holds", OVERSIZED,
        {"ip.rx": len(OVERSIZED), "ip.reasmreqds": len(OVERSIZED), "ip.reasmfails": 1}),
]


@pytest.mark.parametrize("bad", BAD, ids=[b.name for b in BAD])
def test_bad_input_is_dropped_and_counted(guest, clean, bad):
    before = guest.stats()
    start = time.time()
    guest.send(bad.frames)
    if bad.error is not None:
        error = recv_datagram(guest, is_unreachable(bad.error))
        assert error is not None, f"no ICMP unreachable (code {bad.error})"
        assert_quotes(error, bad.frames[0][14:])
    fence = guest.fence()
    assert ip_changes(before, guest.stats()) == bad.counts
    sent = guest.peer.received(ip_from_guest, since=start)
    assert len(sent) == len(fence.frames) + (bad.error is not None), \
        [Ether(f).summary() for f in sent]
    guest.wait_pbufs()


# Sources that RFC 1122 (3.2.1.3) says a host must discard.
MARTIANS = {"source 127.0.0.1 from the wire": "127.0.0.1",
            "source our own address from the wire": GUEST_IP,
            "source 0.0.0.0 to a unicast address": "0.0.0.0",
            "source in class E": "240.0.0.1"}


@pytest.mark.parametrize("src", MARTIANS.values(), ids=MARTIANS.keys())
def test_martian_source_is_dropped(guest, clean, src):
    before = guest.stats()
    guest.send([to_guest(echo_packet(src=src))])
    guest.fence()
    change = ip_changes(before, guest.stats())
    assert change == {"ip.rx": 1, "ip.addrerrors": 1}


# ---- reassembly: timeouts and floods ------------------------------------------------------

def is_time_exceeded(ip: IP) -> bool:
    return ICMP in ip and (ip[ICMP].type, ip[ICMP].code) == (ICMP_TIMXCEED, TIMXCEED_REASS)


def test_an_exact_duplicate_fragment_is_dropped_alone(guest, clean):
    # The network may duplicate a packet; IPv4 does not make that an attack
    # (RFC 5722's rule is IPv6's, and even it lets exact duplicates pass).
    data = pattern(3000, 12)
    frames = echo_frames(0x7575, 1, data)
    assert len(frames) == 3
    before = guest.stats()
    # (Not the last one twice: the datagram is complete by then, and the copy
    # would start another that waits in vain.)
    guest.send([frames[0], frames[0], frames[1], frames[1], frames[2]])
    reply = recv_datagram(guest, is_echo_reply(0x7575, 1))
    assert reply is not None and bytes(reply.whole[ICMP].payload) == data
    change = ip_changes(before, guest.stats(), fences=0)
    assert (change["ip.reasmreqds"], change["ip.reasmdups"], change["ip.reasmoks"]) == (5, 2, 1)
    assert "ip.reasmfails" not in change


def test_incomplete_datagram_times_out(guest, clean):
    frames = echo_frames(0x7171, 1, pattern(3000, 7))
    before = guest.stats()
    guest.send(frames[:1])
    sent = time.monotonic()
    guest.fence()
    when, after = guest.wait_stat("ip.reasmtimeouts", before["ip.reasmtimeouts"] + 1,
                                  REASM_TIME + 5)
    assert REASM_TIME - SLACK <= when - sent <= REASM_TIME + 2.0, when - sent
    # RFC 1122 3.3.2: its first fragment came, so the source hears of it.
    error = recv_datagram(guest, is_time_exceeded)
    assert error is not None, "no ICMP time exceeded (reassembly)"
    assert_quotes(error, frames[0][14:])
    assert ip_changes(before, guest.stats()) == {
        "ip.rx": 1, "ip.reasmreqds": 1, "ip.reasmfails": 1, "ip.reasmtimeouts": 1,
        "ip.tx": 1, "icmp.tx": 1, "icmp.txtimeexceeded": 1}
    after = guest.stats()
    # What was dropped stays dropped: the rest, late, starts a new datagram that
    # waits for its first fragment in vain and times out in its turn.
    guest.send(frames[1:])
    late = time.monotonic()
    guest.fence()
    when, final = guest.wait_stat("ip.reasmtimeouts", after["ip.reasmtimeouts"] + 1,
                                  REASM_TIME + 5)
    assert when - late >= REASM_TIME - SLACK
    assert ip_changes(after, final) == {"ip.rx": 2, "ip.reasmreqds": 2, "ip.reasmfails": 1,
                                        "ip.reasmtimeouts": 1}     # no first fragment: no error
    assert recv_datagram(guest, is_echo_reply(0x7171, 1), timeout=0.1) is None


def test_flood_of_fragments_with_many_ids(guest, clean):
    flood = 200
    ids = range(0xC000, 0xC000 + flood)
    firsts = [echo_frames(0x7272, n, pattern(3000, n), ip_id=ident)[0]
              for n, ident in enumerate(ids)]
    batch = min(100, guest.wired.model.ring_capacity(len(firsts[0])) * 3 // 4)
    before = guest.stats()
    card_before = guest.wired.counters()
    for first in range(0, flood, batch):
        guest.peer.send_many(firsts[first:first + batch])
        guest.wired.wait_rx(card_before["rx_packets"] + min(flood, first + batch))
    guest.fence()
    during = guest.stats()
    guest.wired.assert_nothing_lost_in_card(deltas(card_before, guest.wired.counters()))
    change = ip_changes(before, during)
    # Eight wait; every other one was given up to make room (or has timed out already).
    timeouts = change.get("ip.reasmtimeouts", 0)
    assert change["ip.reasmreqds"] == flood
    assert change["ip.reasmfails"] == flood - NREASS + timeouts
    assert timeouts <= NREASS
    _, after = guest.wait_stat("ip.reasmtimeouts", before["ip.reasmtimeouts"] + NREASS,
                               REASM_TIME + 5)
    change = ip_changes(before, after)
    # Each of the eight had its first fragment: a time exceeded each, unless
    # the rate limit held it back.
    sent = change.pop("icmp.txtimeexceeded", 0)
    assert sent + change.pop("icmp.ratelimited", 0) == NREASS
    assert change == {"ip.rx": flood, "ip.reasmreqds": flood, "ip.reasmfails": flood,
                      "ip.reasmtimeouts": NREASS, **({"ip.tx": sent, "icmp.tx": sent}
                                                    if sent else {})}
    assert guest.peer.received(lambda f: ip_from_guest(f) and f[34] == ICMP_ECHOREPLY and
                               f[38:40] == b"\x72\x72") == []
    # All that is gone again: a large datagram is reassembled and answered (more
    # reassemblies than big buffers have come and gone, so a leak would show).
    data = pattern(REASM_LIMIT - 8, 8)
    guest.send(echo_frames(0x7373, 1, data))
    reply = recv_datagram(guest, is_echo_reply(0x7373, 1))
    assert reply is not None and bytes(reply.whole[ICMP].payload) == data


# ---- tshark -----------------------------------------------------------------------------

BAD_CHECKSUMS = ('ip.checksum.status == "Bad" || udp.checksum.status == "Bad"'
                 ' || icmp.checksum.status == "Bad"')


def tshark_complaints(path: Path) -> list[dict[str, str]]:
    """The frames tshark finds malformed, in error or with a bad checksum."""
    return xpcap.tshark_problems(path, least="error", also=BAD_CHECKSUMS,
                                 prefs=xpcap.CHECKSUM_PREFS)


def test_tshark_decodes_every_frame_the_guest_sent(guest, clean):
    # Some traffic of every kind, in case this test runs alone.
    guest.send(echo_frames(0x7474, 1, pattern(3000, 10)))
    assert recv_datagram(guest, is_echo_reply(0x7474, 1)) is not None
    guest.send([to_guest(udp_packet(CLOSED_PORT))])
    assert recv_datagram(guest, is_unreachable(UNREACH_PORT)) is not None
    guest.vm.run(f"echo tshark | nc -u -w 1 {PEER_IP} {UPPER_PORT}", timeout=10)
    sent = [f for f in guest.peer.frames if f.direction == "in"]
    assert len(sent) > 20
    pcap = guest.logdir / "guest-sent.pcap"
    writer = PcapWriter(pcap)
    for frame in sent:
        writer.write(frame.data, frame.time)
    writer.close()
    assert tshark_complaints(pcap) == []
    # The filter does catch what it is meant to: the same frames with damage added.
    damaged = guest.logdir / "damaged.pcap"
    writer = PcapWriter(damaged)
    udp_frame = next(f.data for f in sent if ip_from_guest(f.data) and f.data[23] == 17)
    for cut in (udp_frame[:38], udp_frame[:24] + b"\0\0" + udp_frame[26:]):
        writer.write(cut, time.time())
    writer.close()
    assert len(tshark_complaints(damaged)) == 2
