"""Guests behind the lab's impairment relay: a bridged NIC (root) and a stream
wire between two guests (no root), with the guest's own ping as traffic.

What the guest sees (its ping statistics), what crossed the wire (the pcaps)
and what the relay says it did must agree.
"""

from __future__ import annotations

import re

import pytest
from labtools import running_lab

from xv6net import pcap, topology

pytestmark = pytest.mark.e2e

PING_TIMEOUT = 60.0
ECHO_REQUEST, ECHO_REPLY = 8, 0


def ping_stats(output: str) -> tuple[int, int]:
    match = re.search(r"(\d+) packets transmitted, (\d+) received", output)
    assert match, output
    return int(match[1]), int(match[2])


def ip_frames(path, mac: str | None = None) -> list[bytes]:
    """Unicast IPv4 frames (cut at the IP total length: no Ethernet padding), from
    or to mac if given. (Linux's own multicast, IGMP reports, may reach the bridge
    before a guest's QEMU has opened its tap: the relay cannot deliver those.)"""
    raw = bytes.fromhex(mac.replace(":", "")) if mac else None
    frames = []
    for frame in pcap.frames(path):
        data = frame.data
        ours = raw is None or raw in (data[0:6], data[6:12])
        if frame.ethertype != 0x0800 or not ours or data[0] & 1:
            continue
        frames.append(data[:14 + int.from_bytes(data[16:18], "big")])
    return frames


def icmp(frames: list[bytes], kind: int) -> list[bytes]:
    return [f for f in frames if f[23] == 1 and f[34] == kind]


@pytest.mark.root
def test_no_impairment_passes_a_guests_frames_unchanged(tmp_path):
    topo = topology.with_impairment(topology.two_guests(), "seed=1", ["a"])
    with running_lab(topo, tmp_path) as lab:
        output = lab.guest("a").run("ping -c 20 -i 0.05 -s 200 10.0.0.1", timeout=PING_TIMEOUT)
        assert ping_stats(output) == (20, 20), output
        output = lab.guest("b").run("ping -c 5 -i 0.05 10.0.0.2", timeout=PING_TIMEOUT)
        assert ping_stats(output) == (5, 5), output
        counts = lab.stop_relays()["a eth0"]
        lab.stop_captures()
        a_mac = lab.mac("a")
    guest_side = ip_frames(tmp_path / "a-eth0.pcap")
    lan_side = ip_frames(tmp_path / "lan0.pcap", a_mac)
    assert len(icmp(guest_side, ECHO_REQUEST)) == len(icmp(guest_side, ECHO_REPLY)) == 25
    assert guest_side == lan_side
    for direction in counts.values():
        assert direction["in"] == direction["out"] >= 25
        assert direction["dropped"] == direction["corrupted"] == direction["reordered"] == 0


@pytest.mark.root
def test_a_bridged_guest_loses_pings_the_relay_drops(tmp_path):
    topo = topology.with_impairment(topology.two_guests(), "loss=25%,delay=10ms:5ms,seed=2",
                                    ["a"])
    with running_lab(topo, tmp_path) as lab:
        output = lab.guest("a").run("ping -c 40 -i 0.02 -W 0.5 10.0.0.1", timeout=PING_TIMEOUT)
        counts = lab.stop_relays()["a eth0"]
        lab.stop_captures()
    sent, received = ping_stats(output)
    on_lan = ip_frames(tmp_path / "lan0.pcap")
    requests, replies = icmp(on_lan, ECHO_REQUEST), icmp(on_lan, ECHO_REPLY)
    reached_a = icmp(ip_frames(tmp_path / "a-eth0.pcap"), ECHO_REPLY)
    print(output.splitlines()[-2:], counts)
    assert sent == 40
    assert len(requests) < 40                 # the relay dropped some on the way out
    assert len(replies) == len(requests)      # Linux answered every one that came
    assert len(reached_a) < len(replies)      # and some answers were dropped coming back
    assert received <= len(reached_a)         # (a reply after -W is not counted)
    assert counts["a eth0 -> lan0"]["dropped"] >= 40 - len(requests)
    assert counts["lan0 -> a eth0"]["dropped"] >= len(replies) - len(reached_a)
    assert (tmp_path / "impair.json").is_file()


def test_a_stream_wire_between_two_guests_is_impaired(tmp_path):
    topo = topology.with_impairment(topology.back_to_back(), "loss=20%,dup=10%,seed=3")
    with running_lab(topo, tmp_path) as lab:
        output = lab.guest("a").run("ping -c 40 -i 0.02 -W 0.5 10.0.0.3", timeout=PING_TIMEOUT)
        counts = lab.stop_relays()["wire"]
    sent, received = ping_stats(output)
    b_side = ip_frames(tmp_path / "b-eth0.pcap")
    print(output.splitlines()[-2:], counts)
    assert sent == 40 and 0 < received < 40
    a_to_b, b_to_a = counts["a eth0 -> b eth0"], counts["b eth0 -> a eth0"]
    assert a_to_b["dropped"] > 0 and b_to_a["dropped"] > 0
    assert a_to_b["duplicated"] + b_to_a["duplicated"] > 0
    # what reached b is what the relay let through towards it (ARP aside)
    assert len(icmp(b_side, ECHO_REQUEST)) <= a_to_b["out"]
    assert len(icmp(b_side, ECHO_REQUEST)) > 40 - a_to_b["dropped"] - 3
