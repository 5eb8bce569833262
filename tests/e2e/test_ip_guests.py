"""IPv4 between two guests, over loopback, and through a default gateway (issue 5),
without root: QEMU's socket backend is the cable. Once per card (every NIC the card).

    guest a                                   guest b
    eth0 10.0.0.2  ==== socket-listen/connect ====  eth0 10.0.0.3     (LAN 1)
    eth1 10.0.1.2  ---- WirePeer "gateway" 10.0.1.1                   (LAN 2)
                        (answers for 192.168.5.5 behind it)

Guest a listens on a free loopback port and guest b connects to it; QEMU
captures a's side of LAN 1 (filter-dump, lan1.pcap). The gateway is an
IpResponder on a WirePeer: it answers ARP for 10.0.1.1 and echo requests to
10.0.1.1 and 192.168.5.5 with TTL 77, so a reply through it is told apart from
any other. Both guests run `udpecho 7777` in the background.
"""

import re
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from guestnet import (
    BOOT_TIMEOUT,
    INITRD,
    KERNEL,
    IpResponder,
    deltas,
    is_arp,
    parse_ifconfig,
    parse_ipstats,
    require_kernel,
)
from scapy.layers.inet import ICMP, IP
from scapy.layers.l2 import ARP, Ether
from scapy.utils import rdpcap

from xv6net.qemu import NicSpec, VMSpec
from xv6net.vm import VM
from xv6net.wire import WirePeer

pytestmark = pytest.mark.e2e

A_IP, B_IP, A_IP1 = "10.0.0.2", "10.0.0.3", "10.0.1.2"
A_MAC0, A_MAC1, B_MAC = "52:54:76:36:01:00", "52:54:76:36:01:01", "52:54:76:36:02:00"
GW_IP, GW_MAC = "10.0.1.1", "02:00:00:00:01:01"
FAR = "192.168.5.5"              # behind the gateway
GW_TTL = 77
ECHO_PORT = 7777
TCP_PORT = 7778
PING_LINE = re.compile(r"^(\d+) bytes from (\S+): icmp_seq=(\d+) ttl=(\d+) time=\d+\.\d{3} ms$",
                       re.MULTILINE)


