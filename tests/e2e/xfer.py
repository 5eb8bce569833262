"""Bulk TCP between two Linux namespaces, for the impairment tests.

    ip netns exec NS python xfer.py sink PORT [--timeout S]
    ip netns exec NS python xfer.py source HOST PORT BYTES SEED [--timeout S]
    ip netns exec NS python xfer.py datagrams HOST PORT COUNT GAP

`sink` prints "listening" once bound, takes one connection, reads to EOF and
prints {"bytes": N, "sha256": HEX}. `source` connects, sends BYTES bytes of
random.Random(SEED) (the same bytes `expected` gives), closes and prints the
same JSON. `datagrams` sends COUNT UDP datagrams, GAP seconds apart, each
holding its number (32 bits, big-endian), without waiting for anything
(unlike ping, which slows down while a reply is missing). Not a test
module; a plain script the tests run in namespaces.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import socket
import sys
import time

CHUNK = 64 * 1024


def payload(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


def expected(size: int, seed: int) -> dict[str, object]:
    return {"bytes": size, "sha256": hashlib.sha256(payload(size, seed)).hexdigest()}


def sink(port: int, timeout: float) -> dict[str, object]:
    server = socket.create_server(("0.0.0.0", port))
    server.settimeout(timeout)
    print("listening", flush=True)
    conn, _ = server.accept()
    conn.settimeout(timeout)
    digest, total = hashlib.sha256(), 0
    while data := conn.recv(CHUNK):
        digest.update(data)
        total += len(data)
    conn.close()
    return {"bytes": total, "sha256": digest.hexdigest()}


def source(host: str, port: int, size: int, seed: int, timeout: float) -> dict[str, object]:
    data = payload(size, seed)
    with socket.create_connection((host, port), timeout=timeout) as conn:
        conn.sendall(data)
        conn.shutdown(socket.SHUT_WR)
        conn.recv(1)      # the sink's close: everything was taken
    return {"bytes": size, "sha256": hashlib.sha256(data).hexdigest()}


def datagrams(host: str, port: int, count: int, gap: float) -> dict[str, object]:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for number in range(count):
            sock.sendto(number.to_bytes(4, "big"), (host, port))
            time.sleep(gap)
    return {"sent": count}


def main() -> int:
    parser = argparse.ArgumentParser()
    modes = parser.add_subparsers(dest="mode", required=True)
    s = modes.add_parser("sink")
    s.add_argument("port", type=int)
    s.add_argument("--timeout", type=float, default=100.0)
    o = modes.add_parser("source")
    o.add_argument("host")
    o.add_argument("port", type=int)
    o.add_argument("bytes", type=int)
    o.add_argument("seed", type=int)
    o.add_argument("--timeout", type=float, default=100.0)
    d = modes.add_parser("datagrams")
    d.add_argument("host")
    d.add_argument("port", type=int)
    d.add_argument("count", type=int)
    d.add_argument("gap", type=float)
    args = parser.parse_args()
    if args.mode == "sink":
        result = sink(args.port, args.timeout)
    elif args.mode == "datagrams":
        result = datagrams(args.host, args.port, args.count, args.gap)
    else:
        result = source(args.host, args.port, args.bytes, args.seed, args.timeout)
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
