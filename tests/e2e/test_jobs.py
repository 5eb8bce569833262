"""Job control and signals on the console: ^C reaches the foreground job only,
programs catch it to report, the shell keeps $? and runs && and ||."""

import re
import time

import pytest
from guestnet import INITRD, KERNEL, require_kernel

from xv6net.qemu import NicSpec, VMSpec
from xv6net.vm import VM

pytestmark = pytest.mark.e2e

SLIRP_IP = "ip=10.0.2.15::10.0.2.2:255.255.255.0::eth0:off"
PORT = 7777


@pytest.fixture
def guest(tmp_path):
    """A guest as `make qemu` boots it: on SLiRP, with its address."""
    require_kernel()
    spec = VMSpec(kernel=KERNEL, initramfs=INITRD, cmdline=SLIRP_IP, nics=[NicSpec("user")])
    with VM(spec, logfile=tmp_path / "console.log") as vm:
        vm.wait_for_shell(30)
        yield vm
        print(f"--- console (tail) ---\n{vm.log[-3000:]}")


def start(vm: VM, command: str, ready: str, timeout: float = 10.0) -> None:
    """Type command and wait until it prints ready (it keeps running)."""
    vm.console.sendline(command)
    vm.console.expect(re.escape(ready), timeout)


def interrupt(vm: VM, key: bytes = b"\x03") -> str:
    """Type ^C (or another key) and return what came before the next prompt."""
    vm.console.send(key)
    return vm.console.expect_prompt(10)


def status(vm: VM) -> int:
    return int(vm.run("echo $?"))


def test_ctrl_c_spares_background_jobs(guest):
    # The newcomer's report: ^C on a foreground ping also killed udpecho &.
    out = guest.run(f"udpecho {PORT} &")
    assert re.match(r"\[1\] \d+\n", out), out
    start(guest, "ping 10.0.2.2", "icmp_seq=2")
    stats = interrupt(guest)
    assert "^C\n" in stats
    assert re.search(r"--- 10\.0\.2\.2 ping statistics ---\n"
                     r"(\d+) packets transmitted, \d+ received", stats), stats
    assert status(guest) == 0                       # ping caught SIGINT and ended well
    assert re.search(rf"\[1\]  \d+  Running  udpecho {PORT}", guest.run("jobs"))
    assert guest.run(f"echo hello | nc -u 127.0.0.1 {PORT}") == "hello\n"


def test_ctrl_c_at_the_prompt_gives_a_new_prompt(guest):
    guest.console.send(b"\x03")
    guest.console.expect(r"\^C\n\$ ", 5)
    assert status(guest) == 130
    guest.console.send(b"echo half-typed")
    guest.console.send(b"\x03")                    # the line is dropped, as on Linux
    guest.console.expect(r"\^C\n\$ ", 5)
    assert guest.run("echo whole") == "whole\n"


def test_ctrl_l_is_not_part_of_the_line(guest):
    assert guest.run("ec\x0cho hi") == "hi\n"


def test_ctrl_backslash_quits_the_foreground_job(guest):
    start(guest, "echo started; sleep 100", "started\n")
    time.sleep(0.3)
    assert interrupt(guest, b"\x1c").endswith("^\\")
    assert status(guest) == 131                    # 128 + SIGQUIT
    assert guest.run("echo alive") == "alive\n"


def test_ctrl_c_ends_the_rest_of_the_line(guest):
    start(guest, "echo one; sleep 100; echo two", "one\n")
    time.sleep(0.3)
    assert "two" not in interrupt(guest)


def test_programs_report_on_ctrl_c(guest):
    start(guest, "arping -c 50 10.0.2.2", "Unicast reply")
    out = interrupt(guest)
    assert re.search(r"Sent (\d+) probes \(\1 broadcast\(s\)\)\nReceived \d+ response\(s\)", out)
    start(guest, f"nc -u -l {PORT}", "")
    time.sleep(0.3)
    out = interrupt(guest)
    assert "nc: interrupted: 0 datagrams sent, 0 received" in out, out
    assert status(guest) == 130


