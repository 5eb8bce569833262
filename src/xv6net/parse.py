"""Parse what the guest's programs and Linux's tools print.

Guest: `ifconfig` (Linux-shaped counters), `netstat -m`, `ethrecv`'s summary.
Both: `arping` replies, in iputils' shape (the guest's arping and iputils-arping:
"Unicast reply from 10.0.0.3 [52:54:00:00:00:02]  0.553ms") and in Thomas
Habets' arping's ("60 bytes from 52:54:00:00:00:02 (10.0.0.3): index=0 ...").
Linux: `ip -j neigh`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

_IF_HEADER = re.compile(r"^(?P<name>\w+): flags=", re.MULTILINE)
_COUNTER = re.compile(r"\b(?P<key>RX packets|TX packets|bytes|RX errors|TX errors|dropped|"
                      r"overruns|nobuf|ringfull|interrupts) (?P<value>\d+)")
_PBUFS = re.compile(r"(?P<used>\d+)/(?P<free>\d+)/(?P<total>\d+) pbufs in use/free/total")
_ETHRECV = re.compile(r"ethrecv: received (?P<frames>\d+) frames, (?P<bytes>\d+) bytes on "
                      r"(?P<ifname>\w+); (?P<ooo>\d+) out of sequence")
_IPUTILS_REPLY = re.compile(r"^Unicast reply from (?P<ip>[\d.]+) \[(?P<mac>[0-9A-Fa-f:]{17})\]",
                            re.MULTILINE)
_HABETS_REPLY = re.compile(r"^\d+ bytes from (?P<mac>[0-9A-Fa-f:]{17}) \((?P<ip>[\d.]+)\):",
                           re.MULTILINE)


class ParseError(ValueError):
    """The text does not have the expected shape."""


def ifconfig_counters(text: str) -> dict[str, dict[str, int]]:
    """{"eth0": {"rx_packets": .., "rx_bytes": .., "tx_packets": .., "interrupts": ..}, ...}.

    "bytes" after "RX packets" is rx_bytes, after "TX packets" tx_bytes;
    "dropped" likewise belongs to the RX or TX errors line it is on.
    """
    headers = list(_IF_HEADER.finditer(text))
    ends = [header.start() for header in headers[1:]] + [len(text)] * bool(headers)
    return {header["name"]: _block_counters(text[header.start():end])
            for header, end in zip(headers, ends, strict=True)}


def _block_counters(block: str) -> dict[str, int]:
    counters: dict[str, int] = {}
    for line in block.splitlines():
        side = "rx" if "RX " in line else "tx" if "TX " in line else ""
        for match in _COUNTER.finditer(line):
            key = match["key"].lower().replace(" ", "_")
            if key in ("bytes", "dropped", "overruns", "nobuf", "ringfull") and side:
                key = f"{side}_{key}"
            counters[key] = int(match["value"])
    return counters


@dataclass(frozen=True)
class Pbufs:
    used: int
    free: int
    total: int


def pbufs(text: str) -> Pbufs:
    """`netstat -m` (or netstat's Buffers line)."""
    match = _PBUFS.search(text)
    if match is None:
        raise ParseError(f"no pbuf counts in {text!r}")
    return Pbufs(int(match["used"]), int(match["free"]), int(match["total"]))


@dataclass(frozen=True)
class EthrecvSummary:
    frames: int
    bytes: int
    ifname: str
    out_of_sequence: int


def ethrecv_summary(text: str) -> EthrecvSummary:
    match = _ETHRECV.search(text)
    if match is None:
        raise ParseError(f"no ethrecv summary in {text!r}")
    return EthrecvSummary(int(match["frames"]), int(match["bytes"]), match["ifname"],
                          int(match["ooo"]))


def arping_replies(text: str) -> list[tuple[str, str]]:
    """(ip, mac) per reply line, whichever arping printed the text."""
    replies = [(m["ip"], m["mac"].lower()) for m in _IPUTILS_REPLY.finditer(text)]
    replies += [(m["ip"], m["mac"].lower()) for m in _HABETS_REPLY.finditer(text)]
    return replies


@dataclass(frozen=True)
class Neighbour:
    ip: str
    dev: str
    mac: str | None
    states: tuple[str, ...]


def ip_neigh(json_text: str) -> dict[str, Neighbour]:
    """`ip -j neigh show ...` -> {ip: Neighbour}."""
    try:
        entries = json.loads(json_text or "[]")
    except json.JSONDecodeError as err:
        raise ParseError(f"ip -j neigh: {err}") from None
    return {e["dst"]: Neighbour(e["dst"], e.get("dev", ""), e.get("lladdr"),
                                tuple(e.get("state", ()))) for e in entries}
