"""Read captures: a one-line-per-frame summary with scapy, and tshark cross-checks.

    for line in summary("build/demo/a-eth0.pcap"):
        print(line)
    #    1  0.000000 52:54:76:36:00:00 > ff:ff:ff:ff:ff:ff ARP     60 who-has 10.0.0.2 ...

`frames(path)` gives the decoded records themselves, for tests. `tshark_decode`
runs Wireshark's own dissectors over the same file (`tshark -T fields`), and
`tshark_problems` lists the frames tshark marks malformed or flags with an
expert warning or error. tshark always runs with -n: no name resolution, so
reading a capture never sends a DNS query.
"""

from __future__ import annotations

import functools
import shutil
import struct
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from scapy.error import Scapy_Exception
from scapy.layers.inet import IP
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Packet
from scapy.utils import PcapReader

ETH_HLEN = 14
ARP_IPV4_LEN = 28                # an ARP packet for IPv4 over Ethernet
ETHERTYPE_NAMES = {0x0800: "IPv4", 0x0806: "ARP", 0x86DD: "IPv6"}
TEST_ETHERTYPE = 0x88B5          # IEEE 802 local experimental; ethsend/ethrecv use it
TSHARK_TIMEOUT = 60.0
TSHARK_FIELDS: tuple[str, ...] = (
    "frame.number", "frame.time_relative", "eth.src", "eth.dst", "eth.type", "frame.len",
    "_ws.col.Protocol", "_ws.col.Info",
)
PROBLEM_FIELDS: tuple[str, ...] = (
    "frame.number", "_ws.col.Protocol", "_ws.expert.message", "_ws.expert.severity",
    "_ws.col.Info",
)
# Source ports are picked from here up (Linux: 32768-60999; the guests: 49152-65535). Wireshark
# decodes a TCP or UDP port it has a dissector for as that protocol, so a random source port of,
# say, 34980 makes a traceroute probe "EtherCAT over UDP", which then comes out malformed.
EPHEMERAL_LOW = 32768


class PcapError(RuntimeError):
    """A capture could not be read or tshark failed."""


@dataclass(frozen=True)
class Frame:
    """One captured frame, decoded."""

    number: int
    time: float          # seconds since the first frame of the file
    src: str
    dst: str
    ethertype: int       # the type/length field
    length: int          # bytes captured (no FCS)
    info: str            # decoded summary
    data: bytes

    @property
    def type_name(self) -> str:
        if self.ethertype < 0x600:
            return "802.3"
        return ETHERTYPE_NAMES.get(self.ethertype, f"0x{self.ethertype:04x}")

    @property
    def seq(self) -> int | None:
        """The 32-bit sequence number that opens ethsend's payload."""
        if len(self.data) < ETH_HLEN + 4:
            return None
        return int(struct.unpack_from("!I", self.data, ETH_HLEN)[0])

    def line(self) -> str:
        return (f"{self.number:5d} {self.time:9.6f} {self.src} > {self.dst} "
                f"{self.type_name:7s} {self.length:4d} {self.info}")


def describe_arp(arp: ARP) -> str:
    """who-has / is-at in tcpdump's words, plus anything unusual about the header."""
    odd = []
    if (arp.hwtype, arp.ptype, arp.hwlen, arp.plen) != (1, 0x0800, 6, 4):
        odd.append(f"hw {arp.hwtype} proto 0x{arp.ptype:04x} "
                   f"hlen {arp.hwlen} plen {arp.plen}")
    psrc, pdst, hwsrc = _addr(arp.psrc), _addr(arp.pdst), _addr(arp.hwsrc)
    if arp.op == 1:
        text = f"who-has {pdst} tell {psrc}"
    elif arp.op == 2:
        text = f"{psrc} is-at {hwsrc}"
    else:
        text = f"op {arp.op} {psrc} -> {pdst}"
    if arp.op in (1, 2) and psrc == pdst:
        text += " (gratuitous)"
    return " ".join([text, *odd])


def _addr(value: object) -> str:
    """An address field: scapy's text, or hex when odd lengths left it raw bytes."""
    return value.hex() if isinstance(value, bytes) else str(value)


def describe(packet: Packet, raw: bytes) -> str:
    """The decoded summary of one frame (after the Ethernet header)."""
    if len(raw) < ETH_HLEN:
        return f"runt ({len(raw)} bytes)"
    ethertype = int.from_bytes(raw[12:14], "big")
    if ethertype == 0x0806:
        if len(raw) < ETH_HLEN + ARP_IPV4_LEN or ARP not in packet:
            return f"ARP, truncated ({len(raw) - ETH_HLEN} bytes)"
        return describe_arp(packet[ARP])
    if ethertype == TEST_ETHERTYPE:
        return f"seq {int.from_bytes(raw[14:18], 'big')}" if len(raw) >= 18 else "truncated"
    if IP in packet:
        return str(packet[IP].summary())
    payload = packet.payload
    return "" if payload is None else str(payload.summary())


def _frame(number: int, packet: Packet, start: float) -> Frame:
    raw = bytes(packet)
    src = packet[Ether].src if Ether in packet else "?"
    dst = packet[Ether].dst if Ether in packet else "?"
    ethertype = int.from_bytes(raw[12:14], "big") if len(raw) >= ETH_HLEN else 0
    return Frame(number, float(packet.time) - start, src, dst, ethertype, len(raw),
                 describe(packet, raw), raw)


