"""A bad link in user space: a relay that drops, duplicates, reorders, delays
and corrupts frames, both directions, from a seed, counting what it did.

This machine's kernel has no netem qdisc (nor ifb), so the toolkit brings its
own. An impairment is written like netem's arguments, on one line:

    loss=5%,reorder=25%,dup=1%,corrupt=1%,delay=20ms:10ms,seed=7

The decisions are pure: `Shaper` takes frames with their arrival times and
says which leave and when (`plan` runs one over a list of frames), so unit
tests check them with a fixed seed and no sockets. `relay` moves frames
between two ports through one Shaper per direction:

    ip netns exec NS python impair.py packet tap-a-0 im-a-0 SPEC   (AF_PACKET)
    python impair.py stream LISTEN CONNECT SPEC                    (QEMU stream)

where LISTEN and CONNECT are each a TCP port on loopback or a Unix socket path.

It prints "impair: ready" once its sockets are open and, when it gets SIGTERM
or SIGINT, one JSON line of counters per direction before it exits.

Standard library only, and no import from xv6net outside peer.py: it runs as
a plain script inside the lab's namespace, like peer.py. The AF_PACKET relay
refuses to run anywhere but inside a lab namespace (xv6n-*). docs/impair.md
has the whole story.
"""

from __future__ import annotations

import argparse
import heapq
import json
import math
import random
import re
import select
import signal
import socket
import struct
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from types import FrameType
from typing import Protocol

try:
    from xv6net.peer import lab_namespace
except ImportError:   # run as a plain script: peer.py is beside us
    from peer import lab_namespace  # type: ignore[no-redef]

ETH_HLEN = 14
MAX_DELAY = 10.0            # seconds; a longer delay is a typo, not a link
DEFAULT_HOLD = 0.010        # seconds a reordered frame waits at most for a later one
QUEUE_LIMIT = 8192          # frames held per direction (delay x rate); beyond: overflow
MAX_FRAME = 65536
IDLE_WAIT = 0.5             # seconds select() sleeps with nothing scheduled
STREAM_HEADER = struct.Struct("!I")   # QEMU's stream/socket backends: length, then frame
ACTIONS = ("in", "out", "dropped", "duplicated", "reordered", "corrupted", "overflow",
           "errors", "missed", "pending")
PROBABILITIES = ("loss", "dup", "reorder", "corrupt")
PACKET_OUTGOING = 4         # sll_pkttype of a frame this host sent itself
ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_ADD_MEMBERSHIP = 1
PACKET_MR_PROMISC = 1
PACKET_STATISTICS = 6       # struct tpacket_stats: packets, drops (since the last read)
SO_RCVBUFFORCE = 33         # SO_RCVBUF above net.core.rmem_max (needs CAP_NET_ADMIN)
PORT_BUFFER = 16 << 20      # bytes a port's socket may queue while the relay is not reading


class ImpairError(ValueError):
    """An impairment that cannot be parsed or makes no sense."""


@dataclass(frozen=True)
class Impairment:
    """What a link does to each frame: probabilities 0..1, times in seconds.

    delay ± jitter is drawn uniformly per frame; delay alone never reorders
    (a frame leaves no earlier than the one before it), so `reorder` is the
    only source of reordering: a reordered frame is held back until the next
    frame of its direction has left, or `hold` seconds, whichever is first.
    A corrupted frame has one bit flipped after its Ethernet header (so that
    it still reaches its receiver, whose checksums must catch it).
    """

    loss: float = 0.0
    dup: float = 0.0
    reorder: float = 0.0
    corrupt: float = 0.0
    delay: float = 0.0
    jitter: float = 0.0
    hold: float = DEFAULT_HOLD
    seed: int = 1

    def __post_init__(self) -> None:
        for name in PROBABILITIES:
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ImpairError(f"{name}={value}: a probability is 0..100%")
        if not 0.0 <= self.delay <= MAX_DELAY or not 0.0 <= self.hold <= MAX_DELAY:
            raise ImpairError(f"delay {self.delay} s, hold {self.hold} s: 0..{MAX_DELAY:g} s")
        if not 0.0 <= self.jitter <= self.delay:
            raise ImpairError(f"jitter {self.jitter} s: 0..the delay ({self.delay} s)")

    @property
    def passes_all(self) -> bool:
        """Whether every frame goes through at once and unchanged."""
        return not any(getattr(self, name) for name in (*PROBABILITIES, "delay"))

    def text(self) -> str:
        """The spec that parses back to this impairment."""
        parts = [f"{name}={_percent(getattr(self, name))}"
                 for name in PROBABILITIES if getattr(self, name)]
        if self.delay:
            parts.append(f"delay={_ms(self.delay)}" + (f":{_ms(self.jitter)}"
                                                       if self.jitter else ""))
        if self.hold != DEFAULT_HOLD:
            parts.append(f"hold={_ms(self.hold)}")
        return ",".join([*parts, f"seed={self.seed}"])


