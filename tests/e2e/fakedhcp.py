"""A scripted DHCP server for the tests, run inside a lab's namespace.

    python fakedhcp.py IFACE SERVER_IP POOL [--lease S] [--t1 S] [--t2 S]
                       [--hostile] [--renew answer|ignore|nak] [--quiet-after N]

It answers DISCOVER with an OFFER of the next address of POOL (comma
separated) and REQUEST with an ACK, both broadcast to port 68. Unlike dnsmasq
it can misbehave on purpose:

  --hostile        before each good OFFER, send the hostile ones of HOSTILE
                   (truncated options, a length past the end, a broken option
                   overload, mask 0, lease 0): the client must refuse each.
  --renew ignore   say nothing to REQUESTs from a client that has an address
                   (renewing and rebinding), so that its lease runs out;
  --renew nak      answer them with a NAK.

Each message it receives, and each it sends, is printed as a JSON line on
stdout ({"got": "DHCPREQUEST", "ciaddr": ..., "dst": ...}), so that a test can
see what the server saw. Standard library only (it runs as a plain script);
it refuses to run outside a lab's namespace (xv6n-*), like peer.py.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import struct
import sys
from pathlib import Path

LAB_PREFIX = "xv6n"
NETNS_DIR = Path("/run/netns")
COOKIE = bytes([99, 130, 83, 99])
TYPES = {1: "DHCPDISCOVER", 2: "DHCPOFFER", 3: "DHCPREQUEST", 4: "DHCPDECLINE",
         5: "DHCPACK", 6: "DHCPNAK", 7: "DHCPRELEASE", 8: "DHCPINFORM"}
SO_BINDTODEVICE = 25


def in_lab_namespace() -> bool:
    me = os.stat("/proc/self/ns/net")
    for entry in NETNS_DIR.glob(f"{LAB_PREFIX}-*"):
        st = entry.stat()
        if (st.st_dev, st.st_ino) == (me.st_dev, me.st_ino):
            return True
    return False


def say(**fields: object) -> None:
    print(json.dumps(fields), flush=True)


def options(data: bytes) -> dict[int, bytes]:
    """The options of a client's message (ours are well formed)."""
    result, i = {}, 240
    while i < len(data) and data[i] != 255:
        if data[i] == 0:
            i += 1
            continue
        code, length = data[i], data[i + 1]
        result[code] = data[i + 2:i + 2 + length]
        i += 2 + length
    return result


def opt(code: int, value: bytes) -> bytes:
    return bytes([code, len(value)]) + value


def reply(request: bytes, msgtype: int, yiaddr: str, server: str, *, extra: bytes = b"",
          lease: int = 60, t1: int | None = None, t2: int | None = None,
          mask: str = "255.255.255.0", domain: bytes = b"fake") -> bytes:
    """A BOOTREPLY to request: the fixed part, then the options, then END."""
    xid, chaddr = request[4:8], request[28:44]
    fixed = struct.pack("!BBBB4sHH4s4s4s4s16s64s128s", 2, 1, 6, 0, xid, 0, 0, bytes(4),
                        socket.inet_aton(yiaddr), socket.inet_aton(server), bytes(4), chaddr,
                        b"", b"")
    body = opt(53, bytes([msgtype])) + opt(54, socket.inet_aton(server))
    if msgtype != 6:
        body += opt(51, struct.pack("!I", lease)) + opt(1, socket.inet_aton(mask))
        body += opt(3, socket.inet_aton(server)) + opt(6, socket.inet_aton(server))
        body += opt(15, domain)
        if t1 is not None:
            body += opt(58, struct.pack("!I", t1))
        if t2 is not None:
            body += opt(59, struct.pack("!I", t2))
    return fixed + COOKIE + body + extra + b"\xff"


