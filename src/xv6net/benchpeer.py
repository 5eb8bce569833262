"""The Linux peer's end of `xv6net bench`, run inside the benchmark's namespace.

    ip netns exec NS python benchpeer.py arpwait IFACE ADDR [--interval S] [--timeout S]
    ip netns exec NS python benchpeer.py udpsink ADDR PORT [--idle S] [--timeout S]
    ip netns exec NS python benchpeer.py tcpsink ADDR PORT [--timeout S]
    ip netns exec NS python benchpeer.py tcpsend ADDR PORT BYTES [--timeout S]
    ip netns exec NS python benchpeer.py tcpconn ADDR PORT [--seconds S] [--size N]
    ip netns exec NS python benchpeer.py tcpserve ADDR PORT [--size N]
    ip netns exec NS python benchpeer.py udprtt ADDR PORT [--count N] [--interval S]

`arpwait` broadcasts an ARP request for ADDR out of IFACE every --interval
seconds (default 5 ms) through an AF_PACKET socket until the first reply
from ADDR, and prints {"reply": T, "probes": N} where T is time.monotonic()
at the reply (CLOCK_MONOTONIC: the same clock in every namespace, so the
harness can subtract the moment it started QEMU). It prints "ready" first,
once its socket is bound.

`udpsink` binds ADDR:PORT, prints "ready", counts datagrams until none has
come for --idle seconds after the first (or --timeout passes) and prints
{"received", "bytes", "first", "last", "maxseq", "reordered", "warmup"}.
Payloads start with a 32-bit big-endian sequence number; the guest's
udpblast sends one datagram numbered 0xFFFFFFFF first, which is counted as
"warmup" and not as received.

`tcpsink` listens on ADDR:PORT, prints "ready", accepts one connection,
reads it to the end and prints {"bytes", "seconds", "first_s"}: seconds from
the accept to the end of file, first_s from the accept to the first byte.
`tcpsend` connects to ADDR:PORT, sends BYTES bytes of tcpblast's pattern
(byte i is i mod 251), shuts its sending side and waits for the guest to
close (the guest's sink closes once it has read everything), and prints
{"bytes", "seconds"} from the connect's return to that close. `tcpconn`
opens connections to an echo server one after another for --seconds: each
connects, sends --size bytes, reads them back, closes; it prints
{"connections", "seconds", "errors", "echoed"}; with --wait it first
retries one exchange (not counted) until the server answers. `tcpserve`
is the server for a guest's tcpconn: it prints "ready", then for each
connection reads --size bytes, sends them back and closes (first, so that
TIME_WAIT stays on the peer), until it is killed.

`udprtt` is a UDP ping against a guest's echo program (udpecho): --count
datagrams of 16 bytes (a sequence number and padding) to ADDR:PORT, one
every --interval seconds, each waiting up to --timeout for its echo; it
prints {"sent", "rtt_ms"}, the round trip of each echo that came back, in
order. With --wait it first retries one datagram (not counted) until the
echo program answers.

Standard library only, and no import from xv6net: it runs as a plain script.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import select
import socket
import struct
import sys
import time
from collections.abc import Sequence

ETH_P_ARP = 0x0806
ARP_REQUEST = 1
ARP_REPLY = 2
BROADCAST = b"\xff" * 6
WARMUP_SEQ = 0xFFFFFFFF
RCVBUF = 1 << 24
SO_RCVBUFFORCE = getattr(socket, "SO_RCVBUFFORCE", 33)


def arp_request(src_mac: bytes, src_ip: bytes, target_ip: bytes) -> bytes:
    """A broadcast Ethernet frame carrying an ARP request (RFC 826)."""
    ether = BROADCAST + src_mac + struct.pack("!H", ETH_P_ARP)
    arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, ARP_REQUEST,
                      src_mac, src_ip, b"\0" * 6, target_ip)
    return ether + arp


def is_reply_from(frame: bytes, target_ip: bytes) -> bool:
    """Whether frame is an ARP reply whose sender is target_ip."""
    if len(frame) < 42 or frame[12:14] != struct.pack("!H", ETH_P_ARP):
        return False
    op, = struct.unpack_from("!H", frame, 20)
    return op == ARP_REPLY and frame[28:32] == target_ip


def interface_ipv4(iface: str) -> bytes:
    """The first IPv4 address of iface (SIOCGIFADDR)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("256s", iface.encode()[:15])
        return fcntl.ioctl(sock.fileno(), 0x8915, request)[20:24]