def _percent(value: float) -> str:
    return f"{value * 100:g}%"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:g}ms"


_TIME = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(us|ms|s)?")
_TIME_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, None: 1e-3}   # a bare number is ms, as in netem


def parse_time(text: str) -> float:
    """"20ms", "1.5s", "300us" or "20" (ms) in seconds."""
    match = _TIME.fullmatch(text.strip())
    if not match:
        raise ImpairError(f"time {text!r}: a number with us, ms or s")
    return float(match[1]) * _TIME_UNITS[match[2]]


def parse_probability(text: str) -> float:
    """"5%" or "0.05" as a probability 0..1."""
    text = text.strip()
    try:
        value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise ImpairError(f"probability {text!r}: a percentage (5%) or a fraction") from None
    if not math.isfinite(value):
        raise ImpairError(f"probability {text!r} is not finite")
    return value


def parse_impairment(text: str) -> Impairment:
    """An Impairment from "loss=5%,dup=1%,reorder=25%,corrupt=1%,delay=20ms:10ms,seed=7"."""
    values: dict[str, float | int] = {}
    known = {f.name for f in fields(Impairment)} - {"jitter"}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or key not in known:
            raise ImpairError(f"{item!r}: expected KEY=VALUE, KEY one of {sorted(known)}")
        if key in values:
            raise ImpairError(f"{key} given twice")
        if key in PROBABILITIES:
            values[key] = parse_probability(value)
        elif key == "delay":
            mean, _, jitter = value.partition(":")
            values["delay"] = parse_time(mean)
            values["jitter"] = parse_time(jitter) if jitter else 0.0
        elif key == "hold":
            values["hold"] = parse_time(value)
        else:
            try:
                values["seed"] = int(value)
            except ValueError:
                raise ImpairError(f"seed {value!r}: an integer") from None
    return Impairment(**values)  # type: ignore[arg-type]


# ---- the decisions (pure) ------------------------------------------------------------

@dataclass(frozen=True)
class Fate:
    """What happens to one frame: drawn from the generator, before any queueing."""

    lost: bool
    corrupt_at: int | None   # bit index into the frame, or None
    duplicated: bool
    reordered: bool
    delay: float


def draw(impairment: Impairment, rng: random.Random, length: int) -> Fate:
    """The fate of one frame of `length` bytes.

    Every frame takes the same number of draws whatever happens to it, so the
    fate of the n-th frame depends only on the seed and n.
    """
    r_loss, r_corrupt, r_dup, r_reorder, r_delay, r_where = (rng.random() for _ in range(6))
    corrupt_at = None
    if r_corrupt < impairment.corrupt and length > ETH_HLEN:
        corrupt_at = ETH_HLEN * 8 + int(r_where * (length - ETH_HLEN) * 8)
    delay = max(0.0, impairment.delay + (2 * r_delay - 1) * impairment.jitter)
    return Fate(lost=r_loss < impairment.loss, corrupt_at=corrupt_at,
                duplicated=r_dup < impairment.dup, reordered=r_reorder < impairment.reorder,
                delay=delay)


