"""The `xv6net` command: `run` boots a guest on this terminal, `demo` runs the demo.

Only the standard library is imported here, so `PYTHONPATH=src python3 -m xv6net
run` works before the virtual environment exists.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from xv6net.demo import run_demo
from xv6net.qemu import NicSpec, VMSpec, build_argv

DEFAULT_KERNEL = Path("build/kernel.elf")
DEFAULT_INITRD = Path("build/initramfs.cpio")


def _add_guest_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--kernel", type=Path, default=DEFAULT_KERNEL,
                        help="multiboot kernel (default: %(default)s)")
    parser.add_argument("--initrd", type=Path, default=DEFAULT_INITRD,
                        help="cpio newc initramfs (default: %(default)s)")
    parser.add_argument("--append", default="", help="kernel command line")
    parser.add_argument("--mem", type=int, default=128, help="memory in MiB (default: 128)")
    parser.add_argument("--cpus", type=int, default=1, help="number of CPUs (default: 1)")
    parser.add_argument("--accel", choices=("tcg", "kvm"), default="tcg",
                        help="accelerator (default: tcg; kvm is opt-in)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xv6net", description="Boot the xv6net kernel under QEMU and drive its console.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="boot a guest with its console on this terminal "
                                          "(Ctrl-A x quits)")
    _add_guest_options(run)
    run.add_argument("--nic", choices=("user", "none"), default="user",
                     help="one e1000 on SLiRP with restrict=on, or no NIC (default: user)")
    run.add_argument("--pcap", type=Path, help="write the NIC's frames to this pcap file")
    run.add_argument("--dry-run", action="store_true", help="print the QEMU command and exit")
    demo = commands.add_parser("demo", help="boot a guest and run a scripted shell session")
    _add_guest_options(demo)
    demo.add_argument("--log", type=Path, help="also write the console transcript here")
    return parser


def spec_from_args(args: argparse.Namespace) -> VMSpec:
    """The interactive VMSpec that `xv6net run` boots."""
    nics: list[NicSpec] = []
    if args.nic == "user":
        nics.append(NicSpec("user", pcap=args.pcap))
    elif args.pcap is not None:
        raise SystemExit("xv6net: --pcap needs a NIC")
    return VMSpec(kernel=args.kernel, initramfs=args.initrd, cmdline=args.append,
                  memory_mb=args.mem, cpus=args.cpus, accel=args.accel, nics=nics,
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


def cmd_demo(args: argparse.Namespace) -> int:
    spec = VMSpec(kernel=args.kernel, initramfs=args.initrd, cmdline=args.append,
                  memory_mb=args.mem, cpus=args.cpus, accel=args.accel,
                  nics=[NicSpec("user")])
    return run_demo(spec, logfile=args.log)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handlers = {"run": cmd_run, "demo": cmd_demo}
    return handlers[args.command](args)
