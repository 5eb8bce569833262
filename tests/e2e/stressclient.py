"""One worker of the SMP stress test, run by Linux in the lab's namespace:

    python stressclient.py tcp|udp ADDR PORT SECONDS SEED

`tcp`: for SECONDS, stream pseudo-random bytes to the guest's tcpecho and read
the echo on another thread, comparing every byte with what was sent; then
close the sending side and read the echo to its end. `udp`: for SECONDS, keep
WINDOW datagrams in flight to the guest's udpecho, each numbered and of its
own length and content, comparing every reply with its request; then wait
for the datagrams still out. Either prints one JSON line of counts (and, for
TCP, the digests of both streams).

Not a test module (pytest collects test_*.py only): a script, so that each
exchange runs in a process of its own. In one process a TCP thread kept the
interpreter's lock so busy that the UDP exchange managed 20 round trips a
second.
"""

from __future__ import annotations

import hashlib
import json
import random
import select
import socket
import struct
import sys
import threading
import time

WINDOW = 4            # datagrams in flight
UDP_TIMEOUT = 1.0     # a datagram unanswered this long counts as lost
MAX_PENDING = 1 << 20  # TCP bytes sent but not yet echoed, at most
CHUNK = 16384
DRAIN_TIMEOUT = 60.0  # for the echo's end after the sender closes


class TcpStream:
    """A stream to an echo server, every echoed byte compared with the sent ones."""

    def __init__(self, addr: str, port: int, seed: int) -> None:
        self.sock = socket.create_connection((addr, port), timeout=30)
        self.rng = random.Random(seed)
        self.pending = bytearray()          # sent, not yet echoed
        self.cond = threading.Condition()
        self.sent = 0
        self.echoed = 0
        self.mismatch_at: int | None = None
        self.sent_digest = hashlib.sha256()
        self.echo_digest = hashlib.sha256()
        self.error = ""

    def send_until(self, deadline: float) -> None:
        try:
            while time.monotonic() < deadline:
                chunk = self.rng.randbytes(self.rng.randrange(1, CHUNK))
                with self.cond:
                    while len(self.pending) > MAX_PENDING and self.mismatch_at is None:
                        self.cond.wait(1.0)
                    self.pending += chunk
                self.sock.sendall(chunk)
                self.sent += len(chunk)
                self.sent_digest.update(chunk)
            self.sock.shutdown(socket.SHUT_WR)
        except OSError as err:
            self.error = f"send: {err}"

    def receive(self) -> None:
        self.sock.settimeout(DRAIN_TIMEOUT)
        try:
            while data := self.sock.recv(65536):
                self._check(data)
        except OSError as err:
            self.error = self.error or f"recv: {err}"

    def _check(self, data: bytes) -> None:
        with self.cond:
            expected = bytes(self.pending[:len(data)])
            if data != expected and self.mismatch_at is None:
                pairs = zip(data, expected, strict=False)
                diff = next((i for i, (a, b) in enumerate(pairs) if a != b),
                            min(len(data), len(expected)))
                self.mismatch_at = self.echoed + diff
            del self.pending[:len(data)]
            self.cond.notify_all()
        self.echoed += len(data)
        self.echo_digest.update(data)

    def report(self) -> dict[str, object]:
        return {"tcp_sent": self.sent, "tcp_echoed": self.echoed,
                "tcp_mismatch_at": self.mismatch_at, "tcp_error": self.error,
                "tcp_sent_sha256": self.sent_digest.hexdigest(),
                "tcp_echo_sha256": self.echo_digest.hexdigest()}


class UdpEcho:
    """Numbered datagrams to an echo server, WINDOW in flight, each reply checked."""

    def __init__(self, addr: str, port: int, seed: int) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.connect((addr, port))
        self.rng = random.Random(seed ^ 0x5A5A)
        self.out: dict[int, tuple[bytes, float]] = {}    # seq -> (datagram, sent at)
        self.lost: dict[int, bytes] = {}
        self.counts = {"udp_sent": 0, "udp_ok": 0, "udp_corrupt": 0, "udp_late": 0,
                       "udp_unexpected": 0, "udp_send_errors": 0, "udp_bytes": 0}
        self.next_seq = 0

    def _send_one(self) -> None:
        seq = self.next_seq
        self.next_seq += 1
        body = self.rng.randbytes(self.rng.randrange(8, 1400))
        datagram = struct.pack("!I", seq) + hashlib.sha256(body).digest()[:4] + body
        try:
            self.sock.send(datagram)
        except OSError:
            self.counts["udp_send_errors"] += 1
            return
        self.out[seq] = (datagram, time.monotonic())
        self.counts["udp_sent"] += 1

    def _take(self, reply: bytes) -> None:
        seq = struct.unpack("!I", reply[:4])[0] if len(reply) >= 4 else -1
        if seq in self.out:
            sent, _ = self.out.pop(seq)
            key = "udp_ok"
        elif seq in self.lost:
            sent = self.lost.pop(seq)
            key = "udp_late"
        else:
            self.counts["udp_unexpected"] += 1
            return
        if reply == sent:
            self.counts[key] += 1
            self.counts["udp_bytes"] += len(reply)
        else:
            self.counts["udp_corrupt"] += 1

    def _expire(self, now: float) -> None:
        for seq, (datagram, at) in list(self.out.items()):
            if now - at > UDP_TIMEOUT:
                del self.out[seq]
                self.lost[seq] = datagram

    def run_until(self, deadline: float, sending: bool = True) -> None:
        while True:
            now = time.monotonic()
            if now >= deadline or (not sending and not self.out):
                return
            while sending and len(self.out) < WINDOW:
                self._send_one()
            ready, _, _ = select.select([self.sock], [], [], 0.05)
            if ready:
                try:
                    self._take(self.sock.recv(65536))
                except OSError:
                    self.counts["udp_send_errors"] += 1   # an ICMP error came back
            self._expire(time.monotonic())

    def report(self) -> dict[str, object]:
        return {**self.counts, "udp_lost": len(self.lost) + len(self.out)}


def run_tcp(addr: str, port: int, seconds: float, seed: int) -> dict[str, object]:
    stream = TcpStream(addr, port, seed)
    deadline = time.monotonic() + seconds
    sender = threading.Thread(target=stream.send_until, args=(deadline,))
    reader = threading.Thread(target=stream.receive)
    sender.start()
    reader.start()
    sender.join(seconds + DRAIN_TIMEOUT)
    reader.join(DRAIN_TIMEOUT)
    if reader.is_alive() or sender.is_alive():
        stream.error = stream.error or "echo did not end"
    return stream.report()


def run_udp(addr: str, port: int, seconds: float, seed: int) -> dict[str, object]:
    udp = UdpEcho(addr, port, seed)
    udp.run_until(time.monotonic() + seconds)
    udp.run_until(time.monotonic() + 2 * UDP_TIMEOUT, sending=False)
    return udp.report()


def main() -> None:
    mode, addr, port, seconds, seed = sys.argv[1:6]
    run = {"tcp": run_tcp, "udp": run_udp}[mode]
    print(json.dumps(run(addr, int(port), float(seconds), int(seed))), flush=True)


if __name__ == "__main__":
    main()