def flip_bit(frame: bytes, bit: int) -> bytes:
    data = bytearray(frame)
    data[bit // 8] ^= 0x80 >> (bit % 8)
    return bytes(data)


class Shaper:
    """One direction of the link: frames in with their arrival time, out when due.

        shaper.offer(frame, now)        # decides its fate and queues it
        shaper.next_time()              # when the next frame is due (None: nothing queued)
        shaper.take(now)                # the frames due by now, in departure order

    `counts` holds what it did: in, out, dropped, duplicated, reordered,
    corrupted, overflow (the queue was full), errors (the port refused a frame;
    counted by the relay), missed (frames the port lost before the relay read
    them; counted by the relay, never part of `in`), pending (frames still
    delayed or held when the relay stopped, never sent; counted by the relay).
    """

    def __init__(self, impairment: Impairment, rng: random.Random,
                 limit: int = QUEUE_LIMIT) -> None:
        self.impairment = impairment
        self.rng = rng
        self.limit = limit
        self.counts: Counter[str] = Counter({action: 0 for action in ACTIONS})
        self._queue: list[tuple[float, int, bytes]] = []
        self._order = 0
        self._last = -math.inf           # departure of the last in-order frame
        self._held: tuple[float, bytes] | None = None   # (deadline, frame)

    def _push(self, due: float, frame: bytes) -> None:
        if len(self._queue) >= self.limit:
            self.counts["overflow"] += 1
            return
        heapq.heappush(self._queue, (due, self._order, frame))
        self._order += 1

    def offer(self, frame: bytes, now: float) -> None:
        self.counts["in"] += 1
        fate = draw(self.impairment, self.rng, len(frame))
        if fate.lost:
            self.counts["dropped"] += 1
            return
        if fate.corrupt_at is not None:
            frame = flip_bit(frame, fate.corrupt_at)
            self.counts["corrupted"] += 1
        copies = 2 if fate.duplicated else 1
        self.counts["duplicated"] += copies - 1
        self._release_held(now)
        if fate.reordered and self._held is None:
            # held back until the next frame leaves (or the hold runs out)
            self.counts["reordered"] += 1
            self._held = (now + fate.delay + self.impairment.hold, frame)
            for _ in range(copies - 1):
                self._queue_in_order(frame, now + fate.delay)
            return
        for _ in range(copies):
            self._queue_in_order(frame, now + fate.delay)
        if self._held is not None:
            # the held frame leaves right after this one
            self._push(self._last, self._held[1])
            self._held = None

    def _queue_in_order(self, frame: bytes, due: float) -> None:
        self._last = max(due, self._last)
        self._push(self._last, frame)

    def _release_held(self, now: float) -> None:
        if self._held is not None and self._held[0] <= now:
            self._push(max(self._held[0], self._last), self._held[1])
            self._held = None

    def next_time(self) -> float | None:
        times = [self._queue[0][0]] if self._queue else []
        if self._held is not None:
            times.append(self._held[0])
        return min(times) if times else None

    def take(self, now: float) -> list[bytes]:
        self._release_held(now)
        due = []
        while self._queue and self._queue[0][0] <= now:
            due.append(heapq.heappop(self._queue)[2])
        return due

    def pending(self) -> int:
        return len(self._queue) + (self._held is not None)


def direction_rng(impairment: Impairment, direction: int) -> random.Random:
    """The generator of one direction (0 or 1): the two differ, each repeatable."""
    return random.Random(impairment.seed * 2 + direction)


def plan(impairment: Impairment, arrivals: Iterable[tuple[float, bytes]],
         direction: int = 0) -> tuple[list[tuple[float, bytes]], Counter[str]]:
    """Run one direction over frames (arrival time, bytes), arrivals in time order:
    the frames that leave, with their departure times, in order; and the counts."""
    shaper = Shaper(impairment, direction_rng(impairment, direction))
    out: list[tuple[float, bytes]] = []

    def drain(until: float) -> None:
        while (when := shaper.next_time()) is not None and when <= until:
            out.extend((when, frame) for frame in shaper.take(when))

    for now, frame in arrivals:
        drain(now)
        shaper.offer(frame, now)
    drain(math.inf)
    shaper.counts["out"] += len(out)
    return out, shaper.counts


# ---- ports -------------------------------------------------------------------------------

class Port(Protocol):
    name: str

    def fileno(self) -> int: ...
    def receive(self) -> list[bytes]: ...
    def send(self, frame: bytes) -> bool: ...
    def missed(self) -> int: ...
    def close(self) -> None: ...


class PacketPort:
    """An interface through an AF_PACKET socket: every frame it receives, and
    frames written to it go out of it (a tap's out is to QEMU; a veth's is
    to its peer). Frames this host sends on it itself are skipped."""

    def __init__(self, ifname: str) -> None:
        self.name = ifname
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self.sock.bind((ifname, ETH_P_ALL))
        index = socket.if_nametoindex(ifname)
        mreq = struct.pack("iHH8s", index, PACKET_MR_PROMISC, 0, b"")
        self.sock.setsockopt(SOL_PACKET, PACKET_ADD_MEMBERSHIP, mreq)
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, PORT_BUFFER)
        except PermissionError:   # not root: as much as net.core.rmem_max allows
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, PORT_BUFFER)
        self.sock.setblocking(False)
        self._missed = 0

    def fileno(self) -> int:
        return self.sock.fileno()

    def receive(self) -> list[bytes]:
        frames = []
        while True:
            try:
                data, address = self.sock.recvfrom(MAX_FRAME)
            except BlockingIOError:
                return frames
            if address[2] != PACKET_OUTGOING:
                frames.append(data)

    def send(self, frame: bytes) -> bool:
        """Whether the interface took the frame. A refusal (ENOBUFS when full,
        EMSGSIZE for a frame above the MTU, EIO/ENETDOWN before QEMU opened the
        tap) loses that frame, as a busy or unplugged cable would: the relay
        counts it and goes on."""
        try:
            self.sock.send(frame)
        except OSError:
            return False
        return True

    def missed(self) -> int:
        """Frames the socket dropped, its buffer full, since it was opened (a relay too slow
        to keep up: the frame is gone before the relay could count it)."""
        stats = self.sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8)
        self._missed += struct.unpack("II", stats)[1]   # the kernel zeroes them on each read
        return self._missed

    def close(self) -> None:
        self.sock.close()


