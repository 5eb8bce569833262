"""The lab without booting anything: QEMU specs, names, clean-up of partial set-ups."""

import os
import signal
import socket
from pathlib import Path

import pytest
from test_netns import FakeRunner

from xv6net import lab as labmod
from xv6net import netns, topology
from xv6net.lab import Lab, LabError
from xv6net.netns import NetnsError
from xv6net.qemu import build_argv
from xv6net.vm import VM, VMError


@pytest.fixture
def as_root(monkeypatch):
    monkeypatch.setattr(netns.os, "geteuid", lambda: 0)


def values(argv: list[str], option: str) -> list[str]:
    return [argv[i + 1] for i, arg in enumerate(argv[:-1]) if arg == option]


def test_bridged_guest_spec(tmp_path):
    lab = Lab(topology.two_guests(), tmp_path)
    spec = lab.vm_spec(lab.topology.guest("b"), 1)
    argv = build_argv(spec)
    assert values(argv, "-netdev") == ["tap,id=n0,ifname=tap-b-0,script=no,downscript=no"]
    assert values(argv, "-device") == ["e1000,netdev=n0,mac=52:54:76:36:01:00,romfile="]
    assert values(argv, "-object") == [
        f"filter-dump,id=dump0,netdev=n0,file={(tmp_path / 'b-eth0.pcap').resolve()}"]
    assert values(argv, "-append") == ["ip=10.0.0.3:::255.255.255.0::eth0:off"]
    assert values(argv, "-nic") == ["none"]


def test_stream_guests_listen_then_connect_on_a_unix_socket(tmp_path):
    """A Unix socket, not TCP on loopback: QEMU 7.2's stream backend leaves
    Nagle on, and a burst's second frame waited 40 ms for a delayed ACK."""
    lab = Lab(topology.back_to_back(), tmp_path)
    a = build_argv(lab.vm_spec(lab.topology.guest("a"), 0))
    b = build_argv(lab.vm_spec(lab.topology.guest("b"), 1))
    path = lab._sockets["wire"]
    assert len(str(path)) < 108 and path.parent.is_dir()
    assert values(a, "-netdev") == [f"stream,id=n0,server=on,addr.type=unix,addr.path={path}"]
    assert values(b, "-netdev") == [f"stream,id=n0,server=off,addr.type=unix,addr.path={path}"]
    lab.close()
    assert not path.parent.exists()


def test_slirp_guest_is_restricted(tmp_path):
    lab = Lab(topology.slirp(), tmp_path)
    argv = build_argv(lab.vm_spec(lab.topology.guest("a"), 0))
    assert values(argv, "-netdev") == ["user,id=n0,restrict=on"]


def test_two_lans_names_and_paths(tmp_path):
    lab = Lab(topology.two_lans(), tmp_path)
    assert lab.bridge("lan2") == "br-lan2"
    assert lab.peer_mac("lan1") == "52:54:76:37:00:00"
    assert lab.peer_mac("lan2") == "52:54:76:37:00:01"
    assert lab.mac("r", 1) == "52:54:76:36:00:01"
    assert lab.ip("r", 1) == "10.0.2.2"
    assert lab.pcap("r", 1) == tmp_path / "r-eth1.pcap"
    assert lab.lan_pcap("lan1") == tmp_path / "lan1.pcap"
    with pytest.raises(KeyError):
        lab.pcap("a", 1)
    spec = lab.vm_spec(lab.topology.guest("r"), 0)
    assert [nic.ifname for nic in spec.nics] == ["tap-r-0", "tap-r-1"]


def test_lan_pcap_of_a_wire_is_the_first_nics(tmp_path):
    lab = Lab(topology.back_to_back(), tmp_path)
    assert lab.lan_pcap("wire") == tmp_path / "a-eth0.pcap"
    with pytest.raises(LabError, match="not bridged"):
        lab.bridge("wire")


def test_peer_commands_need_a_namespace(tmp_path):
    lab = Lab(topology.back_to_back(), tmp_path)
    with pytest.raises(LabError, match="no network namespace"):
        lab.peer_run(["true"])


def test_describe_names_everything(tmp_path):
    text = Lab(topology.two_guests(), tmp_path).describe()
    assert "bridge br-lan0 52:54:76:37:00:00, Linux peer(s) 10.0.0.1" in text
    assert f"guest b eth0 e1000 52:54:76:36:01:00 10.0.0.3 on tap tap-b-0; pcap {tmp_path}" in text
    assert str(tmp_path / "a-console.log") in text
    assert str(tmp_path / "lan0.pcap") in text


def test_vm_prefix_comes_first(tmp_path):
    spec = Lab(topology.two_guests(), tmp_path).vm_spec(topology.two_guests().guest("a"), 0)
    vm = VM(spec, prefix=["ip", "netns", "exec", "xv6n-1-1"])
    assert vm.argv[:5] == ["ip", "netns", "exec", "xv6n-1-1", "qemu-system-i386"]


