"""The guest's TCP on a bad link (issue 12): guest a sits behind the lab's
impairment relay (5% loss, 25% reordering, 1% duplication, 1% corruption,
20 ms +- 10 ms delay, both directions); a bulk transfer each way between it
and Linux must arrive intact (SHA-256), and the guest's counters must show
the retransmissions that took.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from labtools import running_lab

from xv6net import topology

pytestmark = [pytest.mark.e2e, pytest.mark.root]

IMPAIR = "loss=5%,reorder=25%,dup=1%,corrupt=1%,delay=20ms:10ms,seed=12"
PEER_IP = "10.0.0.1"
A_IP = "10.0.0.2"
SIZE = 10 * 1024 * 1024   # each way: about 160 s out (NewReno) and 10 s in (Linux with SACK)
XFER = Path(__file__).with_name("xfer.py")


def pattern_digest(size: int) -> str:
    period = bytes(range(251))
    return hashlib.sha256((period * (size // 251 + 1))[:size]).hexdigest()


def retrans(text: str) -> int:
    m = re.search(r"(\d+) segments retransmitted", text)
    assert m, text
    return int(m[1])


def sink_output(vm, wanted: str, timeout: float) -> str:
    """What the background tcpsink wrote so far, once it has written wanted."""
    deadline = time.monotonic() + timeout
    while True:
        text = vm.run("cat sink.out")
        if wanted in text or time.monotonic() > deadline:
            return text
        time.sleep(0.5)


def stalled_state(lab, vm) -> str:
    """What both ends think of a transfer that stopped: Linux's socket (ss -tin),
    what the guest printed, its sockets and its counters (tcpsink runs in the
    background, so the connection is still there while they are read)."""
    ss = lab.peer_run(["ss", "-tino", "state", "all", "( sport = :9201 or dport = :9201 )"],
                      timeout=20)
    printed = vm.run("cat sink.out")
    return (f"--- Linux: ss ---\n{ss.stdout}{ss.stderr}\n--- guest printed ---\n{printed}\n"
            f"--- guest: netstat -tan ---\n{vm.run('netstat -tan')}\n"
            f"--- guest: netstat -s ---\n{vm.run('netstat -s')}")


@pytest.mark.timeout(1300)
def test_bulk_tcp_through_an_impaired_link_arrives_intact(tmp_path):
    topo = topology.with_impairment(topology.two_guests(), IMPAIR, ["a"])
    with running_lab(topo, tmp_path) as lab:
        vm = lab.guest("a")
        before = retrans(vm.run("netstat -s"))
        # Guest to Linux: tcpblast's pattern into xfer.py's sink.
        sink = lab.peer_popen([sys.executable, "-u", str(XFER), "sink", "9200",
                               "--timeout", "600"])
        assert sink.stdout is not None and "listening" in sink.stdout.readline()
        out = vm.run(f"tcpblast {PEER_IP} 9200 {SIZE}", timeout=600)
        assert re.search(rf"tcpblast: sent {SIZE} bytes", out), out
        got = sink.stdout.readline()
        assert f'"bytes": {SIZE}' in got and pattern_digest(SIZE) in got, got
        # Linux to the guest: the same pattern into tcpsink -v.
        # In the background, into a file, so that a stall can be looked at
        # from the shell while the connection is still there.
        vm.run("tcpsink -v 9201 > sink.out &")
        assert "listening on port 9201" in sink_output(vm, "listening", 20)
        script = ("import socket, sys\n"
                  "s = socket.create_connection((sys.argv[1], 9201), timeout=600)\n"
                  f"s.sendall((bytes(range(251)) * ({SIZE} // 251 + 1))[:{SIZE}])\n"
                  "s.shutdown(socket.SHUT_WR)\n"
                  "while s.recv(65536):\n    pass\n"
                  "print('done')\n")
        sender = lab.peer_popen([sys.executable, "-c", script, A_IP])
        try:
            out, _ = sender.communicate(timeout=600)
        except subprocess.TimeoutExpired:
            pytest.fail("Linux's transfer to the guest did not finish in 600 s:\n"
                        + stalled_state(lab, vm))
        assert out.strip() == "done", out
        text = sink_output(vm, "tcpsink: pattern", 60)
        assert re.search(rf"tcpsink: received {SIZE} bytes", text), text
        assert "tcpsink: pattern intact" in text, text
        after = retrans(vm.run("netstat -s"))
        counts = lab.stop_relays()["a eth0"]
    print("relay:", counts, "guest retransmissions:", after - before)
    assert after - before > 0   # 5% loss: the guest had to send again
    for direction in counts.values():
        assert direction["dropped"] > 0 and direction["reordered"] > 0
