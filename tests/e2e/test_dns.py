"""The stub resolver (user/lib/resolv.c) and `host`, against dnsmasq and
against a server that misbehaves on purpose (tests/e2e/fakedns.py); ping, nc
and arping by name.

The guest gets its name server and search domain from dnsmasq by DHCP, as a
real host would; the misbehaving server sits at 10.0.0.2 (and 10.0.0.3 for
replies from the wrong address).
"""

import itertools
import os
import re
import select
import sys
import time
from pathlib import Path

import pytest
from labtools import running_lab

from xv6net import pcap
from xv6net.topology import DHCP, Dnsmasq, Guest, GuestNic, Lan, Peer, Topology

pytestmark = [pytest.mark.e2e, pytest.mark.root]

FAKEDNS = Path(__file__).with_name("fakedns.py")
TOPOLOGY = Topology(
    lans=[Lan("lan0", "10.0.0.0/24")],
    guests=[Guest("a", [GuestNic("lan0", ip=DHCP)])],
    peers=[Peer("lan0", "10.0.0.1"), Peer("lan0", "10.0.0.2"), Peer("lan0", "10.0.0.3")],
    services=[Dnsmasq("lan0", "10.0.0.1", dhcp_range=("10.0.0.100", "10.0.0.150"),
                      names={"www": "10.0.0.80", "gw": "10.0.0.1"})],
)
STATS = re.compile(r"^;; (\d+) queries, (\d+) timed out, (\d+) refused; ignored replies: "
                   r"(\d+) wrong server, (\d+) wrong ID, (\d+) wrong question, (\d+) malformed$",
                   re.MULTILINE)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with running_lab(TOPOLOGY, tmp_path_factory.mktemp("dns")) as lab:
        proc = lab.peer_popen([sys.executable, str(FAKEDNS), "10.0.0.2", "10.0.0.3"])
        fd, out = proc.stdout.fileno(), b""
        deadline = time.monotonic() + 10
        while b"listening" not in out:
            ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            data = os.read(fd, 4096) if ready else b""
            err = proc.stderr.read() if proc.poll() is not None else ""
            assert data, f"fakedns did not start: {out!r} {err}"
            out += data
        yield lab


def stats(out: str) -> dict[str, int]:
    match = STATS.search(out)
    assert match, out
    keys = ("queries", "timeouts", "refused", "wrongserver", "wrongid", "wrongquestion",
            "malformed")
    return dict(zip(keys, map(int, match.groups()), strict=True))


def test_resolv_conf_from_dhcp(lab):
    assert lab.guest("a").run("cat /etc/resolv.conf") == \
        "# written by dhclient for eth0\nsearch lab\nnameserver 10.0.0.1\n"


def test_host_resolves_names_with_and_without_the_search_domain(lab):
    a = lab.guest("a")
    assert a.run("host www.lab") == "www.lab has address 10.0.0.80\n"
    assert a.run("host www") == "www.lab has address 10.0.0.80\n"
    assert a.run("host WWW.Lab.") == "WWW.Lab. has address 10.0.0.80\n"
    assert a.run("host peer 10.0.0.1") == ("Using domain server:\nName: 10.0.0.1\n"
                                          "Address: 10.0.0.1#53\nAliases: \n\n"
                                          "peer.lab has address 10.0.0.1\n")


def test_host_reports_nxdomain(lab):
    a = lab.guest("a")
    assert a.run("host nothere.lab") == "Host nothere.lab not found: 3(NXDOMAIN)\n"
    assert a.run("host nothere") == "Host nothere not found: 3(NXDOMAIN)\n"


def test_host_times_out_cleanly_against_a_silent_server(lab):
    a = lab.guest("a")
    start = time.monotonic()
    out = a.run("host -v -W 1 -R 2 silent.test. 10.0.0.2", timeout=30)
    assert out.endswith(";; connection timed out; no servers could be reached\n"), out
    assert stats(out)["queries"] == 2 and stats(out)["timeouts"] == 2
    assert time.monotonic() - start < 20
    assert a.run("echo still here") == "still here\n"


