"""Services that Linux runs on a lab's LANs: dnsmasq, for DHCP and DNS.

    conf = dnsmasq_conf(service, network, "br-lan0", leases, log)   # pure
    with DnsmasqProcess(netns, conf_path, udp_ports) as proc: ...    # in the namespace

The configuration comes from a `topology.Dnsmasq`: dnsmasq listens only on
the peer's address on the LAN's bridge, inside the lab's namespace; it has no
upstream server (`no-resolv`, no `server=`), so it answers for its own names,
says NXDOMAIN for others in its domain and REFUSED for the rest, and can
never send a query anywhere. It runs in the foreground as root (so that it
can write its lease and log files into the results directory) and is
stopped with the lab.
"""

from __future__ import annotations

import ipaddress
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from xv6net.netns import Netns
from xv6net.topology import Dnsmasq, lease_seconds

DHCP_SERVER_PORT = 67
DNS_PORT = 53
START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0


class ServiceError(RuntimeError):
    """A service did not start, or stopped on its own."""


def fqdn(name: str, domain: str) -> str:
    """A name without a dot lives in the domain."""
    return name if "." in name else f"{name}.{domain}"


def dnsmasq_conf(service: Dnsmasq, network: ipaddress.IPv4Network, bridge: str,
                 leasefile: Path, logfile: Path) -> str:
    """dnsmasq's configuration file for one LAN."""
    lines = [
        f"# dnsmasq for LAN {service.lan} ({network}, bridge {bridge}), written by xv6net.",
        "# It runs in the lab's network namespace and asks no other server.",
        # Its own address only, so that other peers on the LAN can run servers
        # of their own (DHCP still goes to the bridge that holds the address).
        "bind-interfaces",
        f"listen-address={service.ip}",
        "except-interface=lo",
        "no-resolv",
        "no-hosts",
        "no-poll",
        "user=root",
        "group=root",
        f"log-facility={logfile}",
        "log-queries",
        f"domain={service.domain}",
        f"local=/{service.domain}/",
        f"host-record={fqdn(service.peer_name, service.domain)},{service.ip}",
    ]
    lines += [f"host-record={fqdn(name, service.domain)},{address}"
              for name, address in service.names.items()]
    if service.dhcp_range is not None:
        first, last = service.dhcp_range
        lines += [
            f"dhcp-range={first},{last},{network.netmask},{service.lease}",
            f"dhcp-leasefile={leasefile}",
            "dhcp-authoritative",
            # Our client probes with ARP before it takes an address (RFC 5227);
            # dnsmasq's own ping would only slow every offer down.
            "no-ping",
            "log-dhcp",
            f"dhcp-option=option:router,{service.router or service.ip}",
            f"dhcp-option=option:dns-server,{service.dns_server or service.ip}",
        ]
        lines += [f"dhcp-option=option:{name},{value}"
                  for name, value in (("T1", service.t1), ("T2", service.t2)) if value is not None]
        lines += [f"dhcp-host={mac},{address}" for mac, address in service.static.items()]
    return "\n".join(lines) + "\n"


def udp_ports(service: Dnsmasq) -> list[int]:
    """The ports dnsmasq listens on once it is ready."""
    return [DNS_PORT] + ([DHCP_SERVER_PORT] if service.dhcp_range is not None else [])


def udp_listening(pid: int, port: int) -> bool:
    """Whether a UDP socket in process pid's network namespace is bound to port."""
    for table in ("udp", "udp6"):
        try:
            lines = Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
        except OSError:
            continue
        if any(int(line.split()[1].rsplit(":", 1)[1], 16) == port for line in lines):
            return True
    return False


@dataclass(frozen=True)
class DhcpLease:
    """One line of dnsmasq's lease file."""

    expires: int     # Unix time; 0 for an infinite lease
    mac: str
    ip: str
    hostname: str


def read_leases(path: Path) -> list[DhcpLease]:
    """dnsmasq's lease file ("EXPIRY MAC IP HOSTNAME CLIENTID" per line); [] if absent."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return []
    leases = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 4 and fields[0].isdigit():
            leases.append(DhcpLease(int(fields[0]), fields[1].lower(), fields[2], fields[3]))
    return leases


class DnsmasqProcess:
    """dnsmasq in the lab's namespace, from a configuration file; a context manager."""

    def __init__(self, netns: Netns, conf: Path, ports: list[int]) -> None:
        self.netns = netns
        self.conf = conf
        self.ports = ports
        self.proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> DnsmasqProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self, timeout: float = START_TIMEOUT) -> None:
        """Start it and wait until it listens on its ports."""
        self.proc = self.netns.popen(["dnsmasq", "--keep-in-foreground",
                                      f"--conf-file={self.conf}"])
        deadline = time.monotonic() + timeout
        while not all(udp_listening(self.proc.pid, port) for port in self.ports):
            if self.proc.poll() is not None:
                _, err = self.proc.communicate(timeout=STOP_TIMEOUT)
                self.proc = None
                raise ServiceError(f"dnsmasq exited at start: {err.strip()}")
            if time.monotonic() > deadline:
                self.stop()
                raise ServiceError(f"dnsmasq did not listen on UDP {self.ports} "
                                   f"within {timeout:g} s")
            time.sleep(0.02)

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            proc.communicate(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate(timeout=STOP_TIMEOUT)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def pause(self) -> None:
        """Stop it answering (SIGSTOP), as a server that has gone away; `resume` undoes it."""
        if self.proc is not None:
            os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        if self.proc is not None:
            os.kill(self.proc.pid, signal.SIGCONT)


def lease_time(service: Dnsmasq) -> int | None:
    """The service's lease in seconds (None: infinite)."""
    return lease_seconds(service.lease)
