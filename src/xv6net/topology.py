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

A Linux peer sits in the lab's namespace, as an address on the bridge, unless
it names a `host`: then it is a Linux host of its own, a namespace apart joined
to the bridge by a veth pair, with a default route through its `gateway`. Peers
on different LANs must be such hosts when guests route between the LANs: in one
namespace Linux would route between its own addresses itself, and no packet
would ever cross a guest. A guest with `forward=True` routes (the kernel's
net.ipv4.ip_forward), along its static `routes` (`Route`).

A bridged LAN may also have services run by Linux in the lab's namespace:
`Dnsmasq` hands out addresses by DHCP and answers DNS for a few names. A guest
NIC with `ip="dhcp"` gets its address from such a LAN (or from QEMU's own
DHCP server on a SLiRP LAN) through the kernel command line's `ip=dhcp`.

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
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal, get_args

from xv6net import nics
from xv6net.impair import ImpairError, parse_impairment
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


DHCP = "dhcp"   # GuestNic.ip for an address from DHCP


@dataclass(frozen=True)
class GuestNic:
    """One NIC of a guest. `model` is a card of xv6net.nics (QEMU's -device
    name); None leaves the choice to whoever runs the topology (the lab's
    nic_model, e1000 unless told otherwise). `impair` makes its link a bad
    one: an impairment relay (xv6net.impair, "loss=5%,delay=20ms:10ms,...")
    carries its frames both ways; on a stream LAN it sits between the two
    guests."""

    lan: str
    mac: str | None = None
    ip: str | None = None     # an address, DHCP ("dhcp") or None
    model: str | None = None
    impair: str | None = None

    @property
    def dhcp(self) -> bool:
        return self.ip == DHCP

    @property
    def static_ip(self) -> str | None:
        return None if self.dhcp else self.ip


DEFAULT = "default"   # Route.dst for the default route


@dataclass(frozen=True)
class Route:
    """A static route in a guest: to dst ("default" or a network as CIDR) via
    gateway, an address on one of the guest's own LANs."""

    dst: str
    gateway: str

    @property
    def network(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network("0.0.0.0/0" if self.dst == DEFAULT else self.dst)


@dataclass(frozen=True)
class Guest:
    name: str
    nics: Sequence[GuestNic] = ()
    cmdline: str = ""
    memory_mb: int = 128
    cpus: int = 0                 # 0: the default (qemu.default_cpus)
    forward: bool = False          # a router: sysctl.net.ipv4.ip_forward=1 at boot
    routes: Sequence[Route] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "nics", tuple(self.nics))
        object.__setattr__(self, "routes", tuple(self.routes))


@dataclass(frozen=True)
class Peer:
    """A Linux address on a bridged LAN: held by the bridge in the lab's
    namespace, or (with `host`) by a Linux host in a namespace of its own,
    whose default route goes through `gateway`."""

    lan: str
    ip: str
    host: str | None = None
    gateway: str | None = None


LEASE = re.compile(r"(\d+)([smhd]?)|infinite")
LEASE_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
DNSMASQ_MIN_LEASE = 120   # dnsmasq raises anything shorter to two minutes
DNS_NAME = re.compile(r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)"
                      r"(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*")


def lease_seconds(lease: str) -> int | None:
    """A dnsmasq lease time ("90", "2m", "1h", "infinite") in seconds, None for infinite."""
    match = LEASE.fullmatch(lease)
    if not match:
        raise TopologyError(f"lease time {lease!r}: a number with s, m, h or d, or 'infinite'")
    if lease == "infinite":
        return None
    return int(match[1]) * LEASE_UNITS[match[2]]


