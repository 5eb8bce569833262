"""`xv6net trace SCENARIO`: boot a lab, turn the kernel's packet trace on,
run one exchange with the Linux peer, and write a walkthrough that puts each
frame's bytes beside what every layer of the kernel decided about it, with
links to the source lines that logged it (walkthrough.py does the merging).

The lab: guest a (10.0.0.2) and a Linux peer (10.0.0.1) on one bridge
(root: a network namespace the lab creates and deletes); for tcp-loss,
guest a's NIC goes through the impairment relay (docs/impair.md).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from xv6net import topology
from xv6net.lab import LAB_ERRORS, Lab
from xv6net.topology import Guest, GuestNic, Lan, Peer, Topology
from xv6net.vm import VM

GUEST_IP = "10.0.0.2"
PEER_IP = "10.0.0.1"
UDP_PORT = 7007
TCP_PORT = 7008
BLAST_PORT = 7009
BLAST_BYTES = 24000
LOSS = "loss=12%,seed=5"       # the relay's pseudo-random drops are repeatable with a seed
SERVER_TIMEOUT = 60
COMMAND_TIMEOUT = 60.0
ROOT = Path(__file__).resolve().parents[2]

# The peer's servers: one-shot, bounded, started in the lab's namespace.
UDP_ECHO = f"""
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("{PEER_IP}", {UDP_PORT}))
s.settimeout({SERVER_TIMEOUT})
print("ready", flush=True)
data, addr = s.recvfrom(2048)
s.sendto(data.upper(), addr)
"""
TCP_SERVER = f"""
import socket, sys
port = int(sys.argv[1])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("{PEER_IP}", port))
s.listen(1)
s.settimeout({SERVER_TIMEOUT})
print("ready", flush=True)
c, _ = s.accept()
c.settimeout({SERVER_TIMEOUT})
got = 0
while data := c.recv(65536):
    got += len(data)
    if sys.argv[2] == "echo":
        c.sendall(data.upper())
c.close()
print("received", got, flush=True)
"""


class TraceError(RuntimeError):
    """A scenario did not go as it should."""


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    filter: str                                  # nettrace's filter
    about: str                                   # Markdown: what happens
    prepare: Callable[[Lab, VM], None]           # before the trace is turned on
    run: Callable[[Lab, VM], list[str]]          # the traced exchange; what the guest printed
    impair: str | None = None


def _warm_arp(lab: Lab, vm: VM) -> None:
    """Both ends learn each other's MAC first, so that only the exchange is traced."""
    out = vm.run(f"ping -c 1 {PEER_IP}", timeout=COMMAND_TIMEOUT)
    if "1 received" not in out:
        raise TraceError(f"the guest cannot reach the peer: {out.strip()}")


def _server(lab: Lab, script: str, *args: str) -> None:
    proc = lab.peer_popen([sys.executable, "-u", "-c", script, *args])
    line = proc.stdout.readline() if proc.stdout else ""
    if "ready" not in line:
        raise TraceError(f"the peer's server did not start: {line!r}")


def _guest(vm: VM, command: str, expect: str) -> list[str]:
    out = vm.run(command, timeout=COMMAND_TIMEOUT)
    if expect not in out:
        raise TraceError(f"{command}: {out.strip()!r} (wanted {expect!r})")
    return [f"$ {command}", *out.rstrip().splitlines()]


def _ping_prepare(lab: Lab, vm: VM) -> None:
    _warm_arp(lab, vm)


def _ping_run(lab: Lab, vm: VM) -> list[str]:
    out = _guest(vm, f"ping -c 1 {PEER_IP}", "1 received")
    result = lab.peer_run(["ping", "-n", "-c", "1", "-W", "5", GUEST_IP], timeout=20)
    if result.returncode != 0:
        raise TraceError(f"Linux's ping of the guest failed: {result.stdout}{result.stderr}")
    return [*out, f"linux$ ping -n -c 1 {GUEST_IP}", *result.stdout.rstrip().splitlines()]


