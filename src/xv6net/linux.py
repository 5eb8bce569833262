"""Linux's own tools on the lab's LANs: arping, the neighbour table.

Debian packages two arpings that cannot be installed together: Thomas Habets'
(package `arping`, `-i IFACE`) and iputils' (package `iputils-arping`,
`-I IFACE`). `arping_argv` writes the command line for whichever is installed;
`parse.arping_replies` reads either's output.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import time
from collections.abc import Sequence
from typing import Literal

from xv6net.netns import Netns
from xv6net.parse import Neighbour, ip_neigh

Flavour = Literal["iputils", "habets"]
RESOLVE_TIMEOUT = 5.0
RESOLVED = ("REACHABLE", "STALE", "DELAY", "PROBE", "PERMANENT")


@functools.cache
def arping_flavour() -> Flavour:
    """Which arping is installed ("iputils" or "habets")."""
    if shutil.which("arping") is None:
        raise FileNotFoundError("arping is not installed (make bootstrap installs it)")
    result = subprocess.run(["arping", "-V"], capture_output=True, text=True, timeout=10,
                            stdin=subprocess.DEVNULL, check=False)
    return "iputils" if "iputils" in result.stdout + result.stderr else "habets"


def arping_argv(iface: str, addr: str, count: int, flavour: Flavour | None = None) -> list[str]:
    """arping sending count requests for addr out of iface, one a second."""
    flavour = flavour or arping_flavour()
    option = "-I" if flavour == "iputils" else "-i"
    return ["arping", "-c", str(count), option, iface, addr]


def neighbours(netns: Netns, dev: str) -> dict[str, Neighbour]:
    """Linux's neighbour table on dev (`ip -j neigh show dev DEV`)."""
    return ip_neigh(netns.ip("-j", "neigh", "show", "dev", dev).stdout)


def resolve(netns: Netns, dev: str, addr: str, probe: Sequence[str],
            timeout: float = RESOLVE_TIMEOUT) -> Neighbour:
    """Have Linux's own ARP resolve addr, and return the neighbour entry.

    probe is a command that sends addr an IP packet (`peer.py udp ADDR`):
    Linux needs the neighbour's MAC to send it, so its neighbour code sends
    an ARP request, and the entry turns REACHABLE when the reply comes.
    """
    netns.run(probe)
    deadline = time.monotonic() + timeout
    while True:
        entry = neighbours(netns, dev).get(addr)
        if entry is not None and entry.mac and set(entry.states) & set(RESOLVED):
            return entry
        if time.monotonic() >= deadline:
            raise TimeoutError(f"Linux did not resolve {addr} on {dev} within {timeout:g} s "
                               f"(entry: {entry})")
        time.sleep(0.05)
