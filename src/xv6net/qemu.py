"""Describe a guest as plain data and turn it into a qemu-system-i386 command line.

`build_argv` is pure: it reads a `VMSpec` and returns a list of strings, so every
command line can be checked by unit tests without starting QEMU.

Network safety: QEMU adds an unrestricted user-mode NIC of its own whenever the
command line has no -nic/-net/-netdev option, and `-device e1000` alone does not
stop it (checked on QEMU 7.2: `info network` then shows a second NIC on a SLiRP
with restrict=off). So every command line starts its network part with
`-nic none` and then names each NIC's backend explicitly. SLiRP is always
restrict=on, socket/stream backends only talk over loopback, and there is no
multicast backend at all.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from xv6net import nics

QEMU = "qemu-system-i386"

Backend = Literal[
    "user", "tap", "socket-listen", "socket-connect", "stream-listen", "stream-connect", "none"
]
BACKENDS: tuple[str, ...] = get_args(Backend)
Accel = Literal["tcg", "kvm"]

# 0x52 has the locally administered bit set and the multicast bit clear, like
# QEMU's own 52:54:00 prefix; "v6" (0x76 0x36) keeps ours apart from QEMU's
# default 52:54:00:12:34:56.
MAC_PREFIX = "52:54:76:36"


def make_mac(guest: int, nic: int) -> str:
    """A locally administered unicast MAC unique per (guest index, NIC index)."""
    if not (0 <= guest <= 0xFF and 0 <= nic <= 0xFF):
        raise ValueError(f"guest {guest} / nic {nic} out of range 0..255")
    return f"{MAC_PREFIX}:{guest:02x}:{nic:02x}"


def check_mac(mac: str) -> str:
    """Return mac if it is a unicast MAC written as six hex pairs, else raise."""
    parts = mac.split(":")
    if len(parts) != 6 or not all(len(p) == 2 for p in parts):
        raise ValueError(f"bad MAC address {mac!r}")
    try:
        first = int(parts[0], 16)
        for p in parts[1:]:
            int(p, 16)
    except ValueError:
        raise ValueError(f"bad MAC address {mac!r}") from None
    if first & 1:
        raise ValueError(f"MAC address {mac!r} is multicast")
    return mac.lower()


def _check_loopback(host: str) -> str:
    if not ipaddress.ip_address(host).is_loopback:
        raise ValueError(f"socket/stream backends only use loopback, not {host}")
    return host


@dataclass(frozen=True)
class NicSpec:
    """One network card and the backend QEMU connects it to.

    backend "user" is SLiRP with restrict=on (nothing leaves QEMU); "tap" needs
    `ifname` (a tap that already exists); the socket/stream backends join two
    guests back to back over loopback (`port` required), or for the stream
    backend over a Unix socket (`path`, which the lab uses: QEMU 7.2's stream
    backend leaves Nagle on for TCP, so a burst's second frame waited for the
    first's delayed ACK, 40 ms; a Unix socket has no Nagle); "none" is a card with
    no backend at all (link up, frames go nowhere). `pcap` writes every frame
    of the backend to that file with a filter-dump object. `model` is one of
    xv6net.nics.NAMES (QEMU's -device name).
    """

    backend: Backend = "user"
    mac: str | None = None
    model: str = nics.DEFAULT
    ifname: str | None = None
    host: str = "127.0.0.1"
    port: int | None = None
    path: Path | None = None      # stream backends: a Unix socket instead of host:port
    pcap: Path | None = None

    def __post_init__(self) -> None:
        nics.model(self.model)
        if self.backend not in BACKENDS:
            raise ValueError(f"unknown NIC backend {self.backend!r}; one of {BACKENDS}")
        if self.backend == "tap" and not self.ifname:
            raise ValueError("a tap backend needs ifname")
        if self.path is not None and not self.backend.startswith("stream"):
            raise ValueError(f"backend {self.backend} takes a port, not a path")
        if self.backend.startswith(("socket", "stream")) and self.path is None:
            if self.port is None:
                raise ValueError(f"backend {self.backend} needs a port")
            _check_loopback(self.host)
        if self.backend == "none" and self.pcap is not None:
            raise ValueError("a NIC without backend has nothing to capture")
        if self.mac is not None:
            check_mac(self.mac)


DEFAULT_CPUS = 2   # SMP by default (issue 17): make qemu, the demo, labs and tests


def default_cpus() -> int:
    """The CPUs of a guest that does not say how many (cpus=0): DEFAULT_CPUS,
    or N with XV6NET_CPUS=N, so that a whole test run can go on one CPU (or
    four) without changing the code."""
    value = os.environ.get("XV6NET_CPUS", "")
    return int(value) if value.isdigit() and int(value) > 0 else DEFAULT_CPUS


@dataclass(frozen=True)
class VMSpec:
    """Everything about one guest that ends up on QEMU's command line.

    `serial` is "stdio" (interactive: -nographic, console and monitor muxed on
    this terminal) or the path of a unix socket that QEMU listens on. With
    `serial_wait` QEMU waits for a client before starting the guest, so no
    boot output is lost. `index` numbers the guest on a LAN: NICs without an
    explicit MAC get make_mac(index, nic number).
    """

    name: str = "xv6net"
    index: int = 0
    memory_mb: int = 128
    cpus: int = 0                 # 0: default_cpus()
    kernel: Path = Path("build/kernel.elf")
    initramfs: Path | None = Path("build/initramfs.cpio")
    cmdline: str = ""
    nics: Sequence[NicSpec] = ()
    serial: str | Path = "stdio"
    serial_wait: bool = True
    monitor: Path | None = None
    accel: Accel = "tcg"
    qemu: str = QEMU
    extra: Sequence[str] = ()

    def __post_init__(self) -> None:
        if self.cpus == 0:
            object.__setattr__(self, "cpus", default_cpus())
        if self.accel not in ("tcg", "kvm"):
            raise ValueError(f"unknown accelerator {self.accel!r}")
        if self.cpus < 1 or self.memory_mb < 16:
            raise ValueError("need at least 1 CPU and 16 MiB")
        object.__setattr__(self, "nics", tuple(self.nics))
        object.__setattr__(self, "extra", tuple(self.extra))

    @property
    def interactive(self) -> bool:
        return str(self.serial) == "stdio"


def netdev_arg(nic: NicSpec, netid: str) -> str:
    """The -netdev value for one NIC's backend.

    A tap that carries virtio-net headers (QEMU's default when the card is
    virtio-net) has them in every frame filter-dump writes (QEMU 7.2), so a
    captured virtio-net tap gets vnet_hdr=off: plain frames on the tap. The
    xv6net driver takes no offloads, so it loses nothing by it.
    """
    match nic.backend:
        case "user":
            return f"user,id={netid},restrict=on"
        case "tap":
            plain = ",vnet_hdr=off" if nic.pcap is not None and nic.model == "virtio-net-pci" \
                else ""
            return f"tap,id={netid},ifname={optval(nic.ifname)},script=no,downscript=no{plain}"
        case "socket-listen":
            return f"socket,id={netid},listen={nic.host}:{nic.port}"
        case "socket-connect":
            return f"socket,id={netid},connect={nic.host}:{nic.port}"
        case "stream-listen" | "stream-connect":
            server = "on" if nic.backend == "stream-listen" else "off"
            if nic.path is not None:
                return (f"stream,id={netid},server={server},"
                        f"addr.type=unix,addr.path={optval(nic.path)}")
            return (f"stream,id={netid},server={server},"
                    f"addr.type=inet,addr.host={nic.host},addr.port={nic.port}")
    raise ValueError(f"backend {nic.backend!r} has no -netdev")


def nic_args(nic: NicSpec, guest: int, number: int) -> list[str]:
    """-netdev, optional filter-dump and -device for NIC `number` of a guest."""
    netid = f"n{number}"
    mac = check_mac(nic.mac) if nic.mac else make_mac(guest, number)
    if nic.backend == "none":
        return ["-device", f"{nic.model},mac={mac},romfile="]
    argv = ["-netdev", netdev_arg(nic, netid)]
    if nic.pcap is not None:
        argv += ["-object", f"filter-dump,id=dump{number},netdev={netid},file={optval(nic.pcap)}"]
    return [*argv, "-device", f"{nic.model},netdev={netid},mac={mac},romfile="]


def optval(value: object) -> str:
    """A value inside a QEMU option list: a comma is written as two commas."""
    return str(value).replace(",", ",,")


def _socket_chardev(chardev_id: str, path: str | Path, wait: bool) -> str:
    waitval = "on" if wait else "off"
    return f"socket,id={chardev_id},path={optval(path)},server=on,wait={waitval}"


def console_args(spec: VMSpec) -> list[str]:
    """Display, serial console and monitor options."""
    if spec.interactive:
        argv = ["-nographic", "-serial", "mon:stdio"]
    else:
        argv = ["-display", "none",
                "-chardev", _socket_chardev("ser0", spec.serial, spec.serial_wait),
                "-serial", "chardev:ser0"]
    if spec.monitor is not None:
        argv += ["-chardev", _socket_chardev("mon0", spec.monitor, False),
                 "-mon", "chardev=mon0,mode=control"]
    elif not spec.interactive:
        argv += ["-monitor", "none"]
    return argv


def build_argv(spec: VMSpec) -> list[str]:
    """The whole QEMU command line for spec (pure: nothing is started or read)."""
    # debug-threads names the vCPU threads "CPU n/TCG" (or /KVM), so that the
    # benchmark can tell guest time from the event loop's in /proc.
    argv = [
        spec.qemu, "-name", f"{optval(spec.name)},debug-threads=on", "-machine", "pc",
        "-accel", spec.accel,
        "-m", str(spec.memory_mb),
        "-smp", f"cpus={spec.cpus},sockets={spec.cpus},cores=1,threads=1",
        "-kernel", str(spec.kernel),
    ]
    if spec.initramfs is not None:
        argv += ["-initrd", str(spec.initramfs)]
    if spec.cmdline:
        argv += ["-append", spec.cmdline]
    argv += console_args(spec)
    argv += ["-no-reboot", "-nic", "none"]
    for number, nic in enumerate(spec.nics):
        argv += nic_args(nic, spec.index, number)
    return [*argv, *spec.extra]
