"""ARP against Linux's own implementation, on a bridge in a namespace (issue 4).

One lab per card (guests a 10.0.0.2 and b 10.0.0.3, Linux 10.0.0.1 on the bridge) does
all the traffic once: Linux's arping to each guest, each guest's arping to
Linux and to the other guest, then Linux's own neighbour code resolving both.
The tests check what each side printed, Linux's neighbour table, and every
captured ARP frame, with tshark (no malformed frame, no expert warning) and
with scapy (opcode, addresses, padding to 60 bytes).
"""

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from labtools import running_lab
from scapy.layers.l2 import ARP, Ether
from scapy.utils import rdpcap

from xv6net import linux, parse, pcap, topology
from xv6net.lab import Lab
from xv6net.parse import Neighbour

pytestmark = [pytest.mark.e2e, pytest.mark.root]

COUNT = 3
ARP_FRAME_LEN = 42   # Ethernet header + ARP for IPv4, without padding
PEER_IP = "10.0.0.1"
GUEST_IPS = {"a": "10.0.0.2", "b": "10.0.0.3"}


@dataclass
class Session:
    """Everything the ARP exchange printed and captured."""

    macs: dict[str, str]            # guest name, "linux" -> MAC
    linux_arping: dict[str, str] = field(default_factory=dict)    # guest -> output
    guest_arping: dict[str, str] = field(default_factory=dict)    # "a->linux", "a->b", ...
    neighbours: dict[str, Neighbour] = field(default_factory=dict)
    arp_tables: dict[str, str] = field(default_factory=dict)
    netstat: dict[str, str] = field(default_factory=dict)
    lan_pcap: Path = Path()
    nic_pcaps: list[Path] = field(default_factory=list)

    def ip_of(self, mac: str) -> str:
        names = {m: n for n, m in self.macs.items()}
        return PEER_IP if names[mac] == "linux" else GUEST_IPS[names[mac]]


def exchange(lab: Lab, session: Session) -> None:
    for guest in ("a", "b"):
        argv = linux.arping_argv(lab.bridge("lan0"), GUEST_IPS[guest], COUNT)
        result = lab.peer_run(argv, timeout=20)
        session.linux_arping[guest] = result.stdout + result.stderr
    targets = {"a->linux": ("a", PEER_IP), "a->b": ("a", GUEST_IPS["b"]),
               "b->a": ("b", GUEST_IPS["a"])}
    for key, (guest, ip) in targets.items():
        session.guest_arping[key] = lab.guest(guest).run(f"arping -c {COUNT} {ip}", timeout=20)
    for guest in ("a", "b"):
        lab.linux_resolve("lan0", GUEST_IPS[guest])
        session.arp_tables[guest] = lab.guest(guest).run("arp -a")
        session.netstat[guest] = lab.guest(guest).run("netstat")
    session.neighbours = lab.linux_neighbours("lan0")


@pytest.fixture(scope="module")
def session(tmp_path_factory, nic_model) -> Session:
    results = tmp_path_factory.mktemp("arp")
    with running_lab(topology.two_guests(), results, nic_model=nic_model) as lab:
        session = Session(macs={"a": lab.mac("a"), "b": lab.mac("b"),
                                "linux": lab.peer_mac("lan0")})
        exchange(lab, session)
        session.lan_pcap = lab.lan_pcap("lan0")
        session.nic_pcaps = [lab.pcap("a"), lab.pcap("b")]
    return session    # the lab is down: the bridge capture is complete


def arp_frames(path: Path) -> list[Ether]:
    return [p for p in rdpcap(str(path)) if ARP in p]


@pytest.mark.parametrize("guest", ["a", "b"])
def test_linux_arping_gets_every_reply(session, guest):
    replies = parse.arping_replies(session.linux_arping[guest])
    assert replies == [(GUEST_IPS[guest], session.macs[guest])] * COUNT, \
        session.linux_arping[guest]


@pytest.mark.parametrize("guest", ["a", "b"])
def test_linux_neighbour_table_holds_the_guests(session, guest):
    entry = session.neighbours[GUEST_IPS[guest]]
    assert entry.mac == session.macs[guest]
    assert set(entry.states) & set(linux.RESOLVED), entry


