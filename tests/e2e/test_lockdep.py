"""The lock-order checker and lock statistics (kernel/lockdep.c, lockstat)."""

import re
from pathlib import Path

import pytest

from xv6net import prof
from xv6net.vm import VM

pytestmark = pytest.mark.e2e

KERNEL = Path("build/kernel.elf")
SITE = r"(0x[0-9a-f]+)"


def test_lock_order_inversion_panics_naming_both_sites(guest_spec, tmp_path):
    """selftest=lockorder takes selftestA then selftestB (lockorder_ab), then
    B then A (lockorder_ba): the checker must panic at the second order and
    name, for both orders, the sites in those two functions that took them."""
    with VM(guest_spec(cmdline="selftest=lockorder"), logfile=tmp_path / "console.log") as vm:
        vm.start()
        now = vm.console.expect(
            rf'lockdep: taking "selftestA" at {SITE} while holding "selftestB" '
            rf"\(taken at {SITE}\)", timeout=30)
        before = vm.console.expect(
            rf'lockdep:   "selftestB" taken at {SITE} while holding "selftestA" '
            rf"\(taken at {SITE}\)", timeout=10)
        vm.console.expect(r'panic: lock order inversion: "selftestB" -> "selftestA"', timeout=10)
        vm.console.expect("system halted", timeout=10)
    symbols = prof.Symbols.from_elf(KERNEL)
    # Each reported address is a return address inside the function that
    # called acquire: both of this order's in lockorder_ba, both of the
    # earlier order's in lockorder_ab.
    assert [symbols.name(int(pc, 16)) for pc in now.groups()] == ["lockorder_ba"] * 2
    assert [symbols.name(int(pc, 16)) for pc in before.groups()] == ["lockorder_ab"] * 2
    assert now[1] != now[2] and before[1] != before[2]
