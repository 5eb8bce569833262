"""The `xv6net` command: `run` boots a guest on this terminal, `demo` runs the demo,
`lab` brings a topology up until Enter, `pcap` reads captures.

Only the standard library is imported at module level, so `PYTHONPATH=src
python3 -m xv6net run` works before the virtual environment exists; the
commands that need scapy (demo, pcap) import their modules when they run.
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType

from xv6net import bench, benchhttp, docs, exercise, fuzz, nics, pingtrace, prof, topology, trace
from xv6net.console import INTERRUPT_TIMEOUT, AbortError
from xv6net.lab import LAB_ERRORS, Lab
from xv6net.netns import remove_stale
from xv6net.qemu import NicSpec, VMSpec, build_argv
from xv6net.topology import Guest, GuestNic, Lan, Topology, kernel_cmdline

DEFAULT_KERNEL = Path("build/kernel.elf")
DEFAULT_INITRD = Path("build/initramfs.cpio")
# QEMU options that would add or change a network backend: `run` chooses those
# itself (--nic), so that SLiRP is always restrict=on.
NETWORK_OPTIONS = ("-net", "-nic", "-netdev")
LAB_TIMEOUT = 60.0


class CliError(Exception):
    """Bad input to a subcommand: one line for the user, exit status 1."""


def _add_image_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--kernel", type=Path, default=DEFAULT_KERNEL,
                        help="multiboot kernel (default: %(default)s)")
    parser.add_argument("--initrd", type=Path, default=DEFAULT_INITRD,
                        help="cpio newc initramfs (default: %(default)s)")
    parser.add_argument("--accel", choices=("tcg", "kvm"), default="tcg",
                        help="accelerator (default: tcg; kvm is opt-in)")


def _add_guest_options(parser: argparse.ArgumentParser) -> None:
    _add_image_options(parser)
    parser.add_argument("--append", default="", help="kernel command line")
    parser.add_argument("--mem", type=int, default=128, help="memory in MiB (default: 128)")
    parser.add_argument("--cpus", type=int, default=0,
                        help="number of CPUs (default: 2, or XV6NET_CPUS)")


def _add_model_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--nic-model", choices=nics.NAMES, default=nics.DEFAULT,
                        help="the emulated network card (default: %(default)s)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xv6net", description="Boot the xv6net kernel under QEMU and drive its console.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="boot a guest with its console on this terminal "
                                          "(Ctrl-A x quits)")
    _add_guest_options(run)
    run.add_argument("--nic", choices=("user", "none"), default="user",
                     help="one NIC on SLiRP with restrict=on, or no NIC (default: user); "
                          "with user, the guest gets 10.0.2.15/24 and gateway 10.0.2.2 "
                          "unless --append has an ip=")
    _add_model_option(run)
    run.add_argument("--pcap", type=Path, help="write the NIC's frames to this pcap file")
    run.add_argument("--qemu-arg", action="append", default=[], metavar="ARG",
                     help="one more QEMU argument, e.g. --qemu-arg=-d --qemu-arg=int "
                          "(repeat it; network options are refused)")
    run.add_argument("--dry-run", action="store_true", help="print the QEMU command and exit")
    _add_demo_parser(commands)
    _add_lab_parser(commands)
    _add_pcap_parser(commands)
    prof.add_arguments(commands.add_parser(
        "prof", help="attribute a `kprof dump` transcript to kernel functions"))
    fuzz.add_arguments(commands.add_parser(
        "fuzz", help="run, replay or seed the network stack's libFuzzer targets "
                     "(docs/testing.md)"))
    bench.add_arguments(commands.add_parser(
        "bench", help="measure xv6net and a Linux guest on the same emulated card (root; "
                      "see docs/bench.md)"))
    benchhttp.add_arguments(commands.add_parser(
        "bench-http", help="xv6net's httpd against busybox httpd in the Linux guest, with "
                           "ApacheBench and curl (root; see docs/bench.md)"))
    pingtrace.add_arguments(commands.add_parser(
        "pingtrace", help="where one ping's microseconds go: QEMU trace events and a capture "
                          "of the tap (root; see docs/bench.md)"))
    docs.add_arguments(commands.add_parser(
        "docs", help="run the commands of the samples in README.md and docs/ and update them "
                     "(--check: only compare their shapes)"))
    exercise.add_arguments(
        commands.add_parser("exercise", help="list the lab exercises marked in the source, "
                                             "or write a tree with one stubbed out "
                                             "(docs/exercises.md)"),
        commands.add_parser("grade", help="build this tree and grade one exercise, "
                                          "MIT-style (docs/exercises.md)"))
    trace.add_arguments(commands.add_parser(
        "trace", help="run a scenario with the kernel's packet trace on and write a "
                      "walkthrough of each frame beside the code that handled it (root; "
                      "docs/life-of-a-packet.md)"))
    return parser


def _add_demo_parser(commands: argparse._SubParsersAction) -> None:
    demo = commands.add_parser(
        "demo", help="the shell, then ARP between two guests and Linux on a bridge "
                     "(back to back without root)")
    _add_guest_options(demo)
    demo.add_argument("--results", type=Path, default=Path("build/demo"),
                      help="pcaps and console logs (default: %(default)s)")
    demo.add_argument("--log", type=Path, help="also write guest a's console transcript here")
    demo.add_argument("--no-bridge", action="store_true",
                      help="two guests back to back even as root")
    demo.add_argument("--serve", type=float, default=0.0, metavar="SECONDS",
                      help="at the end, keep guest a's web server up this long (default 0)")
    _add_model_option(demo)


def _add_lab_parser(commands: argparse._SubParsersAction) -> None:
    lab = commands.add_parser(
        "lab", help="bring a topology up, run commands on it, tear it down on Enter/Ctrl-C")
    lab.add_argument("--topology", default="two-guests",
                     help=f"one of {', '.join(topology.NAMED)}, or a .json/.toml file "
                          "(default: %(default)s)")
    lab.add_argument("--results", type=Path, help="pcaps and console logs "
                                                  "(default: build/lab/TOPOLOGY)")
    _add_image_options(lab)
    lab.add_argument("--nic-model", choices=nics.NAMES, default=nics.DEFAULT,
                     help="the card of every NIC whose topology names none (default: %(default)s)")
    lab.add_argument("--timeout", type=float, default=LAB_TIMEOUT, metavar="SECONDS",
                     help="a guest command still running after this long gets a ^C "
                          "(default: %(default)g)")
    lab.add_argument("--impair", metavar="SPEC",
                     help="a bad link on every bridged or stream NIC (of --impair-guest): "
                          "e.g. loss=5%%,reorder=25%%,dup=1%%,corrupt=1%%,delay=20ms:10ms,seed=1 "
                          "(docs/impair.md)")
    lab.add_argument("--impair-guest", action="append", metavar="NAME",
                     help="impair only this guest's NICs (repeat it; default: every guest)")
    lab.add_argument("--list", action="store_true", help="list the named topologies and exit")
    lab.add_argument("--cleanup", action="store_true",
                     help="delete namespaces left by xv6net runs that were killed, and exit")


def _add_pcap_parser(commands: argparse._SubParsersAction) -> None:
    pcap = commands.add_parser("pcap", help="read a capture")
    actions = pcap.add_subparsers(dest="action", required=True)
    summary = actions.add_parser("summary", help="one line per frame (scapy)")
    summary.add_argument("file", type=Path)
    summary.add_argument("--tshark", action="store_true",
                         help="also print tshark's one-line decode of each frame")
    check = actions.add_parser("check", help="frames tshark finds malformed or warns about; "
                                             "exit 1 if any")
    check.add_argument("file", type=Path)
    tcp = actions.add_parser("tcp", help="list the TCP connections in a capture, or draw one's "
                                         "time-sequence graph (--conn N) as PNG")
    tcp.add_argument("file", type=Path)
    tcp.add_argument("--conn", type=int, metavar="N", help="the connection to draw (see the list)")
    tcp.add_argument("--sender", metavar="ADDR:PORT",
                     help="draw this end's data (default: the end that sent more)")
    tcp.add_argument("-o", "--output", type=Path,
                     help="the PNG to write (default: FILE's name with -tcpN.png)")


def run_cmdline(append: str, nic: str) -> str:
    """The kernel command line of `xv6net run`: on SLiRP, the address QEMU's
    user network expects (10.0.2.15/24, gateway 10.0.2.2), as the slirp lab
    gives it, unless append has an ip= of its own."""
    if nic != "user":
        return append
    slirp = topology.slirp()
    guest = Guest("a", [GuestNic(slirp.lans[0].name, ip=slirp.guests[0].nics[0].ip)], append)
    return kernel_cmdline(Topology([Lan(slirp.lans[0].name, kind="slirp")], [guest]), "a")


def check_qemu_args(extra: Sequence[str]) -> list[str]:
    for arg in extra:
        if arg.startswith("-") and "-" + arg.lstrip("-").split("=", 1)[0] in NETWORK_OPTIONS:
            raise CliError(f"QEMU option {arg} refused: --nic chooses the network backend "
                           "(SLiRP with restrict=on, or none)")
    return list(extra)


def spec_from_args(args: argparse.Namespace) -> VMSpec:
    """The interactive VMSpec that `xv6net run` boots."""
    cards: list[NicSpec] = []
    if args.nic == "user":
        cards.append(NicSpec("user", model=args.nic_model, pcap=args.pcap))
    elif args.pcap is not None:
        raise CliError("--pcap needs a NIC")
    if args.mem < 16 or args.cpus < 0:
        raise CliError("--mem must be 16 MiB or more and --cpus 1 or more")
    return VMSpec(kernel=args.kernel, initramfs=args.initrd,
                  cmdline=run_cmdline(args.append, args.nic),
                  memory_mb=args.mem, cpus=args.cpus, accel=args.accel, nics=cards,
                  serial="stdio", extra=check_qemu_args(args.qemu_arg))


def cmd_run(args: argparse.Namespace) -> int:
    argv = build_argv(spec_from_args(args))
    if args.dry_run:
        print(shlex.join(argv))
        return 0
    for path in (args.kernel, args.initrd):
        if not path.is_file():
            print(f"xv6net: {path} does not exist (run make first)", file=sys.stderr)
            return 1
    print("xv6net: booting; Ctrl-A x quits, Ctrl-A c switches to the QEMU monitor",
          file=sys.stderr)
    try:
        os.execvp(argv[0], argv)
    except OSError as err:
        print(f"xv6net: cannot run {argv[0]}: {err}", file=sys.stderr)
    return 127


def _terminate_as_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _with_teardown_on_sigterm(command: Callable[[argparse.Namespace], int],
                              args: argparse.Namespace) -> int:
    """Run command with SIGTERM turned into KeyboardInterrupt, so that the lab's
    teardown runs (namespace deleted, QEMU killed) when the run is terminated."""
    previous = signal.signal(signal.SIGTERM, _terminate_as_interrupt)
    try:
        return command(args)
    except KeyboardInterrupt:
        print("xv6net: interrupted; everything torn down", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)


def cmd_demo(args: argparse.Namespace) -> int:
    from xv6net.demo import DemoConfig, run_demo  # noqa: PLC0415 (scapy: not for `run`)
    config = DemoConfig(kernel=args.kernel, initramfs=args.initrd, accel=args.accel,
                        append=args.append, memory_mb=args.mem, cpus=args.cpus,
                        results=args.results, log=args.log,
                        bridged=False if args.no_bridge else None, nic_model=args.nic_model,
                        serve_seconds=args.serve)
    return run_demo(config)


def lab_example(lab: Lab) -> str:
    """A command that works on this lab: the first guest asks for a neighbour."""
    topo = lab.topology
    first = topo.guests[0]
    for nic in first.nics:
        lan = topo.lan(nic.lan)
        if lan.kind == "slirp":
            return f"{first.name} ping -c 3 {topology.SLIRP_GATEWAY}"
        others = [ref.nic.static_ip for ref in topo.nics_on(lan.name) if ref.guest != first]
        others = [ip for ip in others if ip] + [p.ip for p in topo.peers if p.lan == lan.name]
        if others:
            return f"{first.name} arping -c 3 {others[0]}"
    return f"{first.name} ifconfig"


def lab_help(lab: Lab, timeout: float = LAB_TIMEOUT) -> str:
    """What can be typed at the lab prompt, with examples that work on this lab."""
    lines = [f'Type GUEST COMMAND to run a command on a guest\'s shell (guests: '
             f'{", ".join(lab.guests)}; e.g. "{lab_example(lab)}").']
    if lab.topology.needs_root:
        lines.append('"! COMMAND" runs a command in the namespace (e.g. "! ip neigh").')
    if hosts := [peer.host for peer in topology.hosts(lab.topology)]:
        lines.append(f'"@HOST COMMAND" runs a command on a Linux host of its own (hosts: '
                     f'{", ".join(h for h in hosts if h)}; e.g. "@{hosts[0]} ip route").')
    lines.append(f"A command still running after {timeout:g} s gets a ^C. An empty line, "
                 "end of input or Ctrl-C tears the lab down.")
    return "\n".join(lines)


def linux_command(lab: Lab, line: str, timeout: float = LAB_TIMEOUT) -> str:
    """A line for the Linux side: "! COMMAND" in the lab's namespace, "@HOST
    COMMAND" on a Linux host of its own; what to print."""
    if line.startswith("@"):
        host, _, command = line[1:].partition(" ")
        if host not in [peer.host for peer in topology.hosts(lab.topology)]:
            return f"xv6net: no Linux host {host!r} in this lab\n"
        result = lab.host_run(host, shlex.split(command), timeout=timeout)
        return result.stdout + result.stderr
    if not lab.topology.needs_root:
        return "xv6net: this lab has no namespace: no Linux side to run commands on\n"
    result = lab.peer_run(shlex.split(line[1:]), timeout=timeout)
    return result.stdout + result.stderr


