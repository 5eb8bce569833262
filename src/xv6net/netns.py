"""A small iproute2 wrapper: one network namespace with bridges, taps and addresses.

    with Netns() as ns:                       # ip netns add xv6n-<pid>-<n>
        ns.add_bridge("br-lan", mac="52:54:76:37:00:00")
        ns.add_tap("tap-a-0", bridge="br-lan")
        ns.add_address("br-lan", "10.0.0.1/24")
        print(ns.run(["ip", "neigh"]).stdout)  # ip netns exec xv6n-... ip neigh
    # ip netns delete xv6n-<pid>-<n>: every bridge and tap in it goes with it

Everything is created *inside* the namespace (`ip -n NS ...`), so nothing ever
touches the host's own interfaces, and bridge and tap names cannot collide with
another run's: each run has its own namespace, whose name carries our process
id and a counter. Deleting the namespace removes the devices in it (bridges and
tuntap devices are virtual: the kernel destroys them with the namespace rather
than moving them back to the host) once the last process inside has exited.

Commands go through a `Runner` (argv, timeout) -> CompletedProcess, so unit
tests can record the commands instead of running them.
"""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType

from xv6net.vm import kill_with_parent

Runner = Callable[[Sequence[str], float], "subprocess.CompletedProcess[str]"]

PREFIX = "xv6n"
IFNAMSIZ = 15                  # Linux interface names: at most 15 bytes
NSNAME_MAX = 32                # ours are short; iproute2 would take up to NAME_MAX
DEFAULT_TIMEOUT = 10.0
HOLD_BRIDGE = "xv6n-hold"      # a bridge kept down, see Netns.detach
NETNS_DIR = Path("/run/netns")
_IFNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_OURS = re.compile(rf"^{PREFIX}-(?P<pid>\d+)-\d+$")
_counter = itertools.count(1)


class NetnsError(RuntimeError):
    """An iproute2 command failed."""


class NeedRootError(NetnsError, PermissionError):
    """Namespaces, bridges and taps need root."""


def require_root(what: str) -> None:
    """Raise NeedRootError with a helpful message unless we run as root."""
    if os.geteuid() != 0:
        raise NeedRootError(
            f"{what} needs root (it creates a network namespace, bridges and taps); "
            "run as root, or use a topology without bridged LANs (stream or slirp)")


def check_ifname(name: str) -> str:
    """Return name if Linux accepts it as an interface name, else raise ValueError."""
    if not (0 < len(name.encode()) <= IFNAMSIZ) or not _IFNAME.fullmatch(name):
        raise ValueError(f"bad interface name {name!r}: 1-{IFNAMSIZ} characters "
                         "of letters, digits, '_', '.', '-'")
    return name


def check_nsname(name: str) -> str:
    """Return name if it is a short, plain namespace name, else raise ValueError."""
    if len(name) > NSNAME_MAX or not _IFNAME.fullmatch(name):
        raise ValueError(f"bad namespace name {name!r}: 1-{NSNAME_MAX} characters "
                         "of letters, digits, '_', '.', '-'")
    return name


def unique_name(prefix: str = PREFIX, exists: Callable[[str], bool] | None = None) -> str:
    """A namespace name no other run uses: PREFIX-<our pid>-<counter>.

    A process id is unique among live processes; a name left over by a dead
    process with the same id is skipped.
    """
    taken = exists or (lambda name: (NETNS_DIR / name).exists())
    while True:
        name = f"{prefix}-{os.getpid()}-{next(_counter)}"
        if not taken(name):
            return name


def subprocess_runner(argv: Sequence[str], timeout: float) -> subprocess.CompletedProcess[str]:
    """Run argv to completion with a timeout, capturing its output as text."""
    try:
        return subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL, check=False)
    except FileNotFoundError as err:
        raise NetnsError(f"cannot run {argv[0]}: {err} (is iproute2 installed?)") from None
    except subprocess.TimeoutExpired:
        raise NetnsError(f"{' '.join(argv)}: no result within {timeout:g} s") from None


def _checked(argv: Sequence[str], result: subprocess.CompletedProcess[str]) -> None:
    if result.returncode != 0:
        detail = (result.stderr or result.stdout or "").strip()
        raise NetnsError(f"{' '.join(argv)} failed ({result.returncode}): {detail}")


