"""Parsers for what the guest's programs and Linux's tools print (real samples)."""

import pytest

from xv6net import parse
from xv6net.parse import ParseError

IFCONFIG = """\
lo: flags=73<UP,LOOPBACK,RUNNING>  mtu 1906
        inet 127.0.0.1  netmask 255.0.0.0
        loop  (Local Loopback)
        RX packets 0  bytes 0
        RX errors 0  dropped 0  overruns 0  nobuf 0
        TX packets 0  bytes 0
        TX errors 0  dropped 0
        interrupts 0

eth0: flags=4163<UP,BROADCAST,RUNNING,MULTICAST>  mtu 1500
        inet 10.0.0.2  netmask 255.255.255.0
        ether 52:54:76:36:00:00  (Ethernet)
        RX packets 1003  bytes 60180
        RX errors 1  dropped 2  overruns 3  nobuf 4
        TX packets 7  bytes 420
        TX errors 5  dropped 6
        interrupts 131

eth1: flags=4163<UP,BROADCAST,RUNNING,MULTICAST>  mtu 1500
        ether 52:54:76:36:00:01  (Ethernet)
        RX packets 9  bytes 540
        RX errors 0  dropped 0  overruns 0  nobuf 0
        TX packets 0  bytes 0
        TX errors 0  dropped 0
        interrupts 8
"""

IPUTILS = """\
ARPING 10.0.0.3 from 10.0.0.2 eth0
Unicast reply from 10.0.0.3 [52:54:76:36:01:00]  961.272ms
Timeout
Unicast reply from 10.0.0.3 [52:54:76:36:01:00]  0.568ms
Sent 3 probes (3 broadcast(s))
Received 2 response(s)
"""

HABETS = """\
ARPING 10.0.0.3
60 bytes from 52:54:76:36:01:00 (10.0.0.3): index=0 time=238.387 usec
60 bytes from 52:54:76:36:01:00 (10.0.0.3): index=1 time=360.405 usec
Timeout

--- 10.0.0.3 statistics ---
3 packets transmitted, 2 packets received,  33% unanswered (0 extra)
"""


def test_ifconfig_counters():
    counters = parse.ifconfig_counters(IFCONFIG)
    assert sorted(counters) == ["eth0", "eth1", "lo"]
    assert counters["eth0"] == {
        "rx_packets": 1003, "rx_bytes": 60180, "rx_errors": 1, "rx_dropped": 2,
        "rx_overruns": 3, "rx_nobuf": 4, "tx_packets": 7, "tx_bytes": 420,
        "tx_errors": 5, "tx_dropped": 6, "interrupts": 131}
    assert counters["eth1"]["interrupts"] == 8
    assert counters["eth1"]["rx_bytes"] == 540


def test_ifconfig_of_nothing():
    assert parse.ifconfig_counters("ifconfig: eth9: no such interface\n") == {}


def test_pbufs():
    assert parse.pbufs("256/1792/2048 pbufs in use/free/total\n") == parse.Pbufs(256, 1792, 2048)
    with pytest.raises(ParseError):
        parse.pbufs("netstat: bad option\n")


def test_ethrecv_summary():
    text = ("ethrecv: listening on eth0 for 1000 frames\n"
            "ethrecv: received 998 frames, 59880 bytes on eth0; 2 out of sequence\n")
    assert parse.ethrecv_summary(text) == parse.EthrecvSummary(998, 59880, "eth0", 2)
    with pytest.raises(ParseError):
        parse.ethrecv_summary("ethrecv: eth9: no such interface\n")


def test_arping_iputils_shape():
    assert parse.arping_replies(IPUTILS) == [("10.0.0.3", "52:54:76:36:01:00")] * 2


def test_arping_habets_shape():
    assert parse.arping_replies(HABETS) == [("10.0.0.3", "52:54:76:36:01:00")] * 2


def test_arping_without_replies():
    assert parse.arping_replies("ARPING 10.0.0.9\nTimeout\nTimeout\n") == []


def test_ip_neigh():
    text = ('[{"dst":"10.0.0.2","dev":"br-lan0","lladdr":"52:54:76:36:00:00",'
            '"state":["REACHABLE"]},{"dst":"10.0.0.9","dev":"br-lan0","state":["FAILED"]}]')
    table = parse.ip_neigh(text)
    assert table["10.0.0.2"].mac == "52:54:76:36:00:00"
    assert table["10.0.0.2"].states == ("REACHABLE",)
    assert table["10.0.0.9"].mac is None
    assert parse.ip_neigh("") == {}
    with pytest.raises(ParseError):
        parse.ip_neigh("not json")
