"""Console against a fake guest: a thread on the far end of a socketpair."""

import contextlib
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from xv6net.console import AbortError, Console, ConsoleError


class FakeShell(threading.Thread):
    """Plays the guest: echoes input with a line discipline, runs a few commands.

    Like the kernel it echoes "\\n" as "\\r\\n", erases with "\\b \\b" on
    backspace and ^U, and prints the prompt "$ " after every command.
    """

    def __init__(self, sock: socket.socket) -> None:
        super().__init__(daemon=True)
        self.sock = sock
        self.line = ""

    def out(self, text: str) -> None:
        self.sock.sendall(text.replace("\n", "\r\n").encode())

    def execute(self, line: str) -> None:
        cmd, _, arg = line.partition(" ")
        if cmd == "echo":
            self.out(arg + "\n")
        elif cmd == "hang":
            return   # never prompts again
        elif cmd == "lines":
            for i in range(int(arg)):
                self.out(f"line {i}\n")
        elif cmd:
            self.out(f"sh: {cmd}: not found\n")
        self.out("$ ")

    def feed(self, char: str) -> None:
        if char in "\b\x7f":
            if self.line:
                self.line = self.line[:-1]
                self.sock.sendall(b"\b \b")
        elif char == "\x15":
            self.sock.sendall(b"\b \b" * len(self.line))
            self.line = ""
        elif char == "\n":
            self.out("\n")
            line, self.line = self.line, ""
            self.execute(line)
        else:
            self.line += char
            self.out(char)

    def run(self) -> None:
        self.out("booting\ninit: starting sh\n$ ")
        try:
            while data := self.sock.recv(4096):
                for char in data.decode():
                    self.feed(char)
        except OSError:
            pass


@pytest.fixture
def shell() -> Iterator[Console]:
    ours, theirs = socket.socketpair()
    fake = FakeShell(theirs)
    fake.start()
    console = Console(ours)
    console.expect_prompt(timeout=5)
    yield console
    console.close()
    fake.join(timeout=5)
    theirs.close()


@pytest.fixture
def pair() -> Iterator[tuple[Console, socket.socket]]:
    ours, theirs = socket.socketpair()
    console = Console(ours)
    yield console, theirs
    console.close()
    theirs.close()


def test_run_returns_output(shell):
    assert shell.run("echo hello") == "hello\n"


def test_run_without_output(shell):
    assert shell.run("") == ""


def test_run_blank_line_output(shell):
    assert shell.run("echo") == "\n"


def test_run_several_lines(shell):
    assert shell.run("lines 3") == "line 0\nline 1\nline 2\n"


def test_run_twice_keeps_in_step(shell):
    assert shell.run("echo a") == "a\n"
    assert shell.run("echo b") == "b\n"


def test_backspace_editing(shell):
    assert shell.run("echox\b hi") == "hi\n"


def test_kill_line(shell):
    assert shell.run("junk\x15echo ok") == "ok\n"


def test_no_carriage_returns_anywhere(shell):
    shell.run("lines 5")
    assert "\r" not in shell.log
    assert "booting\ninit: starting sh\n$ " in shell.log


def test_run_timeout_has_tail(shell):
    start = time.monotonic()
    with pytest.raises(TimeoutError) as info:
        shell.run("hang", timeout=0.3)
    assert time.monotonic() - start < 2
    assert "hang" in str(info.value)


def test_expect_returns_match_and_consumes(pair):
    console, far = pair
    far.sendall(b"abc 123 def 456\r\n")
    assert console.expect(r"\d+", timeout=1).group() == "123"
    assert console.expect(r"\d+", timeout=1).group() == "456"
    assert console.buffer == "\n"


def test_expect_timeout_message(pair):
    console, far = pair
    far.sendall(b"some output\r\n")
    with pytest.raises(TimeoutError, match="some output"):
        console.expect("never", timeout=0.2)


def test_expect_eof(pair):
    console, far = pair
    far.sendall(b"bye\r\n")
    far.shutdown(socket.SHUT_WR)
    with pytest.raises(EOFError, match="bye"):
        console.expect("never", timeout=2)
    assert console.eof


