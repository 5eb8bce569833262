"""The DHCP client (user/dhclient.c) against dnsmasq, QEMU's SLiRP, and a
scripted server that misbehaves on purpose (tests/e2e/fakedhcp.py).

Checked in the guest (address, route, /etc/resolv.conf, dhclient's log and
lease file), at the server (dnsmasq's lease file, what the fake server saw)
and on the wire (the bridge's capture, decoded by tshark).
"""

import json
import os
import re
import select
import sys
import time
from pathlib import Path

import pytest
from labtools import running_lab

from xv6net import pcap
from xv6net.qemu import NicSpec
from xv6net.topology import DHCP, Dnsmasq, Guest, GuestNic, Lan, Peer, Topology

pytestmark = pytest.mark.e2e
root = pytest.mark.root

FAKEDHCP = Path(__file__).with_name("fakedhcp.py")
LOG = "/var/log/dhclient.log"
LEASES = "/var/lib/dhcp/dhclient.eth0.leases"
INET = re.compile(r"inet (\S+)\s+netmask (\S+)")
DHCP_FIELDS = ["frame.number", "eth.src", "eth.dst", "ip.src", "ip.dst", "dhcp.option.dhcp",
               "dhcp.ip.client", "dhcp.ip.your", "dhcp.option.requested_ip_address"]
TYPES = {"1": "DISCOVER", "2": "OFFER", "3": "REQUEST", "4": "DECLINE", "5": "ACK",
         "6": "NAK", "7": "RELEASE"}


def dnsmasq_topology(t1: int = 5, t2: int = 100) -> Topology:
    return Topology(
        lans=[Lan("lan0", "10.0.0.0/24")],
        guests=[Guest("a", [GuestNic("lan0", ip=DHCP)])],
        peers=[Peer("lan0", "10.0.0.1")],
        services=[Dnsmasq("lan0", "10.0.0.1", dhcp_range=("10.0.0.100", "10.0.0.150"),
                          lease="2m", t1=t1, t2=t2)],
    )


# A LAN with Linux on it but no DHCP server: the tests start fakedhcp.py.
BARE = Topology([Lan("lan0", "10.0.0.0/24")], [Guest("a", [GuestNic("lan0")])],
                [Peer("lan0", "10.0.0.1")])


def address(vm) -> tuple[str, str] | None:
    match = INET.search(vm.run("ifconfig eth0"))
    return (match[1], match[2]) if match else None


def default_route(vm) -> str | None:
    for line in vm.run("route").splitlines():
        fields = line.split()
        if fields[:1] == ["0.0.0.0"] and "G" in fields[3]:
            return fields[1]
    return None


def wait_log(vm, pattern: str, timeout: float) -> str:
    """dhclient's log once it matches pattern (the background client writes it)."""
    deadline = time.monotonic() + timeout
    while True:
        log = vm.run(f"cat {LOG}")
        if re.search(pattern, log, re.MULTILINE):
            return log
        if time.monotonic() > deadline:
            raise AssertionError(f"{pattern!r} not in dhclient's log after {timeout} s:\n{log}")
        time.sleep(0.5)


def exchange(path: Path) -> list[dict[str, str]]:
    """The DHCP messages in a capture, in order, with their type named."""
    rows = pcap.tshark_decode(path, DHCP_FIELDS, "dhcp")
    for row in rows:
        row["type"] = TYPES.get(row["dhcp.option.dhcp"], row["dhcp.option.dhcp"])
    return rows


class FakeDhcp:
    """fakedhcp.py in the lab's namespace; `events()` is what it printed."""

    def __init__(self, lab, *args: str) -> None:
        self.proc = lab.peer_popen([sys.executable, str(FAKEDHCP), "br-lan0", "10.0.0.1", *args])
        self.out = b""
        self._read_until(b'"listening"', 10.0)

    def _read_until(self, marker: bytes, timeout: float) -> None:
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        while marker not in self.out:
            ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            data = os.read(fd, 65536) if ready else b""
            if not data:
                raise AssertionError(f"fakedhcp: no {marker!r} within {timeout} s: {self.out!r} "
                                     f"{self.proc.stderr.read() if self.proc.poll() else ''}")
            self.out += data

    def events(self) -> list[dict[str, object]]:
        self.proc.kill()
        rest, _ = self.proc.communicate(timeout=5)
        text = self.out.decode() + (rest or "")
        return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


