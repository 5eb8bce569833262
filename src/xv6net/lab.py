"""Bring a topology up: namespace, bridges, taps, QEMU guests, pcaps; tear it all down.

    with Lab(topology.two_guests(), results=Path("build/lab")) as lab:
        a, b = lab.guest("a"), lab.guest("b")      # VMs, booted to the shell
        print(a.run("arping -c 1 10.0.0.3"))
        print(lab.peer_run(["ip", "neigh"]).stdout)
        print(lab.pcap("b", 0))                     # build/lab/b-eth0.pcap

Bridged LANs live in one network namespace that the lab creates (root only):
a bridge per LAN, holding the Linux peers' addresses, and a tap per guest NIC;
the QEMU processes start inside the namespace (`ip netns exec NS qemu...`), so
they and the taps see nothing of the host's network. Stream LANs join two
guests over loopback and SLiRP LANs use QEMU's user network with restrict=on;
a topology with only those needs no root and no namespace.

Every NIC is captured by QEMU's filter-dump into RESULTS/<guest>-eth<N>.pcap,
every bridge by dumpcap into RESULTS/<lan>.pcap, and every console is logged
to RESULTS/<guest>-console.log.

Teardown runs in reverse order on leaving the block, on an error during
bring-up and on Ctrl-C: the guests (QEMU killed), peer processes, the bridge
captures, then the namespace (with everything in it). A second Ctrl-C does not
cut it short. docs/lab.md has the whole story.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path
from types import FrameType, TracebackType

from xv6net import linux, nics
from xv6net import peer as peer_module
from xv6net.netns import Netns, NetnsError, Runner, subprocess_runner
from xv6net.parse import Neighbour
from xv6net.qemu import Accel, NicSpec, VMSpec
from xv6net.relay import ImpairRelay, RelayError, format_counts, packet_argv, stream_argv
from xv6net.services import (
    DhcpLease,
    DnsmasqProcess,
    ServiceError,
    dnsmasq_conf,
    read_leases,
    udp_ports,
)
from xv6net.topology import (
    Dnsmasq,
    Guest,
    GuestNic,
    Lan,
    NicRef,
    Peer,
    Topology,
    host_peer,
    hosts,
    impairments,
    kernel_cmdline,
    route_command,
    runtime_addresses,
    runtime_dhcp,
)
from xv6net.vm import VM, VMError

__all__ = ["Dnsmasq", "Guest", "GuestNic", "Lab", "LabError", "Lan", "Peer", "Topology"]

KERNEL = Path("build/kernel.elf")
INITRD = Path("build/initramfs.cpio")
BOOT_TIMEOUT = 30.0
LISTEN_TIMEOUT = 10.0
# QEMU's e1000 holds received frames back for one second (virtual clock) after
# every write to RCTL, and the driver writes RCTL while booting: frames sent to
# a guest that has just booted arrive a second late (queued, not lost). A lab
# with an e1000 is ready once that second has passed for every guest (the
# model's rx_hold_s, plus this margin); the other cards hold nothing back.
RX_SETTLE_MARGIN = 0.2
# Frames a tap holds for a QEMU that is slow to read them. Nothing paces a
# sender on a bridge: a guest bursts 1,000 frames in about 20 ms, and with
# Linux's default of 1000 a receiving guest that falls behind lost the last
# few in the tap (its TX dropped counter) before its QEMU ever saw them.
TAP_QUEUE_LEN = 4096
PEER_STOP_TIMEOUT = 5.0
CAPTURE_TIMEOUT = 10.0
CAPTURE_DRAIN = 0.6    # seconds; see BridgeCapture.stop
CAPTURE_BUFFER_MIB = 16   # dumpcap's kernel buffer (its default, 2 MiB, overflowed under load)
# dumpcap's last words: "Packets received/dropped on interface 'br0': 1234/0 (pcap:0/...)"
CAPTURE_DROPS = re.compile(r"Packets received/dropped on interface .*: (\d+)/(\d+)")
# Bridges get fixed MACs (else a bridge takes its smallest port's MAC, which
# changes as taps join): locally administered, apart from the guests' 52:54:76:36.
PEER_MAC_PREFIX = "52:54:76:37:00"
HOST_MAC_PREFIX = "52:54:76:38:00"   # the Linux hosts' ends of their veth pairs
class LabError(RuntimeError):
    """The lab could not be brought up or used as asked."""


# What a failed bring-up raises, besides KeyboardInterrupt and TopologyError.
LAB_ERRORS: tuple[type[Exception], ...] = (LabError, VMError, NetnsError, ServiceError,
                                            RelayError)
DHCP_BOOT_TIMEOUT = 60.0   # dhclient for a second NIC, from the shell


def bridge_name(lan: str) -> str:
    return f"br-{lan}"


def tap_name(guest: str, number: int) -> str:
    return f"tap-{guest}-{number}"


def relay_names(guest: str, number: int) -> tuple[str, str]:
    """An impaired NIC's veth pair: the relay's end, and the end on the bridge."""
    return f"im-{guest}-{number}", f"ib-{guest}-{number}"


def peer_mac(lan_index: int) -> str:
    return f"{PEER_MAC_PREFIX}:{lan_index:02x}"


def veth_name(host: str) -> str:
    """The bridge's end of a Linux host's veth pair (its own end is eth0)."""
    return f"vh-{host}"


def host_mac(host_index: int) -> str:
    return f"{HOST_MAC_PREFIX}:{host_index:02x}"


class BridgeCapture:
    """dumpcap on a bridge inside the namespace: one capture of the whole LAN.

    Each QEMU stamps its filter-dump frames with its own virtual clock plus
    the wall-clock second at which the filter was made, so the NIC captures
    of two guests disagree by up to a second or so and cannot be merged by
    time. A capture on the bridge has one clock and sees every frame on the
    LAN (the bridge is promiscuous while dumpcap runs, so frames forwarded
    between two taps reach it too).
    """

    def __init__(self, netns: Netns, iface: str, path: Path) -> None:
        self.netns = netns
        self.iface = iface
        self.path = path
        self._proc: subprocess.Popen[str] | None = None
        self.dropped: int | None = None   # frames dumpcap says it lost, once stopped

    def start(self, timeout: float = CAPTURE_TIMEOUT) -> None:
        """Start dumpcap and wait until it captures (it names the file)."""
        self._proc = self.netns.popen(["dumpcap", "-q", "-P", "-i", self.iface,
                                       "-B", str(CAPTURE_BUFFER_MIB),
                                       "-w", str(self.path.resolve())])
        assert self._proc.stderr is not None
        fd = self._proc.stderr.fileno()
        deadline = time.monotonic() + timeout
        seen = b""
        while b"File:" not in seen:
            remaining = deadline - time.monotonic()
            ready, _, _ = select.select([fd], [], [], max(remaining, 0))
            data = os.read(fd, 4096) if ready else b""
            if not data:
                self.stop()
                raise LabError(f"dumpcap on {self.iface} did not start within {timeout:g} s: "
                               f"{seen.decode(errors='replace').strip()}")
            seen += data

    def stop(self) -> None:
        """Stop dumpcap and wait for it; its file then holds every frame so far.

        libpcap hands frames to dumpcap in blocks, at the latest after its
        read timeout (250 ms), and dumpcap drops what it has not read when it
        gets SIGINT: so the frames of the last moment get time to arrive first.
        """
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            time.sleep(CAPTURE_DRAIN)
            proc.send_signal(signal.SIGINT)
        try:
            _, err = proc.communicate(timeout=PEER_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate(timeout=PEER_STOP_TIMEOUT)
        self.dropped = capture_drops(err or "")


def capture_drops(stderr: str) -> int | None:
    """The frames dumpcap's summary says it dropped (None without a summary)."""
    found = CAPTURE_DROPS.search(stderr)
    return int(found.group(2)) if found else None


