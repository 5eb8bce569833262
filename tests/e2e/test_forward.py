"""IP forwarding across two guest routers (issue 13): the `routed` topology.

    left 10.0.1.2 --lan1-- .1 r1 .1 --lan2-- .2 r2 .1 --lan3-- 10.0.3.2 right

left and right are Linux hosts in namespaces of their own, with default routes
through r1 and r2; nothing but the guests joins the three LANs. Linux's ping
and traceroute run from left; the guests' own traceroute runs from r1 and r2.
What crossed the wire is read from the routers' NIC captures (QEMU's
filter-dump, written as the frames go): r1-eth0 is lan1 as r1 saw it, r1-eth1
lan2. One lab for the module; each test leaves it as it found it.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from guestnet import deltas, parse_ipstats
from labtools import running_lab
from scapy.layers.inet import ICMP, IP, UDP
from scapy.utils import rdpcap

from xv6net import pcap, topology
from xv6net.lab import Lab
from xv6net.vm import VM

pytestmark = [pytest.mark.e2e, pytest.mark.root]

LEFT, RIGHT = "10.0.1.2", "10.0.3.2"
R1_LAN1, R1_LAN2, R2_LAN2, R2_LAN3 = "10.0.1.1", "10.0.2.1", "10.0.2.2", "10.0.3.1"
NOWHERE = "10.9.9.9"          # no router has a route there
# A hop of Linux's traceroute -n: " 2  10.0.2.2  0.512 ms  0.498 ms  0.501 ms"
LINUX_HOP = re.compile(r"^ ?(\d+)  (\S+)((?:  \d+\.\d+ ms)+)$", re.MULTILINE)
# A hop of the guest's, without -n: " 1  10.0.2.2 (10.0.2.2)  0.740 ms  0.440 ms  0.412 ms"
GUEST_HOP = re.compile(r"^ ?(\d+)  (\S+) \((\S+)\)((?:  \d+\.\d{3} ms)+)$", re.MULTILINE)
TRACE_TIMEOUT = 60.0


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with running_lab(topology.routed(), tmp_path_factory.mktemp("routed")) as lab:
        yield lab


def left(lab: Lab, command: str, timeout: float = 30.0) -> str:
    result = lab.host_run("left", ["sh", "-c", command], timeout=timeout)
    return result.stdout + result.stderr


def ipstats(vm: VM) -> dict[str, int]:
    return parse_ipstats(vm.run("netstat -s"))


def frames(lab: Lab, guest: str, nic: int) -> list[IP]:
    """The IPv4 packets in a router NIC's capture so far."""
    return [p[IP] for p in rdpcap(str(lab.pcap(guest, nic))) if IP in p]


def header_sum_ok(ip: IP) -> bool:
    fixed = ip.copy()
    del fixed.chksum
    return IP(bytes(fixed))[IP].chksum == ip.chksum


def test_linux_pings_linux_across_both_routers(lab):
    r1, r2 = lab.guest("r1"), lab.guest("r2")
    before1, before2 = ipstats(r1), ipstats(r2)
    out = left(lab, f"ping -c 3 -i 0.2 -W 2 {RIGHT}")
    assert "3 packets transmitted, 3 received" in out, out
    # right's replies left it with TTL 64 and crossed two routers
    assert re.findall(r"icmp_seq=\d ttl=(\d+)", out) == ["62", "62", "62"], out
    for vm, before in ((r1, before1), (r2, before2)):
        change = deltas(before, ipstats(vm))
        assert change["ip.forwdatagrams"] >= 6, change          # 3 requests, 3 replies
        assert change["ip.delivered"] == 0, change               # none of it was for a router
    # On lan2 the requests are left's, one hop older, with a header sum that is right.
    requests = [ip for ip in frames(lab, "r1", 1)
                if ip.src == LEFT and ip.dst == RIGHT and ICMP in ip and ip[ICMP].type == 8]
    assert len(requests) >= 3
    assert all(ip.ttl == 63 and header_sum_ok(ip) for ip in requests)


def test_linux_traceroute_sees_both_routers(lab):
    out = left(lab, f"traceroute -n -w 2 {RIGHT}", TRACE_TIMEOUT)
    hops = [(int(m[1]), m[2], m[3].count(" ms")) for m in LINUX_HOP.finditer(out)]
    assert hops == [(1, R1_LAN1, 3), (2, R2_LAN2, 3), (3, RIGHT, 3)], out
    # To a router itself: its port unreachable ends the trace.
    out = left(lab, f"traceroute -n -w 2 {R2_LAN3}", TRACE_TIMEOUT)
    hops = [(int(m[1]), m[2], m[3].count(" ms")) for m in LINUX_HOP.finditer(out)]
    assert hops == [(1, R1_LAN1, 3), (2, R2_LAN3, 3)], out