@dataclass(frozen=True)
class Dnsmasq:
    """dnsmasq on a bridged LAN, answering from a Linux peer's address.

    DHCP when `dhcp_range` (first, last) is given: leases of `lease` (dnsmasq's
    syntax, at least 2m), the peer as router and name server unless `router` /
    `dns_server` say otherwise, `t1`/`t2` (seconds) when set, fixed addresses
    by MAC in `static`. DNS for `names` (name -> address; a name without a
    dot is in `domain`) and the peer's own name `peer_name`; other names in the
    domain are NXDOMAIN, anything else REFUSED: it never asks another server.
    """

    lan: str
    ip: str
    dhcp_range: tuple[str, str] | None = None
    lease: str = "2m"
    router: str | None = None
    dns_server: str | None = None
    t1: int | None = None
    t2: int | None = None
    domain: str = "lab"
    names: Mapping[str, str] = field(default_factory=dict)
    static: Mapping[str, str] = field(default_factory=dict)
    peer_name: str = "peer"

    def __post_init__(self) -> None:
        if self.dhcp_range is not None:
            object.__setattr__(self, "dhcp_range", tuple(self.dhcp_range))
        object.__setattr__(self, "names", dict(self.names))
        object.__setattr__(self, "static", dict(self.static))


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
    services: Sequence[Dnsmasq] = ()

    def __post_init__(self) -> None:
        for name in ("lans", "guests", "peers", "services"):
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

    def dhcp_server(self, lan: str) -> Dnsmasq | None:
        """The service that hands out addresses on a LAN, if any."""
        for service in self.services:
            if service.lan == lan and service.dhcp_range is not None:
                return service
        return None

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
    _check_services(topology)
    _check_dhcp_nics(topology)
    _check_hosts(topology)
    _check_routes(topology)
    _check_impairments(topology)


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
        if ref.nic.static_ip is not None:
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


def _check_dhcp_range(lan: Lan, service: Dnsmasq, what: str) -> None:
    assert service.dhcp_range is not None
    first, last = (ipaddress.IPv4Address(_host_address(lan, a, f"{what}: range"))
                   for a in service.dhcp_range)
    if first > last:
        raise TopologyError(f"{what}: range {first}-{last} is empty")
    seconds = lease_seconds(service.lease)
    if seconds is not None and seconds < DNSMASQ_MIN_LEASE:
        raise TopologyError(f"{what}: lease {service.lease}: dnsmasq's shortest is 2m")
    t1, t2 = service.t1, service.t2
    if (t1 is not None and t1 <= 0) or (t2 is not None and t2 <= 0) or \
            (t1 is not None and t2 is not None and t1 >= t2) or \
            (seconds is not None and max(t1 or 0, t2 or 0) >= seconds):
        raise TopologyError(f"{what}: T1 {t1}, T2 {t2}: need 0 < T1 < T2 < the lease")


def _check_dns_names(lan: Lan, service: Dnsmasq, what: str) -> None:
    for name, address in service.names.items():
        if not DNS_NAME.fullmatch(name):
            raise TopologyError(f"{what}: {name!r} is not a DNS name")
        _host_address(lan, address, f"{what}: name {name}")
    if not DNS_NAME.fullmatch(service.domain) or not DNS_NAME.fullmatch(service.peer_name):
        raise TopologyError(f"{what}: domain {service.domain!r} / peer name "
                            f"{service.peer_name!r}: not DNS names")


def _check_service(topology: Topology, service: Dnsmasq) -> None:
    what = f"dnsmasq on {service.lan}"
    if service.lan not in {lan.name for lan in topology.lans}:
        raise TopologyError(f"{what}: no LAN {service.lan!r}")
    lan = topology.lan(service.lan)
    if lan.kind != "bridge":
        raise TopologyError(f"{what}: services run on bridged LANs, {lan.name} is {lan.kind}")
    if Peer(service.lan, service.ip) not in topology.peers:
        raise TopologyError(f"{what}: {service.ip} is not a Linux peer on {service.lan}")
    for role, address in (("router", service.router), ("name server", service.dns_server)):
        if address is not None:
            _host_address(lan, address, f"{what}: {role}")
    if service.dhcp_range is not None:
        _check_dhcp_range(lan, service, what)
    _check_dns_names(lan, service, what)
    for mac, address in service.static.items():
        try:
            check_mac(mac)
        except ValueError as err:
            raise TopologyError(f"{what}: static {mac}: {err}") from None
        _host_address(lan, address, f"{what}: static {mac}")


def _check_services(topology: Topology) -> None:
    for service in topology.services:
        _check_service(topology, service)
    if dups := _duplicates([s.lan for s in topology.services]):
        raise TopologyError(f"one dnsmasq per LAN: {', '.join(dups)} has more")


