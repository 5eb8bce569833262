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