@pytest.fixture
def results(tmp_path) -> Path:
    return tmp_path / "lab"


# ---- dnsmasq ---------------------------------------------------------------------

@root
@pytest.mark.timeout(180)
def test_boot_with_ip_dhcp_renew_and_release_against_dnsmasq(results):
    with running_lab(dnsmasq_topology(), results) as lab:
        a = lab.guest("a")
        mac = lab.mac("a")
        # Booted with ip=dhcp: init ran dhclient before the shell.
        assert "ip=dhcp" in a.run("cat /proc/cmdline")
        bound = re.search(r"^bound to (\S+) -- renewal in 5 seconds\.$", a.boot_log, re.MULTILINE)
        assert bound, a.boot_log
        ip = bound[1]
        assert 100 <= int(ip.split(".")[3]) <= 150
        assert address(a) == (ip, "255.255.255.0")
        assert default_route(a) == "10.0.0.1"
        assert a.run("cat /etc/resolv.conf") == \
            "# written by dhclient for eth0\nsearch lab\nnameserver 10.0.0.1\n"
        leases = {lease.mac: lease.ip for lease in lab.dhcp_leases("lan0")}
        assert leases == {mac: ip}
        assert "ttl=64" in lab.peer_run(["ping", "-c", "1", "-W", "2", ip]).stdout
        # Renewal at T1 (5 s): unicast to the server, which ACKs it.
        log = wait_log(a, rf"^DHCPACK of {re.escape(ip)} from 10\.0\.0\.1$", 20)
        assert f"DHCPREQUEST for {ip} on eth0 to 10.0.0.1 port 67 (renewing)" in log
        assert f"bound to {ip} -- renewal in 5 seconds." in log
        # Release: the address, the route and resolv.conf go; dnsmasq forgets the lease.
        assert a.run("dhclient -r") == f"DHCPRELEASE of {ip} on eth0 to 10.0.0.1 port 67\n"
        assert address(a) is None
        assert default_route(a) is None
        assert "No such file" in a.run("cat /etc/resolv.conf")
        deadline = time.monotonic() + 5
        while lab.dhcp_leases("lan0") and time.monotonic() < deadline:
            time.sleep(0.2)
        assert lab.dhcp_leases("lan0") == []
        lab.stop_captures()
        capture = lab.lan_pcap("lan0")
        msgs = exchange(capture)
        assert [m["type"] for m in msgs][:4] == ["DISCOVER", "OFFER", "REQUEST", "ACK"]
        discover, request = msgs[0], msgs[2]
        assert (discover["ip.src"], discover["ip.dst"]) == ("0.0.0.0", "255.255.255.255")
        assert request["dhcp.option.requested_ip_address"] == ip
        renew = next(m for m in msgs[4:] if m["type"] == "REQUEST")
        assert (renew["ip.src"], renew["ip.dst"], renew["dhcp.ip.client"]) == \
            (ip, "10.0.0.1", ip)   # unicast, from the address it renews
        release = [m for m in msgs if m["type"] == "RELEASE"]
        assert len(release) == 1 and (release[0]["ip.src"], release[0]["ip.dst"]) == \
            (ip, "10.0.0.1")
        assert pcap.tshark_problems(capture) == []


# ---- SLiRP (no root) -------------------------------------------------------------

