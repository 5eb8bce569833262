"""What others can make the neighbour cache do (issue 19, items 6, 11 and 12): made-up
neighbours must not flush it or turn the guest into an ARP request cannon, a /31 or
/32 netmask must not make every neighbour a broadcast, and someone claiming the
guest's address is an address conflict (RFC 5227), not a malformed packet.

One guest for the module with the kernel's default ARP timers (an entry stays
REACHABLE for 30 s) and the peer as its default gateway; the peer answers ARP,
echo requests and UDP as 10.0.0.1 (IpResponder) and plays everyone else by hand.
"""

import random
import re
import time

import pytest
from guestnet import (
    GUEST_IP,
    GUEST_MAC,
    PEER_IP,
    PEER_MAC,
    IpResponder,
    deltas,
    is_arp,
    who_has,
    wired_guest,
)
from scapy.layers.inet import ICMP, IP
from scapy.layers.l2 import ARP, Ether

pytestmark = pytest.mark.e2e

NARP = 64
MAXINCOMPLETE = 8          # resolutions at once (kernel/net/arp.c)
RETRIES = 3                # requests per resolution


@pytest.fixture(scope="module")
def guest(tmp_path_factory):
    cmdline = f"ip={GUEST_IP}::{PEER_IP}:255.255.255.0::eth0:off"
    with wired_guest(cmdline, tmp_path_factory.mktemp("arpabuse")) as wired:
        wired.peer.respond(IpResponder(PEER_MAC, PEER_IP))
        yield wired


def random_mac(rng: random.Random) -> str:
    return ":".join(f"{b:02x}" for b in bytes([rng.randrange(0, 256) & 0xFC | 2]) +
                    rng.randbytes(5))


def echo_from(src_ip: str, src_mac: str, seq: int) -> bytes:
    return bytes(Ether(dst=GUEST_MAC, src=src_mac) / IP(src=src_ip, dst=GUEST_IP) /
                 ICMP(type=8, id=0x6666, seq=seq))


def wait_counter(guest, before: dict[str, int], key: str, change: int,
                 timeout: float = 5.0) -> None:
    """Wait until netstat's counter key has moved by change since before."""
    deadline = time.monotonic() + timeout
    while (moved := guest.netstat()[key] - before[key]) < change:
        assert time.monotonic() < deadline, f"{key} moved by {moved}, not {change}"
        time.sleep(0.05)
    assert moved == change, f"{key} moved by {moved}, not {change}"


def gateway_in_use(guest) -> None:
    """The gateway answers the guest's ping and is REACHABLE in its cache."""
    out = guest.vm.run(f"ping -c 1 -W 2 {PEER_IP}", timeout=10)
    assert "1 received" in out, out
    entry = guest.arp_table()[PEER_IP]
    assert (entry.mac, entry.state) == (PEER_MAC, "REACHABLE")


def test_made_up_neighbours_cannot_flush_the_cache(guest):
    gateway_in_use(guest)
    rng = random.Random(19)
    before, rx = guest.netstat(), guest.ifconfig()["rx_packets"]
    # 64 echo requests from neighbours that do not exist (the guest must
    # resolve each to reply), and who-has for the guest from 90 more senders.
    echoes = [echo_from(f"10.0.0.{100 + n}", random_mac(rng), n) for n in range(64)]
    requests = [who_has(GUEST_IP, random_mac(rng), f"10.0.0.{164 + n}") for n in range(90)]
    start = time.time()
    guest.peer.send_many(echoes + requests)
    guest.wait_rx(rx + len(echoes) + len(requests))
    wait_counter(guest, before, "Arp.requests answered", len(requests))
    table = guest.arp_table()
    entry = table[PEER_IP]
    assert (entry.mac, entry.state) == (PEER_MAC, "REACHABLE"), "the gateway was evicted"
    incomplete = [e.ip for e in table.values() if e.state == "INCOMPLETE"]
    assert 0 < len(incomplete) <= MAXINCOMPLETE, incomplete
    assert len(table) <= NARP
    # Made-up senders of requests are learned STALE, and make room for each other.
    learned = [e for e in table.values() if e.ip.startswith("10.0.0.") and
               164 <= int(e.ip.split(".")[3]) < 254]
    assert learned and all(e.state == "STALE" for e in learned)
    change = deltas(before, guest.netstat())
    assert change["Arp.new entries refused"] >= 64 - MAXINCOMPLETE
    # The request rate is bounded too: at most one request per resolution
    # under way at first, and RETRIES each in all.
    guest_asks = is_arp(op=1, psrc=GUEST_IP)
    time.sleep(max(0.0, start + 0.9 - time.time()))
    assert len(guest.peer.received(guest_asks, since=start)) <= MAXINCOMPLETE
    time.sleep(RETRIES + 0.5)
    asked = guest.peer.received(guest_asks, since=start)
    assert len(asked) <= MAXINCOMPLETE * RETRIES, len(asked)
    # The gateway is still used without asking again.
    out = guest.vm.run(f"ping -c 1 -W 2 {PEER_IP}", timeout=10)
    assert "1 received" in out, out
    assert guest.peer.received(is_arp(op=1, pdst=PEER_IP), since=start) == []


