"""Write and read cpio "newc" archives, the initramfs format the kernel unpacks.

Each entry is a 110-byte ASCII header ("070701" and thirteen 8-digit hex
fields), the NUL-terminated name padded so that header + name is a multiple
of 4 bytes, then the data padded to 4 bytes. An entry named "TRAILER!!!" ends
the archive.

Command line (stdlib only; the Makefile runs it before any venv exists)::

    PYTHONPATH=src python3 -m xv6net.initramfs OUTPUT DEST=SRC ...
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

MAGIC = b"070701"
HEADER_SIZE = 110
TRAILER = "TRAILER!!!"

S_IFDIR = 0o040000
S_IFREG = 0o100000
S_IFCHR = 0o020000
S_IFMT = 0o170000

# Header fields after the magic, in order.
FIELDS = (
    "ino", "mode", "uid", "gid", "nlink", "mtime", "filesize",
    "devmajor", "devminor", "rdevmajor", "rdevminor", "namesize", "check",
)

BASE_DIRS = ("bin", "dev", "etc", "tmp")
STICKY_DIRS = ("tmp",)   # drwxrwxrwt, as on Linux
DEVICES = (("dev/console", 1, 0), ("dev/null", 2, 0))


@dataclass(frozen=True)
class CpioEntry:
    """One archive member. `ino` is filled in when the archive is written."""

    name: str
    mode: int
    data: bytes = b""
    ino: int = 0
    nlink: int = 1
    mtime: int = 0
    uid: int = 0
    gid: int = 0
    rdevmajor: int = 0
    rdevminor: int = 0

    @property
    def is_dir(self) -> bool:
        return self.mode & S_IFMT == S_IFDIR

    @property
    def is_file(self) -> bool:
        return self.mode & S_IFMT == S_IFREG

    @property
    def is_chardev(self) -> bool:
        return self.mode & S_IFMT == S_IFCHR


def _pad4(n: int) -> int:
    return (4 - n % 4) % 4


def _header(entry: CpioEntry, ino: int, namesize: int) -> bytes:
    values = {
        "ino": ino, "mode": entry.mode, "uid": entry.uid, "gid": entry.gid,
        "nlink": entry.nlink, "mtime": entry.mtime, "filesize": len(entry.data),
        "devmajor": 0, "devminor": 0, "rdevmajor": entry.rdevmajor,
        "rdevminor": entry.rdevminor, "namesize": namesize, "check": 0,
    }
    for field, value in values.items():
        if not 0 <= value <= 0xFFFFFFFF:
            raise ValueError(f"cpio: {entry.name}: {field} {value} out of range")
    return MAGIC + b"".join(b"%08x" % values[f] for f in FIELDS)


def pack_entry(entry: CpioEntry, ino: int) -> bytes:
    """The bytes of one entry: header, name, padding, data, padding."""
    name = entry.name.encode() + b"\0"
    head = _header(entry, ino, len(name)) + name
    head += b"\0" * _pad4(len(head))
    return head + entry.data + b"\0" * _pad4(len(entry.data))


def write_cpio(entries: Iterable[CpioEntry]) -> bytes:
    """A whole archive; inode numbers count from 1 in order, then the trailer."""
    parts = [pack_entry(e, ino) for ino, e in enumerate(entries, start=1)]
    parts.append(pack_entry(CpioEntry(TRAILER, 0, nlink=1), 0))
    return b"".join(parts)


def _parse_header(data: bytes, offset: int) -> dict[str, int]:
    raw = data[offset:offset + HEADER_SIZE]
    if len(raw) < HEADER_SIZE:
        raise ValueError(f"cpio: truncated header at offset {offset}")
    if raw[:6] != MAGIC:
        raise ValueError(f"cpio: bad magic {raw[:6]!r} at offset {offset}")
    fields = {}
    for i, name in enumerate(FIELDS):
        text = raw[6 + 8 * i:14 + 8 * i]
        try:
            fields[name] = int(text, 16)
        except ValueError:
            raise ValueError(f"cpio: bad {name} field {text!r} at offset {offset}") from None
    return fields


def _read_entry(data: bytes, offset: int) -> tuple[CpioEntry, int]:
    """The entry at offset and the offset of the next one."""
    h = _parse_header(data, offset)
    name_start = offset + HEADER_SIZE
    name_end = name_start + h["namesize"]
    if h["namesize"] == 0 or name_end > len(data) or data[name_end - 1] != 0:
        raise ValueError(f"cpio: bad name at offset {offset}")
    name = data[name_start:name_end - 1].decode()
    data_start = name_end + _pad4(name_end)
    data_end = data_start + h["filesize"]
    if data_end > len(data):
        raise ValueError(f"cpio: {name}: data runs past the end")
    entry = CpioEntry(
        name=name, mode=h["mode"], data=data[data_start:data_end], ino=h["ino"],
        nlink=h["nlink"], mtime=h["mtime"], uid=h["uid"], gid=h["gid"],
        rdevmajor=h["rdevmajor"], rdevminor=h["rdevminor"],
    )
    return entry, data_end + _pad4(data_end)


def read_cpio(data: bytes) -> list[CpioEntry]:
    """Every entry of a newc archive up to (not including) the trailer."""
    entries: list[CpioEntry] = []
    offset = 0
    while True:
        entry, offset = _read_entry(data, offset)
        if entry.name == TRAILER:
            return entries
        entries.append(entry)


def normalise_dest(dest: str) -> str:
    """A DEST path as stored: relative, no '.' parts, no '..', not empty."""
    parts = [p for p in PurePosixPath(dest.lstrip("/")).parts if p != "."]
    if not parts or ".." in parts:
        raise ValueError(f"bad destination path {dest!r}")
    return "/".join(parts)


def _parents(path: str) -> list[str]:
    return [str(p) for p in PurePosixPath(path).parents if str(p) != "."]


def file_mode(dest: str) -> int:
    """Programs under bin/ are executable; everything else is plain data."""
    return S_IFREG | (0o755 if dest.startswith("bin/") else 0o644)


def build_entries(files: Mapping[str, bytes]) -> list[CpioEntry]:
    """Directories, then /dev/console and /dev/null, then the files in order."""
    dests = {normalise_dest(d): data for d, data in files.items()}
    dirs = set(BASE_DIRS)
    for dest in dests:
        dirs.update(_parents(dest))
    clash = dirs & dests.keys()
    if clash:
        raise ValueError(f"paths used both as file and directory: {sorted(clash)}")
    entries = [CpioEntry(d, S_IFDIR | (0o1777 if d in STICKY_DIRS else 0o755), nlink=2)
               for d in sorted(dirs)]
    entries += [
        CpioEntry(name, S_IFCHR | 0o666, rdevmajor=major, rdevminor=minor)
        for name, major, minor in DEVICES
    ]
    entries += [CpioEntry(d, file_mode(d), data) for d, data in dests.items()]
    return entries


def parse_mapping(arg: str) -> tuple[str, Path]:
    dest, sep, src = arg.partition("=")
    if not sep or not dest or not src:
        raise argparse.ArgumentTypeError(f"expected DEST=SRC, got {arg!r}")
    return dest, Path(src)


def write_atomic(path: Path, data: bytes) -> None:
    """Write through a temporary file so make never sees half an archive."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python3 -m xv6net.initramfs",
        description="Write a cpio newc initramfs with /bin, /dev, /etc and the given files.",
    )
    parser.add_argument("output", type=Path)
    parser.add_argument("files", nargs="*", type=parse_mapping, metavar="DEST=SRC")
    args = parser.parse_args(argv)
    try:
        files = {dest: src.read_bytes() for dest, src in args.files}
        archive = write_cpio(build_entries(files))
        args.output.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(args.output, archive)
    except (OSError, ValueError) as err:
        print(f"initramfs: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
