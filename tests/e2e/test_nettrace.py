"""The kernel's packet trace (nettrace; kernel/net/nettrace.c): a ping's
round trip logged layer by layer, the filter, off means silent, and the boot
parameter."""

import re

import pytest

pytestmark = pytest.mark.e2e

SLIRP_IP = "ip=10.0.2.15::10.0.2.2:255.255.255.0::eth0:off"   # what SLiRP expects
LINE = re.compile(r"^\[\s*\d+\.\d{3}\] cpu\d+ (\w+): (.*)$")


def trace(vm) -> list[tuple[str, str]]:
    """The trace's new lines as (function, what it decided)."""
    out = vm.run("nettrace show")
    lines = [LINE.match(line) for line in out.splitlines() if line.strip()]
    assert all(lines), out
    return [(m[1], m[2]) for m in lines if m]


def test_a_ping_is_traced_through_every_layer_and_off_is_silent(boot, guest_spec):
    guest = boot(guest_spec(cmdline=SLIRP_IP))
    guest.run("ping -c 1 10.0.2.2", timeout=15)      # the gateway's MAC known first
    assert guest.run("nettrace on icmp").strip() == "nettrace: on for icmp"
    out = guest.run("ping -c 1 10.0.2.2", timeout=15)
    assert "1 packets transmitted, 1 received" in out, out
    lines = trace(guest)
    assert [f for f, _ in lines] == ["ip_output", "arp_output", "ether_output", "e1000_xmit",
                                     "ether_input", "ip_input", "icmp_input"], lines
    assert lines[0][1] == "proto 1 to 10.0.2.2 via eth0, 84 bytes"
    assert lines[1][1] == "10.0.2.2 is known -> ether"
    assert re.fullmatch(r"eth0 slot \d+, 98 bytes", lines[3][1])
    assert lines[4][1] == "eth0, 98 bytes, type 0x0800 -> ip"
    assert lines[5][1] == "from 10.0.2.2, for us, proto 1 -> deliver"
    assert lines[6][1] == "type 0 code 0"                 # the echo reply

    assert guest.run("nettrace on udp").strip() == "nettrace: on for udp"
    guest.run("ping -c 1 10.0.2.2", timeout=15)
    assert trace(guest) == []                              # not in the filter
    assert guest.run("nettrace off").strip() == "nettrace: off"
    guest.run("ping -c 1 10.0.2.2", timeout=15)
    assert trace(guest) == []
    assert guest.run("nettrace").strip() == "nettrace: off"


def test_the_boot_parameter_traces_from_the_start(boot, guest_spec):
    vm = boot(guest_spec(cmdline=f"{SLIRP_IP} nettrace=arp"))
    assert vm.run("nettrace").strip() == "nettrace: on for arp"
    lines = trace(vm)
    # the announcement of our address at boot (a gratuitous ARP request)
    assert ("ether_output", "eth0, 60 bytes, type 0x0806") in lines, lines
    assert "e1000_xmit" in {f for f, _ in lines}, lines
