"""dnsmasq's configuration and lease file, and the lab's use of them, without running it."""

import ipaddress
import os
import socket

from xv6net import services, topology
from xv6net.lab import Lab

NET = ipaddress.IPv4Network("10.0.0.0/24")


def test_dnsmasq_conf_for_dhcp_and_dns(tmp_path):
    service = topology.Dnsmasq("lan0", "10.0.0.1", dhcp_range=("10.0.0.100", "10.0.0.150"),
                               lease="5m", t1=10, t2=20, names={"www": "10.0.0.80",
                                                                "x.example": "10.0.0.81"},
                               static={"52:54:76:36:00:00": "10.0.0.7"})
    conf = services.dnsmasq_conf(service, NET, "br-lan0", tmp_path / "l", tmp_path / "log")
    lines = conf.splitlines()
    for line in ("bind-interfaces", "listen-address=10.0.0.1", "no-resolv", "no-hosts",
                 "local=/lab/", "domain=lab", "host-record=peer.lab,10.0.0.1",
                 "host-record=www.lab,10.0.0.80", "host-record=x.example,10.0.0.81",
                 "dhcp-range=10.0.0.100,10.0.0.150,255.255.255.0,5m",
                 f"dhcp-leasefile={tmp_path / 'l'}", f"log-facility={tmp_path / 'log'}",
                 "dhcp-option=option:router,10.0.0.1", "dhcp-option=option:dns-server,10.0.0.1",
                 "dhcp-option=option:T1,10", "dhcp-option=option:T2,20",
                 "dhcp-host=52:54:76:36:00:00,10.0.0.7", "no-ping"):
        assert line in lines, line
    # It must never ask another server, nor listen anywhere but its address.
    assert not any(line.startswith(("server=", "resolv-file=", "interface=")) for line in lines)
    assert services.udp_ports(service) == [53, 67]


def test_dnsmasq_conf_for_dns_only(tmp_path):
    service = topology.Dnsmasq("lan0", "10.0.0.1", router="10.0.0.254")
    conf = services.dnsmasq_conf(service, NET, "br-lan0", tmp_path / "l", tmp_path / "log")
    assert "dhcp-range" not in conf and "dhcp-option" not in conf
    assert services.udp_ports(service) == [53]


def test_read_leases(tmp_path):
    path = tmp_path / "leases"
    assert services.read_leases(path) == []
    path.write_text("1700000000 52:54:76:36:00:00 10.0.0.105 * 01:52:54:76:36:00:00\n"
                    "duid 00:01:00:01\n")
    assert services.read_leases(path) == [
        services.DhcpLease(1700000000, "52:54:76:36:00:00", "10.0.0.105", "*")]


def test_udp_listening_reads_our_own_sockets():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        assert services.udp_listening(os.getpid(), port)
    assert not services.udp_listening(os.getpid(), port)


def test_lab_describes_its_dnsmasq_and_names_its_files(tmp_path):
    lab = Lab(topology.NAMED["dhcp"](), tmp_path)
    text = lab.describe()
    assert "dnsmasq on lan0 at 10.0.0.1: DHCP 10.0.0.100-10.0.0.150 lease 2m, DNS for lab" in text
    assert lab.service_files("lan0") == {kind: tmp_path / f"dnsmasq-lan0.{kind}"
                                         for kind in ("conf", "leases", "log")}
    assert lab.vm_spec(lab.topology.guest("a"), 0).cmdline == "ip=dhcp"
