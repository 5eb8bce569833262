"""Idle sockets and the buffer pool (issue 19, item 5): sockets that never read, raw and
packet sockets that get a copy of everything, and reassembled datagrams must not pin
the buffers the card and the rest of the stack need.

Receive queues are counted in bytes of buffer memory against SO_RCVBUF, with Linux's
default (212,992) and Linux's setsockopt (the value doubled, at most rmem_max, ours
524,288); a datagram costs its whole buffer (2,048 bytes, or 16,384 for a big one), and
one of at most 256 bytes is first copied into a short buffer of 256 (copybreak), so that
it costs that. All queues together stop taking regular buffers while fewer than
PBUF_QUEUELOW are free, and the last PBUF_RXRESERVE go only to the receive ring.

`sockhold` (user/sockhold.c) opens sockets and never reads them.
"""

import re
import time

import pytest
from guestnet import (
    GUEST_IP,
    GUEST_MAC,
    IP_ARG,
    PEER_IP,
    PEER_MAC,
    is_arp,
    parse_netstat,
    who_has,
    wired_guest,
)
from scapy.layers.inet import ICMP, IP, UDP
from scapy.layers.l2 import Ether
from scapy.packet import Raw

pytestmark = pytest.mark.e2e

PBUF_SIZE = 2048
PBUF_SHORTSIZE = 256
NSHORTPBUF = 2048
SOCK_RXQ = 512
LONG = b"x" * (PBUF_SHORTSIZE + 44)   # a payload too long for a short buffer
RCVBUF_DEFAULT = 212992
RMEM_MAX = 524288          # higher than Linux's default rmem_max (kernel/net/sock.h)
MIN_RCVBUF = 2304
PBUF_RXRESERVE = 128
PBUF_QUEUELOW = 256
NBIGPBUF = 32
BATCH = 120               # frames sent back to back: fewer than the 256-descriptor ring
SOCKET_LINE = re.compile(r"^(udp|raw|packet) +(\d+) +(\d+) +(type \w+|\S+)", re.MULTILINE)
HOLDING = re.compile(r"sockhold: rcvbuf (\d+)\nsockhold: pid (\d+) holding (\d+) sockets")


@pytest.fixture(scope="module")
def guest(tmp_path_factory):
    with wired_guest(IP_ARG, tmp_path_factory.mktemp("pool")) as wired:
        wired.peer.send(who_has(GUEST_IP))          # so the guest knows the peer's MAC
        assert wired.peer.recv_until(is_arp(op=2), timeout=5) is not None
        yield wired


def hold(guest, args: str) -> tuple[int, int]:
    """Start `sockhold ARGS &`; (the rcvbuf it was given, its pid)."""
    guest.vm.console.sendline(f"sockhold {args} &")
    match = guest.vm.console.expect(HOLDING, timeout=10)
    guest.vm.console.drain(quiet=0.3)
    return int(match[1]), int(match[2])


def sockets(guest) -> dict[str, tuple[int, int]]:
    """netstat's sockets: {local address (or proto for raw/packet): (Recv-Q, Drops)}."""
    out = guest.vm.run("netstat")
    table = {}
    for proto, recvq, drops, local in SOCKET_LINE.findall(out):
        table[local if proto == "udp" else f"{proto} {local}"] = (int(recvq), int(drops))
    return table


def pools(guest) -> tuple[int, int, int]:
    """(regular, big, short) buffers free."""
    out = guest.vm.run("netstat -m")
    free = [re.search(rf"(\d+)/(\d+)/(\d+) {kind}pbufs", out) for kind in ("", "big ", "short ")]
    assert None not in free, out
    return tuple(int(match[2]) for match in free)


def datagram(dport: int, payload: bytes, sport: int = 40000) -> bytes:
    return bytes(Ether(dst=GUEST_MAC, src=PEER_MAC) / IP(src=PEER_IP, dst=GUEST_IP) /
                 UDP(sport=sport, dport=dport) / Raw(payload))