def test_crlf_split_across_reads(pair):
    console, far = pair
    far.sendall(b"one\r")
    with pytest.raises(TimeoutError):
        console.expect("two", timeout=0.2)
    assert console.log == "one"   # the "\r" is held until we see what follows it
    far.sendall(b"\ntwo\r\n")
    console.expect("two", timeout=1)
    assert console.log == "one\ntwo\n"


def test_lone_carriage_return_kept(pair):
    console, far = pair
    far.sendall(b"50%\r100%\r\n")
    console.expect("100%\n", timeout=1)
    assert console.log == "50%\r100%\n"


def test_utf8_split_across_reads(pair):
    console, far = pair
    data = "größe\r\n".encode()
    far.sendall(data[:3])
    time.sleep(0.05)
    far.sendall(data[3:])
    assert console.expect("größe\n", timeout=1)


def test_sendline_and_send(pair):
    console, far = pair
    console.sendline("ls /")
    console.send(b"\x03")
    assert far.recv(100) == b"ls /\n\x03"


def test_drain(pair):
    console, far = pair
    far.sendall(b"x\r\ny\r\n")
    assert console.drain(quiet=0.1, timeout=2) == "x\ny\n"
    assert console.buffer == ""


def test_tee_to_file(tmp_path):
    ours, theirs = socket.socketpair()
    log = tmp_path / "console.log"
    with Console(ours, logfile=log) as console:
        theirs.sendall(b"hello\r\nworld\r\n")
        console.expect("world", timeout=1)
    theirs.close()
    assert log.read_text() == "hello\nworld\n"


def test_abort_pattern_ends_wait_early():
    ours, theirs = socket.socketpair()
    with Console(ours, abort=r"(?m)^panic: .*\n(?:.*\n)*?system halted") as console:
        theirs.sendall(b"test pipe: ok\r\npanic: kfree\r\n  #0 0x80100000\r\nsystem halted\r\n")
        start = time.monotonic()
        with pytest.raises(AbortError, match="kfree"):
            console.expect_prompt(timeout=30)
        assert time.monotonic() - start < 5
    theirs.close()


# ---- the reader thread: the console drains the stream by itself ---------------

def reader_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("console-reader-")]