def free_port() -> int:
    """A loopback TCP port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Lan:
    a: VM
    b: VM
    gateway: WirePeer
    responder: IpResponder
    capture: Path                  # LAN 1 as guest a's eth0 saw it

    def lan1_frames(self) -> list[Ether]:
        return [Ether(bytes(p)) for p in rdpcap(str(self.capture))]


def start_udpecho(vm: VM) -> None:
    out = vm.run(f"udpecho {ECHO_PORT} &")
    if "listening" not in out:            # it may print after the prompt
        vm.console.expect(f"udpecho: listening on port {ECHO_PORT}\n", 5)


def wait_until_pings(vm: VM, dst: str, tries: int = 3) -> None:
    """Ping dst until one reply comes: QEMU's e1000 holds back received frames for a
    second or so after the driver writes RCTL (at boot, at `ifconfig up`)."""
    for _ in range(tries):
        if " 1 received" in vm.run(f"ping -c 1 -W 2 {dst}", timeout=10):
            return
    raise AssertionError(f"{vm.requested.name} never got a reply from {dst}")


def boot(spec: VMSpec, logdir: Path, started: list[VM]) -> VM:
    vm = VM(spec, logfile=logdir / f"{spec.name}-console.log")
    started.append(vm)
    vm.start()
    return vm


@pytest.fixture(scope="module")
def lan(tmp_path_factory, nic_model) -> Iterator[Lan]:
    require_kernel()
    logdir = tmp_path_factory.mktemp("ipguests")
    capture = logdir / "lan1.pcap"
    started: list[VM] = []
    with WirePeer(pcap=logdir / "lan2.pcap") as gateway:
        responder = IpResponder(GW_MAC, GW_IP, routed=(FAR,), ttl=GW_TTL)
        gateway.respond(responder)
        try:
            port = free_port()
            a_spec = VMSpec(name="a", index=1, kernel=KERNEL, initramfs=INITRD,
                            cmdline=f"ip={A_IP}:::255.255.255.0::eth0:off",
                            nics=[NicSpec("socket-listen", mac=A_MAC0, model=nic_model,
                                          port=port, pcap=capture),
                                  gateway.nic(mac=A_MAC1, model=nic_model)])
            a = boot(a_spec, logdir, started)
            gateway.wait_connected(10)
            a.wait_for_shell(BOOT_TIMEOUT)       # listening on port by now
            b_spec = VMSpec(name="b", index=2, kernel=KERNEL, initramfs=INITRD,
                            cmdline=f"ip={B_IP}:::255.255.255.0::eth0:off",
                            nics=[NicSpec("socket-connect", mac=B_MAC, model=nic_model,
                                          port=port)])
            b = boot(b_spec, logdir, started)
            b.wait_for_shell(BOOT_TIMEOUT)
            assert a.run(f"ifconfig eth1 {A_IP1} netmask 255.255.255.0 up") == ""
            wait_until_pings(a, B_IP)
            wait_until_pings(b, A_IP)
            wait_until_pings(a, GW_IP)
            for vm in (a, b):
                start_udpecho(vm)
            yield Lan(a, b, gateway, responder, capture)
        finally:
            for vm in reversed(started):
                vm.close()
                # pytest shows this only when a test failed
                print(f"--- {vm.requested.name} console (tail) ---\n{vm.log[-3000:]}\n"
                      f"--- QEMU output (head) ---\n{vm.stderr[:2000]}")


def stats(vm: VM) -> dict[str, int]:
    return parse_ipstats(vm.run("netstat -s"))


def interface(vm: VM, name: str) -> dict[str, int]:
    return parse_ifconfig(vm.run(f"ifconfig {name}"))


def assert_ping_output(out: str, dst: str, size: int, count: int, ttl: int = 64) -> None:
    assert out.startswith(f"PING {dst} ({dst}) {size}({size + 28}) bytes of data.\n"), out
    assert [(int(n), ip, int(seq), int(t)) for n, ip, seq, t in PING_LINE.findall(out)] == [
        (size + 8, dst, seq, ttl) for seq in range(1, count + 1)], out
    assert re.search(rf"^{count} packets transmitted, {count} received, 0% packet loss, "
                     r"time \d+ms$", out, re.MULTILINE), out


# ---- two guests on one LAN -------------------------------------------------------

@pytest.mark.parametrize("size", [56, 3000])
@pytest.mark.parametrize("way", ["a to b", "b to a"])
def test_ping_between_guests(lan, way, size):
    src, dst, dst_ip = (lan.a, lan.b, B_IP) if way == "a to b" else (lan.b, lan.a, A_IP)
    seen = len(lan.lan1_frames())
    src_before, dst_before = stats(src), stats(dst)
    out = src.run(f"ping -c 3 -i 0.2 -s {size} {dst_ip}", timeout=15)
    assert_ping_output(out, dst_ip, size, 3)
    src_change, dst_change = deltas(src_before, stats(src)), deltas(dst_before, stats(dst))
    assert dst_change["icmp.echo"] == dst_change["icmp.txechoreply"] == 3
    assert src_change["icmp.echoreply"] == 3
    # What crossed the wire: 3 requests and 3 replies, in 3 fragments each at 3000 bytes.
    icmp = [f[IP] for f in lan.lan1_frames()[seen:] if IP in f and f[IP].proto == 1]
    pieces = 1 if size < 1472 else 3
    assert len(icmp) == 6 * pieces
    assert [len(p) for p in icmp[:pieces]] == ([size + 28] if pieces == 1 else
                                               [1500, 1500, size + 8 - 2 * 1480 + 20])
    if pieces > 1:
        for change in (src_change, dst_change):
            assert change["ip.fragcreated"] == 3 * pieces
            assert change["ip.reasmoks"] == 3


@pytest.mark.parametrize("way", ["a to b", "b to a"])
def test_udp_echo_between_guests(lan, way):
    client, server, server_ip = (lan.a, lan.b, B_IP) if way == "a to b" else (lan.b, lan.a, A_IP)
    before = stats(server)
    out = client.run(f"echo hello, {way} | nc -u -w 1 {server_ip} {ECHO_PORT}", timeout=10)
    assert out == f"hello, {way}\n"
    change = deltas(before, stats(server))
    assert change["udp.rx"] == change["udp.tx"] == 1


def test_tcp_between_guests(lan):
    """One TCP connection, a to b: both ends' handshake (the tcp-handshake
    exercise's end-to-end test, without root), a line echoed, both closed."""
    lan.b.console.sendline(f"tcpecho -n 1 {TCP_PORT}")
    lan.b.console.expect(f"tcpecho: listening on port {TCP_PORT}", timeout=10)
    out = lan.a.run(f"echo hello over tcp | nc {B_IP} {TCP_PORT}", timeout=20)
    assert out == "hello over tcp\n"
    served = lan.b.console.expect_prompt(20)
    assert re.search(rf"tcpecho: {A_IP}:\d+ closed after 15 bytes", served), served