def test_failed_bridge_deletes_the_namespace(tmp_path, as_root):
    runner = FakeRunner(fail="type bridge")
    lab = Lab(topology.two_guests(), tmp_path, runner=runner, netns_name="xv6n-9-1")
    with pytest.raises(NetnsError, match="type bridge"):
        lab.start()
    assert runner.joined()[0] == "ip netns add xv6n-9-1"
    assert runner.joined()[-1] == "ip netns delete xv6n-9-1"
    assert not any("tuntap" in call for call in runner.joined())


def test_failed_guest_deletes_the_namespace(tmp_path, as_root):
    runner = FakeRunner()
    lab = Lab(topology.two_guests(), tmp_path, runner=runner, netns_name="xv6n-9-2",
              kernel=tmp_path / "missing.elf", capture_lans=False)
    with pytest.raises(VMError, match="run make first"):
        lab.start()
    joined = runner.joined()
    assert "ip -n xv6n-9-2 tuntap add dev tap-b-0 mode tap" in joined
    assert joined[-1] == "ip netns delete xv6n-9-2"
    lab.close()   # twice is harmless
    assert runner.joined().count("ip netns delete xv6n-9-2") == 1


def test_stale_results_are_removed(tmp_path):
    old = tmp_path / "a-eth0.pcap"
    old.write_bytes(b"old")
    lab = Lab(topology.back_to_back(), tmp_path, kernel=tmp_path / "missing.elf")
    with pytest.raises(VMError):
        lab.start()
    assert not old.exists()


def test_start_twice_is_refused(tmp_path):
    lab = Lab(topology.back_to_back(), tmp_path)
    lab._stack = labmod.ExitStack()
    with pytest.raises(LabError, match="already running"):
        lab.start()


def test_deferred_interrupts_hold_ctrl_c_back():
    steps = []
    with pytest.raises(KeyboardInterrupt), labmod.deferred_interrupts():
        os.kill(os.getpid(), signal.SIGINT)
        steps.append("teardown went on")
    assert steps == ["teardown went on"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_deferred_interrupts_without_ctrl_c():
    with labmod.deferred_interrupts():
        pass
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_unix_listening_reads_our_own_sockets(tmp_path):
    path = tmp_path / "s.sock"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))
        assert not labmod.unix_listening(os.getpid(), path)
        sock.listen()
        assert labmod.unix_listening(os.getpid(), path)
        assert not labmod.unix_listening(os.getpid(), tmp_path / "other.sock")


def test_peer_tool_runs_this_python():
    argv = Lab.peer_tool("udp", "10.0.0.2")
    assert Path(argv[1]).name == "peer.py"
    assert argv[2:] == ["udp", "10.0.0.2"]


def test_nic_model_of_the_lab_and_of_a_nic(tmp_path):
    lab = Lab(topology.mixed_cards(), tmp_path, nic_model="virtio-net-pci")
    devices = [values(build_argv(lab.vm_spec(g, i)), "-device")[0].split(",")[0]
               for i, g in enumerate(lab.topology.guests)]
    assert devices == ["e1000", "ne2k_pci", "virtio-net-pci"]   # the topology's own
    plain = Lab(topology.two_guests(), tmp_path, nic_model="ne2k_pci")
    assert values(build_argv(plain.vm_spec(plain.topology.guest("a"), 0)),
                  "-device")[0].startswith("ne2k_pci,")
    assert plain.model("b") == "ne2k_pci"
    with pytest.raises(ValueError):
        Lab(topology.two_guests(), tmp_path, nic_model="pcnet")


def test_settle_time_is_the_e1000s_receive_hold(tmp_path):
    assert Lab(topology.two_guests(), tmp_path).settle_time() == pytest.approx(1.2)
    assert Lab(topology.two_guests(), tmp_path, nic_model="virtio-net-pci").settle_time() == 0
    assert Lab(topology.mixed_cards(), tmp_path).settle_time() == pytest.approx(1.2)
    assert Lab(topology.two_guests(), tmp_path, rx_settle=0.5).settle_time() == 0.5


def test_slirp_guest_gets_the_gateway(tmp_path):
    lab = Lab(topology.slirp(), tmp_path)
    argv = build_argv(lab.vm_spec(lab.topology.guest("a"), 0))
    assert values(argv, "-append") == ["ip=10.0.2.15::10.0.2.2:255.255.255.0::eth0:off"]


def test_results_handed_to_the_sudo_user(tmp_path, monkeypatch):
    # dumpcap writes the bridge capture 0600, as root under sudo: the demo
    # then told the user to open a file they could not read.
    results = tmp_path / "made" / "demo"
    lab = Lab(topology.two_guests(), results)
    lab._prepare_results()
    capture = results / "lan0.pcap"
    capture.write_bytes(b"")
    capture.chmod(0o600)
    owners = {}
    monkeypatch.setattr(labmod.os, "geteuid", lambda: 0)
    monkeypatch.setattr(labmod.os, "chown", lambda p, u, g: owners.__setitem__(Path(p), (u, g)))
    monkeypatch.setenv("SUDO_UID", "1234")
    monkeypatch.setenv("SUDO_GID", "99")
    labmod.hand_over([*lab._made_dirs, *lab.result_files()])
    assert capture.stat().st_mode & 0o777 == 0o644
    assert (results.stat().st_mode & 0o777) == 0o755
    assert owners[capture] == (1234, 99)
    assert owners[results] == owners[tmp_path / "made"] == (1234, 99)
    assert tmp_path not in owners          # it was there before: not ours to change