def lab_command(lab: Lab, line: str, timeout: float = LAB_TIMEOUT) -> str:
    """Run one line typed at the lab prompt; return what to print.

    A guest command that has not ended after timeout (a ping without -c) gets
    a ^C, so that the guest's shell is back at its prompt for the next line.
    """
    if line[:1] in ("!", "@"):
        return linux_command(lab, line, timeout)
    name, _, command = line.partition(" ")
    if name not in lab.guests:
        return f"xv6net: no guest {name} (guests: {', '.join(lab.guests)})\n"
    if not command.strip():
        return f"{lab_help(lab, timeout)}\n"
    vm = lab.guest(name)
    try:
        return vm.run(command, timeout=timeout)
    except TimeoutError:
        output = vm.console.interrupt(INTERRUPT_TIMEOUT)
        return f"{output}xv6net: {name}: still running after {timeout:g} s: sent ^C\n"


def lab_session(lab: Lab, timeout: float = LAB_TIMEOUT) -> None:
    print(lab.describe())
    print(lab_help(lab, timeout))
    while True:
        try:
            line = input("lab> " if sys.stdin.isatty() else "").strip()
        except EOFError:
            return
        if not line:
            return
        try:
            print(lab_command(lab, line, timeout), end="", flush=True)
        except (TimeoutError, EOFError, AbortError, *LAB_ERRORS) as err:
            print(f"xv6net: {err}", file=sys.stderr)


