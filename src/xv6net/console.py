"""Drive a serial console: send lines, wait for regular expressions, run commands.

`Console` works on anything with a file descriptor that poll() accepts: the
unix socket of QEMU's serial chardev, one end of a socketpair in tests, a pipe
or a pty. The guest writes "\\r\\n" for every newline; the console turns that
into "\\n" before anything else sees it.

A reader thread drains the stream from the moment the Console is made until
the stream ends or the Console is closed, whether or not anybody is waiting
in `expect`. QEMU's serial chardev stops taking bytes from the guest's UART
when its host side is not read, and the guest's UART then either stalls the
guest or drops characters; a test that is busy elsewhere (reading a capture,
driving a Linux peer) must not cause either. See docs/toolkit.md.
"""

from __future__ import annotations

import codecs
import errno
import os
import re
import select
import threading
import time
import warnings
from pathlib import Path
from typing import Protocol, TextIO

PROMPT = re.compile(r"\n\$ ")   # the shell prints "$ " at the start of a line
DEFAULT_TIMEOUT = 10.0
INTERRUPT_TIMEOUT = 5.0
CLOSE_TIMEOUT = 5.0      # how long close() waits for the reader thread to end
CTRL_C = b"\x03"
TAIL_CHARS = 600
READ_SIZE = 65536
BIG_BUFFER = 65536       # unconsumed characters past which expect searches less often
GATHER_WAIT = 0.02       # seconds it then lets output gather between searches


class AbortError(RuntimeError):
    """The output matched the console's abort pattern (say, a kernel panic)."""


class ConsoleError(RuntimeError):
    """The reader thread failed on something other than the stream ending."""


class Stream(Protocol):
    def fileno(self) -> int: ...


