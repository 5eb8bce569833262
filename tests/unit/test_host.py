"""The network stack compiled for the host (tests/host, docs/testing.md).

Each tests/host/test_*.c is built by `make host-tests` with AddressSanitizer
and UBSan against the host side of the stack's seam, and runs each of its
tests in a fresh process. A planted bug (ARP giving up after one request
instead of three) shows that the tests see the stack's behaviour.
"""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "build" / "host"
SOURCES = sorted((ROOT / "tests" / "host").glob("test_*.c"))
SUMMARY = re.compile(r"^(\d+) passed, (\d+) failed$", re.MULTILINE)

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is not installed")


@pytest.fixture(scope="module")
def built():
    proc = subprocess.run(["make", "-s", "host-tests"], cwd=ROOT, capture_output=True,
                          text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return BUILD


def run(binary: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(binary)], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, check=False, env={"PATH": "/usr/bin:/bin", **env})


def test_there_are_host_tests():
    names = {p.stem for p in SOURCES}
    assert {"test_arp", "test_ip", "test_udp"} <= names


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_host_tests_pass(built, source):
    result = run(built / source.stem)
    summary = SUMMARY.findall(result.stdout)
    assert summary, result.stdout + result.stderr
    passed, failed = (int(n) for n in summary[-1])
    assert (failed, result.returncode) == (0, 0), result.stdout + result.stderr
    names = re.findall(r"^(ok  |FAIL) (test_\w+)$", result.stdout, re.MULTILINE)
    declared = re.findall(r"^\s*TEST\((test_\w+)\),$", source.read_text(), re.MULTILINE)
    assert [n for _, n in names] == declared            # every test ran
    assert passed >= 5 * len(declared)


def declared_cases() -> list[tuple[str, str]]:
    """(source, test) for every TEST() of tests/host/*.c."""
    return [(src.stem, name) for src in SOURCES
            for name in re.findall(r"^\s*TEST\((test_\w+)\),$", src.read_text(), re.MULTILINE)]


@pytest.mark.parametrize(("source", "name"), declared_cases(),
                         ids=[f"{s}-{n}" for s, n in declared_cases()])
def test_host_case(built, source, name):
    """One host test alone (TEST_ONLY): what the exercise graders run
    (src/xv6net/exercise.py), so that each earns its own points."""
    result = run(built / source, TEST_ONLY=name)
    assert re.findall(r"^(ok  |FAIL) (test_\w+)$", result.stdout, re.MULTILINE) == [
        ("ok  ", name)], result.stdout + result.stderr
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_planted_bug_fails_the_arp_tests(built, tmp_path):
    planted = tmp_path / "arp.c"
    text = (ROOT / "kernel/net/arp.c").read_text()
    assert "#define ARP_RETRIES  3" in text
    planted.write_text(text.replace("#define ARP_RETRIES  3", "#define ARP_RETRIES  1"))
    objs = [p for p in sorted((built / "obj" / "kernel" / "net").glob("*.o")) if p.stem != "arp"]
    support = [built / "obj" / "tests" / "host" / f"{n}.o" for n in ("netos_host", "host",
                                                                   "test_arp")]
    flags = re.search(r"^HOSTFLAGS\s*:=\s*(.*?)\n(?=\S)", (ROOT / "Makefile").read_text(),
                      re.MULTILINE | re.DOTALL)
    assert flags
    argv = ["gcc", *flags.group(1).replace("\\\n", " ").split(), "-o", str(tmp_path / "t"),
            str(planted), *map(str, objs + support)]
    argv = [a for a in argv if a != "-MD"]
    proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=300,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    result = run(tmp_path / "t")
    assert result.returncode == 1, result.stdout
    assert "FAIL test_an_unanswered_request_is_retried_each_second_then_fails" in result.stdout

