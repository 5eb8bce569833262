"""The three cards (issue 15): each attaches and says so; link status; one guest with
all three at once; guests with different cards talking on one bridge.

What the other network suites check frame by frame, they check once per card
(`--nic-models`); this module is about the cards as such and their mixing.
"""

import re
import time

import pytest
from labtools import running_lab

from xv6net import nics, parse, pcap, topology
from xv6net.qemu import NicSpec
from xv6net.topology import Guest, GuestNic, Lan, Peer, Topology

pytestmark = pytest.mark.e2e
root = pytest.mark.root

PCI_LINE = r"^pci 00:03\.0 {id} class 02\.00 irq (?P<irq>\d+)(?P<bars>.*)$"
ATTACH_LINE = r"^eth0: {driver} at 00:03\.0 irq (?P<irq>\d+) .*mac 52:54:76:36:00:00"
SLIRP_ARG = "ip=10.0.2.15:::255.255.255.0::eth0:off"
LINK_WAIT = 5.0


def test_card_attaches_and_is_named(boot, guest_spec, nic_model):
    card = nics.model(nic_model)
    vm = boot(guest_spec(nics=[NicSpec("user", model=nic_model)], cmdline=SLIRP_ARG))
    pci = re.search(PCI_LINE.format(id=card.pci_id), vm.boot_log, re.MULTILINE)
    attach = re.search(ATTACH_LINE.format(driver=card.driver), vm.boot_log, re.MULTILINE)
    assert pci and attach, vm.boot_log
    assert pci["irq"] == attach["irq"]
    assert card.pci_id in vm.monitor("info pci")
    out = vm.run("ifconfig eth0")
    assert f"(Ethernet)  driver {card.driver}\n" in out
    assert "RUNNING" in out
    replies = parse.arping_replies(vm.run("arping -c 2 10.0.2.2", timeout=10))
    assert replies == [("10.0.2.2", "52:55:0a:00:02:02")] * 2
    after = parse.ifconfig_counters(vm.run("ifconfig eth0"))["eth0"]
    assert after["interrupts"] > 0 and after["rx_packets"] >= 2


def pool_free(vm) -> int:
    """Regular packet buffers free (netstat -m)."""
    return parse.pbufs(vm.run("netstat -m")).free


def test_sent_frames_raise_no_interrupt_and_give_their_buffers_back(boot, guest_spec,
                                                                    nic_model):
    """No card interrupts for a sent frame (the e1000 without TXDW, virtio-net with
    VIRTQ_AVAIL_F_NO_INTERRUPT on its transmit queue, the NE2000 without PTX). 40
    frames of an ethertype nobody answers, a clock tick apart (each on its own;
    SLiRP drops them), raise next to none. Their buffers still come back, by the
    next send, poll or clock tick."""
    vm = boot(guest_spec(nics=[NicSpec("user", model=nic_model)], cmdline=SLIRP_ARG))
    idle = pool_free(vm)
    before = parse.ifconfig_counters(vm.run("ifconfig eth0"))["eth0"]
    vm.run("ethsend -b 1 eth0 02:00:00:00:00:01 88b5 40", timeout=20)
    after = parse.ifconfig_counters(vm.run("ifconfig eth0"))["eth0"]
    assert after["tx_packets"] - before["tx_packets"] >= 40
    assert after["interrupts"] - before["interrupts"] < 5, (before, after)
    deadline = time.monotonic() + 2.0
    while (free := pool_free(vm)) != idle and time.monotonic() < deadline:
        time.sleep(0.1)
    assert free == idle


def wait_running(vm, running: bool) -> str:
    """ifconfig eth0's first line once RUNNING is (or is not) among its flags."""
    deadline = time.monotonic() + LINK_WAIT
    while True:
        line = vm.run("ifconfig eth0").splitlines()[0]
        if ("RUNNING" in line) == running or time.monotonic() >= deadline:
            return line
        time.sleep(0.1)


def test_link_status_follows_the_cable(boot, guest_spec, nic_model, tmp_path):
    """QEMU's set_link pulls the cable: the e1000 says so by LSC, virtio-net by a
    configuration interrupt; the NE2000 has no link status at all."""
    if nic_model == "ne2k_pci":
        pytest.skip("the NE2000 has no link status")
    spec = guest_spec(nics=[NicSpec("user", model=nic_model)], monitor=tmp_path / "mon")
    vm = boot(spec)
    name = f"{nic_model}.0"       # QEMU's name for the card's net client
    assert name in vm.monitor("info network")
    before = parse.ifconfig_counters(vm.run("ifconfig eth0"))["eth0"]["interrupts"]
    assert vm.monitor(f"set_link {name} off") == ""
    assert "RUNNING" not in wait_running(vm, False)
    assert vm.monitor(f"set_link {name} on") == ""
    assert "RUNNING" in wait_running(vm, True)
    after = parse.ifconfig_counters(vm.run("ifconfig eth0"))["eth0"]["interrupts"]
    assert after >= before + 2      # one interrupt each way