def frames(path: Path | str) -> list[Frame]:
    """Every frame of an Ethernet pcap, decoded with scapy."""
    result: list[Frame] = []
    start: float | None = None
    try:
        with PcapReader(str(path)) as reader:
            for number, packet in enumerate(reader, start=1):
                if start is None:
                    start = float(packet.time)
                result.append(_frame(number, packet, start))
    except (OSError, EOFError, ValueError, Scapy_Exception) as err:
        raise PcapError(f"{path}: {err}") from None
    return result


def summary(path: Path | str) -> list[str]:
    """One line per frame: number, time, source > destination, type, length, summary."""
    return [frame.line() for frame in frames(path)]


# ---- tshark ----------------------------------------------------------------------

# Wireshark leaves checksums unverified by default (most captures are taken
# where the card has not yet filled them in); these make it check them, so
# that tcp.checksum.status and friends say 1 (good) or 0 (bad).
CHECKSUM_PREFS = ("tcp.check_checksum:TRUE", "udp.check_checksum:TRUE",
                  "ip.check_checksum:TRUE")


def tshark_argv(path: Path | str, fields: Sequence[str],
                display_filter: str | None = None, prefs: Sequence[str] = (), *,
                disabled: Sequence[str] = ()) -> list[str]:
    """The tshark command line that prints fields, tab separated, with a header.

    prefs are Wireshark preferences, each "name:value" (`-o`), e.g.
    CHECKSUM_PREFS, which has the TCP, UDP and IPv4 checksums verified;
    disabled names dissectors to turn off (`--disable-protocol`)."""
    argv = ["tshark", "-n", "-r", str(path), "-T", "fields", "-E", "header=y",
            "-E", "separator=/t", "-E", "quote=n", "-E", "occurrence=a", "-E", "aggregator=,"]
    for pref in prefs:
        argv += ["-o", pref]
    for protocol in disabled:
        argv += ["--disable-protocol", protocol]
    if display_filter:
        argv += ["-Y", display_filter]
    for field in fields:
        argv += ["-e", field]
    return argv


def parse_fields(text: str) -> list[dict[str, str]]:
    """tshark -T fields output with a header line -> a dict per frame."""
    lines = text.splitlines()
    if not lines:
        return []
    header = lines[0].split("\t")
    return [dict(zip(header, line.split("\t"), strict=False)) for line in lines[1:] if line]


def tshark_decode(path: Path | str, fields: Sequence[str] = TSHARK_FIELDS,
                  display_filter: str | None = None,
                  timeout: float = TSHARK_TIMEOUT,
                  prefs: Sequence[str] = (), *,
                  disabled: Sequence[str] = ()) -> list[dict[str, str]]:
    """Wireshark's dissection of every frame (or of those display_filter selects)."""
    if shutil.which("tshark") is None:
        raise PcapError("tshark is not installed (make bootstrap installs it)")
    argv = tshark_argv(path, fields, display_filter, prefs, disabled=disabled)
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                                stdin=subprocess.DEVNULL, check=False)
    except subprocess.TimeoutExpired:
        raise PcapError(f"tshark on {path}: no result within {timeout:g} s") from None
    if result.returncode != 0:
        raise PcapError(f"tshark on {path} failed ({result.returncode}): {result.stderr.strip()}")
    return parse_fields(result.stdout)


def port_guesses(decodes: str) -> tuple[str, ...]:
    """The dissectors `tshark -G decodes` output ties to a TCP or UDP port of EPHEMERAL_LOW or
    above: what Wireshark would guess from a random source port."""
    found = set()
    for line in decodes.splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and parts[0] in ("tcp.port", "udp.port") and parts[1].isdigit() \
                and int(parts[1]) >= EPHEMERAL_LOW:
            found.add(parts[2])
    return tuple(sorted(found))


@functools.cache
def installed_port_guesses(timeout: float = TSHARK_TIMEOUT) -> tuple[str, ...]:
    """port_guesses() of the installed tshark (asked once per process)."""
    try:
        result = subprocess.run(["tshark", "-G", "decodes"], capture_output=True, text=True,
                                timeout=timeout, stdin=subprocess.DEVNULL, check=False)
    except subprocess.TimeoutExpired:
        raise PcapError(f"tshark -G decodes: no result within {timeout:g} s") from None
    if result.returncode != 0:
        raise PcapError(f"tshark -G decodes failed ({result.returncode}): {result.stderr.strip()}")
    return port_guesses(result.stdout)


def tshark_problems(path: Path | str, timeout: float = TSHARK_TIMEOUT, *,
                    least: str = "warning", also: str = "",
                    prefs: Sequence[str] = ()) -> list[dict[str, str]]:
    """Frames tshark calls malformed or flags with an expert message of severity `least` or
    worse ("error": not TCP's window warnings), or that match the display filter `also`.

    The lab speaks no protocol that lives on an ephemeral port, so the dissectors Wireshark would
    pick from one (installed_port_guesses) are off: a problem they found would be a wrong guess."""
    if shutil.which("tshark") is None:
        raise PcapError("tshark is not installed (make bootstrap installs it)")
    display_filter = f"_ws.malformed || _ws.expert.severity >= {least}"
    if also:
        display_filter += f" || {also}"
    return tshark_decode(path, PROBLEM_FIELDS, display_filter, timeout, prefs,
                         disabled=installed_port_guesses())