def _check_dhcp_nics(topology: Topology) -> None:
    for ref in topology.nics():
        lan = topology.lan(ref.nic.lan)
        if ref.nic.dhcp and lan.kind != "slirp" and topology.dhcp_server(lan.name) is None:
            raise TopologyError(f"{ref.guest.name} {ref.ifname}: ip=dhcp, but LAN {lan.name} "
                                "has no DHCP server (a Dnsmasq with a dhcp_range, or SLiRP)")


def _check_hosts(topology: Topology) -> None:
    hosts = [peer.host for peer in topology.peers if peer.host is not None]
    for peer in topology.peers:
        what = f"peer {peer.ip}"
        if peer.host is None:
            if peer.gateway is not None:
                raise TopologyError(f"{what}: a gateway needs a host of its own (host=...): "
                                    "the lab's namespace holds every LAN")
            continue
        if not NAME.fullmatch(peer.host):
            raise TopologyError(f"{what}: host name {peer.host!r}: 1-8 characters, "
                                "a lowercase letter first, then letters or digits")
        if peer.gateway is not None:
            gateway = _host_address(topology.lan(peer.lan), peer.gateway, f"{what}: gateway")
            if gateway == peer.ip:
                raise TopologyError(f"{what}: its own gateway")
    if dups := _duplicates(hosts):
        raise TopologyError(f"one peer per Linux host: {', '.join(dups)} has more")


def _check_routes(topology: Topology) -> None:
    for guest in topology.guests:
        networks = [topology.lan(nic.lan).network for nic in guest.nics if nic.static_ip]
        for route in guest.routes:
            what = f"guest {guest.name}: route to {route.dst}"
            try:
                _ = route.network   # raises for a bad one
                gateway = ipaddress.IPv4Address(route.gateway)
            except ValueError as err:
                raise TopologyError(f"{what}: {err}") from None
            if not any(net is not None and gateway in net for net in networks):
                raise TopologyError(f"{what}: gateway {gateway} is on none of its LANs")
        if dups := _duplicates([str(route.network) for route in guest.routes]):
            raise TopologyError(f"guest {guest.name}: two routes to {', '.join(dups)}")


def _check_impairments(topology: Topology) -> None:
    for ref in topology.nics():
        if ref.nic.impair is None:
            continue
        what = f"{ref.guest.name} {ref.ifname}"
        try:
            parse_impairment(ref.nic.impair)
        except ImpairError as err:
            raise TopologyError(f"{what}: impair {ref.nic.impair!r}: {err}") from None
        lan = topology.lan(ref.nic.lan)
        if lan.kind == "slirp":
            raise TopologyError(f"{what}: no impairment relay on a SLiRP LAN "
                                "(QEMU's user network has no link to relay)")
    for lan in topology.lans:
        if lan.kind == "stream" and len(impairments(topology, lan.name)) > 1:
            raise TopologyError(f"stream LAN {lan.name}: one relay carries the wire; "
                                "give its two NICs the same impairment (or one of them)")


def impairments(topology: Topology, lan: str) -> list[str]:
    """The different impairments that the NICs on a LAN ask for."""
    specs = [ref.nic.impair for ref in topology.nics_on(lan) if ref.nic.impair is not None]
    return sorted(set(specs))


def with_impairment(topology: Topology, spec: str,
                    guests: Sequence[str] | None = None) -> Topology:
    """The topology with every bridged or stream NIC of the given guests (all
    guests by default) impaired by spec, as `xv6net lab --impair` asks."""
    names = list(guests) if guests else [guest.name for guest in topology.guests]
    if unknown := sorted(set(names) - {guest.name for guest in topology.guests}):
        raise TopologyError(f"--impair: no guest {', '.join(unknown)}")
    new_guests = []
    for guest in topology.guests:
        nics = [replace(nic, impair=spec)
                if guest.name in names and topology.lan(nic.lan).kind != "slirp" else nic
                for nic in guest.nics]
        new_guests.append(replace(guest, nics=nics))
    result = replace(topology, guests=new_guests)
    if not any(ref.nic.impair for ref in result.nics()):
        raise TopologyError("--impair: no bridged or stream NIC to impair on "
                            f"{', '.join(names)}")
    return result


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
    gateway: str | None = None   # QEMU's router on a SLiRP LAN; none on the others