def test_results_readable_without_sudo(tmp_path, monkeypatch):
    path = tmp_path / "x.pcap"
    path.write_bytes(b"")
    path.chmod(0o600)
    monkeypatch.delenv("SUDO_UID", raising=False)
    monkeypatch.setattr(labmod.os, "chown", lambda *a: pytest.fail("chown without sudo"))
    labmod.hand_over([path, tmp_path / "missing.pcap"])
    assert path.stat().st_mode & 0o777 == 0o644


def test_an_impaired_nic_is_relayed_not_bridged(tmp_path, as_root):
    topo = topology.with_impairment(topology.two_guests(), "loss=5%", ["a"])
    runner = FakeRunner()
    lab = Lab(topo, tmp_path, runner=runner)
    with netns.Netns("xv6n-9-7", runner=runner) as ns:
        lab._build_lans(ns)
    joined = runner.joined()
    ip = "ip -n xv6n-9-7 "
    # guest b's tap is on the bridge as before; guest a's is not
    assert ip + "link set dev tap-b-0 master br-lan0 txqueuelen 4096" in joined
    assert not any(call.startswith(ip + "link set dev tap-a-0 master br-lan0") for call in joined)
    assert ip + "link add name im-a-0 type veth peer name ib-a-0" in joined
    assert ip + "link set dev ib-a-0 master br-lan0" in joined
    for dev in ("im-a-0", "ib-a-0"):
        assert (f"ip netns exec xv6n-9-7 ethtool -K {dev} tx off tso off gso off gro off"
                in joined)
    # Linux's own stack never sees the relay's ports: both on a bridge kept down
    assert joined.count(ip + "link add name xv6n-hold type bridge") == 1
    assert ip + "link set dev tap-a-0 master xv6n-hold" in joined
    assert ip + "link set dev im-a-0 master xv6n-hold" in joined
    assert not any("dev xv6n-hold up" in call for call in joined)


def test_an_impaired_wire_connects_the_second_guest_to_the_relay(tmp_path):
    topo = topology.with_impairment(topology.back_to_back(), "dup=1%", ["b"])
    lab = Lab(topo, tmp_path)
    a = build_argv(lab.vm_spec(lab.topology.guest("a"), 0))
    b = build_argv(lab.vm_spec(lab.topology.guest("b"), 1))
    guest_end, relay_end = lab._sockets["wire"], lab._relay_sockets["wire"]
    assert guest_end != relay_end
    assert values(a, "-netdev")[0].endswith(f"addr.path={guest_end}")
    assert values(b, "-netdev")[0].endswith(f"addr.path={relay_end}")
    lab.close()


def test_impair_report_is_a_result_file(tmp_path):
    plain = Lab(topology.two_guests(), tmp_path)
    impaired = Lab(topology.with_impairment(topology.two_guests(), "loss=1%"), tmp_path)
    assert plain.impair_report() not in plain.result_files()
    assert impaired.impair_report() in impaired.result_files()


def test_linux_hosts_get_namespaces_of_their_own(tmp_path, as_root):
    runner = FakeRunner()
    lab = Lab(topology.routed(), tmp_path, runner=runner, netns_name="xv6n-9-3",
              kernel=tmp_path / "missing.elf", capture_lans=False)
    with pytest.raises(VMError, match="run make first"):
        lab.start()
    joined = runner.joined()
    move = "ip -n xv6n-9-3 link set dev vx-left netns "
    left = next(call for call in joined if call.startswith(move)).split()[-1]
    assert left.startswith("xv6n-") and left != "xv6n-9-3"
    assert "ip -n xv6n-9-3 link add name vx-left type veth peer name vh-left" in joined
    assert "ip -n xv6n-9-3 link set dev vh-left master br-lan1" in joined
    assert f"ip -n {left} link set dev vx-left name eth0 address 52:54:76:38:00:00" in joined
    assert f"ip -n {left} address add 10.0.1.2/24 dev eth0" in joined
    assert f"ip -n {left} route add default via 10.0.1.1" in joined
    # no Linux address on any bridge: left and right can reach each other only through the guests
    assert not any("address add" in call and "br-" in call for call in joined)
    # every namespace deleted, the hosts' before the lab's
    deletes = [call for call in joined if call.startswith("ip netns delete")]
    assert len(deletes) == 3 and deletes[-1] == "ip netns delete xv6n-9-3"


def test_capture_drops_reads_dumpcaps_summary():
    text = ("Capturing on 'br0'\nFile: /tmp/x.pcap\nPackets captured: 1234\n"
            "Packets received/dropped on interface 'br0': 1234/7 "
            "(pcap:7/dumpcap:0/flushed:0/ps_ifdrop:0) (99.4%)\n")
    assert labmod.capture_drops(text) == 7
    assert labmod.capture_drops("dumpcap: killed\n") is None