def _arp_prepare(lab: Lab, vm: VM) -> None:
    vm.run(f"arp -d {PEER_IP}")   # the cache empty, whatever the boot left in it


def _arp_run(lab: Lab, vm: VM) -> list[str]:
    return _guest(vm, f"ping -c 1 {PEER_IP}", "1 received")


def _udp_prepare(lab: Lab, vm: VM) -> None:
    _warm_arp(lab, vm)
    _server(lab, UDP_ECHO)


def _udp_run(lab: Lab, vm: VM) -> list[str]:
    return _guest(vm, f"echo hello | nc -u -w 1 {PEER_IP} {UDP_PORT}", "HELLO")


def _tcp_prepare(lab: Lab, vm: VM) -> None:
    _warm_arp(lab, vm)
    _server(lab, TCP_SERVER, str(TCP_PORT), "echo")


def _tcp_run(lab: Lab, vm: VM) -> list[str]:
    return _guest(vm, f"echo hello | nc {PEER_IP} {TCP_PORT}", "HELLO")


def _loss_prepare(lab: Lab, vm: VM) -> None:
    # One segment per trace: with segmentation offload the e1000 would cut
    # one traced send into several frames (docs/e1000.md).
    vm.run("sysctl -w net.ipv4.tcp_tso=0")
    _server(lab, TCP_SERVER, str(BLAST_PORT), "sink")


def _loss_run(lab: Lab, vm: VM) -> list[str]:
    out = _guest(vm, f"tcpblast {PEER_IP} {BLAST_PORT} {BLAST_BYTES}",
                 f"sent {BLAST_BYTES} bytes")
    return [*out, *_netstat_retrans(vm)]


def _netstat_retrans(vm: VM) -> list[str]:
    lines = [line.strip() for line in vm.run("netstat -s").splitlines()
             if "retransmit" in line or "timeout" in line]
    return ["$ netstat -s   (the retransmission lines)", *lines]


SCENARIOS: dict[str, Scenario] = {s.name: s for s in (
    Scenario("ping", "A ping, both ways", "icmp",
             "The guest pings the Linux peer once, then Linux pings the guest once "
             "(both ends already know each other's MAC: ARP is not in this trace).",
             _ping_prepare, _ping_run),
    Scenario("arp", "ARP: a packet waits for the next hop's address", "arp,icmp",
             "The guest's ARP cache is emptied, then it pings the Linux peer: the echo "
             "request waits in ARP's queue while the request goes out and the reply comes "
             "back.", _arp_prepare, _arp_run),
    Scenario("udp", "A UDP datagram and its echo", "udp",
             f"`nc -u` in the guest sends one datagram to a UDP echo server on Linux "
             f"(port {UDP_PORT}), which sends it back in capitals.", _udp_prepare, _udp_run),
    Scenario("tcp-handshake", "A TCP connection: handshake, data, close", "tcp",
             f"`nc` in the guest opens a TCP connection to a server on Linux (port "
             f"{TCP_PORT}), sends a line, reads it back in capitals, and both ends close: "
             "the three-way handshake, data, and the FIN exchange.", _tcp_prepare, _tcp_run),
    Scenario("tcp-loss", "TCP on a lossy link: retransmission", "tcp",
             f"`tcpblast` in the guest sends {BLAST_BYTES} bytes to a sink on Linux through "
             f"the impairment relay ({LOSS}, both directions): the trace shows segments "
             "sent again, by the retransmission timer or by fast retransmit.",
             _loss_prepare, _loss_run, impair=LOSS),
)}