def cmd_lab(args: argparse.Namespace) -> int:
    if args.list:
        for name, make in topology.NAMED.items():
            print(f"{name:13s} {' '.join((make.__doc__ or '').split())}")
        return 0
    if args.timeout <= 0:
        print(f"xv6net: --timeout {args.timeout:g}: must be more than 0", file=sys.stderr)
        return 1
    try:
        if args.cleanup:
            removed = remove_stale()
            print("\n".join(f"removed {name}" for name in removed) or "nothing to remove")
            return 0
        topo = topology.named_or_file(args.topology)
        if args.impair is not None:
            topo = topology.with_impairment(topo, args.impair, args.impair_guest)
        elif args.impair_guest:
            raise ValueError("--impair-guest needs --impair")
        results = args.results or Path("build/lab") / Path(args.topology).stem
        with Lab(topo, results, kernel=args.kernel, initramfs=args.initrd,
                 accel=args.accel, nic_model=args.nic_model) as lab:
            lab_session(lab, args.timeout)
    except (OSError, ValueError) as err:   # an unreadable topology file, a bad value
        print(f"xv6net: {err}", file=sys.stderr)
        return 1
    except (topology.TopologyError, *LAB_ERRORS) as err:
        print(f"xv6net: {err}", file=sys.stderr)
        return 1
    print("xv6net: lab torn down", file=sys.stderr)
    return 0


