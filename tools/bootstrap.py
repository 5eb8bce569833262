#!/usr/bin/env python3
"""Install what building, running and testing xv6net needs; quiet when all is there.

1. Debian packages. Each capability is checked by *using* it, never by asking
   about it: the 32-bit toolchain links a program that divides 64-bit numbers
   against the libgcc the Makefile will link the kernel with; every other tool
   is asked for its version or its help. A failed check names the package that
   provides the capability; after installing, every check runs again and any
   that still fails stops the set-up with a message naming its package.
2. A virtual environment in .venv with requirements.txt and this project
   installed, redone whenever requirements.txt or pyproject.toml changes (a
   stamp file in .venv keeps their hash).

    tools/bootstrap.py            what `make demo` and `make test` need
    tools/bootstrap.py --remove   remove the Debian packages installed here
                                  (CI does it first, to prove the install path)

Standard library only: it runs before the virtual environment exists.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
STAMP = VENV / ".xv6net-bootstrap"
STAMPED_FILES = ("requirements.txt", "pyproject.toml")
DEBCONF = "wireshark-common wireshark-common/install-setuid boolean false\n"

# The Makefile links the kernel and every user program against this file.
LIBGCC_QUERY = ("gcc", "-m32", "-print-libgcc-file-name")

# A kernel-shaped 32-bit object that needs libgcc's 64-bit division helpers
# (__udivmoddi4), as console.c's number printing does.
DIVISION_PROBE = """\
unsigned long long
xv6net_probe(unsigned long long a, unsigned long long b)
{
  return a / b + a % b;
}
"""


class Runner:
    """The commands bootstrap runs; tests replace it with a fake."""

    def run(self, argv: Sequence[str], *, cwd: Path | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run(list(argv), cwd=cwd, capture_output=True, text=True,
                                  timeout=timeout, check=False)
        except FileNotFoundError as err:
            return subprocess.CompletedProcess(list(argv), 127, "", str(err))
        except subprocess.TimeoutExpired:
            return subprocess.CompletedProcess(list(argv), 124, "", "timed out")

    def which(self, command: str) -> str | None:
        return shutil.which(command)


Probe = Callable[[Runner], bool]


@dataclass(frozen=True)
class Check:
    what: str           # the capability, as a user would name it
    package: str        # the Debian package(s) that provide it, space-separated
    probe: Probe


def answers(*argv: str, expect: str = "") -> Probe:
    """A probe that runs a command; it passes if the command exits 0 and,
    when `expect` is given, prints it (on either stream)."""

    def probe(runner: Runner) -> bool:
        result = runner.run(argv, timeout=30)
        return result.returncode == 0 and expect in result.stdout + result.stderr

    return probe


def openbsd_netcat(runner: Runner) -> bool:
    """OpenBSD's nc (its -N, shut down the sending side at end of input, is
    what the TCP tests use); its -h exits 1 but says who it is."""
    result = runner.run(("nc", "-h"), timeout=30)
    return "OpenBSD netcat" in result.stdout + result.stderr


def links_32bit_division(runner: Runner) -> bool:
    """Compile a 32-bit freestanding object and link it, as the Makefile links
    the kernel, against the libgcc that `gcc -m32` names: without
    gcc-multilib that is the 64-bit libgcc.a, and the link fails."""
    libgcc = runner.run(LIBGCC_QUERY, timeout=30)
    if libgcc.returncode != 0 or not libgcc.stdout.strip():
        return False
    with tempfile.TemporaryDirectory(prefix="xv6net-bootstrap-") as tmp:
        work = Path(tmp)
        (work / "probe.c").write_text(DIVISION_PROBE)
        compiled = runner.run(["gcc", "-m32", "-O2", "-ffreestanding", "-nostdinc",
                               "-fno-pic", "-fno-pie", "-c", "-o", "probe.o", "probe.c"],
                              cwd=work)
        if compiled.returncode != 0:
            return False
        linked = runner.run(["ld", "-m", "elf_i386", "-e", "xv6net_probe", "-o", "probe.elf",
                             "probe.o", libgcc.stdout.strip()], cwd=work)
        return linked.returncode == 0


# What the network stack's fuzz targets need (tests/fuzz): a 32-bit program
# built by clang with libFuzzer, AddressSanitizer and UBSan.
FUZZ_PROBE = """\
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len) { return len > 0 && data[0] == 1; }
"""


def builds_32bit_fuzzer(runner: Runner) -> bool:
    """Link a -m32 libFuzzer target with the sanitizers: needs clang's
    runtime (libclang-rt-14-dev) and the 32-bit C++ library libFuzzer uses."""
    with tempfile.TemporaryDirectory(prefix="xv6net-bootstrap-") as tmp:
        work = Path(tmp)
        (work / "probe.c").write_text(FUZZ_PROBE)
        built = runner.run(["clang", "-m32", "-fsanitize=fuzzer,address,undefined", "-o",
                            "probe", "probe.c"], cwd=work)
        return built.returncode == 0


def venv_works(runner: Runner) -> bool:
    """Python's venv needs ensurepip, which Debian ships in python3-venv."""
    return runner.run([sys.executable, "-c", "import ensurepip, venv"]).returncode == 0