def hand_over(paths: Iterable[Path]) -> None:
    """Make what a run left readable by everyone (files 0644, directories 0755)
    and, when it ran as root through sudo, owned by the user who ran sudo:
    dumpcap writes its capture 0600, and root's files are in the user's tree."""
    uid, gid = os.environ.get("SUDO_UID"), os.environ.get("SUDO_GID")
    chown = os.geteuid() == 0 and uid is not None and gid is not None
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            path.chmod(0o755 if path.is_dir() else 0o644)
            if chown:
                os.chown(path, int(uid or 0), int(gid or 0))


UNIX_ACCEPTCON = 0x10000   # /proc/net/unix Flags: __SO_ACCEPTCON, a listening socket


def unix_listening(pid: int, path: Path) -> bool:
    """Whether a Unix socket bound to path listens, as process pid's network
    namespace sees it (/proc/PID/net/unix: Num RefCount Protocol Flags Type St
    Inode Path)."""
    try:
        lines = Path(f"/proc/{pid}/net/unix").read_text().splitlines()[1:]
    except OSError:
        return False
    for line in lines:
        fields = line.split()
        if len(fields) >= 8 and fields[7] == str(path) and int(fields[3], 16) & UNIX_ACCEPTCON:
            return True
    return False


def wait_listening(vm: VM, path: Path, timeout: float = LISTEN_TIMEOUT) -> None:
    """Wait until the guest's QEMU listens on the Unix socket path (its stream
    backend is up)."""
    deadline = time.monotonic() + timeout
    while vm.pid is None or not unix_listening(vm.pid, path):
        if not vm.is_running():
            raise LabError(f"QEMU exited before listening on {path}:\n{vm.read_stderr()}")
        if time.monotonic() >= deadline:
            raise LabError(f"QEMU did not listen on {path} within {timeout:g} s")
        time.sleep(0.02)