def cmd_pcap_tcp(args: argparse.Namespace) -> int:
    """`xv6net pcap tcp`: the connection list, or one connection's graph."""
    from xv6net import tcpgraph  # noqa: PLC0415 (scapy, matplotlib: not for `run`)
    try:
        segments = tcpgraph.read_segments(args.file)
        conns = tcpgraph.connections(segments)
        if args.conn is None:
            print("\n".join(conn.line() for conn in conns) or "no TCP connections")
            if corrupt := sum(s.corrupt for s in segments):
                print(f"({corrupt} segments with a wrong checksum left out)")
            return 0
        conn = tcpgraph.pick(conns, args.conn)
        sender = None
        if args.sender is not None:
            ip, _, port = args.sender.rpartition(":")
            if not port.isdigit():
                raise CliError(f"--sender {args.sender}: ADDR:PORT")
            sender = tcpgraph.Endpoint(ip, int(port))
        graph = tcpgraph.graph(conn, sender)
        output = args.output or args.file.with_name(f"{args.file.stem}-tcp{conn.number}.png")
        tcpgraph.draw(graph, output)
    except tcpgraph.TcpGraphError as err:
        print(f"xv6net: {err}", file=sys.stderr)
        return 1
    print(f"{output}: connection {conn.number}, {graph.sender} > {graph.receiver}: "
          f"{len(graph.data)} data segments, {len(graph.retransmits)} retransmissions, "
          f"{len(graph.acks)} ACKs, marks {' '.join(m[2] for m in graph.marks[:8]) or '-'}")
    return 0