# Everything `make demo`, `make test` and `make bench` use from Debian, in the
# order a build meets them. Package names are Debian 12's.
CHECKS: tuple[Check, ...] = (
    Check("make", "make", answers("make", "--version")),
    Check("gcc", "gcc", answers("gcc", "--version")),
    Check("ld (binutils)", "binutils", answers("ld", "--version")),
    Check("a 32-bit link with libgcc's 64-bit division", "gcc-multilib",
          links_32bit_division),
    Check("cpio", "cpio", answers("cpio", "--version")),
    Check("python3 -m venv", "python3-venv", venv_works),
    Check("qemu-system-i386", "qemu-system-x86", answers("qemu-system-i386", "--version")),
    Check("qemu-system-x86_64", "qemu-system-x86", answers("qemu-system-x86_64", "--version")),
    Check("ip (iproute2)", "iproute2", answers("ip", "-V")),
    Check("bridge (iproute2)", "iproute2", answers("bridge", "-V")),
    Check("tshark", "tshark", answers("tshark", "-v", expect="TShark")),
    Check("Habets' arping", "arping", answers("arping", "--help", expect="Habets")),
    Check("ping (iputils)", "iputils-ping", answers("ping", "-V", expect="iputils")),
    # The routed lab's Linux ends trace the path through the guests (test_forward).
    Check("traceroute (Butskoy's)", "traceroute",
          answers("traceroute", "--version", expect="Modern traceroute")),
    # The binary alone: the `dnsmasq` package would also start a DNS/DHCP
    # service on the host. Labs run it in their namespace (docs/lab.md).
    Check("dnsmasq", "dnsmasq-base", answers("dnsmasq", "--version", expect="Dnsmasq")),
    # The impairment relay turns checksum offload off on its veths (docs/impair.md).
    Check("ethtool", "ethtool", answers("ethtool", "--version", expect="ethtool")),
    Check("clang", "clang", answers("clang", "--version")),
    # Linux peers for the TCP tests (tests/e2e/test_tcp_linux.py).
    Check("socat", "socat", answers("socat", "-V", expect="socat version")),
    Check("OpenBSD netcat", "netcat-openbsd", openbsd_netcat),
    Check("hping3", "hping3", answers("hping3", "--version", expect="hping3 version")),
    # The client and the load generator of the guest's web server (tests/e2e/test_httpd.py).
    Check("curl", "curl", answers("curl", "--version", expect="curl")),
    Check("ApacheBench", "apache2-utils", answers("ab", "-V", expect="ApacheBench")),
    # A real browser loads the guest's page (test_httpd): about 80 MB to fetch once.
    Check("headless Chromium", "chromium", answers("chromium", "--version", expect="Chromium")),
    Check("a 32-bit libFuzzer target with the sanitizers",
          "libclang-rt-14-dev lib32stdc++-12-dev", builds_32bit_fuzzer),
)

# Packages that conflict with one that a check needs (iputils-arping installs
# its own /usr/sbin/arping, whose replies read differently).
CONFLICTS = {"arping": ("iputils-arping",)}

# What CI removes before `make test`, to prove on every run that bootstrap
# installs them: every package above that a base Debian 12 image lacks, and
# what gcc-multilib brings in (matched by prefix: lib32*, libx32*, ...).
REMOVABLE = ("gcc-multilib", "qemu-system-x86", "tshark", "arping", "iputils-arping", "ethtool",
             "traceroute", "cpio", "dnsmasq-base", "socat", "netcat-openbsd", "hping3",
             "apache2-utils", "chromium", "clang", "clang-14", "libclang1-14",
             "libclang-common-14-dev", "libclang-rt-14-dev")
