"""The SMP stress test (issue 17): four CPUs, the network stack and process
creation all busy at once for 30 s.

One guest with `-smp 4` on a bridge, Linux (10.0.0.1) in the lab's namespace.
In the guest: four `udpecho` servers (ports 7001-7004), `tcpecho -n 4` (which
forks a process per connection, so four echo processes), and `forkloop 30`,
which forks children that exit at once and checks each one's exit status.
On Linux: four pairs of client processes (`stressclient.py`), each pair
streaming pseudo-random bytes through one TCP echo connection and keeping four
numbered datagrams in flight to its own udpecho, comparing every echoed byte
and every reply with what it sent. So eight guest processes move data (each TCP echo
process and each udpecho sleeps and wakes per read, and so migrates between
CPUs), the receive thread runs wherever a CPU is free, and the fifth job forks
and exits beside them; guest-side clients would have put the guest's CPUs into
sending rather than into the receive path, which has more locks to get wrong.

Afterwards: no panic and no lock-order report on the console; every TCP byte
came back, in order and unchanged (the count and SHA-256 of the echo equal
the sent stream's); no UDP reply corrupted or unasked for, and any UDP loss no
more than the guest itself counted as dropped; forkloop saw every status
right; the buffer pools (small and big), the process table, the sockets and
the open files back where they were before the run (`sysinfo`).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from labtools import counters, running_lab

from xv6net.topology import Guest, GuestNic, Lan, Peer, Topology

pytestmark = [pytest.mark.e2e, pytest.mark.root]

GUEST_IP = "10.0.0.2"
PEER_IP = "10.0.0.1"
TCP_PORT = 7
UDP_PORTS = (7001, 7002, 7003, 7004)
SECONDS = 30
CLIENT = Path(__file__).with_name("stressclient.py")
CLIENT_TIMEOUT = SECONDS + 150      # the run, then the echo's drain, on a loaded host
SETTLE = 10.0                       # for the last transmit buffers to come back
RUNNING = re.compile(r"^\d+ run \S+ pgid \d+ sz \d+ cpu (\d)$", re.M)
SYSINFO = re.compile(r"^(\w+) (\d+)(?:/(\d+))?", re.M)
# What must be as it was before the run once everything has ended.
RESTORED = ("procs", "sockets", "files", "pbufs", "bigpbufs", "shortpbufs")


def stress_lab() -> Topology:
    return Topology(
        lans=[Lan("lan0", "10.0.0.0/24")],
        guests=[Guest("a", [GuestNic("lan0", ip=GUEST_IP)], cpus=4)],
        peers=[Peer("lan0", PEER_IP)],
    )


def sysinfo(vm) -> dict[str, int]:
    """sysinfo's counts; for a pool "free/total", the free count (total as NAME_total)."""
    out = {}
    for name, value, total in SYSINFO.findall(vm.run("sysinfo")):
        out[name] = int(value)
        if total:
            out[f"{name}_total"] = int(total)
    return out


def wait_restored(vm, before: dict[str, int]) -> dict[str, int]:
    """sysinfo until the RESTORED counts are back to before's, at most SETTLE s."""
    deadline = time.monotonic() + SETTLE
    while True:
        now = sysinfo(vm)
        if all(now[k] == before[k] for k in RESTORED) or time.monotonic() > deadline:
            return now
        time.sleep(0.5)


def udp_counted_drops(vm) -> int:
    """Datagrams the guest says it dropped: at the socket queues and in the card."""
    stats = vm.run("netstat -s")
    udp = re.search(r"(\d+) receive errors\n\s+(\d+) with bad checksums, (\d+) receive buffer "
                    r"errors", stats)
    assert udp, stats
    card = counters(vm)
    return (int(udp[1]) + int(udp[3]) + card.get("rx_dropped", 0) +
            card.get("rx_overruns", 0) + card.get("missed", 0) + card.get("rx_nobuf", 0))


