"""Topologies as data: validation, addresses in the guest, reading JSON/TOML, named ones."""

import json

import pytest

from xv6net import topology
from xv6net.topology import (
    Guest,
    GuestNic,
    Lan,
    Peer,
    Route,
    Topology,
    TopologyError,
    kernel_cmdline,
    runtime_addresses,
)

LAN0 = Lan("lan0", "10.0.0.0/24")


def one_lan(*guests: Guest, peers=(), lan: Lan = LAN0) -> Topology:
    return Topology([lan], list(guests), list(peers))


def test_two_guests_is_valid_and_needs_root():
    topo = topology.two_guests()
    assert [g.name for g in topo.guests] == ["a", "b"]
    assert topo.needs_root
    assert topo.nic("b").mac == "52:54:76:36:01:00"
    assert topo.nic("a").ifname == "eth0"


@pytest.mark.parametrize("name", ["back-to-back", "slirp"])
def test_no_root_topologies(name):
    assert not topology.NAMED[name]().needs_root


def test_every_named_topology_is_valid():
    for make in topology.NAMED.values():
        assert isinstance(make(), Topology)


@pytest.mark.parametrize("name", ["", "A", "1a", "toolongname", "a-b", "a b"])
def test_bad_guest_names(name):
    with pytest.raises(TopologyError, match="guest name"):
        one_lan(Guest(name, [GuestNic("lan0")]))


def test_bad_lan_name():
    with pytest.raises(TopologyError, match="LAN name"):
        Topology([Lan("Lan_0")], [Guest("a")])


def test_duplicate_names():
    with pytest.raises(TopologyError, match="duplicate guest names: a"):
        one_lan(Guest("a"), Guest("a"))
    with pytest.raises(TopologyError, match="duplicate LAN names: lan0"):
        Topology([LAN0, LAN0], [Guest("a")])


def test_needs_a_guest():
    with pytest.raises(TopologyError, match="at least one guest"):
        Topology([LAN0], [])


def test_unknown_lan_kind():
    with pytest.raises(TopologyError, match="unknown kind"):
        Topology([Lan("x", kind="vde")], [Guest("a")])  # type: ignore[arg-type]


def test_nic_on_missing_lan():
    with pytest.raises(TopologyError, match="a eth0: no LAN 'nope'"):
        one_lan(Guest("a", [GuestNic("nope")]))


def test_too_many_nics():
    with pytest.raises(TopologyError, match="at most 8 NICs"):
        one_lan(Guest("a", [GuestNic("lan0")] * 9))


def test_bad_and_duplicate_macs():
    with pytest.raises(TopologyError, match="multicast"):
        one_lan(Guest("a", [GuestNic("lan0", mac="01:00:5e:00:00:01")]))
    with pytest.raises(TopologyError, match="used twice"):
        # b's explicit MAC is the one a gets by default
        one_lan(Guest("a", [GuestNic("lan0")]),
                Guest("b", [GuestNic("lan0", mac="52:54:76:36:00:00")]))


@pytest.mark.parametrize(("ip", "message"), [
    ("10.0.1.2", "not in 10.0.0.0/24"),
    ("10.0.0.0", "not a host address"),
    ("10.0.0.255", "not a host address"),
    ("10.0.0.300", "bad IPv4 address"),
])
def test_bad_guest_addresses(ip, message):
    with pytest.raises(TopologyError, match=message):
        one_lan(Guest("a", [GuestNic("lan0", ip=ip)]))


def test_address_needs_a_subnet():
    with pytest.raises(TopologyError, match="has no subnet"):
        one_lan(Guest("a", [GuestNic("lan0", ip="10.0.0.2")]), lan=Lan("lan0"))


def test_address_used_twice_on_a_lan():
    with pytest.raises(TopologyError, match=r"address used twice: 10\.0\.0\.2"):
        one_lan(Guest("a", [GuestNic("lan0", ip="10.0.0.2")]),
                peers=[Peer("lan0", "10.0.0.2")])


