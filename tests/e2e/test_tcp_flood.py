"""TCP under floods from Linux (issue 12): hping3's SYN flood at a listening
port, then RSTs and ACKs with random sequence numbers aimed at an established
connection. That connection must survive, a new one must succeed afterwards,
the shell must answer, and the buffer pools must be back at their full count.

The floods come from the lab's own namespace address (no spoofed sources) and
are bounded by a packet count and a timeout.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import pytest
from labtools import pool, running_lab, wait_for_pool

from xv6net import topology

pytestmark = [pytest.mark.e2e, pytest.mark.root]

A_IP = "10.0.0.2"
PORT = 7
RATE_US = 200        # one packet every 200 us: 5,000 a second
SYN_COUNT = 50_000   # 10 s of SYNs
RST_COUNT = 15_000   # 3 s each of RSTs and of ACKs

# Holds one connection to the echo server: prints its local port, then, each
# time FLAG appears, sends a line and prints what came back.
HOLDER = """
import os, socket, sys, time
addr, port, flag = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.create_connection((addr, port), timeout=30)
print("port", s.getsockname()[1], flush=True)
for round in range(2):
    while not os.path.exists(flag):
        time.sleep(0.1)
    os.unlink(flag)
    s.sendall(b"still here %d\\n" % round)
    got = b""
    while not got.endswith(b"\\n"):
        b = s.recv(100)
        if not b:
            break
        got += b
    print("echo", got.decode().strip(), flush=True)
"""

NEW_CONNECTION = """
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
s.sendall(b"after the flood\\n")
print(s.recv(100).decode().strip())
"""


def tcp_counter(text: str, phrase: str) -> int:
    m = re.search(rf"(\d+) {phrase}", text)
    assert m, text
    return int(m[1])


def hping(lab, *args: str, count: int) -> str:
    argv = ["hping3", "-q", "-c", str(count), "-i", f"u{RATE_US}", *args, A_IP]
    result = lab.peer_run(argv, timeout=count * RATE_US / 1e6 + 30)
    return result.stdout + result.stderr


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    results = tmp_path_factory.mktemp("tcpflood")
    with running_lab(topology.two_guests(), results, capture_lans=False, capture_nics=False) as lab:
        lab.guest("a").run(f"tcpecho {PORT} > /dev/null &")
        deadline = time.monotonic() + 10
        while f"0.0.0.0:{PORT} " not in lab.guest("a").run("netstat -tan"):
            assert time.monotonic() < deadline, "tcpecho did not listen"
            time.sleep(0.2)
        yield lab


def test_floods_leave_connections_and_pools_intact(lab, tmp_path: Path):
    vm = lab.guest("a")
    full = pool(vm)
    flag = tmp_path / "flag"
    holder = lab.peer_popen([sys.executable, "-u", "-c", HOLDER, A_IP, str(PORT), str(flag)])
    assert holder.stdout is not None
    line = holder.stdout.readline().split()
    assert line[0] == "port", line
    cport = line[1]
    flag.touch()
    assert holder.stdout.readline().strip() == "echo still here 0"

    before = vm.run("netstat -s")
    out = hping(lab, "-S", "-p", str(PORT), count=SYN_COUNT)
    assert "packets transmitted" in out, out
    assert vm.run("echo alive", timeout=10) == "alive\n"   # the shell answers
    # RSTs and ACKs at the held connection's 4-tuple, random sequence numbers.
    for flags in ("-R", "-A"):
        out = hping(lab, flags, "-s", cport, "-k", "-p", str(PORT), count=RST_COUNT)
        assert "packets transmitted" in out, out
    after = vm.run("netstat -s")
    opened = tcp_counter(after, "passive connection openings") - \
        tcp_counter(before, "passive connection openings")
    assert opened > SYN_COUNT // 4, after          # the SYNs reached the stack
    assert tcp_counter(after, "resets ignored") > RST_COUNT // 2, after

    flag.touch()
    assert holder.stdout.readline().strip() == "echo still here 1"   # it survived
    result = lab.peer_run([sys.executable, "-c", NEW_CONNECTION, A_IP, str(PORT)], timeout=30)
    assert result.stdout.strip() == "after the flood", result
    assert vm.run("echo alive", timeout=10) == "alive\n"
    assert wait_for_pool(vm, full, timeout=10) == full
    assert "panic" not in vm.log
