#!/usr/bin/env python3
"""Install what building, running and testing xv6net needs; quiet when all is there.

1. Debian packages, when a command is missing: QEMU, gcc with working -m32,
   binutils, make, tshark, iproute2, arping, iputils-ping, cpio, python3-venv.
2. A virtual environment in .venv with requirements.txt and this project
   installed, redone whenever requirements.txt or pyproject.toml changes (a
   stamp file in .venv keeps their hash).

Standard library only: it runs before the virtual environment exists.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
STAMP = VENV / ".xv6net-bootstrap"
STAMPED_FILES = ("requirements.txt", "pyproject.toml")

# command -> Debian package that provides it
COMMANDS = {
    "qemu-system-i386": "qemu-system-x86",
    "gcc": "gcc",
    "ld": "binutils",
    "make": "make",
    "tshark": "tshark",
    "ip": "iproute2",
    "bridge": "iproute2",
    "arping": "arping",
    "ping": "iputils-ping",     # xv6net bench: per-reply RTTs at 10 ms intervals
    "cpio": "cpio",
}
M32_PACKAGES = ("gcc", "gcc-multilib")
VENV_PACKAGE = "python3-venv"
DEBCONF = "wireshark-common wireshark-common/install-setuid boolean false\n"


def say(message: str) -> None:
    print(f"bootstrap: {message}", flush=True)


def run(argv: list[str], **kwargs: object) -> None:
    subprocess.run(argv, check=True, **kwargs)  # type: ignore[call-overload]


def gcc_m32_works() -> bool:
    """Can gcc compile for i386, and is there a 32-bit libgcc to link against?"""
    if shutil.which("gcc") is None:
        return False
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp, "empty.c")
        src.write_text("int xv6net_bootstrap_probe;\n")
        compiled = subprocess.run(
            ["gcc", "-m32", "-c", "-o", str(Path(tmp, "empty.o")), str(src)],
            capture_output=True, check=False,
        )
    if compiled.returncode != 0:
        return False
    libgcc = subprocess.run(["gcc", "-m32", "-print-libgcc-file-name"],
                            capture_output=True, text=True, check=False)
    return libgcc.returncode == 0 and Path(libgcc.stdout.strip()).is_file()


def venv_module_works() -> bool:
    """Python's venv needs ensurepip, which Debian ships in python3-venv."""
    probe = subprocess.run([sys.executable, "-c", "import ensurepip, venv"],
                           capture_output=True, check=False)
    return probe.returncode == 0


def missing_packages() -> list[str]:
    packages = {pkg for cmd, pkg in COMMANDS.items() if shutil.which(cmd) is None}
    if not gcc_m32_works():
        packages.update(M32_PACKAGES)
    if not venv_module_works():
        packages.add(VENV_PACKAGE)
    return sorted(packages)


def privileged(argv: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return argv
    if shutil.which("sudo"):
        return ["sudo", *argv]
    raise SystemExit(f"bootstrap: need root to run {argv[0]}")


def install_packages(packages: list[str]) -> None:
    if not Path("/etc/debian_version").exists() or shutil.which("apt-get") is None:
        raise SystemExit("bootstrap: not Debian; please install: " + " ".join(packages))
    say("installing Debian packages: " + " ".join(packages))
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if shutil.which("debconf-set-selections"):
        run(privileged(["debconf-set-selections"]), input=DEBCONF.encode())
    run(privileged(["apt-get", "update", "-q"]), env=env, stdout=subprocess.DEVNULL)
    run(privileged(["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages]),
        env=env, stdout=subprocess.DEVNULL)


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
        run([sys.executable, "-m", "venv", "--clear", str(VENV)])
    say("installing Python packages from requirements.txt and the xv6net package")
    pip = [str(venv_python()), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    run([*pip, "-r", str(ROOT / "requirements.txt")])
    run([*pip, "-e", str(ROOT)])
    STAMP.write_text(stamp + "\n")


def main() -> int:
    packages = missing_packages()
    if packages:
        install_packages(packages)
        still = missing_packages()
        if still:
            say("still missing after install: " + " ".join(still))
            return 1
    setup_venv()
    return 0


if __name__ == "__main__":
    sys.exit(main())
