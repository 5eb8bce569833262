"""`xv6net demo`: boot a guest and show a short scripted shell session.

Each step prints "$ command" and the command's output; a step may require a
pattern in that output. The demo exits non-zero when the guest does not boot,
a command times out, or a required pattern is missing.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from xv6net.console import AbortError
from xv6net.qemu import VMSpec
from xv6net.vm import VM, VMError

BOOT_TIMEOUT = 30.0


@dataclass(frozen=True)
class Step:
    command: str
    timeout: float = 10.0
    expect: str | None = None   # regex (MULTILINE) the output must contain


SHELL_STEPS: tuple[Step, ...] = (
    Step("ls /"),
    Step("ls /bin", expect=r"^sh\b"),
    Step("ls /bin | wc", expect=r"^\s*\d+\s+\d+\s+\d+\s*$"),
    Step("echo hello | cat", expect=r"^hello$"),
    Step("usertests", timeout=300.0, expect=r"ALL TESTS PASSED"),
)


class DemoFailed(Exception):
    pass


def run_step(vm: VM, step: Step, out: TextIO) -> None:
    print(f"$ {step.command}", file=out, flush=True)
    try:
        output = vm.run(step.command, timeout=step.timeout)
    except (TimeoutError, EOFError, AbortError) as err:
        raise DemoFailed(f"{step.command!r}: {err}") from None
    print(output, end="", file=out, flush=True)
    if step.expect and not re.search(step.expect, output, re.MULTILINE):
        raise DemoFailed(f"{step.command!r}: output lacks {step.expect!r}")


def run_demo(spec: VMSpec, *, out: TextIO = sys.stdout, logfile: Path | None = None,
             steps: Sequence[Step] = SHELL_STEPS) -> int:
    """Boot spec, run the steps, shut the guest down; 0 on success, 1 on failure."""
    print(f"demo: booting {spec.kernel} under QEMU ({spec.accel})", file=out, flush=True)
    try:
        with VM(spec, logfile=logfile) as vm:
            print(vm.wait_for_shell(BOOT_TIMEOUT).strip("\n"), file=out, flush=True)
            for step in steps:
                run_step(vm, step, out)
    except (VMError, DemoFailed) as err:
        print(f"demo: FAILED: {err}", file=out, flush=True)
        return 1
    print("demo: all steps passed; guest shut down", file=out, flush=True)
    return 0