class StreamPort:
    """One end of QEMU's stream backend: a TCP port on loopback (an int, or a
    string of digits) or a Unix socket path; each frame is a 32-bit big-endian
    length and the frame. `listen` waits for QEMU to connect."""

    def __init__(self, where: int | str, listen: bool) -> None:
        self._server: socket.socket | None = None
        self.sock: socket.socket | None = None
        self._buffer = b""
        if isinstance(where, int) or where.isdigit():
            self.name = f"127.0.0.1:{where}"
            address: tuple[str, int] | str = ("127.0.0.1", int(where))
            family = socket.AF_INET
        else:
            self.name = address = where
            family = socket.AF_UNIX
        if listen:
            self._server = socket.socket(family, socket.SOCK_STREAM)
            if family == socket.AF_INET:
                self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._server.bind(address)
            self._server.listen(1)
        else:
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.settimeout(10)
            sock.connect(address)
            self._attach(sock)

    def _attach(self, sock: socket.socket) -> None:
        sock.setblocking(False)
        if sock.family == socket.AF_INET:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = sock

    def fileno(self) -> int:
        live = self.sock or self._server
        assert live is not None
        return live.fileno()

    def receive(self) -> list[bytes]:
        if self.sock is None:
            assert self._server is not None
            conn, _ = self._server.accept()
            self._server.close()
            self._server = None
            self._attach(conn)
            return []
        try:
            data = self.sock.recv(1 << 20)
        except BlockingIOError:
            return []
        if not data:
            raise ConnectionError(f"{self.name}: QEMU closed the stream")
        self._buffer += data
        return self._frames()

    def _frames(self) -> list[bytes]:
        frames = []
        while len(self._buffer) >= STREAM_HEADER.size:
            (length,) = STREAM_HEADER.unpack_from(self._buffer)
            if len(self._buffer) < STREAM_HEADER.size + length:
                break
            frames.append(self._buffer[STREAM_HEADER.size:STREAM_HEADER.size + length])
            self._buffer = self._buffer[STREAM_HEADER.size + length:]
        return frames

    def send(self, frame: bytes) -> bool:
        if self.sock is None:
            return False      # nobody to send to yet: the frame is lost, as on a cable
        self.sock.setblocking(True)   # a whole record or none: the stream has no resync
        try:
            self.sock.sendall(STREAM_HEADER.pack(len(frame)) + frame)
        finally:
            self.sock.setblocking(False)
        return True

    def missed(self) -> int:
        return 0   # a stream loses nothing: QEMU waits while the relay does not read

    def close(self) -> None:
        for sock in (self.sock, self._server):
            if sock is not None:
                sock.close()