def test_closed_port_on_the_other_guest_is_refused(lan):
    before = stats(lan.b)
    out = lan.a.run(f"echo knock | nc -u -w 1 {B_IP} 9", timeout=10)
    assert out == "nc: Connection refused\n"
    change = deltas(before, stats(lan.b))
    assert (change["udp.noport"], change["icmp.txunreach"]) == (1, 1)


# ---- loopback ------------------------------------------------------------------------

def test_loopback(lan):
    a = lan.a
    lo, eth0, eth1 = interface(a, "lo"), interface(a, "eth0"), interface(a, "eth1")
    before = stats(a)
    assert_ping_output(a.run("ping -c 3 -i 0.2 127.0.0.1", timeout=10), "127.0.0.1", 56, 3)
    assert_ping_output(a.run(f"ping -c 1 {A_IP}", timeout=10), A_IP, 56, 1)
    assert_ping_output(a.run("ping -c 1 -s 3000 127.0.0.1", timeout=10), "127.0.0.1", 3000, 1)
    out = a.run(f"echo over lo | nc -u -w 1 127.0.0.1 {ECHO_PORT}", timeout=10)
    assert out == "over lo\n"
    # Each exchange is two packets through lo (3 + 1 + 1 pings, one echoed datagram),
    # none on the wire, and lo's MTU needs no fragments.
    loops = 2 * (3 + 1 + 1 + 1)
    lo_change = deltas(lo, interface(a, "lo"))
    assert (lo_change["rx_packets"], lo_change["tx_packets"]) == (loops, loops)
    assert deltas(eth0, interface(a, "eth0"))["tx_packets"] == 0
    assert deltas(eth1, interface(a, "eth1"))["tx_packets"] == 0
    change = deltas(before, stats(a))
    assert (change["ip.rx"], change["ip.tx"]) == (loops, loops)
    assert change["ip.fragcreated"] == 0


# ---- two LANs and a gateway -------------------------------------------------------------

def test_one_guest_on_two_lans_reaches_both(lan):
    a = lan.a
    assert a.run("route") == (
        "Kernel IP routing table\n"
        "Destination     Gateway         Genmask         Flags Iface\n"
        "10.0.0.0        0.0.0.0         255.255.255.0   U     eth0\n"
        "10.0.1.0        0.0.0.0         255.255.255.0   U     eth1\n")
    seen, start = len(lan.lan1_frames()), time.time()
    assert_ping_output(a.run(f"ping -c 1 {B_IP}", timeout=10), B_IP, 56, 1)
    assert_ping_output(a.run(f"ping -c 1 {GW_IP}", timeout=10), GW_IP, 56, 1, ttl=GW_TTL)
    to_b = [f for f in lan.lan1_frames()[seen:] if IP in f and f[IP].src == A_IP]
    assert [(f.src, f.dst, f[IP].dst) for f in to_b] == [(A_MAC0, B_MAC, B_IP)]
    to_gw = [Ether(f) for f in lan.gateway.received(lambda f: f[12:14] == b"\x08\x00",
                                                    since=start)]
    assert [(f.src, f.dst, f[IP].src, f[IP].dst) for f in to_gw] == [
        (A_MAC1, GW_MAC, A_IP1, GW_IP)]


