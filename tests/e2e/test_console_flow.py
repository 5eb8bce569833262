"""The console loses nothing when the test is busy elsewhere while the guest prints.

QEMU's serial chardev stops taking bytes from the UART when its host side is
not read; the guest's uartputc then waits a bounded time for the transmitter
and drops characters after it (kernel/uart.c). The toolkit's Console reads
continuously in a thread (src/xv6net/console.py), so a test that does not call
expect for a while must still get every byte, and the guest must count none
dropped. Before that thread, this test lost bytes (see docs/toolkit.md).
"""

import os
import re
import signal
import threading
import time

import pytest

from xv6net.vm import VM

pytestmark = pytest.mark.e2e

COUNT = 60_000    # seq's lines: 348,894 bytes, 408,894 with the console's "\r\n"
AWAY = 6.0        # seconds the test spends "elsewhere", not reading the console
SEQ_TIMEOUT = 120.0


def first_difference(lines: list[str], count: int) -> str:
    for i, line in enumerate(lines):
        if line != str(i + 1):
            return f"line {i + 1} is {line!r}"
    return f"{len(lines)} lines of {count}"


def test_big_output_while_the_test_is_away_arrives_whole(guest):
    console = guest.console
    console.sendline(f"seq {COUNT}")
    time.sleep(AWAY)             # no expect, no drain: busy elsewhere
    before = console.expect_prompt(timeout=SEQ_TIMEOUT)
    _echo, _, output = before.partition("\n")
    lines = output.splitlines()
    expected = [str(n) for n in range(1, COUNT + 1)]
    assert lines == expected, first_difference(lines, COUNT)
    info = guest.run("sysinfo")
    dropped = re.search(r"(?m)^uartdropped (\d+)$", info)
    assert dropped, info
    assert dropped.group(1) == "0", info


def reader_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith("console-reader-")}


def wait_until(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_reader_thread_ends_when_qemu_dies_and_when_closed(guest_spec):
    others = reader_threads()                     # any other test's consoles
    with VM(guest_spec()) as vm:
        vm.wait_for_shell(30)
        assert len(reader_threads() - others) == 1
        os.kill(vm.pid, signal.SIGKILL)          # the VM stops under the console
        assert wait_until(lambda: vm.console.eof, 10), vm.log[-300:]
        assert wait_until(lambda: not reader_threads() - others, 10)
    with VM(guest_spec()) as vm:
        vm.wait_for_shell(30)
        assert len(reader_threads() - others) == 1
    assert not reader_threads() - others          # VM.close joined it