def start_servers(vm) -> list[str]:
    """The udpechos and tcpecho, listening; the udpechos' process groups."""
    jobs = []
    for port in UDP_PORTS:
        job = re.search(r"\[\d+\] (\d+)", vm.run(f"udpecho {port} &"))
        assert job, vm.log[-500:]
        jobs.append(job[1])
    vm.run(f"tcpecho -n {len(UDP_PORTS)} {TCP_PORT} > /dev/null &")
    deadline = time.monotonic() + 15
    while True:
        listing = vm.run("netstat") + vm.run("netstat -tan")
        if (all(f":{p} " in listing for p in UDP_PORTS)
                and f"0.0.0.0:{TCP_PORT} " in listing):
            return jobs
        assert time.monotonic() < deadline, listing
        time.sleep(0.3)


def client(lab, mode: str, port: int, seed: int):
    return lab.peer_popen([sys.executable, "-u", str(CLIENT), mode, GUEST_IP, str(port),
                           str(SECONDS), str(seed)])


def start_clients(lab) -> list[tuple[subprocess.Popen[str], subprocess.Popen[str]]]:
    """Four workers, each a TCP and a UDP client process."""
    return [(client(lab, "tcp", TCP_PORT, seed), client(lab, "udp", port, seed))
            for seed, port in enumerate(UDP_PORTS, start=1)]


def cpus_running(vm, samples: int = 3, gap: float = 5.0) -> set[int]:
    """The CPUs that ^P's process listings show running a process, over a few samples."""
    cpus: set[int] = set()
    for _ in range(samples):
        time.sleep(gap)
        vm.console.send(b"\x10")
        time.sleep(0.5)
        cpus |= {int(c) for c in RUNNING.findall(vm.console.drain(quiet=0.3))}
    return cpus


def finish_clients(pairs) -> list[dict[str, object]]:
    """Each worker's two reports, merged."""
    reports = []
    for pair in pairs:
        report: dict[str, object] = {}
        for proc in pair:
            out, err = proc.communicate(timeout=CLIENT_TIMEOUT)
            assert proc.returncode == 0, (out, err)
            report.update(json.loads(out.strip().splitlines()[-1]))
        reports.append(report)
    return reports


@pytest.fixture
def lab(tmp_path):
    with running_lab(stress_lab(), tmp_path) as lab:
        yield lab


def test_four_cpus_echo_tcp_and_udp_while_forking(lab):
    vm = lab.guest("a")
    assert "cpus: 4" in vm.boot_log
    lab.peer_run(["ping", "-c", "1", "-W", "5", GUEST_IP], timeout=10, check=True)  # ARP
    before = sysinfo(vm)
    assert before["pbufs"] > 0 and before["bigpbufs"] > 0, before
    udpechos = start_servers(vm)
    drops_before = udp_counted_drops(vm)

    vm.console.sendline(f"forkloop {SECONDS}")
    vm.console.expect(f"forkloop {SECONDS}", timeout=5)       # the shell's echo
    pairs = start_clients(lab)
    cpus = cpus_running(vm)
    reports = finish_clients(pairs)
    forked = vm.console.expect_prompt(60)
    for job in udpechos:   # tcpecho ends by itself after its fourth connection
        vm.run(f"kill -- -{job}")
    vm.run("wait", timeout=30)

    print(f"cpus seen running processes: {sorted(cpus)}; {forked.strip()}")
    log = vm.log
    assert "panic" not in log and "lockdep" not in log, log[-3000:]
    assert len(cpus) >= 2, cpus
    assert re.search(r"forkloop: \d+ children in \d+ s, every status right", forked), forked
    for worker, report in enumerate(reports):
        assert report["tcp_error"] == "" and report["tcp_mismatch_at"] is None, (worker, report)
        assert report["tcp_sent"] > 0 and report["tcp_echoed"] == report["tcp_sent"], report
        assert report["tcp_echo_sha256"] == report["tcp_sent_sha256"], report
        assert report["udp_ok"] > 0 and report["udp_corrupt"] == 0, report
        assert report["udp_unexpected"] == 0 and report["udp_send_errors"] == 0, report
    lost = sum(r["udp_lost"] for r in reports)
    counted = udp_counted_drops(vm) - drops_before
    assert lost <= counted, f"{lost} datagrams lost, the guest counted {counted}: {reports}"
    after = wait_restored(vm, before)
    assert {k: after[k] for k in RESTORED} == {k: before[k] for k in RESTORED}, (before, after)
    print(json.dumps(reports, indent=1))