def lab_topology(scenario: Scenario) -> Topology:
    """Guest a and a Linux peer on one bridge; behind the relay if the scenario says."""
    topo = Topology(lans=[Lan("lan0", "10.0.0.0/24")],
                    guests=[Guest("a", [GuestNic("lan0", ip=GUEST_IP)])],
                    peers=[Peer("lan0", PEER_IP)])
    return topology.with_impairment(topo, scenario.impair, ["a"]) if scenario.impair else topo


@dataclass
class Captured:
    """What one run of a scenario left: the guest's trace, its pcap and where
    the trace's part of it begins and ends (frame indexes)."""

    scenario: Scenario
    trace: str
    pcap: Path
    start: int
    end: int
    transcript: list[str]
    guest_mac: str


def capture(scenario: Scenario, results: Path, kernel: Path, initrd: Path,
            accel: str = "tcg") -> Captured:
    """Run the scenario on a lab of its own; the lab is torn down on return."""
    from xv6net.walkthrough import count_frames  # noqa: PLC0415
    with Lab(lab_topology(scenario), results, kernel=kernel, initramfs=initrd,
             accel=accel) as lab:  # type: ignore[arg-type]
        vm = lab.guest("a")
        scenario.prepare(lab, vm)
        pcap = lab.pcap("a")
        out = vm.run(f"nettrace on {scenario.filter}").strip()
        if out != f"nettrace: on for {scenario.filter.replace(',', ' ')}":
            raise TraceError(f"nettrace on {scenario.filter}: {out!r}")
        start = count_frames(pcap)
        transcript = scenario.run(lab, vm)
        vm.run("nettrace off")
        end = count_frames(pcap)
        trace = vm.run("nettrace show", timeout=COMMAND_TIMEOUT)
        mac = lab.mac("a")
    return Captured(scenario, trace, pcap, start, end, transcript, mac)


def intro(captured: Captured) -> str:
    s = captured.scenario
    return "\n".join([
        s.about, "",
        f"Made by `xv6net trace {s.name}`: guest a ({GUEST_IP}) and a Linux peer ({PEER_IP}) "
        f"on a bridge{', guest a behind the impairment relay' if s.impair else ''}; "
        f"`nettrace on {s.filter}` in the guest, then:", "",
        "```", *captured.transcript, "```", "",
        "Each frame of the guest's capture (QEMU's filter-dump on its NIC) is decoded by "
        "scapy; beside it are the trace lines the kernel logged about it (`nettrace show`), "
        "each linked to the trace call in the source. A sent frame shows the code first, "
        "then the bytes; a received one the bytes, then the code.",
    ])


def walkthrough_of(captured: Captured, root: Path = ROOT,
                   title: str | None = None) -> object:
    from xv6net import walkthrough as wt  # noqa: PLC0415
    frames = wt.read_frames(captured.pcap)
    return wt.build(title or f"{captured.scenario.title} (xv6net trace "
                    f"{captured.scenario.name})", intro(captured),
                    captured.trace, frames, points=wt.trace_points(root),
                    guest_mac=captured.guest_mac, start=captured.start, end=captured.end)


def write(captured: Captured, out: Path, root: Path = ROOT) -> list[Path]:
    """walkthrough.md, walkthrough.html, trace.txt and the pcap, in out."""
    from xv6net import walkthrough as wt  # noqa: PLC0415
    out.mkdir(parents=True, exist_ok=True)
    walk = walkthrough_of(captured, root)
    assert isinstance(walk, wt.Walkthrough)
    base = wt.relative_base(out, root)
    files = [out / "walkthrough.md", out / "walkthrough.html", out / "trace.txt",
             out / "capture.pcap"]
    files[0].write_text(wt.render_markdown(walk, base))
    files[1].write_text(wt.render_html(walk, base))
    files[2].write_text(captured.trace)
    if captured.pcap.resolve() != files[3].resolve():
        shutil.copyfile(captured.pcap, files[3])
    return files