def addresses(topology: Topology, guest: str) -> list[Address]:
    """The IPv4 addresses a guest's NICs get, eth0 first."""
    result = []
    for ref in topology.nics():
        if ref.guest.name == guest and ref.nic.static_ip is not None:
            lan = topology.lan(ref.nic.lan)
            network = lan.network
            assert network is not None   # validate() checked
            gateway = SLIRP_GATEWAY if lan.kind == "slirp" else None
            result.append(Address(ref.ifname, ref.nic.ip, str(network.netmask), gateway))
    return result


def dhcp_nics(topology: Topology, guest: str) -> list[str]:
    """The guest's interfaces that get their address by DHCP, eth0 first."""
    return [ref.ifname for ref in topology.nics() if ref.guest.name == guest and ref.nic.dhcp]


def _first_configured(topology: Topology, guest: str) -> NicRef | None:
    for ref in topology.nics():
        if ref.guest.name == guest and ref.nic.ip is not None:
            return ref
    return None


def kernel_cmdline(topology: Topology, guest: str) -> str:
    """The guest's command line plus Linux's ip= for its first configured NIC.

    The kernel takes one ip= (like Linux): an address, or `ip=dhcp` (eth0;
    `ip=:::::ethN:dhcp` for another), which init carries out with dhclient.
    Other NICs are configured once the shell is up (see `runtime_addresses`
    and `runtime_dhcp`). A command line that already has an ip= is left alone.
    """
    cmdline = topology.guest(guest).cmdline
    if topology.guest(guest).forward and "net.ipv4.ip_forward" not in cmdline:
        cmdline = f"{cmdline} sysctl.net.ipv4.ip_forward=1".strip()
    first = _first_configured(topology, guest)
    if first is None or re.search(r"(^|\s)ip=", cmdline):
        return cmdline
    if first.nic.dhcp:
        ip = "ip=dhcp" if first.ifname == "eth0" else f"ip=:::::{first.ifname}:dhcp"
    else:
        address = addresses(topology, guest)[0]
        # client:server:gateway:netmask:hostname:device:autoconf
        ip = (f"ip={address.ip}::{address.gateway or ''}:{address.netmask}::"
              f"{address.ifname}:off")
    return f"{cmdline} {ip}".strip()


def _on_cmdline(topology: Topology, guest: str) -> str | None:
    """The interface kernel_cmdline configures, if it does."""
    if re.search(r"(^|\s)ip=", topology.guest(guest).cmdline):
        return None
    first = _first_configured(topology, guest)
    return first.ifname if first else None


def runtime_addresses(topology: Topology, guest: str) -> list[Address]:
    """The addresses that kernel_cmdline does not configure."""
    skip = _on_cmdline(topology, guest)
    return [a for a in addresses(topology, guest) if a.ifname != skip]


def runtime_dhcp(topology: Topology, guest: str) -> list[str]:
    """The DHCP interfaces that kernel_cmdline does not configure (dhclient at the shell)."""
    skip = _on_cmdline(topology, guest)
    return [ifname for ifname in dhcp_nics(topology, guest) if ifname != skip]


def route_command(route: Route) -> str:
    """The guest's route command that adds route."""
    if route.dst == DEFAULT:
        return f"route add default gw {route.gateway}"
    network = route.network
    if network.prefixlen == 32:
        return f"route add -host {network.network_address} gw {route.gateway}"
    return (f"route add -net {network.network_address} netmask {network.netmask} "
            f"gw {route.gateway}")


def hosts(topology: Topology) -> list[Peer]:
    """The peers that are Linux hosts of their own, in order."""
    return [peer for peer in topology.peers if peer.host is not None]


