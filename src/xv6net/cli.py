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

from xv6net import bench, nics, prof, topology
from xv6net.lab import LAB_ERRORS, Lab
from xv6net.netns import remove_stale
from xv6net.qemu import NicSpec, VMSpec, build_argv

DEFAULT_KERNEL = Path("build/kernel.elf")
DEFAULT_INITRD = Path("build/initramfs.cpio")


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
    parser.add_argument("--cpus", type=int, default=1, help="number of CPUs (default: 1)")


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
                     help="one NIC on SLiRP with restrict=on, or no NIC (default: user)")
    _add_model_option(run)
    run.add_argument("--pcap", type=Path, help="write the NIC's frames to this pcap file")
    run.add_argument("--dry-run", action="store_true", help="print the QEMU command and exit")
    _add_demo_parser(commands)
    _add_lab_parser(commands)
    _add_pcap_parser(commands)
    prof.add_arguments(commands.add_parser(
        "prof", help="attribute a `kprof dump` transcript to kernel functions"))
    bench.add_arguments(commands.add_parser(
        "bench", help="measure xv6net and a Linux guest on the same emulated card (root; "
                      "see docs/bench.md)"))
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


def spec_from_args(args: argparse.Namespace) -> VMSpec:
    """The interactive VMSpec that `xv6net run` boots."""
    cards: list[NicSpec] = []
    if args.nic == "user":
        cards.append(NicSpec("user", model=args.nic_model, pcap=args.pcap))
    elif args.pcap is not None:
        raise SystemExit("xv6net: --pcap needs a NIC")
    return VMSpec(kernel=args.kernel, initramfs=args.initrd, cmdline=args.append,
                  memory_mb=args.mem, cpus=args.cpus, accel=args.accel, nics=cards,
                  serial="stdio")


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
                        bridged=False if args.no_bridge else None, nic_model=args.nic_model)
    return run_demo(config)


LAB_HELP = """\
Type GUEST COMMAND to run a command on a guest's shell (e.g. "a arping 10.0.0.3"),
"! COMMAND" to run a command in the namespace (e.g. "! ip neigh"); an empty line,
end of input or Ctrl-C tears the lab down."""


def lab_command(lab: Lab, line: str) -> str:
    """Run one line typed at the lab prompt; return what to print."""
    if line.startswith("!"):
        result = lab.peer_run(shlex.split(line[1:]), timeout=60.0)
        return result.stdout + result.stderr
    name, _, command = line.partition(" ")
    if name not in lab.guests or not command.strip():
        return f"? {LAB_HELP}\n"
    return lab.guest(name).run(command, timeout=60.0)


def lab_session(lab: Lab) -> None:
    print(lab.describe())
    print(LAB_HELP)
    while True:
        try:
            line = input("lab> " if sys.stdin.isatty() else "").strip()
        except EOFError:
            return
        if not line:
            return
        try:
            print(lab_command(lab, line), end="", flush=True)
        except (TimeoutError, *LAB_ERRORS) as err:
            print(f"xv6net: {err}", file=sys.stderr)


def cmd_lab(args: argparse.Namespace) -> int:
    if args.list:
        for name, make in topology.NAMED.items():
            print(f"{name:13s} {' '.join((make.__doc__ or '').split())}")
        return 0
    try:
        if args.cleanup:
            removed = remove_stale()
            print("\n".join(f"removed {name}" for name in removed) or "nothing to remove")
            return 0
        topo = topology.named_or_file(args.topology)
        results = args.results or Path("build/lab") / Path(args.topology).stem
        with Lab(topo, results, kernel=args.kernel, initramfs=args.initrd,
                 accel=args.accel, nic_model=args.nic_model) as lab:
            lab_session(lab)
    except (OSError, ValueError) as err:   # an unreadable topology file, a bad value
        print(f"xv6net: {err}", file=sys.stderr)
        return 1
    except (topology.TopologyError, *LAB_ERRORS) as err:
        print(f"xv6net: {err}", file=sys.stderr)
        return 1
    print("xv6net: lab torn down", file=sys.stderr)
    return 0


def cmd_pcap(args: argparse.Namespace) -> int:
    from xv6net import pcap  # noqa: PLC0415 (scapy: not for `run`)
    try:
        if args.action == "check":
            problems = pcap.tshark_problems(args.file)
            for problem in problems:
                print("\t".join(problem.values()))
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


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command in ("demo", "lab", "bench"):
        handler = {"demo": cmd_demo, "lab": cmd_lab, "bench": bench.cmd_bench}[args.command]
        return _with_teardown_on_sigterm(handler, args)
    handlers = {"run": cmd_run, "pcap": cmd_pcap, "prof": prof.cmd_prof}
    return handlers[args.command](args)