@pytest.mark.parametrize(("address", "netmask", "route"), [
    ("10.0.0.0", "255.255.255.254", None),                 # RFC 3021: 10.0.0.1 is a host
    ("10.0.0.2", "255.255.255.255", f"-host {PEER_IP} dev eth0"),
], ids=["/31", "/32"])
def test_point_to_point_netmasks_have_no_broadcast(guest, address, netmask, route):
    # With (nexthop | mask) == all ones taken for a broadcast, a /32 made
    # every next hop one, and a /31 its peer: frames to ff:ff:ff:ff:ff:ff
    # and no ARP, and the peer's replies dropped as from a broadcast source.
    start = time.time()
    try:
        assert guest.vm.run(f"ifconfig eth0 {address} netmask {netmask}") == ""
        if route:
            assert guest.vm.run(f"route add {route}") == ""
        guest.vm.run(f"arp -d {PEER_IP}")
        out = guest.vm.run(f"ping -c 1 -W 2 {PEER_IP}", timeout=10)
        assert "1 packets transmitted, 1 received" in out, out
        asked = guest.peer.received(is_arp(op=1, psrc=address, pdst=PEER_IP), since=start)
        assert len(asked) == 1
        broadcast_ip = guest.peer.received(
            lambda f: f[:6] == b"\xff" * 6 and f[12:14] == b"\x08\x00", since=start)
        assert broadcast_ip == []
    finally:
        if route:
            guest.vm.run(f"route del {route.split(' dev ')[0]}")
        guest.vm.run(f"ifconfig eth0 {GUEST_IP} netmask 255.255.255.0")


def test_someone_claiming_our_address_is_a_conflict_and_is_defended(guest):
    # RFC 5227 2.4: not malformed, a conflict; logged, and the address defended
    # with one announcement per DEFEND_INTERVAL (10 s), however many claims.
    intruder = "02:00:00:00:00:78"
    before, start = guest.netstat(), time.time()
    claims = [who_has(GUEST_IP, intruder, GUEST_IP),              # a gratuitous request
              who_has(PEER_IP, intruder, GUEST_IP),               # asking with our address
              bytes(Ether(dst=GUEST_MAC, src=intruder) /
                    ARP(op=2, hwsrc=intruder, psrc=GUEST_IP, hwdst=GUEST_MAC, pdst=GUEST_IP))]
    guest.peer.send_many(claims)
    guest.vm.console.expect(rf"eth0: address conflict: {re.escape(GUEST_IP)} is also claimed by "
                            rf"{intruder}; defending it", timeout=5)
    wait_counter(guest, before, "Arp.address conflicts", len(claims))
    announce = is_arp(op=1, psrc=GUEST_IP, pdst=GUEST_IP)
    assert len(guest.peer.received(announce, since=start)) == 1
    (frame,) = guest.peer.received(announce, since=start)
    assert (Ether(frame).src, Ether(frame)[ARP].hwsrc) == (GUEST_MAC, GUEST_MAC)
    change = deltas(before, guest.netstat())
    assert (change["Arp.defences sent"], change["Arp.malformed"]) == (1, 0)
    assert change["Arp.requests answered"] == 0                  # the claims teach nothing
    assert intruder not in {e.mac for e in guest.arp_table().values()}
    guest.peer.send(who_has(GUEST_IP))                            # and we keep the address
    assert guest.peer.recv_until(is_arp(op=2, psrc=GUEST_IP), timeout=5) is not None
