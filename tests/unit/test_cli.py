"""The xv6net command line, without starting QEMU."""

import importlib.util
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from xv6net.cli import main

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


def load_bootstrap():
    spec = importlib.util.spec_from_file_location("bootstrap", ROOT / "tools" / "bootstrap.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bootstrap_missing_packages(monkeypatch):
    bootstrap = load_bootstrap()
    monkeypatch.setattr(bootstrap.shutil, "which",
                        lambda cmd: None if cmd in ("arping", "bridge") else "/usr/bin/" + cmd)
    monkeypatch.setattr(bootstrap, "gcc_m32_works", lambda: False)
    monkeypatch.setattr(bootstrap, "venv_module_works", lambda: True)
    assert bootstrap.missing_packages() == ["arping", "gcc", "gcc-multilib", "iproute2"]


def test_bootstrap_stamp_tracks_requirements():
    bootstrap = load_bootstrap()
    stamp = bootstrap.wanted_stamp()
    assert stamp == bootstrap.wanted_stamp()
    assert len(stamp) == 64