def cmd_arpwait(args: argparse.Namespace) -> int:
    target = socket.inet_aton(args.addr)
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ARP)) as sock:
        sock.bind((args.iface, ETH_P_ARP))
        request = arp_request(sock.getsockname()[4][:6], interface_ipv4(args.iface), target)
        print("ready", flush=True)
        deadline = time.monotonic() + args.timeout
        probes = 0
        next_probe = time.monotonic()
        while True:
            now = time.monotonic()
            if now >= deadline:
                print(json.dumps({"reply": None, "probes": probes}), flush=True)
                return 1
            if now >= next_probe:
                sock.send(request)
                probes += 1
                next_probe = now + args.interval
            ready, _, _ = select.select([sock], [], [], max(0.0, min(next_probe, deadline) - now))
            if ready and is_reply_from(sock.recv(2048), target):
                print(json.dumps({"reply": time.monotonic(), "probes": probes}), flush=True)
                return 0


def cmd_udpsink(args: argparse.Namespace) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, RCVBUF)
        sock.bind((args.addr, args.port))
        print("ready", flush=True)
        buf = bytearray(2048)
        tally = {"received": 0, "bytes": 0, "first": None, "last": None, "maxseq": 0,
                 "reordered": 0, "warmup": 0}
        deadline = time.monotonic() + args.timeout
        sock.settimeout(args.timeout)
        while True:
            try:
                n = sock.recv_into(buf)
            except TimeoutError:
                break
            now = time.monotonic()
            seq = struct.unpack_from("!I", buf)[0] if n >= 4 else 0
            if seq == WARMUP_SEQ:
                tally["warmup"] += 1
                continue
            if tally["first"] is None:
                tally["first"] = now
            elif seq < tally["maxseq"]:
                tally["reordered"] += 1
            tally["maxseq"] = max(tally["maxseq"], seq)
            tally["received"] += 1
            tally["bytes"] += n
            tally["last"] = now
            if now >= deadline:
                break
            sock.settimeout(min(args.idle, max(deadline - now, 0.001)))
    print(json.dumps(tally), flush=True)
    return 0


PATTERN = bytes(range(251))