def host_peer(topology: Topology, host: str) -> Peer:
    for peer in hosts(topology):
        if peer.host == host:
            return peer
    raise KeyError(f"no Linux host {host!r}")


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
    """A Topology from {"lans": [...], "guests": [...], "peers": [...], "services": [...]}.

    A service is {"dnsmasq": {...}} with Dnsmasq's fields.
    """
    if unknown := sorted(set(data) - {"lans", "guests", "peers", "services"}):
        raise TopologyError(f"unknown top-level keys {unknown}")
    lans = [_build(Lan, item, "lan") for item in data.get("lans", [])]
    guests = []
    for item in data.get("guests", []):
        guest = _build(Guest, item, "guest")
        nics = [_build(GuestNic, nic, f"guest {guest.name} nic") for nic in guest.nics]
        routes = [_build(Route, route, f"guest {guest.name} route") for route in guest.routes]
        guests.append(Guest(guest.name, nics, guest.cmdline, guest.memory_mb, guest.cpus,
                            guest.forward, routes))
    peers = [_build(Peer, item, "peer") for item in data.get("peers", [])]
    services = []
    for item in data.get("services", []):
        if not isinstance(item, Mapping) or set(item) != {"dnsmasq"}:
            raise TopologyError(f"service: expected {{\"dnsmasq\": {{...}}}}, got {item!r}")
        services.append(_build(Dnsmasq, item["dnsmasq"], "dnsmasq"))
    return Topology(lans, guests, peers, services)


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


def dhcp_lan() -> Topology:
    """Guests a and b get addresses by DHCP from dnsmasq on the Linux peer
    (10.0.0.1), which is also their router and name server for the domain
    "lab": peer.lab is 10.0.0.1 and www.lab 10.0.0.80, Linux's second address."""
    return Topology(
        lans=[Lan("lan0", "10.0.0.0/24")],
        guests=[Guest("a", [GuestNic("lan0", ip=DHCP)]), Guest("b", [GuestNic("lan0", ip=DHCP)])],
        peers=[Peer("lan0", "10.0.0.1"), Peer("lan0", "10.0.0.80")],
        services=[Dnsmasq("lan0", "10.0.0.1", dhcp_range=("10.0.0.100", "10.0.0.150"),
                          names={"www": "10.0.0.80"})],
    )


def slirp_dhcp() -> Topology:
    """One guest that asks QEMU's user network for its address by DHCP (no root)."""
    return Topology(lans=[Lan("user", kind="slirp")],
                    guests=[Guest("a", [GuestNic("user", ip=DHCP)])])


# left 10.0.1.2 --lan1-- .1 r1 .1 --lan2-- .2 r2 .1 --lan3-- 10.0.3.2 right
#                (10.0.1.0/24)   (10.0.2.0/24)   (10.0.3.0/24)
# r1 and r2 forward, each with a route to the far LAN through the other.
def routed() -> Topology:
    """Three LANs chained by two guest routers, r1 and r2, with a Linux host in a
    namespace of its own at each end (left 10.0.1.2, right 10.0.3.2, default
    routes through r1 and r2): every packet between them crosses both guests."""
    return Topology(
        lans=[Lan("lan1", "10.0.1.0/24"), Lan("lan2", "10.0.2.0/24"),
              Lan("lan3", "10.0.3.0/24")],
        guests=[Guest("r1", [GuestNic("lan1", ip="10.0.1.1"), GuestNic("lan2", ip="10.0.2.1")],
                      forward=True, routes=[Route("10.0.3.0/24", "10.0.2.2")]),
                Guest("r2", [GuestNic("lan2", ip="10.0.2.2"), GuestNic("lan3", ip="10.0.3.1")],
                      forward=True, routes=[Route("10.0.1.0/24", "10.0.2.1")])],
        peers=[Peer("lan1", "10.0.1.2", host="left", gateway="10.0.1.1"),
               Peer("lan3", "10.0.3.2", host="right", gateway="10.0.3.1")],
    )


NAMED = {"two-guests": two_guests, "two-lans": two_lans,
         "back-to-back": back_to_back, "slirp": slirp, "mixed-cards": mixed_cards,
         "dhcp": dhcp_lan, "slirp-dhcp": slirp_dhcp, "routed": routed}


def named_or_file(name: str) -> Topology:
    """A named topology, or one read from a .json/.toml file."""
    if name in NAMED:
        return NAMED[name]()
    path = Path(name)
    if path.suffix in (".json", ".toml") and path.is_file():
        return load(path)
    raise TopologyError(f"no topology {name!r}: one of {', '.join(NAMED)}, "
                        "or a .json/.toml file")
