"""The system-call fuzzer in the guest (user/sysfuzz.c): 100,000 calls with
hostile arguments, by sysenter and by int $64, in children that the fuzzer
reaps; the kernel must stay up and give back every page, file, socket,
process slot and network buffer (sysinfo)."""

import re

import pytest

pytestmark = pytest.mark.e2e

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
    assert "sysfuzz: no leaks" in out, out
    # The kernel still works afterwards, for processes, files and the network.
    assert guest.run("echo alive | cat") == "alive\n"
    assert "ALL TESTS PASSED" in guest.run("usertests", timeout=300)
    assert "0% packet loss" in guest.run("ping -c 2 -i 0.2 127.0.0.1", timeout=20)


def test_sysfuzz_refuses_bad_options(guest):
    out = guest.run("sysfuzz -n abc; sysfuzz -x 1", timeout=10)
    assert out.count("usage: sysfuzz") == 2
