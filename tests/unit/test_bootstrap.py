"""tools/bootstrap.py's decisions, with the commands it runs faked (no root, no apt).

A fake machine answers the probes as a real one would: `gcc -m32
-print-libgcc-file-name` names the 64-bit libgcc.a until gcc-multilib is
installed, and `ld` then fails on __udivmoddi4. Installing a package through
the fake makes its commands answer. One test also runs the real link probe
against the real 64-bit libgcc, where gcc is present, to show the probe
catches the failure seen on fresh machines.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("bootstrap", ROOT / "tools" / "bootstrap.py")
assert spec and spec.loader
bootstrap = importlib.util.module_from_spec(spec)
sys.modules["bootstrap"] = bootstrap
spec.loader.exec_module(bootstrap)

LIBGCC64 = "/usr/lib/gcc/x86_64-linux-gnu/12/libgcc.a"
LIBGCC32 = "/usr/lib/gcc/x86_64-linux-gnu/12/32/libgcc.a"

# command -> package, for the fake machine
PROVIDER = {
    "make": "make", "gcc": "gcc", "ld": "binutils", "cpio": "cpio",
    "qemu-system-i386": "qemu-system-x86", "qemu-system-x86_64": "qemu-system-x86",
    "ip": "iproute2", "bridge": "iproute2", "tshark": "tshark", "arping": "arping",
    "ping": "iputils-ping", sys.executable: "python3-venv", "dnsmasq": "dnsmasq-base",
    "clang": "clang", "ethtool": "ethtool", "traceroute": "traceroute", "socat": "socat",
    "nc": "netcat-openbsd", "hping3": "hping3", "curl": "curl",
    "ab": "apache2-utils", "chromium": "chromium",
}
FUZZ_RUNTIME = {"libclang-rt-14-dev", "lib32stdc++-12-dev"}
EVERYTHING = {*PROVIDER.values(), "gcc-multilib", *FUZZ_RUNTIME}
BANNERS = {
    "tshark": "TShark (Wireshark) 4.0.17\n",
    "arping": "ARPing 2.23, by Thomas Habets <thomas@habets.se>\n",
    "ping": "ping from iputils 20221126\n",
    "dnsmasq": "Dnsmasq version 2.90  Copyright (c) 2000-2024 Simon Kelley\n",
    "ethtool": "ethtool version 6.1\n",
    "traceroute": "Modern traceroute for Linux, version 2.1.2\n",
    "socat": "socat by Gerhard Rieger and contributors - see www.dest-unreach.org\n"
             "socat version 1.7.4.4 on 06 Nov 2022 08:15:51\n",
    "nc": "OpenBSD netcat (Debian patchlevel 1.219-1)\n",
    "hping3": "hping3 version 3.0.0-alpha-2 ($Id: release.h,v 1.4 2004/04/09 $)\n",
    "curl": "curl 7.88.1 (x86_64-pc-linux-gnu) libcurl/7.88.1 OpenSSL/3.0.17\n",
    "ab": "This is ApacheBench, Version 2.3 <$Revision: 1903618 $>\n",
    "chromium": "Chromium 142.0.7444.175 built on Debian GNU/Linux 12 (bookworm)\n",
}


def done(code: int = 0, out: str = "", err: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.CompletedProcess([], code, out, err)


class FakeMachine(bootstrap.Runner):
    """A Debian machine with `packages` installed, answering like the real tools."""

    def __init__(self, packages: set[str]) -> None:
        self.packages = set(packages)
        self.calls: list[list[str]] = []
        self.installs: list[list[str]] = []

    def run(self, argv: Sequence[str], *, cwd: Path | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
        argv = list(argv)
        self.calls.append(argv)
        if PROVIDER.get(argv[0]) not in self.packages:
            return done(127, err=f"{argv[0]}: not found")
        if argv[0] == "gcc" and "-print-libgcc-file-name" in argv:
            return done(out=(LIBGCC32 if "gcc-multilib" in self.packages else LIBGCC64) + "\n")
        if argv[0] == "clang" and "-m32" in argv:
            linked = FUZZ_RUNTIME.issubset(self.packages) and "gcc-multilib" in self.packages
            return done(0 if linked else 1, err="" if linked else "cannot find -lstdc++")
        if argv[0] == "ld" and argv[-1].endswith("libgcc.a"):
            if argv[-1] != LIBGCC32:
                return done(1, err="undefined reference to `__udivmoddi4'")
            return done()
        return done(out=BANNERS.get(argv[0], ""))

    def install(self, packages: list[str]) -> None:
        self.installs.append(packages)
        self.packages.update(packages)


def needed(packages: set[str]) -> list[str]:
    machine = FakeMachine(packages)
    return bootstrap.packages_for(bootstrap.failing(bootstrap.CHECKS, machine))


def test_a_complete_machine_needs_nothing():
    assert needed(EVERYTHING) == []


def test_gcc_naming_the_64_bit_libgcc_leads_to_gcc_multilib():
    # The fresh-machine failure: gcc -m32 -c works and names a libgcc.a that
    # exists, but it is the 64-bit one and the kernel's link fails.
    # (A 32-bit fuzzer does not link without it either: that check fails too,
    # and installing its packages again is harmless.)
    assert needed(EVERYTHING - {"gcc-multilib"}) == ["gcc-multilib", *sorted(FUZZ_RUNTIME)]


def test_the_link_probe_uses_the_libgcc_gcc_names():
    machine = FakeMachine(EVERYTHING)
    assert bootstrap.links_32bit_division(machine)
    links = [call for call in machine.calls if call[0] == "ld"]
    assert links and links[0][-1] == LIBGCC32
    assert links[0][1:3] == ["-m", "elf_i386"]


def test_a_missing_qemu_leads_to_qemu_system_x86():
    assert needed(EVERYTHING - {"qemu-system-x86"}) == ["qemu-system-x86"]


@pytest.mark.parametrize("package", sorted(EVERYTHING - {"gcc-multilib", "gcc", "binutils",
                                                         "clang", *FUZZ_RUNTIME}))
def test_each_missing_package_is_named(package):
    assert needed(EVERYTHING - {package}) == [package]


@pytest.mark.parametrize("package", sorted(FUZZ_RUNTIME))
def test_a_missing_fuzzer_runtime_installs_both_runtime_packages(package):
    assert needed(EVERYTHING - {package}) == sorted(FUZZ_RUNTIME)


def test_without_clang_the_fuzzer_check_fails_too():
    assert needed(EVERYTHING - {"clang"}) == sorted({"clang", *FUZZ_RUNTIME})


@pytest.mark.parametrize("package", ["gcc", "binutils"])
def test_without_gcc_or_ld_the_32_bit_link_fails_too(package):
    assert needed(EVERYTHING - {package}) == [package, "gcc-multilib"]


def test_the_other_arping_is_not_enough():
    class IputilsArping(FakeMachine):
        def run(self, argv, **kwargs):
            if argv[0] == "arping":
                return done(out="Usage: arping [-AbDfhqUV] [-c count] ...\n")
            return super().run(argv, **kwargs)

    machine = IputilsArping(EVERYTHING)
    assert bootstrap.packages_for(bootstrap.failing(bootstrap.CHECKS, machine)) == ["arping"]


def test_ensure_installs_once_and_rechecks():
    machine = FakeMachine({"make", "gcc", "binutils", "python3-venv"})
    still = bootstrap.ensure_packages(bootstrap.CHECKS, machine, install=machine.install)
    assert still == []
    assert machine.installs == [["apache2-utils", "arping", "chromium", "clang", "cpio", "curl",
                                 "dnsmasq-base", "ethtool", "gcc-multilib", "hping3",
                                 "iproute2", "iputils-ping",
                                 "lib32stdc++-12-dev", "libclang-rt-14-dev", "netcat-openbsd",
                                 "qemu-system-x86", "socat", "traceroute", "tshark"]]


def test_ensure_reports_a_check_that_still_fails_after_the_install():
    machine = FakeMachine(EVERYTHING - {"gcc-multilib"})
    broken_install = FakeMachine.install.__get__(machine)

    def install_without_multilib(packages):
        broken_install([p for p in packages if p != "gcc-multilib"])

    still = bootstrap.ensure_packages(bootstrap.CHECKS, machine, install=install_without_multilib)
    assert [check.package for check in still] == ["gcc-multilib",
                                                  "libclang-rt-14-dev lib32stdc++-12-dev"]


def test_ensure_does_nothing_when_all_is_there():
    machine = FakeMachine(EVERYTHING)
    assert bootstrap.ensure_packages(bootstrap.CHECKS, machine, install=machine.install) == []
    assert machine.installs == []


def test_ci_removal_takes_multilib_and_what_it_brought_but_not_the_base():
    installed = ["gcc", "gcc-12", "binutils", "make", "libc6", "libc6-dev", "libgcc-s1",
                 "gcc-multilib", "gcc-12-multilib", "lib32gcc-12-dev", "libc6-dev-i386",
                 "libc6-i386", "libx32gcc-s1", "lib32asan8", "qemu-system-x86",
                 "qemu-system-data", "tshark", "libwireshark16", "wireshark-common",
                 "arping", "python3", "iproute2", "iputils-ping", "clang", "clang-14",
                 "libclang-rt-14-dev", "lib32stdc++-12-dev", "libclang-cpp14", "libllvm14"]
    assert bootstrap.removable(installed) == sorted([
        "arping", "clang", "clang-14", "gcc-12-multilib", "gcc-multilib", "lib32asan8",
        "lib32gcc-12-dev", "lib32stdc++-12-dev", "libclang-rt-14-dev", "libc6-dev-i386",
        "libc6-i386", "libwireshark16", "libx32gcc-s1", "qemu-system-data", "qemu-system-x86",
        "tshark", "wireshark-common"])

@pytest.mark.skipif(shutil.which("gcc") is None or shutil.which("ld") is None,
                    reason="gcc and ld are not installed")
def test_the_real_link_probe_fails_against_the_64_bit_libgcc():
    """With the real tools: linking the probe against the x86-64 libgcc.a (what
    gcc names for -m32 without gcc-multilib) fails, as the kernel's link did."""
    libgcc64 = subprocess.run(["gcc", "-print-libgcc-file-name"], capture_output=True,
                              text=True, check=True).stdout.strip()

    class Sixty4(bootstrap.Runner):
        def run(self, argv, **kwargs):
            if list(argv) == list(bootstrap.LIBGCC_QUERY):
                return done(out=libgcc64 + "\n")
            return super().run(argv, **kwargs)

    assert not bootstrap.links_32bit_division(Sixty4())


def test_the_venv_stamp_tracks_requirements():
    stamp = bootstrap.wanted_stamp()
    assert stamp == bootstrap.wanted_stamp()
    assert len(stamp) == 64
