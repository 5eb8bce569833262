"""A Linux peer's end of raw Ethernet tests, run inside the lab's namespace.

    ip netns exec NS python peer.py send IFACE DSTMAC ETHERTYPE COUNT [--size N]
    ip netns exec NS python peer.py recv IFACE ETHERTYPE COUNT [--timeout S]
    ip netns exec NS python peer.py udp ADDR

`send` writes COUNT frames through an AF_PACKET socket bound to IFACE (the
lab's bridge), shaped like the guest's `ethsend`: the payload starts with a
32-bit big-endian sequence number. `recv` prints "peer: listening on IFACE"
once its socket is bound, then waits (at most --timeout seconds) for COUNT
incoming frames of ETHERTYPE addressed to this host (or broadcast) and
prints a JSON summary; the exit status is 0 iff all COUNT came. `udp` sends
one datagram to port 9 (discard) of ADDR so that Linux's own neighbour code
resolves ADDR by ARP.

Standard library only, and no import from xv6net: it runs as a plain script.
`send` and `udp` refuse to run anywhere but inside a lab's namespace
(xv6n-*): nothing they send can reach the host's own network.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import struct
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ETH_HLEN = 14
ETH_ZLEN = 60            # minimum frame without FCS
ETH_FRAME_MAX = 1514
PACKET_OTHERHOST = 3     # sll_pkttype: to another host (seen while promiscuous)
PACKET_OUTGOING = 4      # sll_pkttype of frames this host sent
DISCARD_PORT = 9
NETNS_DIR = Path("/run/netns")
LAB_PREFIX = "xv6n"      # xv6net.netns.PREFIX (not imported: this runs as a plain script)


def parse_mac(text: str) -> bytes:
    parts = text.split(":")
    if len(parts) != 6:
        raise ValueError(f"bad MAC address {text!r}")
    return bytes(int(p, 16) for p in parts)


def format_mac(raw: bytes) -> str:
    return ":".join(f"{b:02x}" for b in raw)


def make_frame(dst: bytes, src: bytes, ethertype: int, seq: int, size: int) -> bytes:
    """dst, src, type, then the sequence number and the pattern ethsend uses."""
    header = dst + src + struct.pack("!HI", ethertype, seq)
    return header + bytes(i & 0xFF for i in range(len(header), size))


def frame_seq(frame: bytes) -> int | None:
    """The sequence number at the start of the payload, if there is one."""
    if len(frame) < ETH_HLEN + 4:
        return None
    return int(struct.unpack_from("!I", frame, ETH_HLEN)[0])


def lab_namespace() -> str | None:
    """The name of the lab namespace we run in (`ip netns identify`), else None.

    A named namespace is a bind mount of its nsfs file under /run/netns: ours
    is the one with the same device and inode as /proc/self/ns/net.
    """
    try:
        me = os.stat("/proc/self/ns/net")
        entries = list(NETNS_DIR.glob(f"{LAB_PREFIX}-*"))
    except OSError:
        return None
    for entry in entries:
        try:
            st = entry.stat()
        except OSError:
            continue
        if (st.st_dev, st.st_ino) == (me.st_dev, me.st_ino):
            return entry.name
    return None


def require_lab_namespace() -> None:
    """Send nothing unless we run inside a lab's namespace (never on the host's network)."""
    if lab_namespace() is None:
        raise SystemExit(f"peer: refusing to send outside a lab namespace ({LAB_PREFIX}-*); "
                         "the lab runs me with `ip netns exec NS`")


def cmd_send(args: argparse.Namespace) -> int:
    require_lab_namespace()
    dst = parse_mac(args.dst)
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW) as sock:
        sock.bind((args.iface, 0))
        src = sock.getsockname()[4][:6]
        for seq in range(args.count):
            sock.send(make_frame(dst, src, args.ethertype, seq, args.size))
            if args.gap_us:
                time.sleep(args.gap_us / 1e6)
    print(f"peer: sent {args.count} frames of {args.size} bytes on {args.iface}")
    return 0


class Tally:
    """What `recv` saw: counts, bytes, sequence errors and sources."""

    def __init__(self) -> None:
        self.received = 0
        self.bytes = 0
        self.out_of_sequence = 0
        self.expect = 0
        self.sources: set[str] = set()

    def add(self, frame: bytes, source: bytes) -> None:
        seq = frame_seq(frame)
        if seq != self.expect:
            self.out_of_sequence += 1
        self.expect = (seq or 0) + 1
        self.received += 1
        self.bytes += len(frame)
        self.sources.add(format_mac(source[:6]))

    def as_dict(self) -> dict[str, object]:
        return {"received": self.received, "bytes": self.bytes,
                "out_of_sequence": self.out_of_sequence, "sources": sorted(self.sources)}


def receive(sock: socket.socket, count: int, deadline: float, tally: Tally) -> None:
    """Add incoming frames to tally until count or the deadline."""
    while tally.received < count:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        sock.settimeout(remaining)
        try:
            frame, address = sock.recvfrom(65535)
        except TimeoutError:
            return
        if address[2] not in (PACKET_OTHERHOST, PACKET_OUTGOING):
            tally.add(frame, address[4])


def cmd_recv(args: argparse.Namespace) -> int:
    tally = Tally()
    # socket() wants the protocol in network byte order; Python's bind() for
    # AF_PACKET converts it itself.
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(args.ethertype)) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
        sock.bind((args.iface, args.ethertype))
        print(f"peer: listening on {args.iface}", flush=True)
        receive(sock, args.count, time.monotonic() + args.timeout, tally)
    print(json.dumps(tally.as_dict()), flush=True)
    return 0 if tally.received == args.count else 1


def cmd_udp(args: argparse.Namespace) -> int:
    require_lab_namespace()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(b"xv6net", (args.addr, DISCARD_PORT))
    return 0


def frame_size(text: str) -> int:
    size = int(text)
    if not ETH_ZLEN <= size <= ETH_FRAME_MAX:
        raise argparse.ArgumentTypeError(f"frame size {size} not in {ETH_ZLEN}..{ETH_FRAME_MAX}")
    return size


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="peer", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    send = commands.add_parser("send", help="send numbered frames")
    send.add_argument("iface")
    send.add_argument("dst")
    send.add_argument("ethertype", type=lambda s: int(s, 16))
    send.add_argument("count", type=int)
    send.add_argument("--size", type=frame_size, default=ETH_ZLEN,
                      help=f"whole frame without FCS, {ETH_ZLEN}..{ETH_FRAME_MAX}")
    send.add_argument("--gap-us", type=int, default=0, help="pause between frames")
    recv = commands.add_parser("recv", help="count incoming frames of one ethertype")
    recv.add_argument("iface")
    recv.add_argument("ethertype", type=lambda s: int(s, 16))
    recv.add_argument("count", type=int)
    recv.add_argument("--timeout", type=float, default=10.0)
    udp = commands.add_parser("udp", help="one datagram to ADDR:9, so Linux resolves ADDR")
    udp.add_argument("addr")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handlers = {"send": cmd_send, "recv": cmd_recv, "udp": cmd_udp}
    return handlers[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