class Netns:
    """One network namespace and the devices in it; a context manager.

    `create` (or entering the `with` block) adds the namespace, turns IPv6 off
    in it (no router solicitations or MLD reports in the captures) and brings
    its loopback up; if any of that fails, the namespace is deleted again.
    `delete` is idempotent and is what leaving the block does.
    """

    def __init__(self, name: str | None = None, *, runner: Runner = subprocess_runner,
                 timeout: float = DEFAULT_TIMEOUT) -> None:
        self.name = check_nsname(name or unique_name())
        self.runner = runner
        self.timeout = timeout
        self.created = False
        self._held: set[str] = set()

    # ---- commands --------------------------------------------------------

    def exec_argv(self, argv: Sequence[str]) -> list[str]:
        """argv wrapped so that it runs inside the namespace."""
        return ["ip", "netns", "exec", self.name, *argv]

    def _call(self, argv: Sequence[str], timeout: float | None = None,
              check: bool = True) -> subprocess.CompletedProcess[str]:
        result = self.runner(argv, timeout or self.timeout)
        if check:
            _checked(argv, result)
        return result

    def run(self, argv: Sequence[str], timeout: float | None = None,
            check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run argv inside the namespace and wait for it (bounded by timeout)."""
        return self._call(self.exec_argv(argv), timeout, check)

    def ip(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`ip -n NAME args...`: an iproute2 command applied inside the namespace."""
        return self._call(["ip", "-n", self.name, *args])

    # ---- life cycle ------------------------------------------------------

    def create(self) -> None:
        require_root("a network namespace")
        self._call(["ip", "netns", "add", self.name])
        self.created = True
        try:
            self.run(["sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1",
                      "net.ipv6.conf.default.disable_ipv6=1"])
            self.link_up("lo")
        except BaseException:
            self.delete()
            raise

    def delete(self) -> None:
        """Delete the namespace (and with it every device in it); safe to call twice."""
        if not self.created:
            return
        self.created = False
        result = self._call(["ip", "netns", "delete", self.name], check=False)
        if result.returncode != 0 and "No such file" not in result.stderr:
            print(f"xv6net: could not delete namespace {self.name}: {result.stderr.strip()}",
                  file=sys.stderr)

    def __enter__(self) -> Netns:
        self.create()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.delete()

    # ---- devices ---------------------------------------------------------

    def link_up(self, dev: str) -> None:
        self.ip("link", "set", "dev", check_ifname(dev), "up")

    def add_bridge(self, name: str, mac: str | None = None) -> None:
        """A Linux bridge without STP (ports forward at once), up.

        A fixed MAC keeps the bridge's address from changing as ports join
        (by default it takes the smallest port MAC).
        """
        args = ["link", "add", "name", check_ifname(name)]
        if mac is not None:
            args += ["address", mac]
        self.ip(*args, "type", "bridge", "stp_state", "0")
        self.link_up(name)

    def add_tap(self, name: str, bridge: str | None, queue_len: int | None = None) -> None:
        """A persistent tap device for QEMU to open, attached to bridge (or to
        nothing: an impairment relay carries its frames), up.

        queue_len sets the tap's txqueuelen, which is how many frames the
        kernel holds for QEMU to read (the tap's queue is sized from it when
        QEMU opens the device; Linux's default is 1000).
        """
        self.ip("tuntap", "add", "dev", check_ifname(name), "mode", "tap")
        master = ["master", check_ifname(bridge)] if bridge is not None else []
        qlen = ["txqueuelen", str(queue_len)] if queue_len else []
        if master or qlen:
            self.ip("link", "set", "dev", name, *master, *qlen)
        self.link_up(name)

    def add_veth(self, name: str, peer: str, bridge: str | None = None,
                 queue_len: int | None = None) -> None:
        """A veth pair, both ends up, peer attached to bridge if one is given.

        Checksum offload and segmentation are turned off on both ends (see
        `no_offload`): a relay reads these frames with AF_PACKET and copies them.
        """
        self.ip("link", "add", "name", check_ifname(name), "type", "veth",
                "peer", "name", check_ifname(peer))
        for dev in (name, peer):
            if queue_len:
                self.ip("link", "set", "dev", dev, "txqueuelen", str(queue_len))
            self.no_offload(dev)
        if bridge is not None:
            self.ip("link", "set", "dev", peer, "master", check_ifname(bridge))
        self.link_up(name)
        self.link_up(peer)

    def no_offload(self, dev: str) -> None:
        """Make Linux finish every frame it sends on dev in software.

        With offload on, a frame Linux sends on a veth carries a partial
        checksum (left for "hardware" that a veth does not have) and may be a
        64 KiB TSO/GSO super-frame: fine between two Linux stacks, wrong bytes
        once a relay copies it to a tap or through a packet socket.
        """
        self.run(["ethtool", "-K", check_ifname(dev), "tx", "off", "tso", "off", "gso", "off",
                  "gro", "off"])

    def detach(self, dev: str) -> None:
        """Keep the namespace's own IP stack away from dev's frames.

        A relay's interfaces (a tap not on a bridge, a veth end) are up in a
        namespace whose bridge holds the Linux peers' addresses, and Linux
        answers ARP for its addresses on every interface: frames from the
        guest would reach Linux without crossing the relay. So dev becomes a
        port of a bridge that is never brought up; a port of a bridge that is
        down is disabled, and the bridge drops what it receives, after packet
        sockets (the relay) have had their copy and before IP sees it. (This
        kernel has no tc drop action, so no ingress filter instead.)
        """
        if HOLD_BRIDGE not in self._held:
            self.ip("link", "add", "name", HOLD_BRIDGE, "type", "bridge")
        self._held.add(HOLD_BRIDGE)
        self.ip("link", "set", "dev", check_ifname(dev), "master", HOLD_BRIDGE)

    def move_link(self, dev: str, other: Netns) -> None:
        """Move dev into another namespace (a second Linux host on the lab's links)."""
        self.ip("link", "set", "dev", check_ifname(dev), "netns", other.name)

    def add_route(self, dst: str, via: str) -> None:
        """A route to dst ("default" or CIDR) through the gateway via."""
        self.ip("route", "add", dst, "via", via)

    def add_address(self, dev: str, cidr: str) -> None:
        """An IPv4 address with prefix length ("10.0.0.1/24") on dev."""
        self.ip("address", "add", cidr, "dev", check_ifname(dev))

    def link_mac(self, dev: str) -> str:
        """dev's MAC address as the kernel reports it."""
        out = self.ip("-o", "link", "show", "dev", check_ifname(dev)).stdout
        match = re.search(r"link/ether ([0-9a-f:]{17})", out)
        if match is None:
            raise NetnsError(f"no MAC address for {dev}: {out.strip()}")
        return match.group(1)

    def popen(self, argv: Sequence[str]) -> subprocess.Popen[str]:
        """Start argv inside the namespace without waiting; the caller must stop it.

        stdout and stderr are pipes. `ip netns exec` execs argv in place, so
        the process gets SIGKILL if we die before stopping it.
        """
        require_root("a command in a network namespace")
        return subprocess.Popen(self.exec_argv(argv), text=True, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                preexec_fn=kill_with_parent())  # noqa: PLW1509


# ---- namespaces left behind by runs that were killed -------------------------

def list_namespaces(runner: Runner = subprocess_runner) -> list[str]:
    """Names of all network namespaces (`ip netns list`)."""
    result = runner(["ip", "netns", "list"], DEFAULT_TIMEOUT)
    _checked(["ip", "netns", "list"], result)
    return [line.split()[0] for line in result.stdout.splitlines() if line.strip()]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stale_namespaces(names: Sequence[str], alive: Callable[[int], bool] = _pid_alive) -> list[str]:
    """Those of our namespaces whose creating process no longer exists."""
    stale = []
    for name in names:
        match = _OURS.match(name)
        if match and not alive(int(match["pid"])):
            stale.append(name)
    return stale


def remove_stale(runner: Runner = subprocess_runner) -> list[str]:
    """Delete the namespaces of dead xv6net runs; return their names."""
    require_root("removing network namespaces")
    removed = []
    for name in stale_namespaces(list_namespaces(runner)):
        ns = Netns(name, runner=runner)
        ns.created = True
        ns.delete()
        removed.append(name)
    return removed
