"""A flood of malformed and random frames from a Linux peer in a namespace
(tests/e2e/framegen.c; docs/testing.md): afterwards the guest still answers
ping and both of its buffer pools are back at their full count, and udpecho,
whose replies to the flood's made-up sources fail, printed its errors
rate-limited (user/udpecho.c): a line per datagram filled the console that the
test does not read during the flood, which then lost characters of what the
test parses (`ifconfig eth0`) and stalled the guest on the serial port.

`make test` sends 100,000 frames; XV6NET_FLOOD_FRAMES=1000000 (as `make fuzz`
sets it) sends the full million.
"""

import os
import re
import subprocess
import time
from pathlib import Path

import pytest
from labtools import ROOT, counters, pool, running_lab

from xv6net.topology import Guest, GuestNic, Lan, Peer, Topology

pytestmark = [pytest.mark.e2e, pytest.mark.root]

GUEST_IP = "10.0.0.2"
FRAMES = int(os.environ.get("XV6NET_FLOOD_FRAMES", "100000"))
SEED = 20261130
# A tenth at full speed (most of it overflows the tap and the card's ring:
# overrun recovery), the rest at a pace the guest can take, so that most
# frames reach the stack (a TCG guest on a busy 2-core host took about half
# of them at this pace).
BURST = FRAMES // 10
RATE = 5_000
SETTLE = 30.0          # seconds for reassembly and ARP to give their buffers back
REPORT_SECS = 10       # udpecho's interval between two lines of one kind of error


def build_framegen(out: Path) -> Path:
    binary = out / "framegen"
    subprocess.run(["gcc", "-O2", "-Wall", "-Werror", "-o", str(binary),
                    str(ROOT / "tests/e2e/framegen.c")], check=True, timeout=120)
    return binary


def flooded_topology() -> Topology:
    # Short timers, so that what the garbage started (reassembly, ARP
    # resolutions of lab addresses that nobody holds) ends soon after it.
    return Topology(
        lans=[Lan("lan0", "10.0.0.0/24")],
        guests=[Guest("a", [GuestNic("lan0", ip=GUEST_IP)],
                      cmdline="ip.reasmtime=5 arp.reachable=5 arp.gc=10")],
        peers=[Peer("lan0", "10.0.0.1")],
    )


def check_errors_rate_limited(log: str, seconds: float) -> None:
    """At most a line per kind of udpecho error at once, one per REPORT_SECS
    after it, and one when it stopped."""
    lines: dict[str, int] = {}
    for kind in re.findall(r"udpecho: (\w+: [^(\n]*?)(?: \(\d+ more times\))?$", log, re.M):
        lines[kind] = lines.get(kind, 0) + 1
    print(f"udpecho's error lines, by kind: {lines}")
    bound = 2 + int(seconds // REPORT_SECS)
    assert all(n <= bound for n in lines.values()), (lines, bound)


@pytest.mark.timeout(1800)
def test_a_garbage_flood_leaves_the_guest_working_with_its_pools_full(tmp_path):
    framegen = build_framegen(tmp_path)
    with running_lab(flooded_topology(), tmp_path / "lab", capture_lans=False,
                     capture_nics=False) as lab:
        guest = lab.guest("a")
        job = guest.run("udpecho 7 > /dev/null &")     # a socket for UDP to land on
        pgid = int(re.search(r"\[1\] (\d+)", job)[1])
        started = time.monotonic()
        full = pool(guest)
        before = counters(guest)
        gen = [str(framegen), lab.bridge("lan0"), lab.mac("a"), lab.peer_mac("lan0"), GUEST_IP]
        sent = 0
        for count, seed, rate in ((BURST, SEED, 0), (FRAMES - BURST, SEED + 1, RATE)):
            result = lab.peer_run([*gen, str(count), str(seed), str(rate)],
                                  timeout=60 + count / RATE * 4)
            assert result.returncode == 0, result.stderr
            match = re.search(r"sent (\d+) frames", result.stdout)
            assert match, result.stdout
            sent += int(match[1])
        assert sent == FRAMES
        # Stopped before the checks below parse the console: its last counts
        # come out before the shell's prompt (wait), not in their output.
        guest.run(f"kill -- -{pgid}; wait", timeout=30)
        check_errors_rate_limited(guest.log, time.monotonic() - started)
        assert "panic" not in guest.log
        received = counters(guest)["rx_packets"] - before["rx_packets"]
        print(f"the guest's card took {received} of {FRAMES} frames: {counters(guest)}")
        assert received >= FRAMES // 4        # the flood reached the stack, not just the tap
        deadline = time.monotonic() + SETTLE
        while (now := pool(guest)) != full and time.monotonic() < deadline:
            time.sleep(1)
        assert now == full, (full, now)
        ping = lab.peer_run(["ping", "-n", "-c", "3", "-i", "0.2", "-W", "2", GUEST_IP],
                            timeout=30)
        assert " 0% packet loss" in ping.stdout, ping.stdout
        assert guest.run("echo alive | cat") == "alive\n"   # and its programs still run