def cmd_pcap(args: argparse.Namespace) -> int:
    if args.action == "tcp":
        return cmd_pcap_tcp(args)
    from xv6net import pcap  # noqa: PLC0415 (scapy: not for `run`)
    try:
        if args.action == "check":
            count = len(pcap.frames(args.file))
            problems = pcap.tshark_problems(args.file)
            for problem in problems:
                print("\t".join(problem.values()))
            frames = problems and len({p["frame.number"] for p in problems})
            print(f"{count} frames, {frames or 'no'} malformed or flagged by tshark"
                  if problems else f"{count} frames, no malformed frames")
            return 1 if problems else 0
        for line in pcap.summary(args.file):
            print(line)
        if args.tshark:
            for row in pcap.tshark_decode(args.file):
                print(f"{row['frame.number']:>5} tshark: {row['_ws.col.Info']}")
    except pcap.PcapError as err:
        print(f"xv6net: {err}", file=sys.stderr)
        return 1
    return 0


def _dispatch(args: argparse.Namespace) -> int:
    if args.command in ("demo", "lab", "bench", "bench-http", "docs", "trace", "pingtrace"):
        handler = {"demo": cmd_demo, "lab": cmd_lab, "bench": bench.cmd_bench,
                   "bench-http": benchhttp.cmd_bench_http, "docs": docs.cmd_docs,
                   "trace": trace.cmd_trace, "pingtrace": pingtrace.cmd_pingtrace}[args.command]
        return _with_teardown_on_sigterm(handler, args)
    handlers = {"run": cmd_run, "pcap": cmd_pcap, "prof": prof.cmd_prof, "fuzz": fuzz.cmd_fuzz,
                "exercise": exercise.cmd_exercise, "grade": exercise.cmd_grade}
    return handlers[args.command](args)


def _quiet_stdout() -> None:
    """stdout's reader has gone (`xv6net ... | head`): send the rest, and the
    flush at exit, to /dev/null rather than into another BrokenPipeError."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; bad input ends in one line on stderr and status 1,
    and a closed pipe on stdout ends it quietly (status 141, as SIGPIPE would)."""
    args = _parser().parse_args(argv)
    try:
        status = _dispatch(args)
        sys.stdout.flush()
    except BrokenPipeError:
        _quiet_stdout()
        return 128 + signal.SIGPIPE
    except CliError as err:
        print(f"xv6net: {err}", file=sys.stderr)
        return 1
    except OSError as err:   # a file that is missing or unreadable, named by err
        print(f"xv6net: {err.strerror or err}: {err.filename or ''}".rstrip(": "),
              file=sys.stderr)
        return 1
    return status