def test_boot_with_ip_dhcp_on_slirp(boot, guest_spec, tmp_path):
    capture = tmp_path / "slirp.pcap"
    vm = boot(guest_spec(cmdline="ip=dhcp", nics=[NicSpec("user", pcap=capture)]))
    assert re.search(r"^DHCPOFFER of 10\.0\.2\.15 from 10\.0\.2\.2$", vm.boot_log, re.MULTILINE)
    assert re.search(r"^bound to 10\.0\.2\.15 -- renewal in 43200 seconds\.$", vm.boot_log,
                     re.MULTILINE), vm.boot_log
    assert address(vm) == ("10.0.2.15", "255.255.255.0")
    lease = vm.run(f"cat {LEASES}")
    assert "state BOUND\naddress 10.0.2.15\nnetmask 255.255.255.0\nserver 10.0.2.2\n" in lease
    assert "lease 86400\n" in lease
    # With restrict=on QEMU's DHCP server sends neither router nor DNS server
    # (libslirp leaves them out of its replies), so there is nothing to set.
    assert "router 0.0.0.0\n" in lease and "\ndns " not in lease
    assert default_route(vm) is None
    assert "ttl=255" in vm.run("ping -c 1 10.0.2.2")   # QEMU's gateway, on the link
    vm.close()
    msgs = exchange(capture)
    assert [m["type"] for m in msgs] == ["DISCOVER", "OFFER", "REQUEST", "ACK"]
    assert msgs[3]["dhcp.ip.your"] == "10.0.2.15"
    assert pcap.tshark_problems(capture) == []


def test_dhclient_without_a_server_gives_up_with_dash_1(boot, guest_spec):
    vm = boot(guest_spec(nics=[NicSpec("none")]))
    out = vm.run("dhclient -1 -t 3 eth0", timeout=30)
    assert out.startswith("DHCPDISCOVER on eth0 to 255.255.255.255 port 67 interval ")
    assert out.endswith("No DHCPOFFERS received.\n")
    assert address(vm) is None


# ---- a server that misbehaves ---------------------------------------------------------

@root
@pytest.mark.timeout(120)
def test_hostile_offers_are_refused_and_counted(results):
    with running_lab(BARE, results) as lab:
        a = lab.guest("a")
        server = FakeDhcp(lab, "10.0.0.50", "--hostile", "--lease", "600")
        out = a.run("dhclient -t 20 eth0", timeout=60)
        refusals = re.findall(r"^message from 10\.0\.0\.1 refused: (.+)$", out, re.MULTILINE)
        assert refusals == ["options truncated", "options truncated", "bad option overload",
                            "bad subnet mask", "lease time 0", "bad option value",
                            "option repeated"], out
        assert "bound to 10.0.0.50 -- renewal in 300 seconds." in out
        lease = a.run(f"cat {LEASES}")
        assert "refused 7\n" in lease
        for line in ("refused options truncated: 2", "refused bad option overload: 1",
                     "refused bad subnet mask: 1", "refused lease time 0: 1",
                     "refused bad option value: 1", "refused option repeated: 1"):
            assert line + "\n" in lease, lease
        # Nothing from the refused offers was used.
        assert a.run("cat /etc/resolv.conf") == \
            "# written by dhclient for eth0\nsearch fake\nnameserver 10.0.0.1\n"
        assert address(a) == ("10.0.0.50", "255.255.255.0")
        got = [e["got"] for e in server.events() if "got" in e]
        assert got == ["DHCPDISCOVER", "DHCPREQUEST"]


@root
@pytest.mark.timeout(120)
def test_decline_when_an_arp_probe_finds_the_address_taken(results):
    with running_lab(BARE, results) as lab:
        lab.peer_run(["ip", "addr", "add", "10.0.0.77/24", "dev", "br-lan0"], check=True)
        a = lab.guest("a")
        server = FakeDhcp(lab, "10.0.0.77,10.0.0.78")
        out = a.run("dhclient -t 40 eth0", timeout=60)
        peer_mac = lab.peer_mac("lan0")
        assert f"10.0.0.77 is in use by {peer_mac}\n" in out, out
        assert "DHCPDECLINE of 10.0.0.77 on eth0 to 255.255.255.255 port 67\n" in out
        assert out.index("DHCPDECLINE") < out.index("bound to 10.0.0.78")
        assert address(a) == ("10.0.0.78", "255.255.255.0")
        events = server.events()
        declines = [e for e in events if e.get("got") == "DHCPDECLINE"]
        assert len(declines) == 1 and declines[0]["requested"] == "10.0.0.77"
        lab.stop_captures()
        probes = pcap.tshark_decode(lab.lan_pcap("lan0"),
                                    ["arp.src.proto_ipv4", "arp.dst.proto_ipv4", "eth.src"],
                                    f"arp.opcode == 1 && eth.src == {lab.mac('a')}")
        assert {"arp.src.proto_ipv4": "0.0.0.0", "arp.dst.proto_ipv4": "10.0.0.77",
                "eth.src": lab.mac("a")} in probes


