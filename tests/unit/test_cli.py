"""The xv6net command line, without starting QEMU."""

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Raw
from scapy.utils import wrpcap

from xv6net import netns, topology
from xv6net.cli import lab_command, lab_help, main
from xv6net.lab import Lab

ROOT = Path(__file__).resolve().parents[2]


def dry_run(capsys, *args: str) -> list[str]:
    assert main(["run", "--dry-run", *args]) == 0
    return shlex.split(capsys.readouterr().out)


def test_run_default_is_interactive_with_restricted_slirp(capsys):
    argv = dry_run(capsys)
    assert argv[0] == "qemu-system-i386"
    assert "-nographic" in argv
    assert argv[argv.index("-serial") + 1] == "mon:stdio"
    assert "user,id=n0,restrict=on" in argv
    assert argv[argv.index("-nic") + 1] == "none"


def test_run_without_nic(capsys):
    argv = dry_run(capsys, "--nic", "none")
    assert "-netdev" not in argv
    assert "-device" not in argv
    assert argv[argv.index("-nic") + 1] == "none"


SLIRP_IP = "ip=10.0.2.15::10.0.2.2:255.255.255.0::eth0:off"


def test_run_gives_the_slirp_guest_its_address(capsys):
    # QEMU's user network expects 10.0.2.15 behind the gateway 10.0.2.2: the
    # guest gets them on its command line, as the slirp lab's guest does.
    argv = dry_run(capsys)
    assert argv[argv.index("-append") + 1] == SLIRP_IP


def test_run_options(capsys):
    argv = dry_run(capsys, "--kernel", "k.elf", "--initrd", "i.cpio", "--append", "a=1 b",
                   "--mem", "64", "--pcap", "/tmp/o.pcap")
    assert argv[argv.index("-kernel") + 1] == "k.elf"
    assert argv[argv.index("-initrd") + 1] == "i.cpio"
    assert argv[argv.index("-append") + 1] == f"a=1 b {SLIRP_IP}"
    assert argv[argv.index("-m") + 1] == "64"
    assert "filter-dump,id=dump0,netdev=n0,file=/tmp/o.pcap" in argv


@pytest.mark.parametrize("append", ["ip=off", "x=1 ip=10.0.2.99:::255.255.255.0::eth0:off"])
def test_run_keeps_an_ip_given(capsys, append):
    argv = dry_run(capsys, "--append", append)
    assert argv[argv.index("-append") + 1] == append


def test_run_without_nic_has_no_address(capsys):
    assert "-append" not in dry_run(capsys, "--nic", "none")


def test_run_passes_qemu_arguments(capsys):
    argv = dry_run(capsys, "--qemu-arg=-d", "--qemu-arg=int", "--qemu-arg=-trace",
                   "--qemu-arg", "e1000*")
    assert argv[-4:] == ["-d", "int", "-trace", "e1000*"]


