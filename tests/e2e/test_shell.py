"""Boot the kernel and use its shell: PCI probe, programs, pipes, faults, line editing."""

import re

import pytest

from xv6net.vm import VM

pytestmark = pytest.mark.e2e

PCI_LINE = re.compile(
    r"^pci (?P<bus>[0-9a-f]{2}):(?P<dev>[0-9a-f]{2})\.(?P<fn>\d) "
    r"(?P<vendor>[0-9a-f]{4}):(?P<device>[0-9a-f]{4}) "
    r"class (?P<cls>[0-9a-f]{2})\.(?P<sub>[0-9a-f]{2}) "
    r"irq (?P<irq>\d+)(?P<bars>( bar\d (mem|io) 0x[0-9a-f]+)*)$",
    re.MULTILINE,
)


def pci_devices(boot_log: str) -> dict[str, re.Match[str]]:
    return {f"{m['bus']}:{m['dev']}.{m['fn']}": m for m in PCI_LINE.finditer(boot_log)}


def assert_alive(vm: VM) -> None:
    assert vm.run("echo alive") == "alive\n"


def test_boot_log_lists_e1000_on_pci(guest):
    devices = pci_devices(guest.boot_log)
    assert "00:03.0" in devices, guest.boot_log
    nic = devices["00:03.0"]
    assert (nic["vendor"], nic["device"]) == ("8086", "100e")
    assert (nic["cls"], nic["sub"]) == ("02", "00")
    assert nic["irq"] == "11"
    assert re.search(r"bar0 mem 0x[0-9a-f]+", nic["bars"])
    assert re.search(r"bar1 io 0x[0-9a-f]+", nic["bars"])


def test_monitor_sees_the_same_nic(guest):
    assert "8086:100e" in guest.monitor("info pci")


def test_ls_bin(guest):
    names = {line.split()[0] for line in guest.run("ls /bin").splitlines() if line.strip()}
    assert {"sh", "ls", "cat"} <= names


def test_pipe_echo_cat(guest):
    assert guest.run("echo hello | cat") == "hello\n"


def test_pipe_ls_wc(guest):
    out = guest.run("ls /bin | wc")
    assert re.fullmatch(r"\s*\d+\s+\d+\s+\d+\s*", out), out


def test_command_list(guest):
    assert guest.run("echo a; echo b") == "a\nb\n"


@pytest.mark.timeout(360)
def test_usertests(guest):
    out = guest.run("usertests", timeout=300)
    assert "ALL TESTS PASSED" in out, out[-2000:]
    assert_alive(guest)


@pytest.mark.parametrize("mode", ["null", "kernel", "syscallbad", "sysenterbad"])
def test_crash_is_killed_and_shell_survives(guest, mode):
    out = guest.run(f"crash {mode}")
    assert "killed" in out
    assert "survived" not in out
    assert_alive(guest)


def test_sysenter_with_the_trap_flag_set_is_survived(guest):
    # The single-step trap lands on the kernel's first instruction after
    # sysenter; the kernel drops TF and completes the call.
    out = guest.run("crash sysentertf")
    assert "crash: getpid ok" in out and "crash: survived" in out, out
    assert_alive(guest)


def test_system_calls_with_direction_and_nested_task_flags_set(guest):
    # DF set by the program must not make the kernel copy backwards (it used
    # to overrun a kernel stack and panic), by sysenter or by int $64.
    out = guest.run("crash flags")
    assert out.count("crash: copied forwards") == 2 and "crash: survived" in out, out
    assert_alive(guest)


def test_badptr(guest):
    assert "badptr: ok" in guest.run("badptr")
    assert_alive(guest)


def test_unknown_command(guest):
    assert "not found" in guest.run("nosuchprogram")
    assert_alive(guest)


def test_backspace(guest):
    assert guest.run("echox\b hi") == "hi\n"


def test_kill_line(guest):
    assert guest.run("junk\x15echo ok") == "ok\n"