@pytest.mark.parametrize(("key", "ip", "who"), [
    ("a->linux", PEER_IP, "linux"),
    ("a->b", GUEST_IPS["b"], "b"),
    ("b->a", GUEST_IPS["a"], "a"),
])
def test_guest_arping_gets_every_reply(session, key, ip, who):
    output = session.guest_arping[key]
    assert parse.arping_replies(output) == [(ip, session.macs[who])] * COUNT, output
    assert f"Received {COUNT} response(s)" in output


def test_guest_arp_tables(session):
    assert f"({PEER_IP}) at {session.macs['linux']} [ether]" in session.arp_tables["a"]
    assert f"({GUEST_IPS['b']}) at {session.macs['b']} [ether]" in session.arp_tables["a"]
    assert f"({GUEST_IPS['a']}) at {session.macs['a']} [ether]" in session.arp_tables["b"]


def test_guests_count_the_requests_they_answered(session):
    # a answered Linux's arping and b's; b answered Linux's and a's
    for guest in ("a", "b"):
        answered = int(session.netstat[guest].split(" requests answered")[0].split()[-1])
        assert answered >= 2 * COUNT, session.netstat[guest]


def test_tshark_decodes_every_arp_frame_without_problems(session):
    for path in (session.lan_pcap, *session.nic_pcaps):
        assert pcap.tshark_problems(path) == [], path
        rows = pcap.tshark_decode(path, ["frame.number", "arp.opcode"], "arp")
        assert len(rows) == len(arp_frames(path)) > 0
        assert {row["arp.opcode"] for row in rows} == {"1", "2"}


def test_bridge_capture_holds_every_arp_frame_of_every_nic(session):
    # Compared without padding: Linux sends 42-byte ARP frames (58 from
    # arping), and QEMU's tap backend pads short frames to 60 bytes before
    # the NIC (and its capture) sees them.
    on_lan = {bytes(p)[:ARP_FRAME_LEN] for p in arp_frames(session.lan_pcap)}
    for path in session.nic_pcaps:
        missing = {bytes(p)[:ARP_FRAME_LEN] for p in arp_frames(path)} - on_lan
        assert not missing, path


def guest_frames(session: Session) -> list[Ether]:
    guests = {session.macs["a"], session.macs["b"]}
    return [p for p in arp_frames(session.lan_pcap) if p[Ether].src in guests]


def test_guest_arp_frames_are_well_formed(session):
    frames = guest_frames(session)
    assert frames
    for frame in frames:
        arp = frame[ARP]
        assert len(frame) == 60, frame.summary()          # padded to the minimum
        assert bytes(frame)[42:] == bytes(18), "padding is zeros"
        assert (arp.hwtype, arp.ptype, arp.hwlen, arp.plen) == (1, 0x0800, 6, 4)
        assert arp.hwsrc == frame[Ether].src
        assert arp.psrc == session.ip_of(arp.hwsrc)
        if arp.op == 1:
            assert frame[Ether].dst == "ff:ff:ff:ff:ff:ff"
        else:
            assert arp.op == 2
            assert frame[Ether].dst == arp.hwdst
            assert arp.pdst == session.ip_of(arp.hwdst)


def test_guests_announce_their_addresses(session):
    gratuitous = {p[ARP].psrc for p in guest_frames(session)
                  if p[ARP].op == 1 and p[ARP].psrc == p[ARP].pdst}
    assert gratuitous == set(GUEST_IPS.values())


def test_every_request_for_a_guest_or_linux_is_answered(session):
    frames = arp_frames(session.lan_pcap)
    owners = {ip: mac for mac, ip in
              ((m, session.ip_of(m)) for m in session.macs.values())}
    asked: Counter = Counter()
    answered: Counter = Counter()
    for frame in frames:
        arp = frame[ARP]
        if arp.op == 1 and arp.psrc != arp.pdst and arp.pdst in owners:
            asked[(arp.hwsrc, arp.pdst)] += 1
        elif arp.op == 2:
            assert arp.hwsrc == owners[arp.psrc], frame.summary()
            answered[(arp.hwdst, arp.psrc)] += 1
    assert asked and asked == answered
    assert asked[(session.macs["linux"], GUEST_IPS["a"])] >= COUNT
    assert asked[(session.macs["a"], GUEST_IPS["b"])] >= COUNT