REMOVABLE_PREFIXES = ("gcc-12-multilib", "lib32", "libx32", "libc6-i386", "libc6-dev-i386",
                      "libc6-x32", "libc6-dev-x32", "qemu-system-", "wireshark-common",
                      "libwireshark")


def say(message: str) -> None:
    print(f"bootstrap: {message}", flush=True)


def failing(checks: Sequence[Check], runner: Runner) -> list[Check]:
    return [check for check in checks if not check.probe(runner)]


def packages_for(checks: Sequence[Check]) -> list[str]:
    return sorted({package for check in checks for package in check.package.split()})


def privileged(argv: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return argv
    if shutil.which("sudo"):
        return ["sudo", *argv]
    raise SystemExit(f"bootstrap: need root to run {argv[0]}")


def apt(argv: list[str], stdin: str | None = None) -> None:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(privileged(argv), env=env, input=stdin, text=True, check=True,
                   stdout=subprocess.DEVNULL)


def install_packages(packages: list[str]) -> None:
    if not Path("/etc/debian_version").exists() or shutil.which("apt-get") is None:
        raise SystemExit("bootstrap: not Debian; please install: " + " ".join(packages))
    say("installing Debian packages: " + " ".join(packages))
    if shutil.which("debconf-set-selections"):
        apt(["debconf-set-selections"], stdin=DEBCONF)
    apt(["apt-get", "update", "-q"])
    conflicting = [c for p in packages for c in CONFLICTS.get(p, ()) if installed([c])]
    if conflicting:
        say("removing conflicting packages: " + " ".join(conflicting))
        apt(["apt-get", "remove", "-y", "-q", *conflicting])
    apt(["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages])


def installed(names: Sequence[str] = ()) -> list[str]:
    """Installed Debian packages, all of them or those of `names`."""
    listing = subprocess.run(["dpkg-query", "-W", "-f", "${db:Status-Status} ${Package}\n",
                              *names], capture_output=True, text=True, check=False)
    return [line.split()[1] for line in listing.stdout.splitlines()
            if line.startswith("installed ")]


def removable(packages: Sequence[str]) -> list[str]:
    return sorted(p for p in packages if p in REMOVABLE or p.startswith(REMOVABLE_PREFIXES))


def remove_packages() -> int:
    doomed = removable(installed())
    if not doomed:
        say("none of bootstrap's packages are installed")
        return 0
    say("removing Debian packages: " + " ".join(doomed))
    apt(["apt-get", "purge", "-y", "-q", *doomed])
    return 0


def ensure_packages(checks: Sequence[Check], runner: Runner,
                    install: Callable[[list[str]], None] = install_packages) -> list[Check]:
    """Install the packages of the failing checks; return those still failing."""
    broken = failing(checks, runner)
    if not broken:
        return []
    for check in broken:
        say(f"missing: {check.what} (Debian package {check.package})")
    install(packages_for(broken))
    return failing(checks, runner)


def wanted_stamp() -> str:
    digest = hashlib.sha256(sys.version.encode())
    for name in STAMPED_FILES:
        digest.update(name.encode() + b"\0" + (ROOT / name).read_bytes())
    return digest.hexdigest()


def venv_python() -> Path:
    return VENV / "bin" / "python"


def venv_is_current(stamp: str) -> bool:
    try:
        return venv_python().exists() and STAMP.read_text().strip() == stamp
    except OSError:
        return False


def setup_venv() -> None:
    stamp = wanted_stamp()
    if venv_is_current(stamp):
        return
    if not venv_python().exists():
        say(f"creating {VENV.relative_to(ROOT)}")
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
    say("installing Python packages from requirements.txt and the xv6net package")
    pip = [str(venv_python()), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, "-r", str(ROOT / "requirements.txt")], check=True)
    subprocess.run([*pip, "-e", str(ROOT)], check=True)
    STAMP.write_text(stamp + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--remove", action="store_true",
                        help="remove the Debian packages bootstrap installs (for CI)")
    args = parser.parse_args(argv)
    if args.remove:
        return remove_packages()
    still = ensure_packages(CHECKS, Runner())
    if still:
        for check in still:
            say(f"still failing after the install: {check.what}; "
                f"install the Debian package {check.package} by hand and look at its errors")
        return 1
    setup_venv()
    return 0


if __name__ == "__main__":
    sys.exit(main())