# ---- the relay ---------------------------------------------------------------------------

def relay(ports: Sequence[Port], impairment: Impairment, stopping: Callable[[], bool],
          clock: Callable[[], float] = time.monotonic) -> list[Counter[str]]:
    """Move frames between two ports until stopping() is true: what ports[0]
    receives goes through shaper 0 to ports[1], and back through shaper 1.
    Returns the two directions' counts (also when a stream's QEMU hangs up)."""
    shapers = [Shaper(impairment, direction_rng(impairment, d)) for d in (0, 1)]

    def counts() -> list[Counter[str]]:
        for index, port in enumerate(ports):
            shapers[index].counts["missed"] = port.missed()
            shapers[index].counts["pending"] = shapers[index].pending()
        return [shaper.counts for shaper in shapers]

    while not stopping():
        times = [t for t in (s.next_time() for s in shapers) if t is not None]
        wait = min(max(0.0, min(times) - clock()), IDLE_WAIT) if times else IDLE_WAIT
        try:
            ready, _, _ = select.select(list(ports), [], [], wait)
        except InterruptedError:
            continue
        now = clock()
        for index, port in enumerate(ports):
            if port in ready:
                try:
                    frames = port.receive()
                except ConnectionError:   # a guest's QEMU went away: the link is gone
                    return counts()
                for frame in frames:
                    shapers[index].offer(frame, now)
        for index, shaper in enumerate(shapers):
            for frame in shaper.take(clock()):
                shaper.counts["out" if ports[1 - index].send(frame) else "errors"] += 1
    return counts()


def report(names: Sequence[str], counts: Sequence[Counter[str]]) -> str:
    """One JSON object: per direction ("A>B"), the counts of every action."""
    return json.dumps({f"{names[0]}>{names[1]}": dict(counts[0]),
                       f"{names[1]}>{names[0]}": dict(counts[1])})


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="impair.py", description=__doc__.split("\n\n")[0])
    modes = parser.add_subparsers(dest="mode", required=True)
    packet = modes.add_parser("packet", help="relay between two interfaces (AF_PACKET)")
    packet.add_argument("a")
    packet.add_argument("b")
    packet.add_argument("spec")
    stream = modes.add_parser("stream", help="listen for one QEMU, connect to another")
    stream.add_argument("listen", help="a TCP port on loopback or a Unix socket path")
    stream.add_argument("connect", help="the same, for the QEMU that listens")
    stream.add_argument("spec")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        impairment = parse_impairment(args.spec)
    except ImpairError as err:
        print(f"impair: {err}", file=sys.stderr)
        return 2
    stop: list[int] = []

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.append(signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    ports: list[Port] = []
    try:
        if args.mode == "packet":
            if lab_namespace() is None:
                print("impair: refusing to relay outside a lab namespace (xv6n-*)",
                      file=sys.stderr)
                return 2
            ports = [PacketPort(args.a), PacketPort(args.b)]
        else:
            # the listening side first, so that the guest that connects finds it
            ports.append(StreamPort(args.listen, listen=True))
            ports.append(StreamPort(args.connect, listen=False))
    except OSError as err:
        print(f"impair: cannot open the link's ends: {err}", file=sys.stderr)
        for port in ports:
            port.close()
        return 1
    print("impair: ready", flush=True)
    try:
        counts = relay(ports, impairment, lambda: bool(stop))
    finally:
        for port in ports:
            port.close()
    print(report([port.name for port in ports], counts), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