def test_status_and_lists(guest):
    assert guest.run("false; echo $?") == "1\n"
    assert guest.run("nosuchprogram; echo $?").endswith("127\n")
    assert guest.run("ls /nonexistent; echo $?").endswith("2\n")
    assert guest.run("sh -c 'exit 3'; echo $?") == "3\n"
    assert guest.run("false && echo no || echo yes") == "yes\n"
    assert guest.run("true && echo a && echo b") == "a\nb\n"
    assert guest.run("true || echo no; echo $?") == "0\n"
    assert guest.run("echo '$?' \"$?\" \\$?") == "$? 0 $?\n"
    assert guest.run("(exit 4) || echo $?") == "4\n"
    assert re.fullmatch(r"\d+\n", guest.run("echo $$"))


def test_fg_and_done(guest):
    assert re.match(r"\[1\] \d+\n", guest.run("sleep 100 &"))
    guest.console.sendline("fg")
    guest.console.expect("sleep 100\n", 5)
    time.sleep(0.3)
    interrupt(guest)
    assert status(guest) == 130
    assert guest.run("jobs") == ""
    guest.run("sleep 0.2 &")
    time.sleep(0.5)
    done = r"\[1\]  Done\s+sleep 0\.2"
    out = notice(guest, done)
    assert re.search(done, out), out
    pid = re.match(r"\[1\] (\d+)\n", guest.run("sleep 100 &"))[1]
    out = guest.run(f"kill -INT -- -{pid}")                # the job's process group
    time.sleep(0.3)
    killed = r"\[1\]  Killed \(SIGINT\)\s+sleep 100"
    out += notice(guest, killed)
    assert re.search(killed, out), out
    assert guest.run("jobs") == ""


def notice(vm: VM, pattern: str, tries: int = 10) -> str:
    """What the shell printed before its prompts until a job notice matching
    pattern came (it prints them before a prompt once it has reaped the job;
    on a loaded host the job may end a while after the signal)."""
    out = ""
    for _ in range(tries):
        out += vm.run("echo x")
        if re.search(pattern, out):
            break
        time.sleep(0.3)
    return out


def test_wait_is_interrupted_by_ctrl_c(guest):
    guest.run("sleep 100 &")
    start(guest, "echo waiting; wait", "waiting\n")
    time.sleep(0.3)
    interrupt(guest)
    assert status(guest) == 130
    assert re.search(r"\[1\]  \d+  Running  sleep 100", guest.run("jobs"))


def test_more_background_jobs_than_the_table_are_collected(guest):
    # Jobs beyond the 16 the shell tracks still get collected: no zombies.
    for _ in range(2):
        guest.run(" ".join(["sleep 0.1 &"] * 10))
    time.sleep(1)
    guest.run("echo x")
    assert "zombie" not in guest.run("echo y") + procdump(guest)


def procdump(vm: VM) -> str:
    vm.console.send(b"\x10")    # ^P: the kernel lists the processes
    time.sleep(0.5)
    return vm.console.drain()


def test_ctrl_p_shows_what_a_sleeper_waits_on(guest):
    # ^P's listing gives a sleeping process's channel: the evidence that
    # told a test's own race from a lost wakeup (docs/kernel.md, signals).
    out = guest.run("sleep 5 &")
    pid = re.match(r"\[1\] (\d+)\n", out)[1]
    for _ in range(10):   # until the job's fork has run sleep, and it sleeps
        listing = procdump(guest)   # (a loaded host caught it once still running)
        if re.search(rf"^\d+ sleep sleep pgid {pid} ", listing, re.M):
            break
    assert re.search(rf"^\d+ sleep sleep pgid {pid} sz \d+ chan 0x[0-9a-f]{{8}}$", listing,
                     re.M), listing
    assert re.search(r"^\d+ sleep sh pgid \d+ sz \d+ chan 0x[0-9a-f]{8}$", listing, re.M), listing
