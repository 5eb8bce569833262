"""Run one guest under QEMU with its serial console (and optionally QMP) on unix sockets.

    with VM(VMSpec(nics=[NicSpec("user")])) as vm:
        vm.wait_for_shell()
        print(vm.run("ls /bin"))

Leaving the `with` block always stops QEMU (SIGTERM, then SIGKILL) and removes
the temporary directory that held the sockets and QEMU's output.
"""

from __future__ import annotations

import ctypes
import dataclasses
import json
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from xv6net.console import PROMPT, AbortError, Console
from xv6net.qemu import VMSpec, build_argv

CONNECT_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0
PR_SET_PDEATHSIG = 1
# The kernel's panic() prints "panic: ...", a backtrace, then "system halted".
KERNEL_PANIC = re.compile(r"(?m)^panic: .*\n(?:.*\n)*?system halted")


class VMError(RuntimeError):
    """QEMU could not be started, died, or did not answer."""


def kill_with_parent() -> Callable[[], None] | None:
    """A preexec_fn that has Linux SIGKILL the child when its parent dies.

    That way a test run killed from outside does not leave QEMU spinning.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None

    def setup() -> None:
        libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL))

    return setup


def connect_unix(path: Path, deadline: float, alive: Callable[[], bool]) -> socket.socket:
    """Connect to a unix socket that a process is about to create, retrying until deadline."""
    while True:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(str(path))
            return sock
        except (FileNotFoundError, ConnectionRefusedError):
            sock.close()
        if not alive():
            raise VMError(f"QEMU exited before {path} accepted a connection")
        if time.monotonic() >= deadline:
            raise VMError(f"no connection to {path} in time")
        time.sleep(0.02)


class QMP:
    """A minimal QMP client: capabilities handshake, then one command at a time."""

    def __init__(self, sock: socket.socket, timeout: float = 5.0) -> None:
        self._sock = sock
        self._sock.settimeout(timeout)
        self._file = sock.makefile("rwb")
        greeting = self._read_message()
        if "QMP" not in greeting:
            raise VMError(f"not a QMP greeting: {greeting}")
        self.execute("qmp_capabilities")

    def _read_message(self) -> dict[str, Any]:
        line = self._file.readline()
        if not line:
            raise VMError("QMP connection closed")
        return json.loads(line)

    def execute(self, command: str, timeout: float = 5.0, **arguments: Any) -> Any:  # noqa: ANN401
        """Run a QMP command and return its "return" value; events are skipped."""
        self._sock.settimeout(timeout)
        request: dict[str, Any] = {"execute": command}
        if arguments:
            request["arguments"] = arguments
        self._file.write(json.dumps(request).encode() + b"\n")
        self._file.flush()
        while True:
            reply = self._read_message()
            if "return" in reply:
                return reply["return"]
            if "error" in reply:
                raise VMError(f"QMP {command}: {reply['error'].get('desc', reply['error'])}")

    def close(self) -> None:
        self._file.close()
        self._sock.close()


class VM:
    """One QEMU guest, started from a VMSpec; use it as a context manager."""

    def __init__(self, spec: VMSpec, *, logfile: Path | None = None,
                 with_monitor: bool = True, connect_timeout: float = CONNECT_TIMEOUT,
                 prefix: Sequence[str] = ()) -> None:
        self.requested = spec
        self.prefix = tuple(prefix)   # e.g. ("ip", "netns", "exec", NS): it must exec QEMU
        self.spec: VMSpec | None = None
        self.logfile = logfile
        self.with_monitor = with_monitor
        self.connect_timeout = connect_timeout
        self.boot_log = ""
        self.stderr = ""
        self._saved_log = ""
        self._workdir: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr_path: Path | None = None
        self._console: Console | None = None
        self._qmp: QMP | None = None

    # ---- life cycle ----------------------------------------------------

    def __enter__(self) -> VM:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _check_files(self) -> None:
        for path in (self.requested.kernel, self.requested.initramfs):
            if path is not None and not Path(path).is_file():
                raise VMError(f"{path} does not exist (run make first)")

    def start(self) -> None:
        """Start QEMU and connect to its serial console (QEMU waits for us).

        On any failure QEMU is stopped and the temporary files are removed.
        A VM starts once (`with VM(...)` has started it): a second start would
        leave the first QEMU and its console reader running.
        """
        if self._proc is not None:
            raise VMError("the VM is already started")
        try:
            self._start()
        except BaseException:
            self.close()
            raise

    def _spawn(self, argv: list[str], output: Path) -> None:
        with output.open("wb") as out:
            try:
                self._proc = subprocess.Popen(
                    argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                    preexec_fn=kill_with_parent(),  # noqa: PLW1509
                )
            except OSError as err:
                raise VMError(f"cannot start {argv[0]}: {err}") from None

    def _start(self) -> None:
        self._check_files()
        self._workdir = Path(tempfile.mkdtemp(prefix="xv6net-"))
        monitor = self._workdir / "qmp.sock" if self.with_monitor else None
        self.spec = dataclasses.replace(self.requested, serial=self._workdir / "serial.sock",
                                        serial_wait=True, monitor=monitor)
        self._stderr_path = self._workdir / "qemu.out"
        self._spawn(self.argv, self._stderr_path)
        deadline = time.monotonic() + self.connect_timeout
        try:
            sock = connect_unix(Path(self.spec.serial), deadline, self.is_running)
        except VMError as err:
            raise VMError(f"{err}\n{self.read_stderr()}") from None
        self._console = Console(sock, logfile=self.logfile, abort=KERNEL_PANIC)

    @property
    def argv(self) -> list[str]:
        """The command that starts (or started) QEMU: prefix + build_argv(spec)."""
        return [*self.prefix, *build_argv(self.spec or self.requested)]

    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def read_stderr(self) -> str:
        """What QEMU has written to stdout/stderr so far (kept after close)."""
        if self._stderr_path is not None and self._stderr_path.exists():
            self.stderr = self._stderr_path.read_text(errors="replace")
        return self.stderr

    def _stop_qemu(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=STOP_TIMEOUT)

    def close(self) -> None:
        """Stop QEMU and remove the temporary files; safe to call twice."""
        self._saved_log = self.log
        for closer in (self._qmp, self._console):
            if closer is not None:
                closer.close()
        self._qmp = None
        self._console = None
        self._stop_qemu()
        self.read_stderr()
        self._stderr_path = None
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    # ---- console -------------------------------------------------------

    @property
    def console(self) -> Console:
        if self._console is None:
            raise VMError("the VM is not running")
        return self._console

    @property
    def log(self) -> str:
        """The console transcript so far (kept after close)."""
        return self._console.log if self._console is not None else self._saved_log

    def wait_for_shell(self, timeout: float = 30.0) -> str:
        """Wait for the first shell prompt; return (and keep) the boot log before it."""
        try:
            match = self.console.expect(PROMPT, timeout)
        except (TimeoutError, EOFError, AbortError) as err:
            raise VMError(f"no shell prompt: {err}\nQEMU: {self.read_stderr()}") from None
        self.boot_log = match.string[:match.start()] + "\n"
        return self.boot_log

    def run(self, command: str, timeout: float = 10.0) -> str:
        """Run one shell command and return its output (see Console.run)."""
        return self.console.run(command, timeout)

    # ---- monitor -------------------------------------------------------

    def qmp(self) -> QMP:
        if self._qmp is None:
            if self.spec is None or self.spec.monitor is None:
                raise VMError("this VM was started without a monitor")
            deadline = time.monotonic() + self.connect_timeout
            sock = connect_unix(self.spec.monitor, deadline, self.is_running)
            self._qmp = QMP(sock)
        return self._qmp

    def monitor(self, command: str, timeout: float = 5.0) -> str:
        """Run a human monitor command ("info pic", "info irq", ...) and return its text."""
        result = self.qmp().execute("human-monitor-command", timeout, **{"command-line": command})
        return str(result)
