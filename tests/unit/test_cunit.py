"""Build and run the host C unit tests of kernel/net/wire.c (tests/cunit/test_wire.c),
and of kernel/string.c's memmove (tests/cunit/test_string.c, -m32 only).

Built twice: with the host's gcc as the README says, and for the kernel's word
size (-m32) with AddressSanitizer and UBSan, which turn any read past a
buffer's end into a failure. A deliberately broken wire.c shows that the
harness fails when the code is wrong.
"""

import re
import shutil
from pathlib import Path

import pytest
from cbuild import OUT_DIR, SUMMARY, VARIANTS, gcc, run, supported

TEST_SRC = Path("tests/cunit/test_wire.c")
WIRE_SRC = Path("kernel/net/wire.c")

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is not installed")


@pytest.mark.parametrize("variant", VARIANTS)
def test_wire_c_unit_tests_pass(variant, tmp_path):
    flags = VARIANTS[variant]
    if flags and not supported(flags, tmp_path):
        pytest.skip(f"gcc here cannot build {' '.join(flags)} programs")
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    binary = OUT_DIR / ("test_wire" if variant == "host" else f"test_wire-{variant}")
    built = gcc(binary, [TEST_SRC, WIRE_SRC], flags)
    assert built.returncode == 0, built.stderr
    result = run(binary, timeout=60)
    summary = SUMMARY.findall(result.stdout)
    assert summary, result.stdout + result.stderr
    passed, failed = (int(n) for n in summary[-1])
    assert (failed, result.returncode) == (0, 0), result.stdout + result.stderr
    assert passed >= 150, result.stdout          # every test function ran its checks
    names = re.findall(r"^(ok  |FAIL) (test_\w+)$", result.stdout, re.MULTILINE)
    assert len(names) >= 19 and all(status == "ok  " for status, _ in names)


BROKEN = """\
// wire.c with one bug planted: senders with a group MAC or IP are accepted.
#define wire_arp_parse wire_arp_parse_real
#include "kernel/net/wire.c"
#undef wire_arp_parse

int
wire_arp_parse(const uchar *p, uint len, struct wire_arp *out)
{
  int r = wire_arp_parse_real(p, len, out);
  return r == WIRE_ARP_SENDER ? WIRE_ARP_OK : r;
}
"""


def test_a_planted_bug_makes_the_c_tests_fail(tmp_path):
    broken = tmp_path / "broken_wire.c"
    broken.write_text(BROKEN)
    binary = tmp_path / "test_wire_broken"
    built = gcc(binary, [TEST_SRC, broken], [], werror=False)
    assert built.returncode == 0, built.stderr
    result = run(binary, timeout=60)
    assert result.returncode == 1, result.stdout
    passed, failed = (int(n) for n in SUMMARY.findall(result.stdout)[-1])
    assert failed > 0 and passed > 0
    assert "FAIL test_arp_parse_refuses_impossible_senders" in result.stdout
    assert "FAILED" in result.stdout


STRING_SRC = Path("tests/cunit/test_string.c")
STRING_VARIANTS = {"m32": ["-m32", "-Wextra"], "m32-sanitized": VARIANTS["m32-sanitized"]}


@pytest.mark.parametrize("variant", STRING_VARIANTS)
def test_kernel_memmove_c_unit_tests_pass(variant, tmp_path):
    # kernel/string.c is 32-bit code (it casts pointers to uint): -m32 only.
    flags = STRING_VARIANTS[variant]
    if not supported(flags, tmp_path):
        pytest.skip(f"gcc here cannot build {' '.join(flags)} programs")
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    binary = OUT_DIR / f"test_string-{variant}"
    built = gcc(binary, [STRING_SRC], flags)
    assert built.returncode == 0, built.stderr
    result = run(binary, timeout=60)
    passed, failed = (int(n) for n in SUMMARY.findall(result.stdout)[-1])
    assert (failed, result.returncode) == (0, 0), result.stdout + result.stderr
    assert passed >= 7, result.stdout


def test_a_word_copy_that_drops_a_byte_fails_the_memmove_tests(tmp_path):
    # The planted bug: every 4-byte move inside string.c moves 3 bytes.
    if not supported(["-m32"], tmp_path):
        pytest.skip("gcc here cannot build -m32 programs")
    binary = tmp_path / "test_string_broken"
    plant = "-D__builtin_memcpy(d,s,n)=__builtin_memcpy(d,s,(n)-1)"
    built = gcc(binary, [STRING_SRC], ["-m32", plant], werror=False)
    assert built.returncode == 0, built.stderr
    result = run(binary, timeout=60)
    assert result.returncode == 1, result.stdout
    assert "FAIL test_memmove_every_length_and_alignment_apart" in result.stdout