def test_ttl_expiry_earns_time_exceeded(lab):
    r1 = lab.guest("r1")
    before = ipstats(r1)
    out = left(lab, f"ping -c 1 -t 1 -W 2 {RIGHT}")
    assert f"From {R1_LAN1} icmp_seq=1 Time to live exceeded" in out, out
    out = left(lab, f"ping -c 1 -t 2 -W 2 {RIGHT}")
    assert f"From {R2_LAN2} icmp_seq=1 Time to live exceeded" in out, out
    change = deltas(before, ipstats(r1))
    assert change["ip.forwttlexceeded"] == 1 and change["icmp.txtimeexceeded"] == 1, change
    # On lan1: r1's error, as Wireshark reads it, quoting the request with its TTL of 1.
    rows = pcap.tshark_decode(lab.pcap("r1", 0), ["ip.src", "ip.dst", "ip.ttl", "icmp.code"],
                              f"icmp.type == 11 && ip.src == {R1_LAN1}")
    assert rows, "no time exceeded from r1 on lan1"
    # (outer, then quoted: "10.0.1.1,10.0.1.2"; the quoted echo request has a code too)
    assert rows[-1]["ip.src"] == f"{R1_LAN1},{LEFT}"
    assert rows[-1]["icmp.code"].split(",")[0] == "0"
    assert rows[-1]["ip.ttl"].split(",")[1] == "1"
    assert pcap.tshark_problems(lab.pcap("r1", 0)) == []


def test_no_route_earns_net_unreachable(lab):
    r1 = lab.guest("r1")
    before = ipstats(r1)
    out = left(lab, f"ping -c 1 -W 2 {NOWHERE}")
    assert f"From {R1_LAN1} icmp_seq=1 Destination Net Unreachable" in out, out
    change = deltas(before, ipstats(r1))
    assert change["ip.forwnoroute"] == 1 and change["icmp.txunreach"] == 1, change
    rows = pcap.tshark_decode(lab.pcap("r1", 0), ["ip.src", "ip.dst"],
                              f"icmp.type == 3 && icmp.code == 0 && ip.src == {R1_LAN1}")
    assert rows and rows[-1]["ip.dst"] == f"{LEFT},{NOWHERE}"
    assert not [ip for ip in frames(lab, "r1", 1) if ip.dst == NOWHERE]   # nothing went on


def set_lan2_mtu(lab: Lab, mtu: int) -> None:
    for guest, ifname in (("r1", "eth1"), ("r2", "eth0")):
        out = lab.guest(guest).run(f"ifconfig {ifname} mtu {mtu}")
        assert out.strip() == "", out


def test_a_big_ping_is_fragmented_at_the_small_mtu_hop(lab):
    r1 = lab.guest("r1")
    set_lan2_mtu(lab, 1000)
    try:
        before = ipstats(r1)
        seen = len(frames(lab, "r1", 1))
        # 3000 bytes of IP: left sends it in two fragments (lan1's MTU is 1500),
        # and r1 cuts each again for lan2.
        out = left(lab, f"ping -c 2 -i 0.3 -W 2 -M dont -s 2972 {RIGHT}")
        assert "2 packets transmitted, 2 received" in out, out
        change = deltas(before, ipstats(r1))
        assert change["ip.forwfragcreated"] >= 8, change      # 2 x (1480 -> 2, 1520 -> 2)
        pieces = [ip for ip in frames(lab, "r1", 1)[seen:] if ip.src == LEFT and ip.dst == RIGHT]
        assert pieces and all(ip.len <= 1000 for ip in pieces)
        by_id: dict[int, list[IP]] = {}
        for ip in pieces:
            by_id.setdefault(ip.id, []).append(ip)
        for ident, parts in by_id.items():
            parts.sort(key=lambda ip: ip.frag)
            offset = 0
            for ip in parts:                                   # contiguous, MF on all but the last
                assert ip.frag * 8 == offset and header_sum_ok(ip), (ident, parts)
                assert bool(ip.flags.MF) == (ip is not parts[-1])
                offset += ip.len - ip.ihl * 4
            assert offset == 2980                               # 8 bytes of ICMP + 2972
        # With DF set the router refuses, and says what MTU would do.
        out = left(lab, f"ping -c 1 -W 2 -M do -s 1400 {RIGHT}")
        assert f"From {R1_LAN1} icmp_seq=1 Frag needed and DF set (mtu = 1000)" in out, out
        assert deltas(before, ipstats(r1))["ip.forwfragneeded"] == 1
    finally:
        set_lan2_mtu(lab, 1500)
        lab.host_run("left", ["ip", "route", "flush", "cache"])   # forget the learned MTU