class Console:
    """Expect-style automation of a byte stream.

    `expect` searches the output received since the previous match; `run`
    sends one shell command and returns what it printed. `log` is the whole
    transcript so far; with `logfile` it is also appended to that file. When
    `abort` matches the output, waits end at once with AbortError instead of
    running into their timeout.

    A daemon thread ("console-reader-FD") reads the stream continuously into
    a buffer under a condition variable; `expect` and `drain` wait on that
    condition. The thread ends at end of stream, on a read error (kept and
    raised by the next wait), or when `close` asks it to.
    """

    def __init__(self, stream: Stream, logfile: Path | None = None,
                 abort: str | re.Pattern[str] | None = None) -> None:
        self._stream = stream
        self._fd = stream.fileno()
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending_cr = False
        self._buffer = ""
        self._chunks: list[str] = []     # received, not yet joined onto _buffer
        self._log: list[str] = []
        self._received = 0               # characters appended so far (drain watches it)
        self._eof = False
        self._failure: BaseException | None = None
        self._failure_reported = False
        self._cond = threading.Condition()
        self._tee: TextIO | None = None
        if logfile is not None:
            self._tee = logfile.open("a", encoding="utf-8")
        self.abort = re.compile(abort) if isinstance(abort, str) else abort
        self._wake_r, self._wake_w = os.pipe()   # close() writes here to stop the reader
        self._reader = threading.Thread(target=self._read_loop, daemon=True,
                                        name=f"console-reader-{self._fd}")
        self._reader.start()

    # ---- the reader thread ----------------------------------------------

    def _read_loop(self) -> None:
        try:
            poller = select.poll()
            poller.register(self._fd, select.POLLIN)
            poller.register(self._wake_r, select.POLLIN)
            while self._read_once(poller):
                pass
        except BaseException as err:   # kept, and raised by the next wait (or warned at close)
            with self._cond:
                self._failure = err
        finally:
            self._finish()

    def _read_once(self, poller: select.poll) -> bool:
        """Wait for data (or a stop request) and append it; False when done."""
        ready = {fd for fd, _ in poller.poll()}
        if self._wake_r in ready:
            return False
        try:
            data = os.read(self._fd, READ_SIZE)
        except OSError as err:
            if err.errno in (errno.EAGAIN, errno.EINTR):
                return True
            if err.errno in (errno.ECONNRESET, errno.EIO):
                return False     # the far end went away (EIO: a pty whose peer closed)
            raise
        if not data:
            return False
        self._append(self._decoder.decode(data))
        return True

    def _finish(self) -> None:
        """End of stream: flush what the decoder and the "\\r" holder kept back."""
        tail = self._decoder.decode(b"", final=True)
        if self._pending_cr:
            tail += "\r"
            self._pending_cr = False
        if tail:
            self._append(tail, normalise=False)
        with self._cond:
            self._eof = True
            self._cond.notify_all()

    def _normalise(self, text: str) -> str:
        """"\\r\\n" -> "\\n", also when the pair is split across two reads."""
        if self._pending_cr:
            text = "\r" + text
        self._pending_cr = text.endswith("\r")
        if self._pending_cr:
            text = text[:-1]
        return text.replace("\r\n", "\n")

    def _append(self, text: str, normalise: bool = True) -> None:
        if normalise:
            text = self._normalise(text)
        if not text:
            return
        with self._cond:
            self._chunks.append(text)
            self._log.append(text)
            self._received += len(text)
            if self._tee is not None:
                self._tee.write(text)
                self._tee.flush()
            self._cond.notify_all()

    # ---- output (callers hold no lock) -----------------------------------

    @property
    def eof(self) -> bool:
        """True once the stream has ended (or the reader stopped)."""
        with self._cond:
            return self._eof

    @property
    def log(self) -> str:
        """Everything received so far, newlines normalised."""
        with self._cond:
            return "".join(self._log)

    @property
    def buffer(self) -> str:
        """Output received since the last match, not yet consumed."""
        with self._cond:
            return self._take()

    def _take(self) -> str:
        """The unconsumed output, with what the reader added since joined on (lock held)."""
        if self._chunks:
            self._buffer += "".join(self._chunks)
            self._chunks.clear()
        return self._buffer

    def _raise_failure(self) -> None:
        """Raise what stopped the reader thread, if it was not the end of the stream."""
        if self._failure is not None:
            self._failure_reported = True
            raise ConsoleError(f"console reader failed: {self._failure!r}; "
                               f"last output:\n{self._tail()}") from self._failure

    def drain(self, quiet: float = 0.2, timeout: float = DEFAULT_TIMEOUT) -> str:
        """Wait until nothing arrives for `quiet` seconds (at most `timeout`);
        return and clear the unconsumed output."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not self._eof:
                seen = self._received
                wait = min(quiet, deadline - time.monotonic())
                if wait <= 0:
                    break
                self._cond.wait(wait)   # every append and the end notify
                if self._received == seen:
                    break
            self._raise_failure()
            text = self._take()
            self._buffer = ""
            return text

    def tail(self, chars: int = TAIL_CHARS) -> str:
        with self._cond:
            return self._tail(chars)

    def _tail(self, chars: int = TAIL_CHARS) -> str:
        """The last chars of the transcript (lock held)."""
        text = ""
        for piece in reversed(self._log):
            text = piece + text
            if len(text) >= chars:
                break
        return text[-chars:]

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
        with self._cond:
            while True:
                buffer = self._take()
                match = regex.search(buffer)
                if match:
                    self._buffer = buffer[match.end():]
                    return match
                if self.abort is not None and self.abort.search(buffer):
                    raise AbortError(f"{self.abort.pattern!r} seen while waiting for "
                                     f"{regex.pattern!r}; last output:\n{self._tail()}")
                if self._eof:
                    self._raise_failure()
                    raise EOFError(f"console closed while waiting for {regex.pattern!r}; "
                                   f"last output:\n{self._tail()}")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"no {regex.pattern!r} within {timeout:g} s; "
                                       f"last output:\n{self._tail()}")
                if len(buffer) >= BIG_BUFFER:
                    # Each wake-up copies and searches the whole unconsumed
                    # output, and the guest writes a byte at a time: let it
                    # gather for a moment (only the end of the stream cuts that short).
                    self._cond.wait_for(lambda: self._eof, min(GATHER_WAIT, remaining))
                self._cond.wait_for(lambda: bool(self._chunks) or self._eof, remaining)

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
        """Stop the reader thread, then close the log file and the stream; safe twice."""
        if self._reader.is_alive():
            os.write(self._wake_w, b"x")
            self._reader.join(CLOSE_TIMEOUT)
        if self._reader.is_alive():
            raise ConsoleError(f"{self._reader.name} did not stop within {CLOSE_TIMEOUT:g} s")
        for fd in (self._wake_r, self._wake_w):
            if fd >= 0:
                os.close(fd)
        self._wake_r = self._wake_w = -1
        if self._tee is not None:
            self._tee.close()
            self._tee = None
        close = getattr(self._stream, "close", None)
        if close is not None:
            close()
        if self._failure is not None and not self._failure_reported:
            self._failure_reported = True
            warnings.warn(f"console reader failed: {self._failure!r}", RuntimeWarning,
                          stacklevel=2)

    def __enter__(self) -> Console:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
