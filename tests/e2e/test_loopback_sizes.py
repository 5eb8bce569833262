"""Every message size through loopback (issue 19, item 1): a user program must not be
able to bring the kernel down, whatever it sends.

`sizesweep` (user/sizesweep.c) sends one UDP datagram to 127.0.0.1, one ICMP
message on a raw socket and one Ethernet frame on lo through a packet socket of
every size from 1 to 16,300 bytes, reads each back and checks it; it runs inside
the guest so that the 49,000 round trips take seconds. The sizes where the
kernel refuses with EMSGSIZE follow from its buffers: the largest datagram it
builds is 16,256 bytes with the IP header (IP_MAXPACKET: a 16 KiB buffer less
its headroom), and lo's MTU is 16,242 (a whole frame in that room), so the
last 14 sizes that fit are fragmented and reassembled on lo.
"""

import re

import pytest

from conftest import BOOT_TIMEOUT, make_guest_spec
from xv6net.vm import VM

pytestmark = pytest.mark.e2e

LAST = 16300
IP_MAXPACKET = 16256
SWEEP = re.compile(r"^sizesweep: (\w+) 1\.\.(\d+): (\d+) intact, largest (\d+); (\d+) EMSGSIZE; "
                   r"(\d+) EINVAL; (\d+) wrong$", re.MULTILINE)

# mode: (intact, largest, EMSGSIZE, EINVAL)
EXPECTED = {
    "udp": (IP_MAXPACKET - 28, IP_MAXPACKET - 28, LAST - (IP_MAXPACKET - 28), 0),
    "icmp": (IP_MAXPACKET - 20, IP_MAXPACKET - 20, LAST - (IP_MAXPACKET - 20), 0),
    # frames shorter than an Ethernet header are refused; lo's largest is MTU + 14
    "packet": (IP_MAXPACKET - 13, IP_MAXPACKET, LAST - IP_MAXPACKET, 13),
}


@pytest.fixture(scope="module")
def guest(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("sizes")
    with VM(make_guest_spec(), logfile=logdir / "console.log") as vm:
        vm.wait_for_shell(BOOT_TIMEOUT)
        yield vm
        print(f"--- console (tail) ---\n{vm.log[-3000:]}")


@pytest.mark.parametrize("mode", EXPECTED)
def test_every_size_through_loopback(guest, mode):
    pools = guest.run("netstat -m")
    out = guest.run(f"sizesweep {mode}", timeout=120)
    match = SWEEP.search(out)
    assert match is not None, out
    assert (match[1], int(match[2])) == (mode, LAST)
    intact, largest, toobig, tooshort, wrong = (int(g) for g in match.groups()[2:])
    assert wrong == 0, out
    assert (intact, largest, toobig, tooshort) == EXPECTED[mode], out
    assert guest.run("echo alive") == "alive\n"
    assert guest.run("netstat -m") == pools, "the buffer pools did not come back to full"
