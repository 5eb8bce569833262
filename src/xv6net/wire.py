"""Play the far end of a guest's Ethernet cable from Python, without root.

QEMU's `-netdev socket` backend connects to a TCP port (`NicSpec("socket-connect",
port=peer.port)`, which is what `WirePeer.nic()` returns) and then carries
every Ethernet frame, in both directions, as a 4-byte big-endian length
followed by the frame itself, without FCS. Checked against QEMU 7.2: the
guest's gratuitous ARP arrives as `00 00 00 3c` and 60 bytes, and a who-has
request framed the same way is answered.

    with WirePeer(pcap=Path("wire.pcap")) as peer:
        with VM(VMSpec(..., nics=[peer.nic(mac=GUEST_MAC)])) as vm:
            peer.wait_connected(10)
            peer.send(frame)
            reply = peer.recv_until(lambda f: f[12:14] == b"\\x08\\x06", timeout=5)

What QEMU 7.2 and its e1000 do with frames from this side (all checked):

- a length above MAX_FRAME (69632, QEMU's NET_BUFSIZE) makes QEMU print
  "serious error: oversized packet received, connection terminated" and close
  the connection, so `send` refuses such frames;
- the card pads frames shorter than 60 bytes with zeros (the guest sees 60),
  drops frames longer than 1522 bytes, and drops frames whose destination is
  neither its own MAC nor broadcast (its multicast table is empty);
- the backend does not hold back when the guest is slow: once the receive ring
  is full, frames are dropped, and each drop is the trace event
  `e1000_receiver_overrun` (`-trace e1000_receiver_overrun`).

Only loopback addresses are accepted, and only one connection (QEMU's) is taken.
Every wait is bounded. A background thread accepts the connection and reads
frames; `close` stops it and closes the sockets.
"""

from __future__ import annotations

import ipaddress
import queue
import select
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

from xv6net.qemu import NicSpec

LENGTH = struct.Struct(">I")
MAX_FRAME = 69632          # QEMU 7.2's NET_BUFSIZE; one byte more and it hangs up
POLL = 0.05                # how often the reader thread looks at its stop flag
DEFAULT_TIMEOUT = 5.0

Direction = Literal["in", "out"]   # "in": from the guest; "out": sent by us


class WireError(RuntimeError):
    """The stream broke: bad framing, the connection closed, or a send timed out midway."""


def encode(frame: bytes) -> bytes:
    """One frame as it travels on QEMU's socket stream."""
    if len(frame) > MAX_FRAME:
        raise ValueError(f"frame of {len(frame)} bytes: QEMU takes at most {MAX_FRAME}")
    return LENGTH.pack(len(frame)) + frame


