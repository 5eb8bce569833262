"""The iproute2 wrapper, checked by the commands it would run (no root needed)."""

import os
import subprocess
from collections.abc import Sequence

import pytest

from xv6net import netns
from xv6net.netns import NeedRootError, Netns, NetnsError


class FakeRunner:
    """Records every command; fails the ones whose joined argv contains `fail`."""

    def __init__(self, fail: str | None = None, stdout: str = "") -> None:
        self.calls: list[list[str]] = []
        self.fail = fail
        self.stdout = stdout

    def __call__(self, argv: Sequence[str], timeout: float) -> subprocess.CompletedProcess[str]:
        assert 0 < timeout <= 60
        self.calls.append(list(argv))
        failed = self.fail is not None and self.fail in " ".join(argv)
        return subprocess.CompletedProcess(list(argv), 2 if failed else 0, self.stdout,
                                           "RTNETLINK answers: File exists" if failed else "")

    def joined(self) -> list[str]:
        return [" ".join(call) for call in self.calls]


@pytest.fixture
def as_root(monkeypatch):
    monkeypatch.setattr(netns.os, "geteuid", lambda: 0)


def test_unique_names_are_short_and_valid():
    names = {netns.unique_name() for _ in range(50)}
    assert len(names) == 50
    for name in names:
        assert name.startswith(f"xv6n-{os.getpid()}-")
        assert netns.check_nsname(name) == name


def test_unique_name_skips_taken_names():
    taken = {f"xv6n-{os.getpid()}-{n}" for n in range(10_000)}
    name = netns.unique_name(exists=lambda n: n in taken)
    assert name not in taken


@pytest.mark.parametrize("name", ["br-lan0", "tap-abcdefgh-7", "x"])
def test_good_ifnames(name):
    assert netns.check_ifname(name) == name


@pytest.mark.parametrize("name", ["", "tap-abcdefghi-77", "a b", "../x", "-x", "a/b"])
def test_bad_ifnames(name):
    with pytest.raises(ValueError, match="bad interface name"):
        netns.check_ifname(name)


def test_create_configure_and_delete(as_root):
    runner = FakeRunner()
    with Netns("xv6n-1-1", runner=runner) as ns:
        ns.add_bridge("br-lan0", mac="52:54:76:37:00:00")
        ns.add_tap("tap-a-0", bridge="br-lan0", queue_len=4096)
        ns.add_address("br-lan0", "10.0.0.1/24")
        ns.run(["ip", "neigh"])
    assert runner.joined() == [
        "ip netns add xv6n-1-1",
        "ip netns exec xv6n-1-1 sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 "
        "net.ipv6.conf.default.disable_ipv6=1",
        "ip -n xv6n-1-1 link set dev lo up",
        "ip -n xv6n-1-1 link add name br-lan0 address 52:54:76:37:00:00 type bridge stp_state 0",
        "ip -n xv6n-1-1 link set dev br-lan0 up",
        "ip -n xv6n-1-1 tuntap add dev tap-a-0 mode tap",
        "ip -n xv6n-1-1 link set dev tap-a-0 master br-lan0 txqueuelen 4096",
        "ip -n xv6n-1-1 link set dev tap-a-0 up",
        "ip -n xv6n-1-1 address add 10.0.0.1/24 dev br-lan0",
        "ip netns exec xv6n-1-1 ip neigh",
        "ip netns delete xv6n-1-1",
    ]


def test_everything_happens_inside_the_namespace(as_root):
    runner = FakeRunner()
    with Netns(runner=runner) as ns:
        ns.add_bridge("br-x")
        ns.add_tap("tap-x-0", "br-x")
    for call in runner.calls:
        assert call[:3] == ["ip", "-n", ns.name] or call[:4] == ["ip", "netns", "exec", ns.name] \
            or call[:3] in (["ip", "netns", "add"], ["ip", "netns", "delete"])


def test_delete_is_idempotent(as_root):
    runner = FakeRunner()
    ns = Netns("xv6n-1-2", runner=runner)
    ns.delete()                      # never created: nothing to do
    ns.create()
    ns.delete()
    ns.delete()
    assert runner.joined().count("ip netns delete xv6n-1-2") == 1


def test_failed_setup_deletes_the_namespace(as_root):
    runner = FakeRunner(fail="sysctl")
    with pytest.raises(NetnsError, match=r"sysctl .* failed \(2\): RTNETLINK"):
        Netns("xv6n-1-3", runner=runner).create()
    assert runner.joined()[-1] == "ip netns delete xv6n-1-3"


