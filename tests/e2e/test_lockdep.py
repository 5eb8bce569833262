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


def _stats(text: str) -> dict[str, list[int]]:
    """lockstat's rows as {class: [acquisitions, contentions, spins, sleeps]}."""
    rows = {}
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) == 6 and fields[1] in ("spin", "sleep"):
            rows[fields[0]] = [int(f) for f in fields[2:]]
    return rows


def test_lockstat_counts_acquisitions(guest):
    header, *_ = guest.run("lockstat").splitlines()
    assert header.split() == ["class", "name", "kind", "acquisitions", "contentions",
                              "spins", "sleeps"]
    before = _stats(guest.run("lockstat"))
    assert before["ptable"][0] > 0 and before["ramfs"][0] > 0, before
    # 200 datagrams over lo: each one takes the pbuf pool's and the loopback
    # queue's lock at least once, so their counts grow by at least that much.
    out = guest.run("udpblast -n 200 127.0.0.1 9", timeout=60)
    assert "udpblast: sent" in out, out
    after = _stats(guest.run("lockstat"))
    assert after["pbuf"][0] >= before["pbuf"][0] + 200, (before["pbuf"], after["pbuf"])
    assert after["loopback"][0] >= before.get("loopback", [0])[0] + 200
    # A contention is an acquisition that spun or slept: the counts agree
    # on any number of CPUs.
    for name, (acquired, contended, spins, sleeps) in after.items():
        assert contended <= acquired, (name, after[name])
        assert (contended > 0) == (spins + sleeps > 0), (name, after[name])
        assert contended <= spins + sleeps, (name, after[name])
    # On one CPU a spinlock never spins: its holder cannot be running while
    # another acquire spins (interrupts are off while it is held).
    cpus = int(re.search(r"cpus: (\d+)", guest.boot_log)[1])
    if cpus == 1:
        assert all(row[2] == 0 for row in after.values()), after


def test_lockstat_order_lists_the_edges_taken(guest):
    assert guest.run("echo hi > /tmp/lockdep; cat /tmp/lockdep; rm /tmp/lockdep") == "hi\n"
    out = guest.run("lockstat -o")
    lines = out.splitlines()
    m = re.fullmatch(r"lockstat: (\d+) edges between (\d+) classes", lines[-1])
    assert m, out
    edges = [line.split() for line in lines[1:-1]]
    assert len(edges) == int(m[1]) > 0
    pairs = {(e[0], e[2]) for e in edges}
    # The file system's sleeplock is held while it allocates a file's page
    # (the write above): an edge ramfs -> kmem, taken in kalloc.
    assert ("ramfs", "kmem") in pairs, out
    symbols = prof.Symbols.from_elf(KERNEL)
    sites = {(e[0], e[2]): e[3:] for e in edges}
    assert symbols.name(int(sites["ramfs", "kmem"][1], 16)) == "kalloc", out
    for held, _, taken, heldpc, takenpc in edges:
        assert symbols.name(int(heldpc, 16)) != prof.UNKNOWN, (held, heldpc)
        assert symbols.name(int(takenpc, 16)) != prof.UNKNOWN, (taken, takenpc)