@pytest.mark.parametrize("arg", ["-netdev", "-nic", "--net", "-netdev=user,id=x"])
def test_run_refuses_network_options(capsys, arg):
    assert main(["run", "--dry-run", f"--qemu-arg={arg}"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "refused" in err


def test_pcap_needs_nic(capsys):
    assert main(["run", "--dry-run", "--nic", "none", "--pcap", "x.pcap"]) == 1
    assert capsys.readouterr().err == "xv6net: --pcap needs a NIC\n"


def test_run_missing_kernel(tmp_path, capsys):
    assert main(["run", "--kernel", str(tmp_path / "nope.elf")]) == 1
    assert "run make first" in capsys.readouterr().err


def test_module_runs_with_stdlib_only():
    # The Makefile runs `PYTHONPATH=src python3 -m xv6net run` before the venv
    # exists: -S drops site-packages, so any third-party import would fail.
    out = subprocess.run([sys.executable, "-S", "-m", "xv6net", "run", "--dry-run"],
                         env={"PYTHONPATH": str(ROOT / "src")}, capture_output=True,
                         text=True, check=True).stdout
    assert "restrict=on" in out


def test_initramfs_module_runs_with_stdlib_only(tmp_path):
    src = tmp_path / "prog"
    src.write_bytes(b"x")
    subprocess.run([sys.executable, "-S", "-m", "xv6net.initramfs", str(tmp_path / "o.cpio"),
                    f"bin/prog={src}"], env={"PYTHONPATH": str(ROOT / "src")}, check=True)
    assert (tmp_path / "o.cpio").stat().st_size > 0


# ---- lab and pcap -------------------------------------------------------------

def test_lab_list(capsys):
    assert main(["lab", "--list"]) == 0
    out = capsys.readouterr().out
    for name in ("two-guests", "two-lans", "back-to-back", "slirp"):
        assert out.count(f"{name} ") == 1


def test_lab_unknown_topology(capsys):
    assert main(["lab", "--topology", "nine-guests"]) == 1
    assert "no topology 'nine-guests'" in capsys.readouterr().err


def test_lab_invalid_topology_file(tmp_path, capsys):
    path = tmp_path / "t.json"
    path.write_text('{"lans": [], "guests": [{"name": "a", "nics": [{"lan": "x"}]}]}')
    assert main(["lab", "--topology", str(path)]) == 1
    assert "a eth0: no LAN 'x'" in capsys.readouterr().err


def test_lab_needs_root_for_bridges(monkeypatch, capsys):
    monkeypatch.setattr(netns.os, "geteuid", lambda: 1000)
    assert main(["lab", "--topology", "two-guests"]) == 1
    assert "needs root" in capsys.readouterr().err


def test_trace_list_and_refusals(monkeypatch, tmp_path, capsys):
    assert main(["trace", "--list"]) == 0
    names = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert names == ["ping", "arp", "udp", "tcp-handshake", "tcp-loss"]
    assert main(["trace"]) == 1                      # no scenario: the list, and status 1
    assert main(["trace", "ping", "smoke"]) == 1
    assert "no scenario smoke" in capsys.readouterr().err
    monkeypatch.setattr(netns.os, "geteuid", lambda: 1000)
    assert main(["trace", "ping", "-o", str(tmp_path)]) == 1
    assert "needs root" in capsys.readouterr().err


def test_pcap_summary_and_check(tmp_path, capsys):
    path = tmp_path / "x.pcap"
    wrpcap(str(path), [Ether(src="52:54:76:36:00:00", dst="ff:ff:ff:ff:ff:ff")
                       / ARP(psrc="10.0.0.2", pdst="10.0.0.3") / Raw(bytes(18))])
    assert main(["pcap", "summary", str(path)]) == 0
    assert "who-has 10.0.0.3 tell 10.0.0.2" in capsys.readouterr().out
    assert main(["pcap", "check", str(path)]) == 0
    assert capsys.readouterr().out == "1 frames, no malformed frames\n"
    wrpcap(str(path), [Ether(dst="ff:ff:ff:ff:ff:ff", type=0x0806) / Raw(b"\x00\x01")] * 2)
    assert main(["pcap", "check", str(path)]) == 1
    out = capsys.readouterr().out
    assert "Malformed" in out
    assert out.endswith("2 frames, 2 malformed or flagged by tshark\n")


def test_pcap_summary_missing_file(tmp_path, capsys):
    assert main(["pcap", "summary", str(tmp_path / "none.pcap")]) == 1
    assert "none.pcap" in capsys.readouterr().err


class FakeConsole:
    def __init__(self, lab):
        self.lab = lab

    def interrupt(self, timeout):
        self.lab.ran.append(("a", "^C"))
        return "PING 10.0.2.2\n^C\n"


class FakeLab:
    def __init__(self, topo=None):
        self.topology = topo or topology.two_guests()
        self.guests = {g.name: None for g in self.topology.guests}
        self.ran = []

    def guest(self, name):
        lab = self

        class Guest:
            console = FakeConsole(lab)

            def run(self, command, timeout):
                lab.ran.append((name, command))
                if command.startswith("ping"):
                    raise TimeoutError("no prompt")
                return f"ran {command}\n"
        return Guest()

    def peer_run(self, argv, timeout):
        self.ran.append(("linux", argv))
        return subprocess.CompletedProcess(argv, 0, "linux out\n", "")


def test_lab_command_lines():
    lab = FakeLab()
    assert lab_command(lab, "a arping 10.0.0.3") == "ran arping 10.0.0.3\n"
    assert lab_command(lab, "! ip neigh show") == "linux out\n"
    assert lab_command(lab, "z ls") == "xv6net: no guest z (guests: a, b)\n"
    assert lab_command(lab, "a").startswith("Type GUEST COMMAND")
    assert lab.ran == [("a", "arping 10.0.0.3"), ("linux", ["ip", "neigh", "show"])]


def test_lab_command_on_a_linux_host():
    lab = FakeLab(topology.routed())
    lab.host_run = lambda host, argv, timeout: (
        lab.ran.append((host, argv)) or subprocess.CompletedProcess(argv, 0, "host out\n", ""))
    assert lab_command(lab, "@left traceroute -n 10.0.3.2") == "host out\n"
    assert lab_command(lab, "@nobody ls") == "xv6net: no Linux host 'nobody' in this lab\n"
    assert lab.ran == [("left", ["traceroute", "-n", "10.0.3.2"])]
    assert '"@left ip route"' in lab_help(lab)


@pytest.mark.parametrize("model", ["e1000", "ne2k_pci", "virtio-net-pci"])
def test_run_nic_model(capsys, model):
    argv = dry_run(capsys, "--nic-model", model)
    assert argv[argv.index("-device") + 1].startswith(f"{model},netdev=n0,")


def test_run_unknown_nic_model(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--dry-run", "--nic-model", "pcnet"])
    assert "invalid choice: 'pcnet'" in capsys.readouterr().err


def test_lab_command_that_does_not_end_gets_ctrl_c():
    lab = FakeLab()
    out = lab_command(lab, "a ping 10.0.2.2", timeout=0.1)
    assert out == "PING 10.0.2.2\n^C\nxv6net: a: still running after 0.1 s: sent ^C\n"
    assert lab.ran == [("a", "ping 10.0.2.2"), ("a", "^C")]


@pytest.mark.parametrize(("name", "example", "namespace"), [
    ("two-guests", '"a arping -c 3 10.0.0.3"', True),
    ("two-lans", '"r arping -c 3 10.0.1.3"', True),
    ("back-to-back", '"a arping -c 3 10.0.0.3"', False),
    ("slirp", '"a ping -c 3 10.0.2.2"', False),
])
def test_lab_help_suggests_what_works_there(tmp_path, name, example, namespace):
    # The slirp lab's help used to suggest an arping to 10.0.0.3 and "! ip neigh".
    lab = Lab(topology.NAMED[name](), tmp_path)
    text = lab_help(lab)
    assert example in text
    assert ("! COMMAND" in text) == namespace


def test_lab_without_namespace_refuses_linux_commands():
    lab = FakeLab(topology.slirp())
    assert "no namespace" in lab_command(lab, "! ip neigh")
    assert lab.ran == []


def xv6net(*args: str, stdout=subprocess.PIPE) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "xv6net", *args], cwd=ROOT, text=True,
                          stdout=stdout, stderr=subprocess.PIPE, timeout=60, check=False,
                          env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"})


def test_pcap_summary_in_a_closed_pipe_ends_quietly(tmp_path):
    path = tmp_path / "many.pcap"
    wrpcap(str(path), [Ether(src="52:54:76:36:00:00", dst="ff:ff:ff:ff:ff:ff")
                       / ARP(psrc="10.0.0.2", pdst="10.0.0.3")] * 5000)
    reader, writer = os.pipe()
    os.close(reader)   # like `| head` that has already exited
    try:
        result = xv6net("pcap", "summary", str(path), stdout=writer)
    finally:
        os.close(writer)
    assert result.stderr == ""
    assert result.returncode == 141


@pytest.mark.parametrize("args", [
    ["prof", "/nonexistent"],
    ["prof", __file__, "--kernel", "/nonexistent"],
    ["pcap", "summary", "/nonexistent"],
    ["pcap", "check", "/nonexistent"],
    ["pcap", "summary", __file__],
    ["run", "--qemu-arg=-nic"],
    ["run", "--mem", "1", "--dry-run"],
    ["lab", "--topology", "/nonexistent.toml"],
    ["trace", "nosuch"],
])
def test_bad_input_is_one_clean_line(args):
    result = xv6net(*args)
    assert result.returncode == 1, result
    assert result.stderr.startswith("xv6net"), result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr
