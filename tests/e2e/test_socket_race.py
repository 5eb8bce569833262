"""A socket closed while a datagram for it is being delivered (issue 19, item 8): the
datagram must be dropped, not land on a socket opened since in the same slot.

The window is a few instructions wide on the receive path (between finding the
socket and queueing to it); the kernel booted with selftest=sockrace keeps
yielding there for three ticks, and `sockrace` (user/sockrace.c) closes the
socket and opens another in it. With the slot reference-counted, the closed
socket keeps its slot until delivery lets go of it, and the datagram is counted
as a receive buffer error; before, it reached the new socket.
"""

import re

import pytest

from conftest import BOOT_TIMEOUT, make_guest_spec
from xv6net.vm import VM

pytestmark = pytest.mark.e2e

ROUNDS = 20


def test_a_datagram_for_a_closed_socket_never_reaches_its_successor(tmp_path):
    with VM(make_guest_spec(cmdline="selftest=sockrace"),
            logfile=tmp_path / "console.log") as vm:
        vm.wait_for_shell(BOOT_TIMEOUT)
        pools = vm.run("netstat -m")
        out = vm.run(f"sockrace -n {ROUNDS}", timeout=60)
        assert f"sockrace: {ROUNDS} rounds, 0 misdelivered\n" in out, out
        udp = re.search(r"Udp:\n +(\d+) packets received, (\d+) to unknown port.*\n"
                        r" +\d+ with bad checksums, (\d+) receive buffer errors",
                        vm.run("netstat -s"))
        assert udp is not None
        received, noport, dropped = (int(g) for g in udp.groups())
        # A round whose datagram netrx queued to A before A closed (the host
        # kept the program from running through the three-tick window: CI saw
        # one of 20 under load) counts in neither; it is freed with A.
        assert received == ROUNDS and 0 < noport + dropped <= ROUNDS
        assert dropped > 0, "no round hit the window: the test tested nothing"
        assert vm.run("netstat -m") == pools