@contextlib.contextmanager
def deferred_interrupts() -> Iterator[None]:
    """Hold Ctrl-C back while the block runs, then raise KeyboardInterrupt if it came.

    Teardown must not be cut short half way (a namespace left behind). Only
    the main thread can change signal handlers; elsewhere this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []

    def remember(signum: int, frame: FrameType | None) -> None:
        caught.append(signum)

    previous = signal.signal(signal.SIGINT, remember)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        raise KeyboardInterrupt


class Lab:
    """A running topology; use it as a context manager (or start/close)."""

    def __init__(self, topology: Topology, results: Path, *, kernel: Path = KERNEL,
                 initramfs: Path = INITRD, accel: Accel = "tcg",
                 boot_timeout: float = BOOT_TIMEOUT, runner: Runner = subprocess_runner,
                 netns_name: str | None = None, rx_settle: float | None = None,
                 capture_lans: bool = True, capture_nics: bool = True,
                 nic_model: str = nics.DEFAULT) -> None:
        nics.model(nic_model)
        self.topology = topology
        self.nic_model = nic_model
        self.results = Path(results)
        self.kernel = kernel
        self.initramfs = initramfs
        self.accel = accel
        self.boot_timeout = boot_timeout
        self.rx_settle = rx_settle
        self.capture_lans = capture_lans
        self.capture_nics = capture_nics   # off for floods, whose pcaps would be huge
        self._captures: list[BridgeCapture] = []
        self.runner = runner
        self.netns: Netns | None = None
        self._netns_name = netns_name
        self.hosts: dict[str, Netns] = {}   # Linux hosts of their own, by name
        self._vms: dict[str, VM] = {}
        self._sockets: dict[str, Path] = {}   # stream LANs: the listening guest's socket
        self._sockdir: Path | None = None
        self._last_start = 0.0
        self._peers: list[subprocess.Popen[str]] = []
        self._services: dict[str, DnsmasqProcess] = {}
        self._stack: ExitStack | None = None
        self._made_dirs: list[Path] = []
        self._relays: dict[str, ImpairRelay] = {}
        self._relay_directions: dict[str, tuple[str, str]] = {}
        self._relay_sockets: dict[str, Path] = {}
        self.impair_counts: dict[str, dict[str, dict[str, int]]] = {}

    # ---- life cycle --------------------------------------------------------

    def __enter__(self) -> Lab:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def start(self) -> None:
        """Build everything and boot every guest to its shell; undo it all on failure."""
        if self._stack is not None:
            raise LabError("the lab is already running")
        self._stack = ExitStack()
        try:
            self._prepare_results()
            if self.topology.needs_root:
                self.netns = Netns(self._netns_name, runner=self.runner)
                self._stack.enter_context(self.netns)
                self._build_lans(self.netns)
                self._build_hosts(self.netns, self._stack)
                self._stack.callback(self.stop_captures)
                self._start_captures(self.netns)
                self._start_services(self.netns, self._stack)
                self._start_packet_relays(self.netns, self._stack)
            self._stack.callback(self._stop_peers)
            self._start_guests(self._stack)
            self._boot_guests()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Stop peers and guests, delete the namespace; safe to call twice.
        The results are then handed over (see hand_over)."""
        stack, self._stack = self._stack, None
        if stack is None:
            self._remove_sockets()   # made by vm_spec alone, without start
            return
        with deferred_interrupts():
            stack.close()
            self._remove_sockets()
            hand_over([*self._made_dirs, *self.result_files()])

    def result_files(self) -> list[Path]:
        """Every capture and console log this lab writes."""
        files = [self.pcap(ref.guest.name, ref.number) for ref in self.topology.nics()]
        files += [self.results / f"{lan.name}.pcap" for lan in self.topology.lans
                  if lan.kind == "bridge"]
        if any(ref.nic.impair for ref in self.topology.nics()):
            files.append(self.impair_report())
        return files + [self.console_log(guest.name) for guest in self.topology.guests]

    def _prepare_results(self) -> None:
        missing = [d for d in (self.results, *self.results.parents) if not d.exists()]
        self._made_dirs = list(reversed(missing))
        self.results.mkdir(parents=True, exist_ok=True)
        for ref in self.topology.nics():
            self.pcap(ref.guest.name, ref.number).unlink(missing_ok=True)
        for lan in self.topology.lans:
            self.lan_pcap(lan.name).unlink(missing_ok=True)
        for guest in self.topology.guests:
            self.console_log(guest.name).unlink(missing_ok=True)
        self.impair_report().unlink(missing_ok=True)
        for service in self.topology.services:
            for path in self.service_files(service.lan).values():
                path.unlink(missing_ok=True)

    def _build_lans(self, netns: Netns) -> None:
        for index, lan in enumerate(self.topology.lans):
            if lan.kind != "bridge":
                continue
            bridge = bridge_name(lan.name)
            netns.add_bridge(bridge, mac=peer_mac(index))
            for peer in self.topology.peers:
                if peer.lan == lan.name and peer.host is None:
                    network = lan.network
                    assert network is not None   # validated
                    netns.add_address(bridge, f"{peer.ip}/{network.prefixlen}")
            for ref in self.topology.nics_on(lan.name):
                tap = tap_name(ref.guest.name, ref.number)
                if ref.nic.impair is None:
                    netns.add_tap(tap, bridge, TAP_QUEUE_LEN)
                    continue
                # the tap is off the bridge: the relay carries its frames to a
                # veth whose other end is on the bridge (docs/impair.md)
                inner, outer = relay_names(ref.guest.name, ref.number)
                netns.add_tap(tap, None, TAP_QUEUE_LEN)
                netns.add_veth(inner, outer, bridge, TAP_QUEUE_LEN)
                netns.detach(tap)
                netns.detach(inner)

    def _build_hosts(self, netns: Netns, stack: ExitStack) -> None:
        """Each Linux host: a namespace of its own (deleted before the lab's),
        its eth0 joined to its LAN's bridge by a veth pair, its address, and
        its default route through its gateway."""
        for index, peer in enumerate(hosts(self.topology)):
            assert peer.host is not None
            host = Netns(runner=self.runner)
            stack.enter_context(host)
            self.hosts[peer.host] = host
            # made here, its bridge end a port of the LAN; its own end moved
            # into the host, where it becomes eth0 (both names cannot be eth0 here)
            inner = f"vx-{peer.host}"
            netns.add_veth(inner, veth_name(peer.host), bridge_name(peer.lan))
            netns.move_link(inner, host)
            host.ip("link", "set", "dev", inner, "name", "eth0", "address", host_mac(index))
            network = self.topology.lan(peer.lan).network
            assert network is not None   # validated
            host.add_address("eth0", f"{peer.ip}/{network.prefixlen}")
            host.link_up("eth0")
            if peer.gateway is not None:
                host.add_route("default", peer.gateway)

    def _start_captures(self, netns: Netns) -> None:
        if not self.capture_lans:
            return
        for lan in self.topology.lans:
            if lan.kind == "bridge":
                capture = BridgeCapture(netns, bridge_name(lan.name), self.lan_pcap(lan.name))
                self._captures.append(capture)
                capture.start()

    # ---- services ------------------------------------------------------------

    def service_files(self, lan: str) -> dict[str, Path]:
        """dnsmasq's configuration, lease and log files for a LAN."""
        return {kind: self.results / f"dnsmasq-{lan}.{kind}" for kind in ("conf", "leases", "log")}

    def _start_services(self, netns: Netns, stack: ExitStack) -> None:
        for service in self.topology.services:
            files = self.service_files(service.lan)
            network = self.topology.lan(service.lan).network
            assert network is not None   # validated: a bridged LAN with a peer on it
            files["conf"].write_text(dnsmasq_conf(service, network, bridge_name(service.lan),
                                                  files["leases"].resolve(),
                                                  files["log"].resolve()))
            proc = DnsmasqProcess(netns, files["conf"].resolve(), udp_ports(service))
            proc.start()
            stack.callback(proc.stop)
            self._services[service.lan] = proc

    def dnsmasq(self, lan: str) -> DnsmasqProcess:
        """The running dnsmasq of a LAN (to pause or stop it in a test)."""
        try:
            return self._services[lan]
        except KeyError:
            raise LabError(f"no dnsmasq on LAN {lan!r}") from None

    def dhcp_leases(self, lan: str) -> list[DhcpLease]:
        """The leases the LAN's dnsmasq has handed out (its lease file)."""
        return read_leases(self.service_files(lan)["leases"])

    def stop_captures(self) -> None:
        """Stop the bridge captures, so that their pcap files are complete."""
        captures, self._captures = self._captures, []
        for capture in captures:
            capture.stop()

    # ---- impairment relays ---------------------------------------------------

    def impair_report(self) -> Path:
        """What the relays did, as JSON, written at teardown."""
        return self.results / "impair.json"

    def _start_relay(self, relay: ImpairRelay, directions: tuple[str, str],
                     stack: ExitStack) -> None:
        relay.start()
        self._relays[relay.label] = relay
        self._relay_directions[relay.label] = directions
        stack.callback(self._stop_relay, relay.label)

    def _start_packet_relays(self, netns: Netns, stack: ExitStack) -> None:
        for ref in self.topology.nics():
            if ref.nic.impair is None or self.topology.lan(ref.nic.lan).kind != "bridge":
                continue
            inner, _ = relay_names(ref.guest.name, ref.number)
            label = f"{ref.guest.name} {ref.ifname}"
            relay = ImpairRelay(packet_argv(tap_name(ref.guest.name, ref.number), inner,
                                            ref.nic.impair), netns.popen, label)
            self._start_relay(relay, (f"{label} -> {ref.nic.lan}", f"{ref.nic.lan} -> {label}"),
                              stack)

    def _start_stream_relay(self, lan: Lan, stack: ExitStack) -> None:
        """Between the guest that listens (started) and the one that connects
        (not yet): it connects to the first and listens for the second."""
        first, second = self.topology.nics_on(lan.name)
        spec = first.nic.impair or second.nic.impair
        assert spec is not None
        listen = self._relay_sockets.setdefault(lan.name, self._socket_path(lan.name, "relay"))
        names = [f"{ref.guest.name} {ref.ifname}" for ref in (first, second)]
        relay = ImpairRelay(stream_argv(listen, self._sockets[lan.name], spec), label=lan.name)
        self._start_relay(relay, (f"{names[1]} -> {names[0]}", f"{names[0]} -> {names[1]}"),
                          stack)

    def stop_relays(self) -> dict[str, dict[str, dict[str, int]]]:
        """Stop every relay now (its link goes dead) and return what each did:
        {relay: {direction: {action: count}}}. Teardown does this too."""
        for label in list(self._relays):
            self._stop_relay(label)
        return self.impair_counts

    def _stop_relay(self, label: str) -> None:
        relay = self._relays.pop(label, None)
        if relay is None:
            return
        try:
            counts = relay.stop()
        except RelayError as err:
            print(f"xv6net: {err}", file=sys.stderr)
            return
        named = dict(zip(self._relay_directions[label], counts.values(), strict=True))
        self.impair_counts[label] = named
        print(format_counts(label, relay.spec, named), file=sys.stderr)
        self.impair_report().write_text(json.dumps(self.impair_counts, indent=1) + "\n")

    # ---- guests ------------------------------------------------------------

    def model_of(self, ref: NicRef) -> str:
        """The card a NIC is: its own model, else the lab's."""
        return ref.nic.model or self.nic_model

    def _nic_spec(self, ref: NicRef) -> NicSpec:
        lan = self.topology.lan(ref.nic.lan)
        pcap = self.pcap(ref.guest.name, ref.number).resolve() if self.capture_nics else None
        model = self.model_of(ref)
        if lan.kind == "bridge":
            return NicSpec("tap", ref.mac, model=model,
                           ifname=tap_name(ref.guest.name, ref.number), pcap=pcap)
        if lan.kind == "slirp":
            return NicSpec("user", ref.mac, model=model, pcap=pcap)
        path = self._sockets.setdefault(lan.name, self._socket_path(lan.name, "wire"))
        # The first NIC on a stream LAN (in guest order) listens, so the
        # guest that connects always starts after the one it connects to.
        listens = self.topology.nics_on(lan.name)[0] == ref
        if not listens and impairments(self.topology, lan.name):
            path = self._relay_sockets.setdefault(lan.name, self._socket_path(lan.name, "relay"))
        return NicSpec("stream-listen" if listens else "stream-connect", ref.mac, model=model,
                       path=path, pcap=pcap)

    def _socket_path(self, lan: str, end: str) -> Path:
        """A Unix socket for a stream LAN, in a short directory of the lab's own
        (a socket's path has at most 107 bytes; the results may be deep)."""
        if self._sockdir is None:
            self._sockdir = Path(tempfile.mkdtemp(prefix="xv6net-lan-"))
        return self._sockdir / f"{lan}-{end}.sock"

    def _remove_sockets(self) -> None:
        sockdir, self._sockdir = self._sockdir, None
        if sockdir is not None:
            shutil.rmtree(sockdir, ignore_errors=True)

    def settle_time(self) -> float:
        """Seconds after the last guest started until every card passes frames on."""
        if self.rx_settle is not None:
            return self.rx_settle
        hold = max((nics.model(self.model_of(ref)).rx_hold_s for ref in self.topology.nics()),
                   default=0.0)
        return hold + RX_SETTLE_MARGIN if hold else 0.0

    def _guest_nics(self, guest: Guest) -> list[NicRef]:
        return [ref for ref in self.topology.nics() if ref.guest == guest]

    def vm_spec(self, guest: Guest, index: int) -> VMSpec:
        """The VMSpec of one guest of the topology."""
        cards = [self._nic_spec(ref) for ref in self._guest_nics(guest)]
        return VMSpec(name=f"xv6net-{guest.name}", index=index, memory_mb=guest.memory_mb,
                      cpus=guest.cpus, kernel=self.kernel, initramfs=self.initramfs,
                      cmdline=kernel_cmdline(self.topology, guest.name), nics=cards,
                      accel=self.accel)

    def _start_guests(self, stack: ExitStack) -> None:
        prefix = self.netns.exec_argv([]) if self.netns else []
        for index, guest in enumerate(self.topology.guests):
            spec = self.vm_spec(guest, index)
            vm = VM(spec, logfile=self.console_log(guest.name), prefix=prefix)
            self._vms[guest.name] = vm
            stack.enter_context(vm)
            self._last_start = time.monotonic()
            for nic, ref in zip(spec.nics, self._guest_nics(guest), strict=True):
                if nic.backend == "stream-listen" and nic.path is not None:
                    wait_listening(vm, nic.path)
                    if impairments(self.topology, ref.nic.lan):
                        self._start_stream_relay(self.topology.lan(ref.nic.lan), stack)

    def _boot_guests(self) -> None:
        for guest in self.topology.guests:
            vm = self._vms[guest.name]
            vm.wait_for_shell(self.boot_timeout)
            for address in runtime_addresses(self.topology, guest.name):
                command = f"ifconfig {address.ifname} {address.ip} netmask {address.netmask} up"
                output = vm.run(command)
                if output.strip():
                    raise LabError(f"{guest.name}: {command}: {output.strip()}")
            for ifname in runtime_dhcp(self.topology, guest.name):
                output = vm.run(f"dhclient {ifname}", timeout=DHCP_BOOT_TIMEOUT)
                if "bound to" not in output:
                    raise LabError(f"{guest.name}: dhclient {ifname}: {output.strip()}")
            for route in self.topology.guest(guest.name).routes:
                command = route_command(route)
                output = vm.run(command)
                if output.strip():
                    raise LabError(f"{guest.name}: {command}: {output.strip()}")
        time.sleep(max(0.0, self._last_start + self.settle_time() - time.monotonic()))

    # ---- access ------------------------------------------------------------

    def guest(self, name: str) -> VM:
        try:
            return self._vms[name]
        except KeyError:
            raise LabError(f"no guest {name!r} in this lab") from None

    @property
    def guests(self) -> dict[str, VM]:
        return dict(self._vms)

    def pcap(self, guest: str, nic: int = 0) -> Path:
        self.topology.nic(guest, nic)   # KeyError for a NIC that does not exist
        return self.results / f"{guest}-eth{nic}.pcap"

    def lan_pcap(self, lan: str) -> Path:
        """A capture of everything on the LAN.

        For a bridged LAN, dumpcap's capture on the bridge (complete once
        `stop_captures` or `close` ran); for a stream or SLiRP LAN, a link
        between two ends, the first NIC's own capture already holds it all.
        """
        if self.topology.lan(lan).kind == "bridge":
            return self.results / f"{lan}.pcap"
        first = self.topology.nics_on(lan)[0]
        return self.pcap(first.guest.name, first.number)

    def console_log(self, guest: str) -> Path:
        return self.results / f"{guest}-console.log"

    def mac(self, guest: str, nic: int = 0) -> str:
        return self.topology.nic(guest, nic).mac

    def model(self, guest: str, nic: int = 0) -> str:
        """The card (xv6net.nics model name) of a guest's NIC."""
        return self.model_of(self.topology.nic(guest, nic))

    def ip(self, guest: str, nic: int = 0) -> str | None:
        return self.topology.nic(guest, nic).nic.ip

    def bridge(self, lan: str) -> str:
        if self.topology.lan(lan).kind != "bridge":
            raise LabError(f"LAN {lan} is not bridged")
        return bridge_name(lan)

    def peer_mac(self, lan: str) -> str:
        """The MAC that the Linux peers on a bridged LAN use (the bridge's)."""
        self.bridge(lan)
        return peer_mac([item.name for item in self.topology.lans].index(lan))

    # ---- the Linux side ------------------------------------------------------

    def _require_netns(self) -> Netns:
        if self.netns is None or not self.netns.created:
            raise LabError("this lab has no network namespace (no bridged LAN, or not running)")
        return self.netns

    def peer_run(self, argv: Sequence[str], timeout: float = 10.0,
                 check: bool = False) -> subprocess.CompletedProcess[str]:
        """Run a command in the lab's namespace and wait for it (bounded)."""
        return self._require_netns().run(argv, timeout=timeout, check=check)

    def peer_popen(self, argv: Sequence[str]) -> subprocess.Popen[str]:
        """Start a command in the namespace; it is stopped when the lab closes."""
        proc = self._require_netns().popen(argv)
        self._peers.append(proc)
        return proc

    def host(self, name: str) -> Netns:
        """A Linux host's namespace (Topology peers with host=NAME)."""
        try:
            host_peer(self.topology, name)
            return self.hosts[name]
        except KeyError:
            raise LabError(f"no running Linux host {name!r} in this lab") from None

    def host_run(self, name: str, argv: Sequence[str], timeout: float = 10.0,
                 check: bool = False) -> subprocess.CompletedProcess[str]:
        """Run a command on a Linux host and wait for it (bounded)."""
        return self.host(name).run(argv, timeout=timeout, check=check)

    def host_popen(self, name: str, argv: Sequence[str]) -> subprocess.Popen[str]:
        """Start a command on a Linux host; it is stopped when the lab closes."""
        proc = self.host(name).popen(argv)
        self._peers.append(proc)
        return proc

    def _stop_peers(self) -> None:
        peers, self._peers = self._peers, []
        for proc in peers:
            if proc.poll() is None:
                proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.communicate(timeout=PEER_STOP_TIMEOUT)

    @staticmethod
    def peer_tool(*args: str) -> list[str]:
        """argv for the raw-socket helper (xv6net/peer.py) with this Python."""
        return [sys.executable, str(Path(peer_module.__file__).resolve()), *args]

    def linux_arping(self, lan: str, addr: str, count: int = 3,
                     timeout: float = 20.0) -> subprocess.CompletedProcess[str]:
        """Linux's arping from the LAN's bridge: count requests for addr."""
        return self.peer_run(linux.arping_argv(self.bridge(lan), addr, count), timeout)

    def linux_neighbours(self, lan: str) -> dict[str, Neighbour]:
        """Linux's neighbour table on the LAN's bridge."""
        return linux.neighbours(self._require_netns(), self.bridge(lan))

    def linux_resolve(self, lan: str, addr: str) -> Neighbour:
        """Have Linux's own ARP code resolve addr on the LAN (see linux.resolve)."""
        return linux.resolve(self._require_netns(), self.bridge(lan), addr,
                             self.peer_tool("udp", addr))

    # ---- description ----------------------------------------------------------

    def describe(self) -> str:
        """Where everything is, for a person at the terminal."""
        lines = []
        if self.netns is not None:
            lines.append(f"namespace {self.netns.name}: "
                         f"ip netns exec {self.netns.name} COMMAND runs a command on the LANs")
        for index, lan in enumerate(self.topology.lans):
            lines.append(self._describe_lan(index, lan))
        for peer in hosts(self.topology):
            assert peer.host is not None
            where = self.hosts[peer.host].name if peer.host in self.hosts else "-"
            lines.append(f"Linux host {peer.host} {peer.ip} on {peer.lan}, default route via "
                         f"{peer.gateway or '-'}: ip netns exec {where} COMMAND")
        for ref in self.topology.nics():
            where = f"tap {tap_name(ref.guest.name, ref.number)}" \
                if self.topology.lan(ref.nic.lan).kind == "bridge" else ref.nic.lan
            if ref.nic.impair is not None and where != ref.nic.lan:
                where += f" (relayed to {relay_names(ref.guest.name, ref.number)[1]})"
            lines.append(f"guest {ref.guest.name} {ref.ifname} {self.model_of(ref)} {ref.mac} "
                         f"{ref.nic.ip or '-'} on {where}; pcap "
                         f"{self.pcap(ref.guest.name, ref.number)}")
        for service in self.topology.services:
            files = self.service_files(service.lan)
            what = f"DHCP {service.dhcp_range[0]}-{service.dhcp_range[1]} lease " \
                f"{service.lease}, " if service.dhcp_range else ""
            lines.append(f"dnsmasq on {service.lan} at {service.ip}: {what}DNS for "
                         f"{service.domain}; log {files['log']}, leases {files['leases']}")
        for lan in self.topology.lans:
            if lan.kind == "bridge" and self.capture_lans:
                lines.append(f"LAN {lan.name} capture (dumpcap on the bridge, complete at "
                             f"teardown): {self.lan_pcap(lan.name)}")
        for label, relay in self._relays.items():
            lines.append(f"impairment relay on {label}: {relay.spec}; counts at teardown "
                         f"in {self.impair_report()}")
        for guest in self.topology.guests:
            lines.append(f"guest {guest.name} console log {self.console_log(guest.name)}")
        return "\n".join(lines)

    def _describe_lan(self, index: int, lan: Lan) -> str:
        if lan.kind == "bridge":
            peers = [p.ip for p in self.topology.peers if p.lan == lan.name and p.host is None]
            return (f"LAN {lan.name} ({lan.network}): bridge {bridge_name(lan.name)} "
                    f"{peer_mac(index)}, Linux peer(s) {', '.join(peers) or 'none'}")
        if lan.kind == "stream":
            return f"LAN {lan.name}: QEMU stream backend, Unix socket {self._sockets.get(lan.name)}"
        return f"LAN {lan.name}: QEMU user network (SLiRP, restrict=on), {lan.network}"