def test_no_route_is_network_unreachable(lan):
    a, start = lan.a, time.time()
    before = stats(a)
    out = a.run(f"ping -c 1 {FAR}", timeout=10)
    assert out == (f"PING {FAR} ({FAR}) 56(84) bytes of data.\n"
                   "ping: sendto: Network is unreachable\n")
    assert deltas(before, stats(a))["ip.noroute"] == 1
    out = a.run(f"echo nowhere | nc -u -w 1 {FAR} 9", timeout=10)
    assert out == "nc: Network is unreachable\n"
    assert lan.gateway.received(since=start) == []


def far_frames(lan: Lan, since: float) -> list[Ether]:
    """IPv4 frames to FAR that reached the gateway's wire."""
    return [Ether(f) for f in lan.gateway.received(lambda f: f[12:14] == b"\x08\x00", since)
            if Ether(f)[IP].dst == FAR]


def test_default_gateway_carries_other_addresses(lan):
    a = lan.a
    assert a.run(f"route add default gw {GW_IP}") == ""
    try:
        assert a.run("route").endswith(
            f"0.0.0.0         {GW_IP:<15} 0.0.0.0         UG    eth1\n")
        start = time.time()
        out = a.run(f"ping -c 2 -i 0.2 {FAR}", timeout=10)
        assert_ping_output(out, FAR, 56, 2, ttl=GW_TTL)
        frames = far_frames(lan, start)
        assert [(f.src, f.dst, f[IP].src, f[ICMP].seq) for f in frames] == [
            (A_MAC1, GW_MAC, A_IP1, 1), (A_MAC1, GW_MAC, A_IP1, 2)]
        assert lan.gateway.received(is_arp(pdst=FAR), since=start) == []

        # A more specific route wins: a host route through guest b, which is no router
        # and drops what is not for it.
        assert a.run(f"route add -host {FAR} gw {B_IP}") == ""
        b_before, start = stats(lan.b), time.time()
        seen = len(lan.lan1_frames())
        out = a.run(f"ping -c 1 -W 1 {FAR}", timeout=10)
        assert "1 packets transmitted, 0 received, 100% packet loss" in out
        to_b = [f for f in lan.lan1_frames()[seen:] if IP in f and f[IP].dst == FAR]
        assert [(f.src, f.dst, f[IP].src) for f in to_b] == [(A_MAC0, B_MAC, A_IP)]
        assert deltas(b_before, stats(lan.b))["ip.notforus"] == 1
        assert far_frames(lan, start) == []
        assert a.run(f"route del -host {FAR}") == ""
    finally:
        a.run(f"route del -host {FAR}")
        a.run("route del default")
    assert "UG" not in a.run("route")
    out = a.run(f"ping -c 1 {FAR}", timeout=10)
    assert "ping: sendto: Network is unreachable" in out


def test_gateway_must_be_on_a_connected_network(lan):
    out = lan.a.run("route add default gw 192.168.9.1")
    assert out == "route: gateway 192.168.9.1 is not on a connected network\n"
    assert "UG" not in lan.a.run("route")


def test_gateway_mac_comes_from_arp(lan):
    # After `arp -d`, the first packet through the gateway resolves the gateway's
    # address, never the far one's.
    a = lan.a
    a.run(f"arp -d {GW_IP}")
    assert a.run(f"route add default gw {GW_IP}") == ""
    try:
        start = time.time()
        assert_ping_output(a.run(f"ping -c 1 -W 3 {FAR}", timeout=10), FAR, 56, 1, ttl=GW_TTL)
        asked = [Ether(f)[ARP].pdst for f in lan.gateway.received(is_arp(op=1), since=start)]
        assert asked == [GW_IP]
    finally:
        a.run("route del default")
    # The gateway's reply taught a its MAC.
    assert f"({GW_IP}) at {GW_MAC}" in a.run("arp -a")
