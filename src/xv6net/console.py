"""Drive a serial console: send lines, wait for regular expressions, run commands.

`Console` works on anything with a file descriptor that select() accepts: the
unix socket of QEMU's serial chardev, one end of a socketpair in tests, a pipe
or a pty. The guest writes "\\r\\n" for every newline; the console turns that
into "\\n" before anything else sees it.
"""

from __future__ import annotations

import codecs
import os
import re
import select
import time
from pathlib import Path
from typing import Protocol, TextIO

PROMPT = re.compile(r"\n\$ ")   # the shell prints "$ " at the start of a line
DEFAULT_TIMEOUT = 10.0
INTERRUPT_TIMEOUT = 5.0
CTRL_C = b"\x03"
TAIL_CHARS = 600


class AbortError(RuntimeError):
    """The output matched the console's abort pattern (say, a kernel panic)."""


class Stream(Protocol):
    def fileno(self) -> int: ...


class Console:
    """Expect-style automation of a byte stream.

    `expect` searches the output received since the previous match; `run`
    sends one shell command and returns what it printed. `log` is the whole
    transcript so far; with `logfile` it is also appended to that file. When
    `abort` matches the output, waits end at once with AbortError instead of
    running into their timeout.
    """

    def __init__(self, stream: Stream, logfile: Path | None = None,
                 abort: str | re.Pattern[str] | None = None) -> None:
        self._stream = stream
        self._fd = stream.fileno()
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending_cr = False
        self._buffer = ""
        self._log: list[str] = []
        self._tee: TextIO | None = None
        if logfile is not None:
            self._tee = logfile.open("a", encoding="utf-8")
        self.eof = False
        self.abort = re.compile(abort) if isinstance(abort, str) else abort

    # ---- output ---------------------------------------------------------

    @property
    def log(self) -> str:
        """Everything received so far, newlines normalised."""
        return "".join(self._log)

    @property
    def buffer(self) -> str:
        """Output received since the last match, not yet consumed."""
        return self._buffer

    def _normalise(self, text: str) -> str:
        """"\\r\\n" -> "\\n", also when the pair is split across two reads."""
        if self._pending_cr:
            text = "\r" + text
        self._pending_cr = text.endswith("\r")
        if self._pending_cr:
            text = text[:-1]
        return text.replace("\r\n", "\n")

    def _append(self, data: bytes) -> None:
        text = self._normalise(self._decoder.decode(data))
        if not text:
            return
        self._buffer += text
        self._log.append(text)
        if self._tee is not None:
            self._tee.write(text)
            self._tee.flush()

    def _read_some(self, timeout: float) -> bool:
        """Read what is available within timeout; False if nothing came."""
        if self.eof:
            return False
        readable, _, _ = select.select([self._fd], [], [], max(timeout, 0.0))
        if not readable:
            return False
        data = os.read(self._fd, 65536)
        if not data:
            self.eof = True
            return False
        self._append(data)
        return True

    def drain(self, quiet: float = 0.2, timeout: float = DEFAULT_TIMEOUT) -> str:
        """Read until nothing arrives for `quiet` seconds; return and clear the buffer."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self._read_some(quiet):
            pass
        text, self._buffer = self._buffer, ""
        return text

    def tail(self, chars: int = TAIL_CHARS) -> str:
        return self.log[-chars:]

    # ---- input ----------------------------------------------------------

    def send(self, text: str | bytes) -> None:
        data = text.encode() if isinstance(text, str) else text
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]

    def sendline(self, line: str = "") -> None:
        self.send(line + "\n")

    # ---- matching -------------------------------------------------------

    def expect(self, pattern: str | re.Pattern[str],
               timeout: float = DEFAULT_TIMEOUT) -> re.Match[str]:
        """Wait until pattern matches the unconsumed output; consume up to the match end.

        Raises TimeoutError (with the tail of the output) when the time runs
        out, EOFError when the stream closes first and AbortError when the
        abort pattern shows up first.
        """
        regex = re.compile(pattern) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        while True:
            match = regex.search(self._buffer)
            if match:
                self._buffer = self._buffer[match.end():]
                return match
            if self.abort is not None and self.abort.search(self._buffer):
                raise AbortError(f"{self.abort.pattern!r} seen while waiting for "
                                 f"{regex.pattern!r}; last output:\n{self.tail()}")
            remaining = deadline - time.monotonic()
            if self.eof:
                raise EOFError(f"console closed while waiting for {regex.pattern!r}; "
                               f"last output:\n{self.tail()}")
            if remaining <= 0:
                raise TimeoutError(f"no {regex.pattern!r} within {timeout:g} s; "
                                   f"last output:\n{self.tail()}")
            self._read_some(remaining)

    def expect_prompt(self, timeout: float = DEFAULT_TIMEOUT) -> str:
        """Wait for the shell prompt; return the output before it."""
        return self._before(PROMPT, timeout)

    def _before(self, regex: re.Pattern[str], timeout: float) -> str:
        """Like expect, but return the text that preceded the match."""
        match = self.expect(regex, timeout)
        return match.string[:match.start()]

    def run(self, command: str, timeout: float = DEFAULT_TIMEOUT) -> str:
        """Send command, wait for the next prompt, return what the command printed.

        The first line after sending is the shell's echo of the command (with
        any line editing in it) and is dropped. The result ends with "\\n"
        unless it is empty.
        """
        self.sendline(command)
        before = self.expect_prompt(timeout)
        _echo, newline, output = before.partition("\n")
        return output + newline

    def interrupt(self, timeout: float = INTERRUPT_TIMEOUT) -> str:
        """Type ^C and wait for the prompt: the shell's foreground job gets
        SIGINT and the shell prompts again. Returns what was printed since
        the last match, without the echo of the command line, when a `run`
        timed out first (the "^C" the console echoes is included)."""
        self.send(CTRL_C)
        before = self.expect_prompt(timeout)
        _echo, newline, output = before.partition("\n")
        return output + newline if newline else before

    def close(self) -> None:
        if self._tee is not None:
            self._tee.close()
            self._tee = None
        close = getattr(self._stream, "close", None)
        if close is not None:
            close()

    def __enter__(self) -> Console:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