LIFE_INTRO = """\
# The life of a packet

Generated by `xv6net trace ping tcp-handshake --markdown docs/life-of-a-packet.md`
(root; do not edit by hand, run it again). Every frame that crossed guest
a's card during a ping and a short TCP connection, decoded, beside the lines
the kernel's packet trace (`nettrace`, docs/network.md) logged about it, each
linked to the function and line that logged it. `tests/unit/test_walkthrough.py`
checks that every link still leads to that function at that line, so this file
cannot drift from the code silently; `xv6net trace` writes the same for the
`arp`, `udp` and `tcp-loss` scenarios (README, "For instructors").

How to read it. A frame the guest **sends** starts at the top of the stack:
the transport builds it (`tcp_output`, or ICMP answering in `icmp_input`),
`ip_output` tags it for the trace and picks the route, `arp_output` finds the
next hop's MAC (or queues the packet until ARP answers), `ether_output` adds
the Ethernet header, and the driver (`e1000_xmit`) puts it in a transmit
descriptor slot. A frame the guest **receives** starts at the bottom: the
card's interrupt hands it to `ether_input`, which tags it and demultiplexes
by ethertype, then `ip_input` checks the header and hands it to the protocol
(`icmp_input`, `udp_input`, `tcp_input`). The guest's clock (first column)
ticks in 10 ms steps; the capture's times are the host's.
"""


def write_combined(captures: Sequence[Captured], path: Path, root: Path = ROOT) -> None:
    """Several scenarios' walkthroughs as one Markdown file (the doc)."""
    from xv6net import walkthrough as wt  # noqa: PLC0415
    base = wt.relative_base(path.parent, root)
    parts = [LIFE_INTRO]
    for captured in captures:
        walk = walkthrough_of(captured, root, captured.scenario.title)
        assert isinstance(walk, wt.Walkthrough)
        text = wt.render_markdown(walk, base)
        parts.append("\n".join("#" + line if line.startswith("#") else line
                               for line in text.splitlines()))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n\n".join(part.rstrip() for part in parts) + "\n")


# ---- the command ----------------------------------------------------------------

def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", nargs="*", metavar="SCENARIO",
                        help=f"one or more of {', '.join(SCENARIOS)}")
    parser.add_argument("-o", "--output", type=Path, metavar="DIR",
                        help="each scenario's walkthrough, trace and capture go to "
                             "DIR/SCENARIO (default DIR: build/trace)")
    parser.add_argument("--markdown", type=Path, metavar="FILE",
                        help="also write every scenario's walkthrough into this one file "
                             "(docs/life-of-a-packet.md is made this way)")
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    parser.add_argument("--kernel", type=Path, default=Path("build/kernel.elf"))
    parser.add_argument("--initrd", type=Path, default=Path("build/initramfs.cpio"))
    parser.add_argument("--accel", choices=("tcg", "kvm"), default="tcg")


def cmd_trace(args: argparse.Namespace) -> int:
    if args.list or not args.scenario:
        for s in SCENARIOS.values():
            print(f"{s.name:14s} {s.about}")
        return 0 if args.list else 1
    if unknown := [name for name in args.scenario if name not in SCENARIOS]:
        print(f"xv6net: no scenario {', '.join(unknown)} (one of {', '.join(SCENARIOS)})",
              file=sys.stderr)
        return 1
    captures = []
    try:
        for name in args.scenario:
            out = (args.output or Path("build/trace")) / name
            captured = capture(SCENARIOS[name], out / "lab", args.kernel, args.initrd,
                               args.accel)
            files = write(captured, out)
            captures.append(captured)
            print(f"{name}: {files[0]} ({captured.end - captured.start} frames traced), "
                  f"{files[1]}")
        if args.markdown:
            write_combined(captures, args.markdown)
            print(f"{args.markdown}: {', '.join(args.scenario)}")
    except (TraceError, OSError, topology.TopologyError, *LAB_ERRORS) as err:
        print(f"xv6net: {err}", file=sys.stderr)
        return 1
    return 0
