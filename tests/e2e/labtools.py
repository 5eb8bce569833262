"""Shared by the lab tests: bring a topology up, drive ethsend/ethrecv, read counters.

Not a test module (pytest collects test_*.py only); the test modules import it
from their own directory.
"""

from __future__ import annotations

import json
import select
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from xv6net import nics, parse
from xv6net.lab import Lab
from xv6net.topology import Topology
from xv6net.vm import VM

ROOT = Path(__file__).resolve().parents[2]
KERNEL = ROOT / "build" / "kernel.elf"
INITRD = ROOT / "build" / "initramfs.cpio"
TEST_TYPE = "88b5"
POOL_SETTLE = 3.0   # seconds for transmit buffers to come back after a burst


def require_kernel() -> None:
    for path in (KERNEL, INITRD):
        if not path.is_file():
            pytest.skip(f"{path.relative_to(ROOT)} is missing: run `make` first")


@contextmanager
def running_lab(topology: Topology, results: Path, **kwargs: object) -> Iterator[Lab]:
    """A Lab on the built kernel; on the way out the consoles' tails are printed
    (pytest shows them when the test failed)."""
    require_kernel()
    lab = Lab(topology, results, kernel=KERNEL, initramfs=INITRD, **kwargs)  # type: ignore[arg-type]
    try:
        with lab:
            yield lab
    finally:
        for name, vm in lab.guests.items():
            print(f"--- {name} console (tail) ---\n{vm.log[-2500:]}\n"
                  f"--- {name} QEMU output ---\n{vm.stderr}")


# ---- guest side -------------------------------------------------------------------

def counters(vm: VM, ifname: str = "eth0") -> dict[str, int]:
    return parse.ifconfig_counters(vm.run(f"ifconfig {ifname}"))[ifname]


def pool(vm: VM) -> parse.Pbufs:
    return parse.pbufs(vm.run("netstat -m"))


def wait_for_pool(vm: VM, expected: parse.Pbufs, timeout: float = POOL_SETTLE) -> parse.Pbufs:
    """netstat -m until it shows expected (buffers of the last frames sent come back
    when the card reports them done), at most timeout seconds; the last reading."""
    deadline = time.monotonic() + timeout
    while True:
        now = pool(vm)
        if now == expected or time.monotonic() >= deadline:
            return now
        time.sleep(0.2)


def start_ethrecv(vm: VM, count: int, ifname: str = "eth0", seconds: int = 10) -> None:
    """Start `ethrecv -q` and return once its socket is bound."""
    vm.console.sendline(f"ethrecv -q -t {seconds} {ifname} {TEST_TYPE} {count}")
    vm.console.expect(f"ethrecv: listening on {ifname} for {count} frames", timeout=10)


def finish_ethrecv(vm: VM, timeout: float = 30.0) -> parse.EthrecvSummary:
    return parse.ethrecv_summary(vm.console.expect_prompt(timeout))


def ethsend(vm: VM, dst: str, count: int, ifname: str = "eth0", burst: int = 0) -> None:
    """count frames from vm; with burst, a clock tick's pause after every burst frames."""
    pace = f"-b {burst} " if burst else ""
    out = vm.run(f"ethsend {pace}{ifname} {dst} {TEST_TYPE} {count}", timeout=60)
    assert f"sent {count} frames" in out, out


def burst_for(model: str) -> int:
    """How many frames a sender may send back to back to a guest with this card:
    all of them, unless its receive ring holds fewer than a few hundred (the
    ne2k's holds 110), then an eighth of a ring between pauses (ethsend -b: a
    10 ms tick). QEMU's ne2k drops a frame that finds its ring full (there is
    no flow control back to the sender), so the receiving guest must drain the
    ring before the pauses add up to a full one: with an eighth, its vCPU may
    be held off for 80 ms. Half a ring lost frames between two ne2k guests on
    the stream backend, which hands the receiving QEMU several bursts at once,
    and a quarter (40 ms) did on a bridge in CI with the machine loaded."""
    capacity = nics.model(model).ring_capacity()
    return 0 if capacity >= 200 else capacity // 8


def gap_us_for(model: str) -> int:
    """The pause a Linux sender (peer.py send --gap-us) leaves between frames to a
    guest with this card: none, unless its ring is small; then 0.5 ms, so that a
    full ring takes 55 ms to arrive (see burst_for)."""
    return 0 if burst_for(model) == 0 else 500


# ---- Linux side -------------------------------------------------------------------

# A Linux peer's TCP sink (python3 -c SINK_SERVER ADDR PORT): accept one
# connection on ADDR:PORT, print "ready", then print the length and SHA-256 of what it sent.
SINK_SERVER = """
import hashlib, socket, sys
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((sys.argv[1], int(sys.argv[2])))
srv.listen(1)
print("ready", flush=True)
c, peer = srv.accept()
c.settimeout(120)
h = hashlib.sha256()
n = 0
while True:
    b = c.recv(65536)
    if not b:
        break
    h.update(b)
    n += len(b)
c.close()
print("got", n, h.hexdigest(), flush=True)
"""


def start_peer_recv(lab: Lab, iface: str, count: int,
                    seconds: float = 20.0) -> subprocess.Popen[str]:
    """peer.py recv in the namespace, returned once its socket is bound."""
    proc = lab.peer_popen(lab.peer_tool("recv", iface, TEST_TYPE, str(count),
                                        "--timeout", str(seconds)))
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], 10)
    line = proc.stdout.readline() if ready else ""
    assert line.startswith(f"peer: listening on {iface}"), (line, proc.poll())
    return proc


def finish_peer_recv(proc: subprocess.Popen[str], timeout: float = 30.0) -> dict[str, object]:
    out, err = proc.communicate(timeout=timeout)
    assert out.strip(), err
    return json.loads(out.strip().splitlines()[-1])
