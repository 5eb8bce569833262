"""Run impair.py as a process on one link and read back what it did.

    relay = ImpairRelay(packet_argv("tap-a-0", "im-a-0", "loss=5%"), netns.popen,
                        label="a eth0")
    relay.start()                 # waits for "impair: ready"
    ...
    counts = relay.stop()         # {"tap-a-0>im-a-0": {"in": ..., "dropped": ...}, ...}
    print(format_counts(relay.label, relay.spec, counts))

The relay is a process of its own (impair.py, standard library only), so that
its select loop does not share the test's interpreter, and so that an
AF_PACKET relay can run inside the lab's namespace (`ip netns exec`).
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from xv6net import impair
from xv6net.vm import kill_with_parent

READY = "impair: ready"
START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0
Popen = Callable[[Sequence[str]], "subprocess.Popen[str]"]
Counts = dict[str, dict[str, int]]
SHOWN = ("in", "out", "dropped", "duplicated", "reordered", "corrupted", "overflow", "errors",
         "missed")


class RelayError(RuntimeError):
    """The relay did not start, or did not report."""


def _script() -> str:
    return str(Path(impair.__file__).resolve())


def packet_argv(a: str, b: str, spec: str) -> list[str]:
    """impair.py relaying between interfaces a and b (inside a lab namespace)."""
    return [sys.executable, _script(), "packet", a, b, spec]


def stream_argv(listen: int | Path, connect: int | Path, spec: str) -> list[str]:
    """impair.py between two QEMU stream ends: TCP ports on loopback or Unix socket paths."""
    return [sys.executable, _script(), "stream", str(listen), str(connect), spec]


def local_popen(argv: Sequence[str]) -> subprocess.Popen[str]:
    """Start argv here (no namespace), piped, killed if we die."""
    return subprocess.Popen(list(argv), text=True, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=kill_with_parent())  # noqa: PLW1509


class ImpairRelay:
    """One impair.py process: started, then stopped for its counts."""

    def __init__(self, argv: Sequence[str], popen: Popen = local_popen, label: str = "") -> None:
        self.argv = list(argv)
        self.spec = argv[-1]
        impair.parse_impairment(self.spec)      # ImpairError now, not in the child
        self.popen = popen
        self.label = label
        self.counts: Counts | None = None
        self._proc: subprocess.Popen[str] | None = None

    def start(self, timeout: float = START_TIMEOUT) -> None:
        self._proc = self.popen(self.argv)
        assert self._proc.stdout is not None
        fd = self._proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        seen = b""
        while READY.encode() not in seen:
            ready, _, _ = select.select([fd], [], [], max(deadline - time.monotonic(), 0))
            data = os.read(fd, 4096) if ready else b""
            if not data:     # nothing in time, or the relay exited (end of its output)
                if ready:
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        self._proc.wait(STOP_TIMEOUT)
                why = self._stderr() if ready else f"nothing within {timeout:g} s"
                self._kill()
                raise RelayError(f"relay {self.label} did not start: {why}")
            seen += data

    def _stderr(self) -> str:
        proc = self._proc
        if proc is None or proc.stderr is None or proc.poll() is None:
            return ""
        return proc.stderr.read().strip()

    def _kill(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait(STOP_TIMEOUT)

    def stop(self, timeout: float = STOP_TIMEOUT) -> Counts:
        """SIGTERM the relay and return its counts (safe to call twice)."""
        proc, self._proc = self._proc, None
        if proc is None:
            if self.counts is None:
                raise RelayError(f"relay {self.label} never ran")
            return self.counts
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate(timeout=timeout)
        self.counts = parse_report(out, err, self.label)
        return self.counts


def parse_report(out: str, err: str, label: str = "") -> Counts:
    """The JSON line impair.py prints last."""
    for line in reversed(out.splitlines()):
        if line.startswith("{"):
            data = json.loads(line)
            return {direction: {k: int(v) for k, v in counts.items()}
                    for direction, counts in data.items()}
    raise RelayError(f"relay {label} printed no counts: {err.strip() or out.strip()}")


def format_counts(label: str, spec: str, counts: Mapping[str, Mapping[str, int]]) -> str:
    """What a relay did, a line per direction, for a person at the terminal."""
    lines = [f"impair {label} ({impair.parse_impairment(spec).text()}):"]
    for direction, actions in counts.items():
        shown = " ".join(f"{action} {actions.get(action, 0)}" for action in SHOWN)
        lines.append(f"  {direction}: {shown}")
    return "\n".join(lines)