def pattern(size: int) -> bytes:
    """tcpblast's pattern: byte i is i mod 251."""
    return (PATTERN * (size // 251 + 1))[:size]


def cmd_tcpsink(args: argparse.Namespace) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as srv:
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind((args.addr, args.port))
        srv.listen(1)
        srv.settimeout(args.timeout)
        print("ready", flush=True)
        conn, _ = srv.accept()
    with conn:
        conn.settimeout(args.timeout)
        start = time.monotonic()
        first = None
        total = 0
        buf = bytearray(1 << 16)
        while n := conn.recv_into(buf):
            if first is None:
                first = time.monotonic() - start
            total += n
        seconds = time.monotonic() - start
    print(json.dumps({"bytes": total, "seconds": seconds, "first_s": first}), flush=True)
    return 0


def cmd_tcpsend(args: argparse.Namespace) -> int:
    chunk = pattern(251 * 256)   # a whole number of periods: the pattern runs on
    with socket.create_connection((args.addr, args.port), timeout=args.timeout) as sock:
        start = time.monotonic()
        view = memoryview(chunk)
        left = args.bytes
        while left > 0:
            sock.sendall(view[:min(left, len(chunk))])
            left -= min(left, len(chunk))
        sock.shutdown(socket.SHUT_WR)
        while sock.recv(4096):
            pass
        seconds = time.monotonic() - start
    print(json.dumps({"bytes": args.bytes, "seconds": seconds}), flush=True)
    return 0


def one_exchange(addr: str, port: int, message: bytes, timeout: float) -> bool:
    """Connect, send message, read it back, close: whether it came back whole."""
    with socket.create_connection((addr, port), timeout=timeout) as sock:
        sock.sendall(message)
        got = b""
        while len(got) < len(message):
            data = sock.recv(len(message) - len(got))
            if not data:
                break
            got += data
    return got == message


def wait_server(addr: str, port: int, message: bytes, seconds: float) -> None:
    """Retry one exchange until it works or seconds pass (then the count shows it)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            if one_exchange(addr, port, message, 2.0):
                return
        time.sleep(0.05)


def cmd_tcpconn(args: argparse.Namespace) -> int:
    message = pattern(args.size)
    if args.wait > 0:
        wait_server(args.addr, args.port, message, args.wait)
    tally = {"connections": 0, "seconds": 0.0, "errors": 0, "echoed": 0}
    start = time.monotonic()
    while time.monotonic() - start < args.seconds:
        try:
            ok = one_exchange(args.addr, args.port, message, args.timeout)
        except OSError:
            ok = False
            tally["errors"] += 1
        tally["connections"] += 1
        tally["echoed"] += ok
        if tally["errors"] > 10 and tally["errors"] * 2 > tally["connections"]:
            break   # the server is gone: say so rather than spin
    tally["seconds"] = time.monotonic() - start
    print(json.dumps(tally), flush=True)
    return 0


def cmd_tcpserve(args: argparse.Namespace) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as srv:
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind((args.addr, args.port))
        srv.listen(16)
        print("ready", flush=True)
        while True:
            conn, _ = srv.accept()
            with conn:
                conn.settimeout(5.0)
                got = b""
                with contextlib.suppress(OSError):
                    while len(got) < args.size and (data := conn.recv(args.size - len(got))):
                        got += data
                    conn.sendall(got)


def udp_echoed(sock: socket.socket, message: bytes, timeout: float) -> float | None:
    """Send message and wait for its echo: the round trip in ms, or None.
    Stale echoes (of earlier datagrams that came back late) are skipped."""
    start = time.monotonic()
    sock.send(message)
    deadline = start + timeout
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            data = sock.recv(2048)
        except (TimeoutError, ConnectionRefusedError):
            return None
        if data == message:
            return (time.monotonic() - start) * 1000
    return None


def cmd_udprtt(args: argparse.Namespace) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.connect((args.addr, args.port))
        deadline = time.monotonic() + args.wait
        while time.monotonic() < deadline:
            if udp_echoed(sock, b"udprtt wait", 0.5) is not None:
                break
        rtt: list[float] = []
        for seq in range(args.count):
            got = udp_echoed(sock, struct.pack("!I12x", seq), args.timeout)
            if got is not None:
                rtt.append(round(got, 4))
            time.sleep(args.interval)
    print(json.dumps({"sent": args.count, "rtt_ms": rtt}), flush=True)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="benchpeer", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    arpwait = commands.add_parser("arpwait", help="ARP requests until the first reply")
    arpwait.add_argument("iface")
    arpwait.add_argument("addr")
    arpwait.add_argument("--interval", type=float, default=0.005)
    arpwait.add_argument("--timeout", type=float, default=60.0)
    udpsink = commands.add_parser("udpsink", help="count the datagrams a guest sends")
    udpsink.add_argument("addr")
    udpsink.add_argument("port", type=int)
    udpsink.add_argument("--idle", type=float, default=1.0)
    udpsink.add_argument("--timeout", type=float, default=60.0)
    tcpsink = commands.add_parser("tcpsink", help="read one TCP connection to the end")
    tcpsink.add_argument("addr")
    tcpsink.add_argument("port", type=int)
    tcpsink.add_argument("--timeout", type=float, default=60.0)
    tcpsend = commands.add_parser("tcpsend", help="send BYTES over one TCP connection")
    tcpsend.add_argument("addr")
    tcpsend.add_argument("port", type=int)
    tcpsend.add_argument("bytes", type=int)
    tcpsend.add_argument("--timeout", type=float, default=60.0)
    tcpconn = commands.add_parser("tcpconn", help="connections to an echo server, one by one")
    tcpconn.add_argument("addr")
    tcpconn.add_argument("port", type=int)
    tcpconn.add_argument("--seconds", type=float, default=3.0)
    tcpconn.add_argument("--size", type=int, default=16)
    tcpconn.add_argument("--timeout", type=float, default=5.0)
    tcpconn.add_argument("--wait", type=float, default=0.0,
                         help="retry the first connection this long (the server starting)")
    tcpserve = commands.add_parser("tcpserve", help="echo --size bytes and close, per connection")
    tcpserve.add_argument("addr")
    tcpserve.add_argument("port", type=int)
    tcpserve.add_argument("--size", type=int, default=16)
    udprtt = commands.add_parser("udprtt", help="UDP round trips to an echo program")
    udprtt.add_argument("addr")
    udprtt.add_argument("port", type=int)
    udprtt.add_argument("--count", type=int, default=100)
    udprtt.add_argument("--interval", type=float, default=0.01)
    udprtt.add_argument("--timeout", type=float, default=1.0)
    udprtt.add_argument("--wait", type=float, default=0.0,
                        help="retry a first datagram this long (the echo program starting)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handlers = {"arpwait": cmd_arpwait, "udpsink": cmd_udpsink, "tcpsink": cmd_tcpsink,
                "tcpsend": cmd_tcpsend, "tcpconn": cmd_tcpconn, "tcpserve": cmd_tcpserve,
                "udprtt": cmd_udprtt}
    return handlers[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
