"""The xv6net command line, without starting QEMU."""

import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Raw
from scapy.utils import wrpcap

from xv6net import netns
from xv6net.cli import lab_command, main

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


def test_run_options(capsys):
    argv = dry_run(capsys, "--kernel", "k.elf", "--initrd", "i.cpio", "--append", "a=1 b",
                   "--mem", "64", "--pcap", "/tmp/o.pcap")
    assert argv[argv.index("-kernel") + 1] == "k.elf"
    assert argv[argv.index("-initrd") + 1] == "i.cpio"
    assert argv[argv.index("-append") + 1] == "a=1 b"
    assert argv[argv.index("-m") + 1] == "64"
    assert "filter-dump,id=dump0,netdev=n0,file=/tmp/o.pcap" in argv


def test_pcap_needs_nic():
    with pytest.raises(SystemExit):
        main(["run", "--dry-run", "--nic", "none", "--pcap", "x.pcap"])


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


def test_pcap_summary_and_check(tmp_path, capsys):
    path = tmp_path / "x.pcap"
    wrpcap(str(path), [Ether(src="52:54:76:36:00:00", dst="ff:ff:ff:ff:ff:ff")
                       / ARP(psrc="10.0.0.2", pdst="10.0.0.3") / Raw(bytes(18))])
    assert main(["pcap", "summary", str(path)]) == 0
    assert "who-has 10.0.0.3 tell 10.0.0.2" in capsys.readouterr().out
    assert main(["pcap", "check", str(path)]) == 0
    assert capsys.readouterr().out == ""
    wrpcap(str(path), [Ether(dst="ff:ff:ff:ff:ff:ff", type=0x0806) / Raw(b"\x00\x01")])
    assert main(["pcap", "check", str(path)]) == 1
    assert "Malformed" in capsys.readouterr().out


def test_pcap_summary_missing_file(tmp_path, capsys):
    assert main(["pcap", "summary", str(tmp_path / "none.pcap")]) == 1
    assert "none.pcap" in capsys.readouterr().err


class FakeLab:
    def __init__(self):
        self.guests = {"a": None}
        self.ran = []

    def guest(self, name):
        lab = self

        class Guest:
            def run(self, command, timeout):
                lab.ran.append((name, command))
                return f"ran {command}\n"
        return Guest()

    def peer_run(self, argv, timeout):
        self.ran.append(("linux", argv))
        return subprocess.CompletedProcess(argv, 0, "linux out\n", "")


def test_lab_command_lines():
    lab = FakeLab()
    assert lab_command(lab, "a arping 10.0.0.3") == "ran arping 10.0.0.3\n"
    assert lab_command(lab, "! ip neigh show") == "linux out\n"
    assert lab_command(lab, "z ls").startswith("? Type GUEST COMMAND")
    assert lab.ran == [("a", "arping 10.0.0.3"), ("linux", ["ip", "neigh", "show"])]


@pytest.mark.parametrize("model", ["e1000", "ne2k_pci", "virtio-net-pci"])
def test_run_nic_model(capsys, model):
    argv = dry_run(capsys, "--nic-model", model)
    assert argv[argv.index("-device") + 1].startswith(f"{model},netdev=n0,")


def test_run_unknown_nic_model(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--dry-run", "--nic-model", "pcnet"])
    assert "invalid choice: 'pcnet'" in capsys.readouterr().err