def test_peers_only_on_bridges_in_their_subnet():
    with pytest.raises(TopologyError, match="no LAN 'lan9'"):
        one_lan(Guest("a"), peers=[Peer("lan9", "10.0.0.1")])
    with pytest.raises(TopologyError, match=r"not in 10\.0\.0\.0/24"):
        one_lan(Guest("a"), peers=[Peer("lan0", "10.9.0.1")])
    wire = Lan("w", "10.0.0.0/24", kind="stream")
    with pytest.raises(TopologyError, match="bridged LANs, w is stream"):
        Topology([wire], [Guest("a", [GuestNic("w")]), Guest("b", [GuestNic("w")])],
                 [Peer("w", "10.0.0.1")])


def test_stream_lan_joins_two_guests():
    wire = Lan("w", kind="stream")
    with pytest.raises(TopologyError, match="exactly two NICs"):
        Topology([wire], [Guest("a", [GuestNic("w")])])
    with pytest.raises(TopologyError, match="two different guests"):
        Topology([wire], [Guest("a", [GuestNic("w"), GuestNic("w")])])


def test_slirp_lan():
    user = Lan("u", kind="slirp")
    with pytest.raises(TopologyError, match="exactly one NIC"):
        Topology([user], [Guest("a", [GuestNic("u")]), Guest("b", [GuestNic("u")])])
    with pytest.raises(TopologyError, match="belongs to QEMU"):
        Topology([user], [Guest("a", [GuestNic("u", ip="10.0.2.2")])])
    with pytest.raises(TopologyError, match=r"user network is 10\.0\.2\.0/24"):
        Topology([Lan("u", "10.9.0.0/24", kind="slirp")], [Guest("a", [GuestNic("u")])])
    assert Topology([user], [Guest("a", [GuestNic("u", ip="10.0.2.15")])]).lan("u").network


def test_kernel_cmdline_configures_the_first_address():
    topo = topology.two_lans()
    assert kernel_cmdline(topo, "r") == "ip=10.0.1.2:::255.255.255.0::eth0:off"
    assert [(a.ifname, a.ip, a.netmask) for a in runtime_addresses(topo, "r")] == [
        ("eth1", "10.0.2.2", "255.255.255.0")]


def test_kernel_cmdline_keeps_the_guests_own_words():
    topo = one_lan(Guest("a", [GuestNic("lan0", ip="10.0.0.2")], cmdline="debug=1"))
    assert kernel_cmdline(topo, "a") == "debug=1 ip=10.0.0.2:::255.255.255.0::eth0:off"
    own = one_lan(Guest("a", [GuestNic("lan0", ip="10.0.0.2")], cmdline="ip=10.0.0.9"))
    assert kernel_cmdline(own, "a") == "ip=10.0.0.9"
    assert [a.ip for a in runtime_addresses(own, "a")] == ["10.0.0.2"]


def test_guest_without_address_has_no_ip_argument():
    topo = one_lan(Guest("a", [GuestNic("lan0")]))
    assert kernel_cmdline(topo, "a") == ""
    assert runtime_addresses(topo, "a") == []


def test_from_dict_round_trip(tmp_path):
    data = {
        "lans": [{"name": "lan0", "subnet": "10.0.0.0/24"}],
        "guests": [{"name": "a", "nics": [{"lan": "lan0", "ip": "10.0.0.2"}]},
                   {"name": "b", "nics": [{"lan": "lan0", "ip": "10.0.0.3"}], "memory_mb": 64}],
        "peers": [{"lan": "lan0", "ip": "10.0.0.1"}],
    }
    path = tmp_path / "t.json"
    path.write_text(json.dumps(data))
    topo = topology.load(path)
    assert topo == topology.Topology(
        [LAN0],
        [Guest("a", [GuestNic("lan0", ip="10.0.0.2")]),
         Guest("b", [GuestNic("lan0", ip="10.0.0.3")], memory_mb=64)],
        [Peer("lan0", "10.0.0.1")])


def test_toml(tmp_path):
    path = tmp_path / "t.toml"
    path.write_text('[[lans]]\nname = "w"\nkind = "stream"\n'
                    '[[guests]]\nname = "a"\nnics = [{lan = "w"}]\n'
                    '[[guests]]\nname = "b"\nnics = [{lan = "w"}]\n')
    topo = topology.named_or_file(str(path))
    assert topo.lan("w").kind == "stream"
    assert not topo.needs_root


@pytest.mark.parametrize(("data", "message"), [
    ({"lans": [], "guests": [], "hosts": []}, "unknown top-level keys"),
    ({"guests": [{"name": "a", "ram": 1}]}, "unknown keys"),
    ({"guests": ["a"]}, "expected a table"),
    ({"guests": [{"nics": []}]}, "missing 1 required"),
])
def test_from_dict_errors(data, message):
    with pytest.raises(TopologyError, match=message):
        topology.from_dict(data)


def test_bad_file_and_unknown_name(tmp_path):
    path = tmp_path / "t.json"
    path.write_text("{")
    with pytest.raises(TopologyError, match=r"t\.json"):
        topology.load(path)
    with pytest.raises(TopologyError, match="one of two-guests"):
        topology.named_or_file("three-guests")


def test_nic_models_are_checked_and_kept():
    topo = one_lan(Guest("a", [GuestNic("lan0", model="ne2k_pci")]), Guest("b", [GuestNic("lan0")]))
    assert topo.nic("a").nic.model == "ne2k_pci"
    assert topo.nic("b").nic.model is None
    with pytest.raises(TopologyError, match="a eth0: unknown NIC model 'rtl8139'"):
        one_lan(Guest("a", [GuestNic("lan0", model="rtl8139")]))


def test_mixed_cards_has_one_of_each_on_one_bridge():
    topo = topology.NAMED["mixed-cards"]()
    assert [topo.nic(g).nic.model for g in ("a", "b", "c")] == \
        ["e1000", "ne2k_pci", "virtio-net-pci"]
    assert {ref.nic.lan for ref in topo.nics()} == {"lan0"}
    assert topo.needs_root


def test_model_read_from_a_file(tmp_path):
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"lans": [{"name": "lan0", "subnet": "10.0.0.0/24"}],
                                "guests": [{"name": "a", "nics": [
                                    {"lan": "lan0", "model": "virtio-net-pci"}]}]}))
    assert topology.load(path).nic("a").nic.model == "virtio-net-pci"


# ---- DHCP NICs and dnsmasq -------------------------------------------------------

def dhcp_lan(**service) -> Topology:
    service.setdefault("dhcp_range", ("10.0.0.100", "10.0.0.150"))
    return Topology([LAN0], [Guest("a", [GuestNic("lan0", ip=topology.DHCP)])],
                    [Peer("lan0", "10.0.0.1")], [topology.Dnsmasq("lan0", "10.0.0.1", **service)])


def test_dhcp_nic_on_a_lan_with_dnsmasq():
    topo = dhcp_lan()
    assert kernel_cmdline(topo, "a") == "ip=dhcp"
    assert topology.addresses(topo, "a") == []
    assert topology.runtime_dhcp(topo, "a") == []
    assert topo.dhcp_server("lan0").ip == "10.0.0.1"
    assert topology.NAMED["dhcp"]().dhcp_server("lan0") is not None


def test_dhcp_on_a_second_nic_is_dhclient_at_the_shell():
    topo = Topology([LAN0, Lan("lan1", "10.0.1.0/24")],
                    [Guest("a", [GuestNic("lan1", ip="10.0.1.5"),
                                 GuestNic("lan0", ip=topology.DHCP)])],
                    [Peer("lan0", "10.0.0.1")],
                    [topology.Dnsmasq("lan0", "10.0.0.1", dhcp_range=("10.0.0.9", "10.0.0.9"))])
    assert kernel_cmdline(topo, "a") == "ip=10.0.1.5:::255.255.255.0::eth0:off"
    assert topology.runtime_dhcp(topo, "a") == ["eth1"]
    first = Topology(topo.lans, [Guest("a", [GuestNic("lan0"), GuestNic("lan0", ip="dhcp")])],
                     topo.peers, topo.services)
    assert kernel_cmdline(first, "a") == "ip=:::::eth1:dhcp"
    assert topology.runtime_dhcp(first, "a") == []


def test_dhcp_on_slirp_needs_no_service():
    topo = topology.NAMED["slirp-dhcp"]()
    assert kernel_cmdline(topo, "a") == "ip=dhcp"
    assert not topo.needs_root


def test_dhcp_nic_needs_a_server():
    with pytest.raises(TopologyError, match="has no DHCP server"):
        one_lan(Guest("a", [GuestNic("lan0", ip="dhcp")]), peers=[Peer("lan0", "10.0.0.1")])
    with pytest.raises(TopologyError, match="has no DHCP server"):   # DNS only
        dhcp_lan(dhcp_range=None)