class FrameDecoder:
    """Split a byte stream into frames; feed it whatever recv() returned."""

    def __init__(self, max_frame: int = MAX_FRAME) -> None:
        self.max_frame = max_frame
        self._buf = bytearray()

    @property
    def pending(self) -> int:
        """Bytes received that do not make a whole frame yet."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[bytes]:
        """Add data; return the frames it completed, in order."""
        self._buf += data
        frames: list[bytes] = []
        while len(self._buf) >= LENGTH.size:
            (length,) = LENGTH.unpack_from(self._buf)
            if length > self.max_frame:
                raise WireError(f"length prefix {length} exceeds {self.max_frame}: "
                                "not a QEMU socket stream")
            end = LENGTH.size + length
            if len(self._buf) < end:
                break
            frames.append(bytes(self._buf[LENGTH.size:end]))
            del self._buf[:end]
        return frames


@dataclass(frozen=True)
class WireFrame:
    """One frame that crossed the wire, with when (time.time()) and which way."""

    time: float
    direction: Direction
    data: bytes


class PcapWriter:
    """A classic pcap file (microsecond timestamps, LINKTYPE_ETHERNET) that Wireshark reads."""

    MAGIC = 0xA1B2C3D4
    LINKTYPE_ETHERNET = 1
    HEADER = struct.Struct("<IHHiIII")
    RECORD = struct.Struct("<IIII")

    def __init__(self, path: Path, snaplen: int = MAX_FRAME) -> None:
        self.path = Path(path)
        self.snaplen = snaplen
        self._file: BinaryIO | None = self.path.open("wb")
        self._file.write(self.HEADER.pack(self.MAGIC, 2, 4, 0, 0, snaplen,
                                          self.LINKTYPE_ETHERNET))
        self._file.flush()

    def write(self, data: bytes, when: float) -> None:
        if self._file is None:
            raise ValueError(f"{self.path} is closed")
        seconds = int(when)
        micros = min(round((when - seconds) * 1_000_000), 999_999)
        captured = data[:self.snaplen]
        self._file.write(self.RECORD.pack(seconds, micros, len(captured), len(data)))
        self._file.write(captured)
        self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def _check_loopback(host: str) -> str:
    if not ipaddress.ip_address(host).is_loopback:
        raise ValueError(f"WirePeer only listens on loopback, not {host}")
    return host


Responder = Callable[[bytes], bytes | Iterable[bytes] | None]


class WirePeer:
    """The other end of one guest NIC's cable; use it as a context manager.

    Listens on host (loopback) at port (0: a free one) until QEMU connects;
    or, with `connection`, uses an already connected stream socket (tests
    hand it one end of a socketpair). Frames from the guest queue up for
    `recv`/`recv_until`; `frames` keeps every frame both ways, and with `pcap`
    they also go to that file in the order they crossed.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *,
                 pcap: Path | None = None, connection: socket.socket | None = None) -> None:
        self.host = _check_loopback(host)
        self._requested_port = port
        self._port: int | None = None
        self._listener: socket.socket | None = None
        self._conn: socket.socket | None = connection
        self._pcap_path = pcap
        self._pcap: PcapWriter | None = None
        self._lock = threading.Lock()        # frames, pcap, responder
        self._send_lock = threading.Lock()   # one frame at a time on the stream
        self._frames: list[WireFrame] = []
        self._inbox: queue.Queue[bytes] = queue.Queue()
        self._responder: Responder | None = None
        self._connected = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self.eof = False

    # ---- life cycle ----------------------------------------------------

    def __enter__(self) -> WirePeer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        """Listen (or take the given connection) and start the reader thread.

        On failure everything opened so far is closed again.
        """
        if self._thread is not None:
            return
        try:
            if self._pcap_path is not None:
                self._pcap = PcapWriter(self._pcap_path)
            if self._conn is None:
                self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                self._listener.bind((self.host, self._requested_port))
                self._listener.listen(1)
                self._port = int(self._listener.getsockname()[1])
            else:
                self._conn.setblocking(False)
                self._connected.set()
            self._thread = threading.Thread(target=self._run, name="wirepeer", daemon=True)
            self._thread.start()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Stop the reader thread and close sockets and pcap; safe to call twice."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5 * POLL + 1.0)
            self._thread = None
        for sock in (self._conn, self._listener):
            if sock is not None:
                sock.close()
        self._conn = self._listener = None
        with self._lock:
            if self._pcap is not None:
                self._pcap.close()
                self._pcap = None

    @property
    def port(self) -> int:
        """The port QEMU connects to."""
        if self._port is None:
            raise WireError("this peer is not listening (not started, or given a connection)")
        return self._port

    def nic(self, mac: str | None = None, model: str = "e1000",
            pcap: Path | None = None) -> NicSpec:
        """A guest NIC whose cable ends here."""
        return NicSpec("socket-connect", mac=mac, model=model, host=self.host, port=self.port,
                       pcap=pcap)

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout: float = 10.0) -> None:
        """Wait until QEMU has connected; WireError after timeout."""
        if not self._connected.wait(timeout):
            raise WireError(f"QEMU did not connect to {self.host}:{self.port} "
                            f"within {timeout:g} s")

    # ---- the reader thread ---------------------------------------------

    def _run(self) -> None:
        try:
            if self._accept():
                self._read_loop()
        except BaseException as err:   # handed to the caller by recv/send
            self._error = err
        finally:
            self.eof = True

    def _accept(self) -> bool:
        listener = self._listener
        while self._conn is None:
            if self._stop.is_set() or listener is None:
                return False
            readable, _, _ = select.select([listener], [], [], POLL)
            if readable:
                conn, _ = listener.accept()
                conn.setblocking(False)
                self._conn = conn
                self._connected.set()
        # Only QEMU's connection: nobody else gets onto this wire.
        if listener is not None:
            listener.close()
            self._listener = None
        return True

    def _read_loop(self) -> None:
        decoder = FrameDecoder()
        conn = self._conn
        assert conn is not None
        while not self._stop.is_set():
            readable, _, _ = select.select([conn], [], [], POLL)
            if not readable:
                continue
            try:
                data = conn.recv(1 << 16)
            except BlockingIOError:
                continue
            if not data:
                return
            for frame in decoder.feed(data):
                self._received(frame)

    def _received(self, frame: bytes) -> None:
        self._record("in", frame)
        self._inbox.put(frame)
        with self._lock:
            responder = self._responder
        if responder is None:
            return
        answer = responder(frame)
        if isinstance(answer, bytes | bytearray):
            answer = [bytes(answer)]
        for reply in answer or ():
            self.send(reply)

    def _record(self, direction: Direction, frame: bytes) -> None:
        with self._lock:
            entry = WireFrame(time.time(), direction, frame)
            self._frames.append(entry)
            if self._pcap is not None:
                self._pcap.write(frame, entry.time)

    # ---- receiving -----------------------------------------------------

    def _check_error(self) -> None:
        if self._error is not None:
            raise WireError(f"the reader thread failed: {self._error!r}") from self._error

    def recv(self, timeout: float = DEFAULT_TIMEOUT) -> bytes | None:
        """The next frame from the guest, or None if none came within timeout."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self._inbox.get(timeout=min(POLL, max(deadline - time.monotonic(), 0)))
            except queue.Empty:
                pass
            self._check_error()
            if time.monotonic() >= deadline or (self.eof and self._inbox.empty()):
                return None

    def recv_until(self, pred: Callable[[bytes], bool],
                   timeout: float = DEFAULT_TIMEOUT) -> bytes | None:
        """The first frame from the guest for which pred is true, skipping others; or None."""
        deadline = time.monotonic() + timeout
        while True:
            frame = self.recv(max(deadline - time.monotonic(), 0))
            if frame is None:
                return None
            if pred(frame):
                return frame

    def recv_all(self, pred: Callable[[bytes], bool], count: int,
                 timeout: float = DEFAULT_TIMEOUT) -> list[bytes]:
        """Up to count frames for which pred is true, within timeout in all."""
        deadline = time.monotonic() + timeout
        found: list[bytes] = []
        while len(found) < count:
            frame = self.recv_until(pred, max(deadline - time.monotonic(), 0))
            if frame is None:
                break
            found.append(frame)
        return found

    def clear(self) -> int:
        """Forget the frames not yet taken by recv (they stay in `frames`); how many."""
        dropped = 0
        while True:
            try:
                self._inbox.get_nowait()
            except queue.Empty:
                return dropped
            dropped += 1

    @property
    def frames(self) -> list[WireFrame]:
        """Every frame so far, both ways, in the order they crossed."""
        with self._lock:
            return list(self._frames)

    def received(self, pred: Callable[[bytes], bool] | None = None,
                 since: float = 0.0) -> list[bytes]:
        """The frames from the guest (matching pred; from time.time() since on).

        Whether recv has taken them or not.
        """
        return [f.data for f in self.frames
                if f.direction == "in" and f.time >= since and (pred is None or pred(f.data))]

    def respond(self, responder: Responder | None) -> None:
        """Answer frames as they arrive: responder(frame) returns frames to send, or None.

        It runs on the reader thread as each frame arrives (the frame is
        still queued for recv as well); None stops answering. An exception in
        it stops the reader, and the next recv or send raises WireError.
        """
        with self._lock:
            self._responder = responder

    # ---- sending ---------------------------------------------------------

    def send(self, frame: bytes, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Send one frame to the guest."""
        self.send_many([frame], timeout)

    def send_many(self, frames: Iterable[bytes], timeout: float = 30.0) -> int:
        """Send frames back to back, as fast as the stream takes them; return how many.

        The frames are recorded (`frames`, pcap) just before they are
        written, so a reply can never be recorded ahead of its request.
        """
        batch = list(frames)
        data = b"".join(encode(f) for f in batch)
        self.wait_connected(timeout)
        with self._send_lock:
            for frame in batch:
                self._record("out", frame)
            self._write(data, time.monotonic() + timeout)
        return len(batch)

    def _write(self, data: bytes, deadline: float) -> None:
        conn = self._conn
        if conn is None or self._stop.is_set():
            raise WireError("the peer is closed")
        view = memoryview(data)
        while view:
            self._check_error()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WireError(f"send timed out with {len(view)} of {len(data)} bytes unsent; "
                                "the stream's framing is now broken")
            _, writable, _ = select.select([], [conn], [], min(remaining, POLL))
            if not writable:
                continue
            try:
                sent = conn.send(view)
            except BlockingIOError:
                continue
            except OSError as err:
                raise WireError(f"send failed: {err}") from err
            view = view[sent:]
