"""The sampling profiler: kprof in the guest, xv6net.prof on the host."""

from pathlib import Path

import pytest

from xv6net import prof

pytestmark = pytest.mark.e2e

KERNEL = Path("build/kernel.elf")


def test_kprof_samples_the_kernel_and_its_receive_thread(guest):
    assert guest.run("kprof start 1024") == ""
    # Datagrams to a closed port on lo: sending, then (in the netrx kernel
    # thread) IP and UDP input and an ICMP port unreachable, all in the kernel.
    out = guest.run("udpblast -n 20000 127.0.0.1 9", timeout=120)
    assert "udpblast: sent" in out, out
    stopped = guest.run("kprof stop")
    assert stopped.startswith("kprof: stopped, "), stopped
    dump = guest.run("kprof dump", timeout=120)
    samples = prof.parse(dump)
    assert dump.rstrip().endswith(f"kprof: {len(samples)} samples")
    assert len(samples) >= 100, dump[-500:]
    profile = prof.attribute(samples, prof.Symbols.from_elf(KERNEL))
    inclusive = {r.function: r.inclusive_samples for r in profile.rows}
    assert prof.UNKNOWN not in inclusive or inclusive[prof.UNKNOWN] < len(samples) / 10
    assert inclusive.get("udp_sendto", 0) > 0, prof.table(profile)
    # The receive thread must be interruptible: samples land inside it.
    assert inclusive.get("netrx", 0) > 0, prof.table(profile)
    assert inclusive.get("ip_input", 0) > 0, prof.table(profile)


def test_kprof_refuses_bad_requests(guest):
    assert "invalid rate '1'" in guest.run("kprof start 1")
    assert guest.run("kprof start 64") == ""
    assert "still sampling" in guest.run("kprof dump")
    assert guest.run("kprof stop").startswith("kprof: stopped")
    assert "usage" in guest.run("kprof frobnicate")
    assert guest.run("echo alive") == "alive\n"


def _pages(text: str) -> dict[int, int]:
    """`kprof pages` as {site pc: pages}."""
    sites = {}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) == 2 and fields[1].startswith("0x"):
            sites[int(fields[1], 16)] = int(fields[0])
    return sites


def test_kprof_pages_counts_pages_by_allocation_site(guest):
    symbols = prof.Symbols.from_elf(KERNEL)
    out = guest.run("kprof pages")
    before = _pages(out)
    total = sum(before.values())
    assert out.rstrip().endswith(f"kprof: {total} pages in use from {len(before)} sites"), out
    largest = max(before, key=before.get)
    assert symbols.name(largest) == "pbufinit", out  # the buffer pool, made at boot
    # A file: one ramfs data page, then gone again.
    guest.run("echo hello > /tmp/c")
    assert guest.run("cat /tmp/c") == "hello\n"
    during = _pages(guest.run("kprof pages"))
    grown = {pc: n - before.get(pc, 0) for pc, n in during.items() if n != before.get(pc, 0)}
    ramfs = [pc for pc in grown if symbols.name(pc).startswith(("pageat", "ramfs", "pagealloc"))]
    assert [grown[pc] for pc in ramfs] == [1], (grown, [symbols.name(pc) for pc in grown])
    guest.run("rm /tmp/c")
    after = _pages(guest.run("kprof pages"))
    assert after.get(ramfs[0], 0) == before.get(ramfs[0], 0)