@pytest.mark.parametrize(("service", "message"), [
    ({"dhcp_range": ("10.0.0.150", "10.0.0.100")}, "is empty"),
    ({"dhcp_range": ("10.0.0.100", "10.0.1.150")}, "not in 10.0.0.0/24"),
    ({"lease": "90s"}, "shortest is 2m"),
    ({"lease": "2 min"}, "lease time"),
    ({"t1": 30, "t2": 20}, "need 0 < T1 < T2"),
    ({"t1": 0}, "need 0 < T1 < T2"),
    ({"t2": 120}, "need 0 < T1 < T2"),
    ({"names": {"bad name": "10.0.0.5"}}, "not a DNS name"),
    ({"names": {"www": "10.9.0.5"}}, "not in 10.0.0.0/24"),
    ({"domain": "-x"}, "not DNS names"),
    ({"static": {"52:54:76:36:00:00": "10.0.1.1"}}, "not in 10.0.0.0/24"),
    ({"static": {"zz": "10.0.0.7"}}, "static zz"),
    ({"router": "10.0.0.0"}, "not a host address"),
])
def test_bad_dnsmasq_services(service, message):
    with pytest.raises(TopologyError, match=message):
        dhcp_lan(**service)


def test_dnsmasq_must_sit_on_a_peer_of_a_bridged_lan():
    with pytest.raises(TopologyError, match="is not a Linux peer"):
        Topology([LAN0], [Guest("a")], [Peer("lan0", "10.0.0.1")],
                 [topology.Dnsmasq("lan0", "10.0.0.2")])
    with pytest.raises(TopologyError, match="services run on bridged LANs"):
        Topology([Lan("w", "10.0.0.0/24", kind="stream")],
                 [Guest("a", [GuestNic("w")]), Guest("b", [GuestNic("w")])], [],
                 [topology.Dnsmasq("w", "10.0.0.1")])
    with pytest.raises(TopologyError, match="one dnsmasq per LAN"):
        Topology([LAN0], [Guest("a")], [Peer("lan0", "10.0.0.1")],
                 [topology.Dnsmasq("lan0", "10.0.0.1")] * 2)


def test_lease_seconds():
    assert topology.lease_seconds("120") == 120
    assert topology.lease_seconds("2m") == 120
    assert topology.lease_seconds("1h") == 3600
    assert topology.lease_seconds("infinite") is None


def test_services_from_dict():
    topo = topology.from_dict({
        "lans": [{"name": "lan0", "subnet": "10.0.0.0/24"}],
        "guests": [{"name": "a", "nics": [{"lan": "lan0", "ip": "dhcp"}]}],
        "peers": [{"lan": "lan0", "ip": "10.0.0.1"}],
        "services": [{"dnsmasq": {"lan": "lan0", "ip": "10.0.0.1",
                                  "dhcp_range": ["10.0.0.10", "10.0.0.20"],
                                  "names": {"www": "10.0.0.80"}}}],
    })
    assert topo.services[0].dhcp_range == ("10.0.0.10", "10.0.0.20")
    assert topo.services[0].names == {"www": "10.0.0.80"}
    with pytest.raises(TopologyError, match="expected"):
        topology.from_dict({"lans": [], "guests": [{"name": "a"}], "services": [{"dhcpd": {}}]})


def test_impairment_on_every_relayable_nic():
    topo = topology.with_impairment(topology.two_lans(), "loss=5%,delay=20ms:10ms")
    assert all(ref.nic.impair == "loss=5%,delay=20ms:10ms" for ref in topo.nics())
    only_a = topology.with_impairment(topology.two_guests(), "dup=1%", ["a"])
    assert [ref.nic.impair for ref in only_a.nics()] == ["dup=1%", None]


def test_impairment_is_checked_when_the_topology_is_made():
    with pytest.raises(TopologyError, match=r"a eth0: impair 'loss=200%'"):
        topology.with_impairment(topology.two_guests(), "loss=200%")
    with pytest.raises(TopologyError, match="no bridged or stream NIC"):
        topology.with_impairment(topology.slirp(), "loss=1%")
    with pytest.raises(TopologyError, match="no guest z"):
        topology.with_impairment(topology.two_guests(), "loss=1%", ["z"])