def send_batched(guest, frames: list[bytes]) -> None:
    """All of frames, BATCH at a time, each batch taken in before the next (no overruns)."""
    rx = guest.ifconfig()["rx_packets"]
    for first in range(0, len(frames), BATCH):
        batch = frames[first:first + BATCH]
        guest.peer.send_many(batch)
        rx += len(batch)
        guest.wait_rx(rx)


def ping(guest, seq: int) -> bool:
    """Does the guest answer an echo request?"""
    request = bytes(Ether(dst=GUEST_MAC, src=PEER_MAC) / IP(src=PEER_IP, dst=GUEST_IP) /
                    ICMP(type=8, id=0x5050, seq=seq) / Raw(b"are you there"))
    guest.peer.send(request)
    return guest.peer.recv_until(
        lambda f: f[12:14] == b"\x08\x00" and f[34] == 0 and f[38:42] == bytes([0x50, 0x50,
                                                                                seq >> 8,
                                                                                seq & 255]),
        timeout=5) is not None


def kill(guest, *pids: int) -> None:
    for pid in pids:
        guest.vm.run(f"kill {pid}")


def wait_pool(guest, want: tuple[int, int, int], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while (got := pools(guest)) != want:
        assert time.monotonic() < deadline, f"pools free {got}, not back to {want}"
        time.sleep(0.1)


def test_idle_sockets_cannot_pin_the_pool(guest):
    idle = pools(guest)
    _, first = hold(guest, "udp:9001-9012")
    _, second = hold(guest, "udp:9013-9022 raw packet")
    ports = range(9001, 9023)
    per_socket = RCVBUF_DEFAULT // PBUF_SIZE                     # 104 datagrams
    try:
        # More than all of them together may hold: 22 x 110 datagrams and 300 pings
        # (each copied to the raw socket, every frame to the packet socket), all too
        # long for short buffers.
        frames = [datagram(port, LONG, 40000 + n) for n in range(per_socket + 6)
                  for port in ports]
        pings = [bytes(Ether(dst=GUEST_MAC, src=PEER_MAC) / IP(src=PEER_IP, dst=GUEST_IP) /
                       ICMP(type=8, id=0x4444, seq=n) / Raw(LONG)) for n in range(300)]
        send_batched(guest, frames + pings)
        guest.settle()
        held = sockets(guest)
        small, _, _ = pools(guest)
        # The card, ARP and ping still work, with the queues full.
        assert ping(guest, 1), "no echo reply with the queues full"
        guest.peer.clear()
        guest.peer.send(who_has(GUEST_IP))
        assert guest.peer.recv_until(is_arp(op=2), timeout=5) is not None, "no ARP reply"
        assert small >= PBUF_QUEUELOW - 64, small     # a poll's worth may be in flight
        stats = parse_netstat(guest.vm.run("netstat -s"))
        assert stats["Udp.receive buffer errors"] > 0
        assert stats.get("rx_nobuf", 0) == 0
        assert guest.ifconfig()["rx_nobuf"] == 0, "the card ran out of buffers"
        for port in ports:
            recvq, _ = held[f"0.0.0.0:{port}"]
            assert recvq <= per_socket, (port, recvq)
        assert held["raw 0.0.0.0:*"][0] <= per_socket
        assert held["packet type 0003"][0] <= per_socket
        total = sum(recvq for recvq, _ in held.values())
        assert total <= idle[0] - PBUF_QUEUELOW + 64, (total, held)
    finally:
        kill(guest, first, second)
    wait_pool(guest, idle)


def test_small_datagrams_fill_short_buffers_then_fall_back(guest):
    idle = pools(guest)
    _, pid = hold(guest, "udp:9301-9305")
    ports = range(9301, 9306)
    try:
        # 5 x 520 small datagrams: more than the 2,048 short buffers, fewer than 5 x 832
        # of them (what SO_RCVBUF would allow), more than the queues' 512 each.
        frames = [datagram(port, b"s" * 32, 40000 + n) for n in range(SOCK_RXQ + 8)
                  for port in ports]
        send_batched(guest, frames)
        guest.settle()
        held = sockets(guest)
        regular, _, short = pools(guest)
        assert short == 0, "the short buffers ran out, as they should have"
        assert ping(guest, 2), "no echo reply with the short buffers gone"
        assert guest.ifconfig()["rx_nobuf"] == 0, "the card ran out of buffers"
        total = 0
        for port in ports:
            recvq, drops = held[f"0.0.0.0:{port}"]
            assert recvq <= SOCK_RXQ and drops > 0, (port, recvq, drops)
            total += recvq
        # Every short buffer is queued, and the rest wait in regular ones.
        assert total > NSHORTPBUF, held
        assert idle[0] - regular >= total - NSHORTPBUF, (idle, regular, total)
    finally:
        kill(guest, pid)
    wait_pool(guest, idle)


def test_so_rcvbuf_is_counted_in_bytes_as_on_linux(guest):
    idle = pools(guest)
    cases = {"": RCVBUF_DEFAULT, "-b 4096 ": 8192, "-b 0 ": MIN_RCVBUF,
             "-b 1000000 ": 2 * RMEM_MAX, "-b -1 ": 2 * RMEM_MAX}
    for port, (option, want) in enumerate(cases.items(), 9100):
        rcvbuf, pid = hold(guest, f"{option}udp:{port}")
        assert rcvbuf == want, option
        if option == "-b 4096 ":
            send_batched(guest, [datagram(port, LONG, 41000 + n) for n in range(10)])
            guest.settle()
            # 8192 bytes hold four 2 KiB buffers; the six others are dropped.
            assert sockets(guest)[f"0.0.0.0:{port}"] == (4, 6)
            _, short = hold(guest, f"{option}udp:{port + 50}")
            send_batched(guest, [datagram(port + 50, bytes(100), 41100 + n) for n in range(40)])
            guest.settle()
            # and 32 short ones (100 bytes each, copied into 256).
            assert sockets(guest)[f"0.0.0.0:{port + 50}"] == (32, 8)
            kill(guest, short)
        if option == "-b 0 ":
            send_batched(guest, [datagram(port, LONG, 42000 + n) for n in range(3)])
            guest.settle()
            assert sockets(guest)[f"0.0.0.0:{port}"] == (1, 2)    # one always fits
        kill(guest, pid)
    wait_pool(guest, idle)


def test_small_fragmented_datagrams_do_not_hold_big_buffers(guest):
    idle = pools(guest)
    _, pid = hold(guest, "udp:9200")
    try:
        frames = []
        for n in range(NBIGPBUF + 8):
            packet = IP(src=PEER_IP, dst=GUEST_IP, id=0x9000 + n) / UDP(sport=43000 + n,
                                                                        dport=9200) / Raw(
                b"y" * 16)
            whole = bytes(packet)
            head = IP(whole[:20] + whole[20:36])          # UDP header and 8 bytes
            head.flags, head.len, head.chksum = 1, None, None
            tail = IP(whole[:20] + whole[36:])
            tail.frag, tail.len, tail.chksum = 2, None, None
            frames += [bytes(Ether(dst=GUEST_MAC, src=PEER_MAC) / piece) for piece in (head, tail)]
        send_batched(guest, frames)
        guest.settle()
        assert sockets(guest)["0.0.0.0:9200"] == (NBIGPBUF + 8, 0)
        assert pools(guest)[1] == NBIGPBUF, "reassembled datagrams hold big buffers"
        stats = parse_netstat(guest.vm.run("netstat -s"))
        assert stats["Ip.reassembled"] >= NBIGPBUF + 8
    finally:
        kill(guest, pid)
    wait_pool(guest, idle)
