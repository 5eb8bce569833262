"""Building and running the host-compiled C unit tests (tests/cunit/): gcc
with -Werror, the sanitized -m32 variant, and the harness's summary lines.
Shared by test_cunit.py (kernel/net/wire.c) and test_cunit_parsers.py (the
DHCP and DNS parsers); not a test module."""

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT_DIR = ROOT / "build" / "cunit"
SUMMARY = re.compile(r"^(\d+) passed, (\d+) failed$", re.MULTILINE)
SANITIZE = ["-m32", "-Wextra", "-g", "-fsanitize=address,undefined",
            "-fno-sanitize-recover=all"]

VARIANTS = {
    "host": [],
    "m32-sanitized": SANITIZE,
}


def gcc(output: Path, sources: list[Path], flags: list[str],
        werror: bool = True) -> subprocess.CompletedProcess[str]:
    argv = ["gcc", "-Wall", *(["-Werror"] if werror else []), *flags, "-I.",
            "-o", str(output), *map(str, sources)]
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120,
                          check=False)


def run(binary: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(binary)], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, check=False)


def supported(flags: list[str], tmp_path: Path) -> bool:
    """Whether gcc here can build and run a program with these flags."""
    probe = tmp_path / "probe.c"
    probe.write_text("int main(void) { return 0; }\n")
    built = gcc(tmp_path / "probe", [probe], flags)
    return built.returncode == 0 and run(tmp_path / "probe").returncode == 0


def results(stdout: str) -> tuple[int, int, list[tuple[str, str]]]:
    """(passed, failed, [(status, test name)]) from a harness's output."""
    summary = SUMMARY.findall(stdout)
    assert summary, stdout
    passed, failed = (int(n) for n in summary[-1])
    names = re.findall(r"^(ok  |FAIL) (test_\w+)$", stdout, re.MULTILINE)
    return passed, failed, names
