"""A DNS server that misbehaves on purpose, for the resolver's tests; run
inside a lab's namespace.

    python fakedns.py SERVER_IP OTHER_IP

It listens on SERVER_IP:53 and answers A queries for NAME with 10.0.0.42,
except that the first label of NAME picks a misdeed, sent before the real
answer (or instead of it):

  wrongid       a reply with another query ID
  wrongserver   a reply from OTHER_IP:53 (another address on the LAN)
  wrongport     a reply from SERVER_IP, but not from port 53
  loop          a reply whose answer's name is a compression pointer to itself
  wrongq        a reply to another question
  onlybad       all of the above, and no real answer
  silent        nothing at all

Each query is printed as a JSON line (name, source address and port, ID).
Standard library only; it refuses to run outside a lab's namespace (xv6n-*).
"""

from __future__ import annotations

import json
import os
import select
import socket
import struct
import sys
from pathlib import Path

LAB_PREFIX = "xv6n"
NETNS_DIR = Path("/run/netns")
ANSWER = "10.0.0.42"
MISDEEDS = ("wrongid", "wrongserver", "wrongport", "loop", "wrongq")


def in_lab_namespace() -> bool:
    me = os.stat("/proc/self/ns/net")
    for entry in NETNS_DIR.glob(f"{LAB_PREFIX}-*"):
        st = entry.stat()
        if (st.st_dev, st.st_ino) == (me.st_dev, me.st_ino):
            return True
    return False


def question(query: bytes) -> tuple[int, str, bytes]:
    """ID, name and the question section (name, type, class) of a query."""
    qid = struct.unpack_from("!H", query)[0]
    labels, i = [], 12
    while query[i]:
        labels.append(query[i + 1:i + 1 + query[i]].decode())
        i += 1 + query[i]
    return qid, ".".join(labels), query[12:i + 5]


def encode(name: str) -> bytes:
    return b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"


def answer(qid: int, qsection: bytes, loop: bool = False) -> bytes:
    header = struct.pack("!HHHHHH", qid, 0x8580, 1, 1, 0, 0)
    at = 12 + len(qsection)
    owner = struct.pack("!H", 0xC000 | at) if loop else struct.pack("!H", 0xC00C)
    record = owner + struct.pack("!HHIH", 1, 1, 60, 4) + socket.inet_aton(ANSWER)
    return header + qsection + record


def misdeed(kind: str, qid: int, name: str, qsection: bytes) -> tuple[bytes, str]:
    """A bad reply and where it goes from ("server", "other" or "port")."""
    if kind == "wrongid":
        return answer((qid + 1) & 0xFFFF, qsection), "server"
    if kind == "wrongserver":
        return answer(qid, qsection), "other"
    if kind == "wrongport":
        return answer(qid, qsection), "port"
    if kind == "loop":
        return answer(qid, qsection, loop=True), "server"
    other = encode("x" + name) + qsection[-4:]
    return answer(qid, other), "server"


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    if not in_lab_namespace():
        print("fakedns: refusing to run outside a lab namespace (xv6n-*)", file=sys.stderr)
        return 2
    server_ip, other_ip = sys.argv[1:]
    socks = {}
    for role, addr, port in (("server", server_ip, 53), ("other", other_ip, 53),
                             ("port", server_ip, 5353)):
        socks[role] = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        socks[role].bind((addr, port))
    print(json.dumps({"listening": server_ip}), flush=True)
    while True:
        select.select([socks["server"]], [], [])
        query, client = socks["server"].recvfrom(2048)
        qid, name, qsection = question(query)
        print(json.dumps({"name": name, "src": client[0], "port": client[1], "id": qid}),
              flush=True)
        kind = name.split(".")[0]
        if kind == "silent":
            continue
        for bad in MISDEEDS if kind == "onlybad" else [kind] if kind in MISDEEDS else []:
            data, role = misdeed(bad, qid, name, qsection)
            socks[role].sendto(data, client)
        if kind != "onlybad":
            socks["server"].sendto(answer(qid, qsection), client)


if __name__ == "__main__":
    sys.exit(main())