def test_error_in_the_block_deletes_the_namespace(as_root):
    runner = FakeRunner(fail="tuntap")
    with pytest.raises(NetnsError, match="tuntap"), Netns("xv6n-1-4", runner=runner) as ns:
        ns.add_bridge("br-a")
        ns.add_tap("tap-a-0", "br-a")
    assert runner.joined()[-1] == "ip netns delete xv6n-1-4"


def test_keyboard_interrupt_deletes_the_namespace(as_root):
    runner = FakeRunner()
    with pytest.raises(KeyboardInterrupt), Netns("xv6n-1-5", runner=runner):
        raise KeyboardInterrupt
    assert runner.joined()[-1] == "ip netns delete xv6n-1-5"


def test_failed_add_leaves_nothing_to_delete(as_root):
    runner = FakeRunner(fail="netns add")
    ns = Netns("xv6n-1-6", runner=runner)
    with pytest.raises(NetnsError):
        ns.create()
    assert not ns.created
    ns.delete()
    assert runner.joined() == ["ip netns add xv6n-1-6"]


def test_needs_root(monkeypatch):
    monkeypatch.setattr(netns.os, "geteuid", lambda: 1000)
    runner = FakeRunner()
    with pytest.raises(NeedRootError, match=r"needs root.*stream or slirp"):
        Netns(runner=runner).create()
    assert runner.calls == []
    with pytest.raises(PermissionError):
        netns.require_root("x")


def test_bad_device_names_are_refused_before_running(as_root):
    runner = FakeRunner()
    ns = Netns("xv6n-1-7", runner=runner)
    with pytest.raises(ValueError, match="bad interface name"):
        ns.add_bridge("a-bridge-name-too-long")
    assert runner.calls == []


def test_link_mac(as_root):
    out = "5: br-lan0: <BROADCAST> mtu 1500 ...\\    link/ether 52:54:76:37:00:00 brd ff:ff"
    assert Netns("xv6n-1-8", runner=FakeRunner(stdout=out)).link_mac("br-lan0") == \
        "52:54:76:37:00:00"
    with pytest.raises(NetnsError, match="no MAC"):
        Netns("xv6n-1-8", runner=FakeRunner(stdout="nothing")).link_mac("br-lan0")


def test_missing_ip_binary_is_a_clear_error():
    with pytest.raises(NetnsError, match="cannot run no-such-ip-tool"):
        netns.subprocess_runner(["no-such-ip-tool", "netns"], 5)


def test_timeout_is_an_error():
    with pytest.raises(NetnsError, match=r"no result within 0\.2 s"):
        netns.subprocess_runner(["sleep", "5"], 0.2)


def test_stale_namespaces():
    names = ["xv6n-11-1", "xv6n-12-3", "other-13-1", "xv6n-x-1", "xv6n-11-2"]
    alive = {12}
    assert netns.stale_namespaces(names, alive=lambda pid: pid in alive) == \
        ["xv6n-11-1", "xv6n-11-2"]


def test_list_namespaces():
    runner = FakeRunner(stdout="xv6n-1-1 (id: 0)\nfoo\n")
    assert netns.list_namespaces(runner) == ["xv6n-1-1", "foo"]


def test_remove_stale_deletes_only_dead_runs(as_root, monkeypatch):
    dead = 2 ** 22 + 1   # above Linux's largest pid_max: never alive
    runner = FakeRunner(stdout=f"xv6n-{dead}-1\nxv6n-{os.getpid()}-1\nforeign\n")
    assert netns.remove_stale(runner) == [f"xv6n-{dead}-1"]
    assert runner.joined()[-1] == f"ip netns delete xv6n-{dead}-1"


def test_a_tap_off_any_bridge_and_a_veth_for_a_relay():
    runner = FakeRunner()
    with Netns("xv6n-1-9", runner=runner) as ns:
        ns.add_tap("tap-a-0", None)
        ns.add_veth("im-a-0", "ib-a-0", bridge="br-lan0")
        ns.detach("tap-a-0")
        ns.detach("im-a-0")
    joined = runner.joined()
    ip = "ip -n xv6n-1-9 "
    assert ip + "tuntap add dev tap-a-0 mode tap" in joined
    assert not any(call.startswith(ip + "link set dev tap-a-0 master br") for call in joined)
    assert joined.count(ip + "link add name xv6n-hold type bridge") == 1
    assert joined.index(ip + "link set dev ib-a-0 master br-lan0") < \
        joined.index(ip + "link set dev ib-a-0 up")
