"""The console loses nothing when the test is busy elsewhere while the guest prints.

QEMU's serial chardev stops taking bytes from the UART when its host side is
not read; the guest's uartputc then waits a bounded time for the transmitter
and drops characters after it (kernel/uart.c). The toolkit's Console reads
continuously in a thread (src/xv6net/console.py), so a test that does not call
expect for a while must still get every byte, and the guest must count none
dropped. Before that thread, this test lost bytes (see docs/toolkit.md).
"""

import re
import time

import pytest

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
