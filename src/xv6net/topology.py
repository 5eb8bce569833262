"""A lab topology as plain data: guests, their NICs, LANs and Linux peers.

    Topology(
        lans=[Lan("lan0", "10.0.0.0/24")],
        guests=[Guest("a", [GuestNic("lan0", ip="10.0.0.2")]),
                Guest("b", [GuestNic("lan0", ip="10.0.0.3")])],
        peers=[Peer("lan0", "10.0.0.1")],
    )

A LAN is one of three kinds:

- "bridge": a Linux bridge in the lab's network namespace, a tap per guest NIC,
  and Linux peers as addresses on the bridge. Needs root.
- "stream": exactly two guest NICs joined back to back by QEMU's stream
  backend over loopback (one QEMU listens, the other connects). No root.
- "slirp": one guest NIC on QEMU's user-mode network with restrict=on; the
  gateway 10.0.2.2 inside QEMU answers ARP. No root.

Validation happens when a Topology is made, so a bad description fails before
anything is started. `from_dict` reads the same shape from JSON or TOML.
"""

from __future__ import annotations

import ipaddress
import json
import re
import tomllib
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Literal, get_args

from xv6net import nics
from xv6net.qemu import check_mac, make_mac

LanKind = Literal["bridge", "stream", "slirp"]
LAN_KINDS: tuple[str, ...] = get_args(LanKind)
# Short names keep bridge and tap names within Linux's 15 characters:
# "br-" + 8 and "tap-" + 8 + "-" + one digit.
NAME = re.compile(r"[a-z][a-z0-9]{0,7}")
MAX_NICS = 8
SLIRP_SUBNET = "10.0.2.0/24"
SLIRP_GATEWAY = "10.0.2.2"
SLIRP_RESERVED = ("10.0.2.2", "10.0.2.3")   # QEMU's gateway and DNS server


class TopologyError(ValueError):
    """The topology cannot be built as described."""


@dataclass(frozen=True)
class Lan:
    name: str
    subnet: str | None = None
    kind: LanKind = "bridge"

    @property
    def network(self) -> ipaddress.IPv4Network | None:
        subnet = self.subnet or (SLIRP_SUBNET if self.kind == "slirp" else None)
        return ipaddress.IPv4Network(subnet) if subnet else None


@dataclass(frozen=True)
class GuestNic:
    """One NIC of a guest. `model` is a card of xv6net.nics (QEMU's -device
    name); None leaves the choice to whoever runs the topology (the lab's
    nic_model, e1000 unless told otherwise)."""

    lan: str
    mac: str | None = None
    ip: str | None = None
    model: str | None = None


@dataclass(frozen=True)
class Guest:
    name: str
    nics: Sequence[GuestNic] = ()
    cmdline: str = ""
    memory_mb: int = 128
    cpus: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "nics", tuple(self.nics))


@dataclass(frozen=True)
class Peer:
    """A Linux address on a bridged LAN, held by the bridge in the namespace."""

    lan: str
    ip: str


@dataclass(frozen=True)
class NicRef:
    """A guest NIC together with where it sits: guest, its index, NIC number."""

    guest: Guest
    index: int
    number: int
    nic: GuestNic

    @property
    def ifname(self) -> str:
        return f"eth{self.number}"

    @property
    def mac(self) -> str:
        return check_mac(self.nic.mac) if self.nic.mac else make_mac(self.index, self.number)