@pytest.mark.parametrize(("name", "why", "counter"), [
    ("wrongid", "wrong ID", "wrongid"),
    ("wrongserver", "wrong server", "wrongserver"),
    ("wrongport", "wrong server", "wrongserver"),
    ("loop", "compression loop", "malformed"),
    ("wrongq", "wrong question", "wrongquestion"),
])
def test_bad_replies_are_ignored_and_the_good_one_taken(lab, name, why, counter):
    out = lab.guest("a").run(f"host -v -W 2 {name}.test 10.0.0.2", timeout=30)
    source = {"wrongserver": "10.0.0.3#53", "wrongport": "10.0.0.2#5353"}.get(name, "10.0.0.2#53")
    assert f";; ignored reply from {source}: {why}\n" in out, out
    assert out.endswith(f"{name}.test has address 10.0.0.42\n"), out
    assert stats(out)[counter] == 1
    assert stats(out)["queries"] == 1


def test_only_bad_replies_time_out(lab):
    out = lab.guest("a").run("host -v -W 1 -R 1 onlybad.test. 10.0.0.2", timeout=30)
    counts = stats(out)
    assert (counts["wrongid"], counts["wrongserver"], counts["malformed"],
            counts["wrongquestion"]) == (1, 2, 1, 1), out
    assert out.endswith(";; connection timed out; no servers could be reached\n")


def test_queries_use_random_ids_and_source_ports(lab):
    a = lab.guest("a")
    for _ in range(4):
        assert a.run("host www.lab") == "www.lab has address 10.0.0.80\n"
    guest_ip = re.search(r"inet (\S+)", a.run("ifconfig eth0"))[1]
    lab.stop_captures()
    rows = pcap.tshark_decode(lab.lan_pcap("lan0"), ["dns.id", "udp.srcport", "ip.src"],
                              f"dns.flags.response == 0 && ip.src == {guest_ip} && "
                              'dns.qry.name == "www.lab"')
    assert len(rows) >= 4
    ids = [int(row["dns.id"], 16) for row in rows]
    ports = [int(row["udp.srcport"]) for row in rows]
    assert all(port >= 49152 for port in ports)
    # Not a counter: the kernel's ephemeral ports and a sequence of IDs go up by one.
    for values in (ids, ports):
        assert len(set(values)) >= len(values) - 1, values
        assert not all(b - a == 1 for a, b in itertools.pairwise(values)), values
    problems = [p for p in pcap.tshark_problems(lab.lan_pcap("lan0"))
                if p.get("ip.src") == guest_ip]
    assert problems == []


def test_ping_nc_and_arping_take_names(lab):
    a = lab.guest("a")
    out = a.run("ping -c 1 gw")
    assert out.startswith("PING gw (10.0.0.1) 56(84) bytes of data.\n64 bytes from 10.0.0.1: ")
    assert "Unicast reply from 10.0.0.1 [" in a.run("arping -c 1 peer.lab")
    assert a.run("ping -c 1 nothere") == "ping: nothere: Name or service not known\n"
    assert a.run("arping -c 1 nothere.lab") == "arping: nothere.lab: Name or service not known\n"
    # /etc/hosts comes first, and it is writable now.
    a.run("echo '10.0.0.2 fake-dns' >> /etc/hosts")
    assert "64 bytes from 10.0.0.2: " in a.run("ping -c 1 fake-dns")
    listener = lab.peer_popen([sys.executable, "-c", (
        "import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); "
        "s.bind(('10.0.0.1', 7777)); print('ready', flush=True); "
        "print(s.recvfrom(100)[0].decode(), flush=True)")])
    assert listener.stdout.readline() == "ready\n"
    assert a.run("echo hello by name | nc -u -w 1 gw 7777") == ""
    assert listener.stdout.readline() == "hello by name\n"
    listener.wait(timeout=5)
    assert a.run("echo x | nc -u gw.nothere 7") == \
        'nc: getaddrinfo for host "gw.nothere" port 7: Name or service not known\n'