def test_guest_traceroute_by_name_across_a_router(lab):
    r1 = lab.guest("r1")
    r1.run(f"echo '{RIGHT} right' >> /etc/hosts")
    out = r1.run("traceroute -w 2 right", timeout=TRACE_TIMEOUT)
    assert out.startswith(f"traceroute to right ({RIGHT}), 30 hops max, 60 byte packets\n"), out
    hops = [(int(m[1]), m[2], m[3], m[4].count(" ms")) for m in GUEST_HOP.finditer(out)]
    assert hops == [(1, R2_LAN2, R2_LAN2, 3), (2, RIGHT, RIGHT, 3)], out
    # The probes on lan2: UDP to ports 33434 up, TTL 1, 1, 1, then 2, 2, 2.
    probes = [ip for ip in frames(lab, "r1", 1)
              if ip.src == R1_LAN2 and ip.dst == RIGHT and UDP in ip and ip[UDP].dport >= 33434]
    assert [(ip.ttl, ip[UDP].dport) for ip in probes[-6:]] == [
        (1, 33434), (1, 33435), (1, 33436), (2, 33437), (2, 33438), (2, 33439)]


def test_guest_traceroute_stars_where_nobody_answers_then_host_unreachable(lab):
    # 10.0.1.7 is nobody: r1 forwards the probes towards it, but no ARP reply comes.
    out = lab.guest("r2").run("traceroute -n -m 2 -q 2 -w 0.5 10.0.1.7", timeout=TRACE_TIMEOUT)
    lines = out.splitlines()
    assert len(lines) == 3, out
    hop1 = rf" 1  {re.escape(R1_LAN2)}  \d+\.\d{{3}} ms  \d+\.\d{{3}} ms"
    assert re.fullmatch(hop1, lines[1]), out
    assert lines[2] == " 2  * *", out
    # Waiting longer: r1 gives up on ARP after three tries and says host unreachable.
    out = lab.guest("r2").run("traceroute -n -f 2 -m 2 -q 1 -w 5 10.0.1.7",
                              timeout=TRACE_TIMEOUT)
    assert re.fullmatch(rf" 2  {re.escape(R1_LAN2)}  \d+\.\d{{3}} ms !H", out.splitlines()[1]), out


XFER = Path(__file__).with_name("xfer.py")
MIB = 1024 * 1024
XFER_TIMEOUT = 180.0


def test_linux_tcp_across_both_routers(lab):
    """10 MiB each way at once between left and right by Linux's TCP, every
    segment forwarded by both guests; both streams checked by SHA-256."""
    from xfer import expected  # noqa: PLC0415 (beside this file, not a package)
    r1, r2 = lab.guest("r1"), lab.guest("r2")
    before1, before2 = ipstats(r1), ipstats(r2)
    size = 10 * MIB
    sinks = [lab.host_popen("right", [sys.executable, str(XFER), "sink", "5001",
                                      "--timeout", str(XFER_TIMEOUT)]),
             lab.host_popen("left", [sys.executable, str(XFER), "sink", "5002",
                                     "--timeout", str(XFER_TIMEOUT)])]
    for sink in sinks:
        assert sink.stdout is not None
        assert sink.stdout.readline().strip() == "listening"
    sources = [lab.host_popen("left", [sys.executable, str(XFER), "source", RIGHT, "5001",
                                       str(size), "1", "--timeout", str(XFER_TIMEOUT)]),
               lab.host_popen("right", [sys.executable, str(XFER), "source", LEFT, "5002",
                                        str(size), "2", "--timeout", str(XFER_TIMEOUT)])]
    results = [proc.communicate(timeout=XFER_TIMEOUT + 20) for proc in sinks + sources]
    for proc, (_, err) in zip(sinks + sources, results, strict=True):
        assert proc.returncode == 0, err
    got = [json.loads(out.splitlines()[-1]) for out, _ in results]
    assert got[0] == got[2] == expected(size, 1)     # left -> right
    assert got[1] == got[3] == expected(size, 2)     # right -> left
    for vm, before in ((r1, before1), (r2, before2)):
        change = deltas(before, ipstats(vm))
        # at least a full-sized segment's worth each way (1448-byte segments)
        assert change["ip.forwdatagrams"] >= 2 * size // 1448, change
        assert change["ip.delivered"] == 0, change