def hostile(request: bytes, yiaddr: str, server: str) -> list[tuple[str, bytes]]:
    """OFFERs the client must refuse, each named by the reason it should give."""
    good = reply(request, 2, yiaddr, server)
    return [
        # a router option whose length runs past the end; then no END at all
        ("options truncated", good[:-1] + bytes([3, 40, 10, 0])),
        ("options truncated", good[:-1]),
        ("bad option overload", reply(request, 2, yiaddr, server, extra=opt(52, b"\x07"))),
        ("bad subnet mask", reply(request, 2, yiaddr, server, mask="0.0.0.0")),
        ("lease time 0", reply(request, 2, yiaddr, server, lease=0)),
        ("bad option value", reply(request, 2, yiaddr, server, domain=b"lab\nnameserver 6.6.6.6")),
        ("option repeated", reply(request, 2, yiaddr, server, extra=opt(53, b"\x05"))),
    ]


class Server:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.pool = args.pool.split(",")
        self.offered: dict[bytes, str] = {}
        self.acks = 0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        self.sock.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, args.iface.encode())
        self.sock.bind(("0.0.0.0", 67))

    def send(self, data: bytes, name: str, to: str = "255.255.255.255") -> None:
        self.sock.sendto(data, (to, 68))
        say(sent=name, to=to, size=len(data))

    def timing(self) -> dict[str, int | None]:
        return {"lease": self.args.lease, "t1": self.args.t1, "t2": self.args.t2}

    def discover(self, data: bytes) -> None:
        mac = data[28:34]
        if mac not in self.offered:
            self.offered[mac] = self.pool[len(self.offered) % len(self.pool)]
        else:   # a client that comes back (after a DECLINE) gets the next address
            self.offered[mac] = self.pool[(self.pool.index(self.offered[mac]) + 1)
                                          % len(self.pool)]
        addr = self.offered[mac]
        if self.args.hostile:
            for reason, bad in hostile(data, addr, self.args.server):
                self.send(bad, f"hostile OFFER ({reason})")
        self.send(reply(data, 2, addr, self.args.server, **self.timing()), "DHCPOFFER")

    def request(self, data: bytes, opts: dict[int, bytes], ciaddr: str) -> None:
        renewing = ciaddr != "0.0.0.0"
        if renewing and self.args.renew == "ignore":
            return
        if renewing and self.args.renew == "nak":
            self.send(reply(data, 6, "0.0.0.0", self.args.server), "DHCPNAK", ciaddr)
            return
        addr = ciaddr if renewing else socket.inet_ntoa(opts.get(50, bytes(4)))
        self.acks += 1
        self.send(reply(data, 5, addr, self.args.server, **self.timing()), "DHCPACK",
                  ciaddr if renewing else "255.255.255.255")

    def serve(self) -> None:
        say(listening=self.args.iface)
        while True:
            data, (src, _) = self.sock.recvfrom(2048)
            if len(data) < 240 or data[236:240] != COOKIE or data[0] != 1:
                continue
            opts = options(data)
            msgtype = TYPES.get(opts.get(53, b"\0")[0], "?")
            ciaddr = socket.inet_ntoa(data[12:16])
            requested = socket.inet_ntoa(opts[50]) if 50 in opts else None
            say(got=msgtype, src=src, ciaddr=ciaddr, requested=requested,
                mac=data[28:34].hex(":"))
            if self.args.quiet_after is not None and self.acks >= self.args.quiet_after:
                continue
            if msgtype == "DHCPDISCOVER":
                self.discover(data)
            elif msgtype == "DHCPREQUEST":
                self.request(data, opts, ciaddr)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("iface")
    parser.add_argument("server")
    parser.add_argument("pool")
    parser.add_argument("--lease", type=int, default=60)
    parser.add_argument("--t1", type=int)
    parser.add_argument("--t2", type=int)
    parser.add_argument("--hostile", action="store_true")
    parser.add_argument("--renew", choices=["answer", "ignore", "nak"], default="answer")
    parser.add_argument("--quiet-after", type=int, help="answer nothing after N ACKs")
    args = parser.parse_args()
    if not in_lab_namespace():
        print("fakedhcp: refusing to run outside a lab namespace (xv6n-*)", file=sys.stderr)
        return 2
    Server(args).serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