ALL_CARDS = Topology(
    lans=[Lan("lan1", "10.0.1.0/24"), Lan("lan2", "10.0.2.0/24"), Lan("lan3", "10.0.3.0/24")],
    guests=[Guest("r", [GuestNic("lan1", ip="10.0.1.2", model="e1000"),
                        GuestNic("lan2", ip="10.0.2.2", model="ne2k_pci"),
                        GuestNic("lan3", ip="10.0.3.2", model="virtio-net-pci")])],
    peers=[Peer("lan1", "10.0.1.1"), Peer("lan2", "10.0.2.1"), Peer("lan3", "10.0.3.1")],
)


@root
def test_one_guest_with_all_three_cards(tmp_path):
    with running_lab(ALL_CARDS, tmp_path) as lab:
        r = lab.guest("r")
        shown = r.run("ifconfig")
        pings = {n: r.run(f"ping -c 3 -i 0.2 10.0.{n}.1", timeout=15) for n in (1, 2, 3)}
        linux = {n: lab.peer_run(["ping", "-c", "3", "-i", "0.2", "-W", "2", f"10.0.{n}.2"],
                                 timeout=20) for n in (1, 2, 3)}
        counters = parse.ifconfig_counters(r.run("ifconfig"))
    for number, model in enumerate(("e1000", "ne2k_pci", "virtio-net-pci")):
        card = nics.model(model)
        assert re.search(rf"^eth{number}: {card.driver} at ", r.boot_log, re.MULTILINE)
        block = shown[shown.index(f"eth{number}:"):]
        assert f"driver {card.driver}\n" in block.split("\n\n")[0]
        ifname = f"eth{number}"
        assert counters[ifname]["interrupts"] > 0 and counters[ifname]["rx_packets"] >= 6
    for n in (1, 2, 3):
        assert "3 packets transmitted, 3 received, 0% packet loss" in pings[n], pings[n]
        assert " 0% packet loss" in linux[n].stdout, linux[n].stdout


SIZES = (56, 1472, 3000)   # one frame, a full one, two fragments


@root
def test_guests_with_different_cards_on_one_bridge(tmp_path):
    """An e1000 guest pings an ne2k guest and a virtio-net guest (and they each
    other), in one frame, a full frame and fragments; Linux pings all three.
    Every NIC's capture and the bridge's decode in tshark without a problem."""
    topo = topology.mixed_cards()
    with running_lab(topo, tmp_path) as lab:
        a, b, c = lab.guest("a"), lab.guest("b"), lab.guest("c")
        out = {}
        for src, vm, dst in (("a", a, "b"), ("a", a, "c"), ("b", b, "c"), ("c", c, "a")):
            for size in SIZES:
                out[src, dst, size] = vm.run(f"ping -c 2 -i 0.2 -s {size} {lab.ip(dst)}",
                                             timeout=15)
        linux = {g: lab.peer_run(["ping", "-c", "3", "-i", "0.2", "-W", "2", lab.ip(g) or ""],
                                 timeout=20) for g in ("a", "b", "c")}
        drivers = {g: lab.guest(g).run("ifconfig eth0") for g in ("a", "b", "c")}
        lab.stop_captures()
        captures = [lab.pcap(g) for g in ("a", "b", "c")] + [lab.lan_pcap("lan0")]
        problems = {str(path): pcap.tshark_problems(path) for path in captures}
        icmp = {g: [f for f in pcap.frames(lab.pcap(g)) if f.ethertype == 0x0800]
                for g in ("a", "b", "c")}
    for (src, dst, size), text in out.items():
        assert "2 packets transmitted, 2 received, 0% packet loss" in text, (src, dst, size, text)
    for guest, result in linux.items():
        assert " 0% packet loss" in result.stdout, (guest, result.stdout)
    for guest, model in (("a", "e1000"), ("b", "ne2k_pci"), ("c", "virtio-net-pci")):
        assert lab.model(guest) == model
        assert f"driver {nics.model(model).driver}\n" in drivers[guest]
        assert len(icmp[guest]) >= 2 * 2 * len(SIZES)
    assert problems == {str(path): [] for path in captures}