@root
@pytest.mark.timeout(120)
def test_renew_then_rebind_then_the_expired_lease_removes_the_address(results):
    with running_lab(BARE, results) as lab:
        a = lab.guest("a")
        server = FakeDhcp(lab, "10.0.0.50", "--lease", "12", "--t1", "3", "--t2", "7",
                          "--quiet-after", "1")
        out = a.run("dhclient eth0", timeout=30)
        assert "bound to 10.0.0.50 -- renewal in 3 seconds." in out
        assert default_route(a) == "10.0.0.1"
        log = wait_log(a, r"^eth0: expired lease of 10\.0\.0\.50$", 25)
        assert "DHCPREQUEST for 10.0.0.50 on eth0 to 10.0.0.1 port 67 (renewing)" in log
        assert "DHCPREQUEST for 10.0.0.50 on eth0 to 255.255.255.255 port 67 (rebinding)" in log
        assert log.index("(renewing)") < log.index("(rebinding)") < log.index("expired")
        assert address(a) is None
        assert default_route(a) is None
        wait_log(a, r"^DHCPDISCOVER on eth0", 10)   # and it starts again
        requests = [e for e in server.events() if e.get("got") == "DHCPREQUEST"]
        assert [r["ciaddr"] for r in requests][:3] == ["0.0.0.0", "10.0.0.50", "10.0.0.50"]
        lab.stop_captures()
        msgs = [m for m in exchange(lab.lan_pcap("lan0")) if m["type"] == "REQUEST"]
        assert [(m["ip.src"], m["ip.dst"]) for m in msgs[:3]] == [
            ("0.0.0.0", "255.255.255.255"), ("10.0.0.50", "10.0.0.1"),
            ("10.0.0.50", "255.255.255.255")]


@root
@pytest.mark.timeout(120)
def test_a_nak_on_renewal_drops_the_address_and_starts_again(results):
    with running_lab(BARE, results) as lab:
        a = lab.guest("a")
        server = FakeDhcp(lab, "10.0.0.50,10.0.0.51", "--lease", "60", "--t1", "3",
                          "--renew", "nak")
        assert "bound to 10.0.0.50" in a.run("dhclient eth0", timeout=30)
        log = wait_log(a, r"^bound to 10\.0\.0\.51", 25)
        assert "DHCPNAK of 0.0.0.0 from 10.0.0.1" in log
        assert log.index("DHCPNAK") < log.index("eth0: lost lease of 10.0.0.50") < \
            log.index("bound to 10.0.0.51")
        assert address(a) == ("10.0.0.51", "255.255.255.0")
        assert [e["sent"] for e in server.events() if "sent" in e].count("DHCPNAK") >= 1


def test_dhclient_usage(guest):
    assert guest.run("dhclient -h").startswith("usage: dhclient ")
    assert guest.run("dhclient eth9").startswith(
        "dhclient: invalid interface 'eth9': no such interface\nusage: dhclient ")
    assert guest.run("dhclient lo").startswith(
        "dhclient: invalid interface 'lo': not an Ethernet interface\nusage: dhclient ")
    assert guest.run("dhclient -t 0 eth0").startswith(
        "dhclient: -t: invalid wait '0': must be from 1 to 3600\n")
    assert guest.run("dhclient -r eth0") == "dhclient: eth0: no lease to release\n"