@dataclass(frozen=True)
class Topology:
    lans: Sequence[Lan]
    guests: Sequence[Guest]
    peers: Sequence[Peer] = ()

    def __post_init__(self) -> None:
        for name in ("lans", "guests", "peers"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        validate(self)

    def lan(self, name: str) -> Lan:
        for lan in self.lans:
            if lan.name == name:
                return lan
        raise KeyError(f"no LAN {name!r}")

    def guest(self, name: str) -> Guest:
        for guest in self.guests:
            if guest.name == name:
                return guest
        raise KeyError(f"no guest {name!r}")

    def nics(self) -> Iterator[NicRef]:
        """Every guest NIC in order: guest by guest, eth0 first."""
        for index, guest in enumerate(self.guests):
            for number, nic in enumerate(guest.nics):
                yield NicRef(guest, index, number, nic)

    def nics_on(self, lan: str) -> list[NicRef]:
        return [ref for ref in self.nics() if ref.nic.lan == lan]

    def nic(self, guest: str, number: int = 0) -> NicRef:
        for ref in self.nics():
            if ref.guest.name == guest and ref.number == number:
                return ref
        raise KeyError(f"guest {guest!r} has no eth{number}")

    @property
    def needs_root(self) -> bool:
        """Bridged LANs need a namespace, and so root."""
        return any(lan.kind == "bridge" for lan in self.lans)


# ---- validation ---------------------------------------------------------------

def validate(topology: Topology) -> None:
    """Raise TopologyError for the first problem found."""
    _check_names(topology)
    _check_nics(topology)
    _check_addresses(topology)
    _check_lan_kinds(topology)


def _duplicates(names: Sequence[str]) -> list[str]:
    return sorted(name for name, count in Counter(names).items() if count > 1)


def _check_names(topology: Topology) -> None:
    if not topology.guests:
        raise TopologyError("a topology needs at least one guest")
    for kind, items in (("LAN", topology.lans), ("guest", topology.guests)):
        for item in items:
            if not NAME.fullmatch(item.name):
                raise TopologyError(f"{kind} name {item.name!r}: 1-8 characters, "
                                    "a lowercase letter first, then letters or digits")
        if dups := _duplicates([item.name for item in items]):
            raise TopologyError(f"duplicate {kind} names: {', '.join(dups)}")
    for lan in topology.lans:
        if lan.kind not in LAN_KINDS:
            raise TopologyError(f"LAN {lan.name}: unknown kind {lan.kind!r}; one of {LAN_KINDS}")


def _check_nics(topology: Topology) -> None:
    lans = {lan.name for lan in topology.lans}
    for guest in topology.guests:
        if len(guest.nics) > MAX_NICS:
            raise TopologyError(f"guest {guest.name}: at most {MAX_NICS} NICs")
    macs = []
    for ref in topology.nics():
        if ref.nic.lan not in lans:
            raise TopologyError(f"{ref.guest.name} {ref.ifname}: no LAN {ref.nic.lan!r}")
        if ref.nic.model is not None:
            try:
                nics.model(ref.nic.model)
            except ValueError as err:
                raise TopologyError(f"{ref.guest.name} {ref.ifname}: {err}") from None
        try:
            macs.append(ref.mac)
        except ValueError as err:
            raise TopologyError(f"{ref.guest.name} {ref.ifname}: {err}") from None
    if dups := _duplicates(macs):
        raise TopologyError(f"MAC address used twice: {', '.join(dups)}")


def _host_address(lan: Lan, ip: str, what: str) -> str:
    """ip if it is a usable host address in lan's subnet, else raise."""
    network = lan.network
    if network is None:
        raise TopologyError(f"{what}: LAN {lan.name} has no subnet, so {ip} has no netmask")
    try:
        address = ipaddress.IPv4Address(ip)
    except ValueError:
        raise TopologyError(f"{what}: bad IPv4 address {ip!r}") from None
    if address not in network:
        raise TopologyError(f"{what}: {ip} is not in {network}")
    if network.prefixlen < 31 and address in (network.network_address, network.broadcast_address):
        raise TopologyError(f"{what}: {ip} is not a host address of {network}")
    return str(address)


def _check_addresses(topology: Topology) -> None:
    used: dict[str, list[str]] = {lan.name: [] for lan in topology.lans}
    for ref in topology.nics():
        if ref.nic.ip is not None:
            lan = topology.lan(ref.nic.lan)
            what = f"{ref.guest.name} {ref.ifname}"
            used[lan.name].append(_host_address(lan, ref.nic.ip, what))
    for peer in topology.peers:
        if peer.lan not in used:
            raise TopologyError(f"peer {peer.ip}: no LAN {peer.lan!r}")
        lan = topology.lan(peer.lan)
        if lan.kind != "bridge":
            raise TopologyError(f"peer {peer.ip}: Linux peers sit on bridged LANs, "
                                f"{lan.name} is {lan.kind}")
        used[lan.name].append(_host_address(lan, peer.ip, f"peer {peer.ip}"))
    for lan_name, addresses in used.items():
        if dups := _duplicates(addresses):
            raise TopologyError(f"LAN {lan_name}: address used twice: {', '.join(dups)}")


def _check_lan_kinds(topology: Topology) -> None:
    for lan in topology.lans:
        refs = topology.nics_on(lan.name)
        if lan.kind == "stream":
            if len(refs) != 2 or refs[0].guest.name == refs[1].guest.name:
                raise TopologyError(f"stream LAN {lan.name} joins exactly two NICs "
                                    f"of two different guests, not {len(refs)}")
        elif lan.kind == "slirp":
            _check_slirp(lan, refs)


def _check_slirp(lan: Lan, refs: Sequence[NicRef]) -> None:
    if len(refs) != 1:
        raise TopologyError(f"slirp LAN {lan.name} holds exactly one NIC, not {len(refs)}")
    if lan.subnet not in (None, SLIRP_SUBNET):
        raise TopologyError(f"slirp LAN {lan.name}: QEMU's user network is {SLIRP_SUBNET}")
    if refs[0].nic.ip in SLIRP_RESERVED:
        raise TopologyError(f"slirp LAN {lan.name}: {refs[0].nic.ip} belongs to QEMU")


# ---- addresses in the guest -------------------------------------------------------

@dataclass(frozen=True)
class Address:
    ifname: str
    ip: str
    netmask: str


def addresses(topology: Topology, guest: str) -> list[Address]:
    """The IPv4 addresses a guest's NICs get, eth0 first."""
    result = []
    for ref in topology.nics():
        if ref.guest.name == guest and ref.nic.ip is not None:
            network = topology.lan(ref.nic.lan).network
            assert network is not None   # validate() checked
            result.append(Address(ref.ifname, ref.nic.ip, str(network.netmask)))
    return result


def kernel_cmdline(topology: Topology, guest: str) -> str:
    """The guest's command line plus Linux's ip= for its first addressed NIC.

    The kernel takes one ip= (like Linux); other NICs get their address
    with ifconfig once the shell is up (see `runtime_addresses`). A command
    line that already has an ip= is left alone.
    """
    cmdline = topology.guest(guest).cmdline
    first = addresses(topology, guest)[:1]
    if not first or re.search(r"(^|\s)ip=", cmdline):
        return cmdline
    # client:server:gateway:netmask:hostname:device:autoconf
    ip = f"ip={first[0].ip}:::{first[0].netmask}::{first[0].ifname}:off"
    return f"{cmdline} {ip}".strip()


def runtime_addresses(topology: Topology, guest: str) -> list[Address]:
    """The addresses that kernel_cmdline does not configure."""
    all_addresses = addresses(topology, guest)
    if re.search(r"(^|\s)ip=", topology.guest(guest).cmdline):
        return all_addresses
    return all_addresses[1:]


# ---- reading topologies -------------------------------------------------------------

def _build(cls: type[Any], data: object, what: str) -> Any:  # noqa: ANN401
    if not isinstance(data, Mapping):
        raise TopologyError(f"{what}: expected a table/object, got {data!r}")
    known = {f.name for f in fields(cls)}
    if unknown := sorted(set(data) - known):
        raise TopologyError(f"{what}: unknown keys {unknown}; known: {sorted(known)}")
    try:
        return cls(**data)
    except TypeError as err:
        raise TopologyError(f"{what}: {err}") from None


def from_dict(data: Mapping[str, Any]) -> Topology:
    """A Topology from {"lans": [...], "guests": [...], "peers": [...]}."""
    if unknown := sorted(set(data) - {"lans", "guests", "peers"}):
        raise TopologyError(f"unknown top-level keys {unknown}")
    lans = [_build(Lan, item, "lan") for item in data.get("lans", [])]
    guests = []
    for item in data.get("guests", []):
        guest = _build(Guest, item, "guest")
        nics = [_build(GuestNic, nic, f"guest {guest.name} nic") for nic in guest.nics]
        guests.append(Guest(guest.name, nics, guest.cmdline, guest.memory_mb, guest.cpus))
    peers = [_build(Peer, item, "peer") for item in data.get("peers", [])]
    return Topology(lans, guests, peers)


def load(path: Path) -> Topology:
    """Read a topology from a .json or .toml file."""
    text = path.read_text()
    try:
        data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as err:
        raise TopologyError(f"{path}: {err}") from None
    return from_dict(data)


# ---- named topologies -----------------------------------------------------------

def two_guests() -> Topology:
    """Guests a (10.0.0.2) and b (10.0.0.3) and a Linux peer (10.0.0.1) on one bridge."""
    return Topology(
        lans=[Lan("lan0", "10.0.0.0/24")],
        guests=[Guest("a", [GuestNic("lan0", ip="10.0.0.2")]),
                Guest("b", [GuestNic("lan0", ip="10.0.0.3")])],
        peers=[Peer("lan0", "10.0.0.1")],
    )


def two_lans() -> Topology:
    """Guest r on two bridged LANs (eth0 on lan1, eth1 on lan2), guest a on lan1,
    guest b on lan2, and a Linux peer (.1) on each."""
    return Topology(
        lans=[Lan("lan1", "10.0.1.0/24"), Lan("lan2", "10.0.2.0/24")],
        guests=[Guest("r", [GuestNic("lan1", ip="10.0.1.2"), GuestNic("lan2", ip="10.0.2.2")]),
                Guest("a", [GuestNic("lan1", ip="10.0.1.3")]),
                Guest("b", [GuestNic("lan2", ip="10.0.2.3")])],
        peers=[Peer("lan1", "10.0.1.1"), Peer("lan2", "10.0.2.1")],
    )


def back_to_back() -> Topology:
    """Guests a (10.0.0.2) and b (10.0.0.3) joined by QEMU's stream backend (no root)."""
    return Topology(
        lans=[Lan("wire", "10.0.0.0/24", kind="stream")],
        guests=[Guest("a", [GuestNic("wire", ip="10.0.0.2")]),
                Guest("b", [GuestNic("wire", ip="10.0.0.3")])],
    )


def slirp() -> Topology:
    """One guest (10.0.2.15) on QEMU's user network with restrict=on (no root)."""
    return Topology(lans=[Lan("user", kind="slirp")],
                    guests=[Guest("a", [GuestNic("user", ip="10.0.2.15")])])


def mixed_cards() -> Topology:
    """Guests a (e1000, 10.0.0.2), b (ne2k_pci, 10.0.0.3) and c (virtio-net-pci,
    10.0.0.4) and a Linux peer (10.0.0.1) on one bridge."""
    return Topology(
        lans=[Lan("lan0", "10.0.0.0/24")],
        guests=[Guest("a", [GuestNic("lan0", ip="10.0.0.2", model="e1000")]),
                Guest("b", [GuestNic("lan0", ip="10.0.0.3", model="ne2k_pci")]),
                Guest("c", [GuestNic("lan0", ip="10.0.0.4", model="virtio-net-pci")])],
        peers=[Peer("lan0", "10.0.0.1")],
    )


NAMED = {"two-guests": two_guests, "two-lans": two_lans,
         "back-to-back": back_to_back, "slirp": slirp, "mixed-cards": mixed_cards}


def named_or_file(name: str) -> Topology:
    """A named topology, or one read from a .json/.toml file."""
    if name in NAMED:
        return NAMED[name]()
    path = Path(name)
    if path.suffix in (".json", ".toml") and path.is_file():
        return load(path)
    raise TopologyError(f"no topology {name!r}: one of {', '.join(NAMED)}, "
                        "or a .json/.toml file")
