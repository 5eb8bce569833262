"""Kernel-level behaviour: the kernel stack guard page, ^C, init's protection."""

import re
import time

import pytest

from xv6net.vm import VM

pytestmark = pytest.mark.e2e


def test_kernel_stack_overflow_hits_the_guard_page(guest_spec, tmp_path):
    """selftest=kstack recurses on a process's kernel stack: the unmapped page
    below it must turn the overflow into a double fault and a loud panic."""
    with VM(guest_spec(cmdline="selftest=kstack"), logfile=tmp_path / "console.log") as vm:
        match = vm.console.expect(
            r"panic: double fault \(kernel stack overflow\?\) eip (0x[0-9a-f]+) "
            r"esp (0x[0-9a-f]+) ebp", timeout=30)
        vm.console.expect("system halted", timeout=10)
    esp = int(match[2], 16)
    # The faulting stack pointer lies in the kernel-stack region (0xFD000000..),
    # inside the first slot's guard page (the page below the 8 KiB stack).
    assert 0xFD000000 <= esp < 0xFD001000, match[0]


def test_ctrl_c_interrupts_a_blocked_command(guest):
    # ^C kills whatever runs a command, so wait until sleep itself runs
    # (the shell is then waiting for it) before typing it.
    guest.console.sendline("echo started; sleep 100")
    guest.console.expect(r"\nstarted\n")
    time.sleep(0.5)
    guest.console.send("\x03")
    guest.console.expect(r"\^C\n\$ ", timeout=5)
    assert guest.run("echo after") == "after\n"


def test_ctrl_c_interrupts_a_blocked_socket_read(guest):
    guest.console.sendline("ethrecv eth0 88b5 5")
    guest.console.expect("listening on eth0")
    guest.console.send("\x03")
    guest.console.expect(r"\^C\n(.*\n)*\$ ", timeout=5)
    assert guest.run("echo after") == "after\n"


def test_init_cannot_be_killed(guest):
    out = guest.run("kill 1")
    assert re.search(r"(?i)not permitted", out), out
    assert guest.run("echo alive") == "alive\n"



@pytest.mark.parametrize(("ip", "why"), [
    ("ip=10.0.0.300::10.0.0.1:255.255.255.0::eth0:off", "bad client address '10.0.0.300'"),
    ("ip=frobnicate", "bad client address 'frobnicate'"),
    ("ip=10.0.0.2:::255.0.255.0::eth0:off", "bad netmask '255.0.255.0'"),
    ("ip=10.0.0.2::10.0.0.256:255.255.255.0::eth0:off", "bad gateway '10.0.0.256'"),
    ("ip=10.0.0.2:::255.255.255.0::eth0:sometimes", "unknown autoconf keyword 'sometimes'"),
    ("ip=bootp", "automatic configuration other than DHCP is not supported"),
])
def test_refused_ip_says_why(boot, guest_spec, ip, why):
    # These used to boot silently with no address.
    vm = boot(guest_spec(cmdline=ip))
    assert re.search(rf"(?m)^{re.escape(ip)}: {re.escape(why)}(; no address set)?$",
                     vm.boot_log), vm.boot_log
    assert "inet " not in vm.run("ifconfig eth0")


def test_ip_off_is_silent(boot, guest_spec):
    vm = boot(guest_spec(cmdline="ip=off"))
    assert not re.search(r"(?m)^ip=", vm.boot_log), vm.boot_log