def test_impairment_in_a_topology_file():
    data = {"lans": [{"name": "wire", "subnet": "10.0.0.0/24", "kind": "stream"}],
            "guests": [{"name": "a", "nics": [{"lan": "wire", "ip": "10.0.0.2",
                                               "impair": "reorder=25%"}]},
                       {"name": "b", "nics": [{"lan": "wire", "ip": "10.0.0.3",
                                               "impair": "loss=1%"}]}]}
    with pytest.raises(TopologyError, match="one relay carries the wire"):
        topology.from_dict(data)
    data["guests"][1]["nics"][0]["impair"] = "reorder=25%"
    assert topology.impairments(topology.from_dict(data), "wire") == ["reorder=25%"]
    slirp = {"lans": [{"name": "user", "kind": "slirp"}],
             "guests": [{"name": "a", "nics": [{"lan": "user", "impair": "loss=1%"}]}]}
    with pytest.raises(TopologyError, match="SLiRP"):
        topology.from_dict(slirp)


# ---- routers and Linux hosts of their own -----------------------------------------

def test_routed_chains_three_lans_through_two_routers():
    topo = topology.routed()
    assert [lan.name for lan in topo.lans] == ["lan1", "lan2", "lan3"]
    assert all(guest.forward for guest in topo.guests)
    assert [peer.host for peer in topology.hosts(topo)] == ["left", "right"]
    assert topology.host_peer(topo, "right").gateway == "10.0.3.1"
    assert "sysctl.net.ipv4.ip_forward=1" in kernel_cmdline(topo, "r1")
    assert [topology.route_command(r) for r in topo.guest("r1").routes] == [
        "route add -net 10.0.3.0 netmask 255.255.255.0 gw 10.0.2.2"]


def test_route_commands():
    assert topology.route_command(Route("default", "10.0.0.1")) == \
        "route add default gw 10.0.0.1"
    assert topology.route_command(Route("10.9.9.9/32", "10.0.0.1")) == \
        "route add -host 10.9.9.9 gw 10.0.0.1"


@pytest.mark.parametrize(("route", "message"), [
    (Route("10.9.0.0/16", "10.1.0.1"), "on none of its LANs"),
    (Route("10.9.0.1/16", "10.0.0.1"), "host bits set"),
    (Route("default", "10.0.0.300"), "route to default"),
])
def test_bad_routes(route, message):
    with pytest.raises(TopologyError, match=message):
        one_lan(Guest("a", [GuestNic("lan0", ip="10.0.0.2")], routes=[route]))


def test_two_routes_to_one_network():
    routes = [Route("default", "10.0.0.1"), Route("0.0.0.0/0", "10.0.0.3")]
    with pytest.raises(TopologyError, match=r"two routes to 0\.0\.0\.0/0"):
        one_lan(Guest("a", [GuestNic("lan0", ip="10.0.0.2")], routes=routes))


def test_hosts_are_checked():
    guest = Guest("a", [GuestNic("lan0", ip="10.0.0.2")])
    with pytest.raises(TopologyError, match="needs a host of its own"):
        one_lan(guest, peers=[Peer("lan0", "10.0.0.1", gateway="10.0.0.2")])
    with pytest.raises(TopologyError, match="host name"):
        one_lan(guest, peers=[Peer("lan0", "10.0.0.1", host="Left")])
    with pytest.raises(TopologyError, match="is not in"):
        one_lan(guest, peers=[Peer("lan0", "10.0.0.1", host="h", gateway="10.1.0.2")])
    with pytest.raises(TopologyError, match="one peer per Linux host: h"):
        one_lan(guest, peers=[Peer("lan0", "10.0.0.1", host="h"),
                              Peer("lan0", "10.0.0.3", host="h")])


def test_forward_and_routes_from_a_dict():
    data = {"lans": [{"name": "lan0", "subnet": "10.0.0.0/24"}],
            "guests": [{"name": "r", "forward": True,
                        "nics": [{"lan": "lan0", "ip": "10.0.0.2"}],
                        "routes": [{"dst": "default", "gateway": "10.0.0.1"}]}],
            "peers": [{"lan": "lan0", "ip": "10.0.0.1", "host": "h"}]}
    topo = topology.from_dict(data)
    assert topo.guest("r").routes == (Route("default", "10.0.0.1"),)
    assert topo.guest("r").forward
    assert topo.peers[0].host == "h"