def numbered_lines(total_bytes: int) -> bytes:
    """Lines "NNNNNNN <padding>\\r\\n" of 64 bytes each, numbered from 0."""
    lines = [b"%07d %s\r\n" % (i, b"x" * 54) for i in range(total_bytes // 64)]
    return b"".join(lines)


def test_megabyte_written_while_nobody_waits_arrives_whole():
    ours, theirs = socket.socketpair()
    data = numbered_lines(1 << 20)
    # A socketpair holds a few hundred KB: without a reader the writer blocks.
    writer = threading.Thread(target=theirs.sendall, args=(data,), daemon=True)
    with Console(ours) as console:
        writer.start()
        time.sleep(1.0)      # the test is busy elsewhere: no expect, no drain
        writer.join(timeout=10)
        assert not writer.is_alive(), "the guest side was back-pressured"
        theirs.sendall(b"END\r\n")
        console.expect("END\n", timeout=10)
        lines = console.log.splitlines()[:-1]
    theirs.close()
    assert len(lines) == len(data) // 64
    assert all(line.startswith(f"{i:07d} ") for i, line in enumerate(lines))


def test_reader_thread_ends_at_eof():
    ours, theirs = socket.socketpair()
    console = Console(ours)
    assert len(reader_threads()) == 1
    theirs.sendall(b"last words\r\n")
    theirs.close()
    with pytest.raises(EOFError, match="last words"):
        console.expect("never", timeout=5)
    deadline = time.monotonic() + 5
    while reader_threads() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert reader_threads() == []
    console.close()


def test_close_stops_reader_of_open_stream():
    ours, theirs = socket.socketpair()
    console = Console(ours)
    theirs.sendall(b"partial")
    console.close()
    console.close()            # twice is fine
    assert reader_threads() == []
    theirs.close()


def test_no_reader_thread_left_by_other_tests():
    assert reader_threads() == []


def test_pipe_read_end_and_eof():
    read_end, write_end = os.pipe()
    with open(read_end, "rb", buffering=0) as stream:
        console = Console(stream)
        os.write(write_end, b"via pipe\r\n")
        os.close(write_end)
        console.expect("via pipe\n", timeout=5)
        with pytest.raises(EOFError):
            console.expect("more", timeout=5)
        assert console.eof
        console.close()


def test_eof_flushes_held_carriage_return():
    ours, theirs = socket.socketpair()
    with Console(ours) as console:
        theirs.sendall(b"ends in cr\r")
        theirs.close()
        with pytest.raises(EOFError):
            console.expect("never", timeout=5)
        assert console.log == "ends in cr\r"


def test_abort_seen_while_test_was_away():
    ours, theirs = socket.socketpair()
    with Console(ours, abort=r"panic: .*\n") as console:
        theirs.sendall(b"x" * 50_000 + b"\r\npanic: trap 14\r\n")
        time.sleep(0.5)
        start = time.monotonic()
        with pytest.raises(AbortError, match="trap 14"):
            console.expect_prompt(timeout=30)
        assert time.monotonic() - start < 5
    theirs.close()


@contextlib.contextmanager
def chattering(sock: socket.socket, line: bytes, period: float) -> Iterator[None]:
    """A thread that sends line every period seconds until the block ends."""
    stop = threading.Event()

    def chatter() -> None:
        while not stop.is_set():
            sock.sendall(line)
            time.sleep(period)

    talker = threading.Thread(target=chatter, daemon=True)
    talker.start()
    try:
        yield
    finally:
        stop.set()
        talker.join(timeout=5)


def test_expect_times_out_while_output_keeps_coming():
    ours, theirs = socket.socketpair()
    with Console(ours) as console, chattering(theirs, b"noise\r\n", 0.005):
        start = time.monotonic()
        with pytest.raises(TimeoutError, match="noise"):
            console.expect("silence", timeout=0.5)
        assert 0.5 <= time.monotonic() - start < 3
    theirs.close()


def test_drain_bounded_by_timeout_when_output_never_stops():
    ours, theirs = socket.socketpair()
    with Console(ours) as console, chattering(theirs, b"tick\r\n", 0.01):
        start = time.monotonic()
        text = console.drain(quiet=0.3, timeout=1.0)
        assert time.monotonic() - start < 3
        assert "tick\n" in text
    theirs.close()


def test_tee_gets_output_nobody_waited_for(tmp_path):
    ours, theirs = socket.socketpair()
    log = tmp_path / "console.log"
    console = Console(ours, logfile=log)
    theirs.sendall(b"unread\r\n")
    theirs.close()
    deadline = time.monotonic() + 5
    while not console.eof and time.monotonic() < deadline:
        time.sleep(0.01)
    console.close()
    assert log.read_text() == "unread\n"


class Directory:
    """A stream that poll() calls readable and whose read() fails (EISDIR)."""

    def __init__(self, path: Path) -> None:
        self.fd = os.open(path, os.O_RDONLY)

    def fileno(self) -> int:
        return self.fd

    def close(self) -> None:
        os.close(self.fd)


def test_reader_failure_is_raised_not_lost(tmp_path):
    console = Console(Directory(tmp_path))
    with pytest.raises(ConsoleError, match="IsADirectoryError"):
        console.expect("anything", timeout=5)
    console.close()


def test_unreported_reader_failure_warns_at_close(tmp_path):
    console = Console(Directory(tmp_path))
    deadline = time.monotonic() + 5
    while not console.eof and time.monotonic() < deadline:
        time.sleep(0.01)
    with pytest.warns(RuntimeWarning, match="IsADirectoryError"):
        console.close()


def test_match_after_big_unconsumed_output_is_found():
    ours, theirs = socket.socketpair()
    with Console(ours) as console:
        theirs.sendall(b"y" * 200_000)       # past BIG_BUFFER: searches are spaced out
        with pytest.raises(TimeoutError):
            console.expect("done", timeout=0.3)
        start = time.monotonic()
        theirs.sendall(b"\r\ndone\r\n")
        console.expect("done\n", timeout=5)
        assert time.monotonic() - start < 1
        theirs.close()
        with pytest.raises(EOFError):
            console.expect("never", timeout=5)
