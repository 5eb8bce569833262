"""The system-call fuzzer in the guest (user/sysfuzz.c): 100,000 calls with
hostile arguments, by sysenter and by int $64, in children that the fuzzer
reaps; the kernel must stay up and give back every page, file, socket,
process slot and network buffer (sysinfo)."""

import re
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

KERNEL = Path(__file__).resolve().parents[2] / "build" / "kernel.elf"

SEED = 20261130
CALLS = 100_000


@pytest.mark.timeout(1500)
def test_sysfuzz_leaves_the_kernel_up_with_nothing_leaked(guest):
    out = guest.run(f"sysfuzz -q -s {SEED} -n {CALLS}", timeout=1200)
    assert "panic" not in guest.log
    made = re.search(r"sysfuzz: (\d+) calls made in (\d+) children", out)
    assert made, out
    assert int(made[1]) >= CALLS
    before = re.search(r"before: (.*)", out)
    after = re.search(r"after: (.*)", out)
    assert before and after, out
    assert "sysfuzz: no leaks" in out, out + leak_sites(out)
    # The kernel still works afterwards, for processes, files and the network.
    assert guest.run("echo alive | cat") == "alive\n"
    assert "ALL TESTS PASSED" in guest.run("usertests", timeout=300)
    assert "0% packet loss" in guest.run("ping -c 2 -i 0.2 127.0.0.1", timeout=20)


def test_sysfuzz_refuses_bad_options(guest):
    out = guest.run("sysfuzz -n abc; sysfuzz -x 1", timeout=10)
    assert out.count("usage: sysfuzz") == 2


def leak_sites(out: str) -> str:
    """sysfuzz's "pages held by kernel pc PC: A -> B" lines, each with the
    function and source line of PC (the call to kalloc that took the pages)."""
    lines = []
    for m in re.finditer(r"pages held by kernel pc (0x[0-9a-f]+): (\d+) -> (\d+)", out):
        where = subprocess.run(
            ["addr2line", "-f", "-e", str(KERNEL), hex(int(m[1], 16) - 1)],
            check=False,
            capture_output=True,
            text=True,
            timeout=30,
        ).stdout.split()
        lines.append(f"{m[1]} {' '.join(where)}: {m[2]} -> {m[3]} pages")
    return "\nallocation sites whose pages changed:\n" + "\n".join(lines) if lines else ""
