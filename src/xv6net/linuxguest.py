"""A Linux guest to compare xv6net with: Debian's own kernel and busybox-static.

    guest = prepare(Path("build/linux"))
    VMSpec(kernel=guest.kernel, initramfs=guest.initramfs,
           cmdline=guest.cmdline("10.0.0.3", "255.255.255.0"), ...)

Nothing is installed on the host. `apt-get download` fetches two Debian
packages into build/linux/ (kept there as a cache): the kernel image package
that `linux-image-amd64` currently depends on (resolved with `apt-cache
depends`, e.g. linux-image-6.1.0-56-amd64) and busybox-static. `dpkg-deb -x`
unpacks each beside its .deb. The initramfs is written in Python with
xv6net.initramfs's cpio writer and holds:

- /init, a busybox sh script: mounts proc, sysfs and devtmpfs, loads with
  insmod the modules of the card that `xv6net.nic=MODEL` on the kernel command
  line names (e1000 unless it says otherwise; see xv6net.nics), configures
  the interface named by Linux's `ip=CLIENT::GATEWAY:NETMASK::DEVICE:off` from
  /proc/cmdline (the kernel itself is built without CONFIG_IP_PNP), then runs
  the measurement agent:
  a loop that prints "$ ", reads one line from the console and evals it,
  so that xv6net.console drives it exactly like the xv6net shell;
- /bin/busybox (applets installed as symlinks by /init);
- for each card, its modules (e1000; 8390 and ne2k-pci; virtio_pci and
  virtio_net) and whatever their .modinfo "depends=" names, recursively,
  leaving out what the kernel has built in (modules.builtin), decompressed in
  Python if the package ships .ko.xz;
- the benchmark's guest programs, bench/linux/*.c, built here with
  `gcc -static -O2`.
"""

from __future__ import annotations

import gzip
import lzma
import os
import re
import shutil
import struct
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from xv6net import nics
from xv6net.initramfs import S_IFCHR, S_IFDIR, S_IFREG, CpioEntry, write_atomic, write_cpio

BUILD = Path("build/linux")
AGENT_SOURCES = Path("bench/linux")
META_PACKAGE = "linux-image-amd64"
BUSYBOX_PACKAGE = "busybox-static"
CONSOLE_DEVICE = (5, 1)      # Linux's /dev/console
NULL_DEVICE = (1, 3)         # Linux's /dev/null
COMMAND_TIMEOUT = 600.0
EXTRACTED = ".extracted-nics"   # marker: dpkg-deb -x finished (with every card's modules)

Runner = Callable[[Sequence[str], Path | None], str]


class LinuxGuestError(RuntimeError):
    """The Linux guest could not be prepared."""


def run_command(argv: Sequence[str], cwd: Path | None = None) -> str:
    """Run argv (bounded), return its stdout; raise LinuxGuestError if it fails."""
    try:
        result = subprocess.run(list(argv), cwd=cwd, capture_output=True, text=True,
                                timeout=COMMAND_TIMEOUT, stdin=subprocess.DEVNULL, check=False)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise LinuxGuestError(f"{' '.join(argv)}: {err}") from None
    if result.returncode != 0:
        raise LinuxGuestError(f"{' '.join(argv)} failed ({result.returncode}): "
                              f"{(result.stderr or result.stdout).strip()}")
    return result.stdout


# ---- Debian packages ------------------------------------------------------------

def depends_of(apt_cache_output: str) -> list[str]:
    """The package names after "Depends:" in `apt-cache depends` output."""
    return re.findall(r"^\s*\|?Depends:\s*(\S+)", apt_cache_output, re.MULTILINE)


def kernel_package(runner: Runner = run_command) -> str:
    """The versioned kernel image package linux-image-amd64 depends on."""
    for name in depends_of(runner(["apt-cache", "depends", META_PACKAGE], None)):
        if re.fullmatch(r"linux-image-[0-9][\w.+-]*-amd64", name):
            return name
    raise LinuxGuestError(f"apt-cache names no linux-image-*-amd64 for {META_PACKAGE} "
                          "(has `apt-get update` run?)")


def resolve_kernel_package(build: Path, runner: Runner = run_command) -> str:
    """kernel_package, after one `apt-get update` if apt knows nothing yet; else the
    package whose .deb build/ already holds (so a cached guest works offline)."""
    try:
        return kernel_package(runner)
    except LinuxGuestError as first:
        try:
            runner(["apt-get", "update", "-q"], None)
            return kernel_package(runner)
        except LinuxGuestError:
            cached = sorted(build.glob("linux-image-*-amd64_*.deb"),
                            key=lambda path: path.stat().st_mtime)
            if cached:
                return cached[-1].name.split("_")[0]
            raise first from None


def cached_deb(directory: Path, package: str) -> Path | None:
    """The newest .deb of package already in directory, if any."""
    debs = sorted(directory.glob(f"{package}_*.deb"), key=lambda p: p.stat().st_mtime)
    return debs[-1] if debs else None


def fetch(package: str, directory: Path, runner: Runner = run_command) -> Path:
    """package's .deb in directory: the cached one, else `apt-get download`."""
    directory.mkdir(parents=True, exist_ok=True)
    deb = cached_deb(directory, package)
    if deb is None:
        runner(["apt-get", "download", "-q", package], directory.resolve())
        deb = cached_deb(directory, package)
    if deb is None:
        raise LinuxGuestError(f"apt-get download {package} left no .deb in {directory}")
    return deb


def deb_field(deb: Path, field: str, runner: Runner = run_command) -> str:
    return runner(["dpkg-deb", "-f", str(deb), field], None).strip()


def unpack(deb: Path, select: Callable[[Path], Iterable[Path]],
           runner: Runner = run_command) -> Path:
    """Keep the files of deb that select picks, in a directory beside it (once).

    dpkg-deb -x unpacks the whole package into a temporary directory (the
    kernel's is 400 MB, and Debian's trees hold directories named *.d that
    the Makefile's `find build -name '*.d'` would take for dependency files);
    only select(root)'s paths, relative to root, are copied out.
    """
    target = deb.with_suffix("")
    if (target / EXTRACTED).exists():
        return target
    shutil.rmtree(target, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix="xv6net-deb-") as tmp:
        root = Path(tmp)
        runner(["dpkg-deb", "-x", str(deb), str(root)], None)
        for relative in select(root):
            (target / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / relative, target / relative)
    (target / EXTRACTED).touch()
    return target


# ---- kernel modules -------------------------------------------------------------

def elf_section(data: bytes, wanted: str) -> bytes:
    """The contents of the named section of a 64-bit little-endian ELF file."""
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise LinuxGuestError("not a 64-bit little-endian ELF file")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)

    def header(index: int) -> tuple[int, int, int]:
        base = shoff + index * shentsize
        name, = struct.unpack_from("<I", data, base)
        offset, size = struct.unpack_from("<QQ", data, base + 0x18)
        return name, offset, size

    _, strtab, _ = header(shstrndx)
    for index in range(shnum):
        name, offset, size = header(index)
        end = data.index(b"\0", strtab + name)
        if data[strtab + name:end].decode() == wanted:
            return data[offset:offset + size]
    raise LinuxGuestError(f"no {wanted} section")


def modinfo(data: bytes) -> dict[str, str]:
    """A module's .modinfo as {key: value} (the last value of repeated keys)."""
    fields = {}
    for item in elf_section(data, ".modinfo").split(b"\0"):
        key, sep, value = item.decode(errors="replace").partition("=")
        if sep:
            fields[key] = value
    return fields


def module_bytes(path: Path) -> bytes:
    """A module file's ELF bytes (.ko as it is, .ko.xz decompressed)."""
    if path.name.endswith(".ko.xz"):
        return lzma.decompress(path.read_bytes())
    if path.name.endswith(".ko"):
        return path.read_bytes()
    raise LinuxGuestError(f"{path}: cannot decompress this module format")


def module_key(name: str) -> str:
    """A module's name as modprobe compares them (- and _ are the same)."""
    return name.replace("-", "_")


def find_module(tree: Path, name: str) -> Path:
    """The file of module `name` under tree."""
    stem = module_key(name)
    for path in sorted(tree.rglob("*.ko*")):
        if module_key(path.name.split(".ko")[0]) == stem:
            return path
    raise LinuxGuestError(f"no module {name} under {tree}")


def builtin_modules(tree: Path) -> set[str]:
    """What the kernel has built in, from the tree's modules.builtin (if any)."""
    try:
        lines = (tree / "modules.builtin").read_text().split()
    except OSError:
        return set()
    return {module_key(PurePosixPath(line).name.split(".ko")[0]) for line in lines}


def module_closure(tree: Path, name: str) -> list[tuple[Path, bytes]]:
    """name and every module it depends on, dependencies first (insmod order);
    modules built into the kernel are left out."""
    order: list[tuple[Path, bytes]] = []
    seen: set[str] = set()
    builtin = builtin_modules(tree)

    def visit(module: str, chain: tuple[str, ...]) -> None:
        if module in seen or module_key(module) in builtin:
            return
        if module in chain:
            raise LinuxGuestError(f"module dependency loop: {' -> '.join((*chain, module))}")
        path = find_module(tree, module)
        data = module_bytes(path)
        for dep in filter(None, modinfo(data).get("depends", "").split(",")):
            visit(dep, (*chain, module))
        seen.add(module)
        order.append((path, data))

    visit(name, ())
    return order


# ---- the initramfs ---------------------------------------------------------------

INIT_SCRIPT = """\
#!/bin/busybox sh
# /init of xv6net's benchmark Linux guest (written by xv6net.linuxguest).
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
dmesg -n 1
# Linux's ip=<client>:<server>:<gateway>:<netmask>:<hostname>:<device>:<autoconf>,
# and the card's modules to load (xv6net.nic=MODEL, a name of xv6net.nics)
spec=
nic={default}
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    ip=*) spec="${{arg#ip=}}" ;;
    xv6net.nic=*) nic="${{arg#xv6net.nic=}}" ;;
  esac
done
case "$nic" in
{insmod}
  *) echo "linux: no modules for the card $nic" ;;
esac
IFS=: read -r addr server gateway netmask host dev auto <<EOF
$spec
EOF
dev="${{dev:-eth0}}"
ifconfig lo 127.0.0.1 up
if [ -n "$addr" ]; then
  ifconfig "$dev" "$addr" netmask "${{netmask:-255.255.255.0}}" up
  [ -n "$gateway" ] && route add default gw "$gateway"
fi
echo "linux: $(uname -r), $dev ${{addr:-unconfigured}}"
# The agent: one command per console line, each followed by a prompt.
printf '\\n$ '
while read -r line; do
  eval "$line"
  printf '$ '
done
poweroff -f
"""


def init_script(modules: Mapping[str, Sequence[str]]) -> str:
    """/init, loading modules[MODEL] (paths in the archive, insmod order) for the
    card the command line names."""
    cases = [f"  {model}) " + "; ".join(f"insmod /{path}" for path in paths) + " ;;"
             for model, paths in modules.items()]
    return INIT_SCRIPT.format(insmod="\n".join(cases), default=nics.DEFAULT)


def _dirs_of(paths: Sequence[str]) -> list[str]:
    dirs = {"bin", "dev", "proc", "sys", "tmp", "etc", "root"}
    for path in paths:
        dirs.update(str(p) for p in PurePosixPath(path).parents if str(p) != ".")
    return sorted(dirs)


def initramfs_entries(busybox: bytes, modules: Mapping[str, bytes],
                      programs: Mapping[str, bytes],
                      by_model: Mapping[str, Sequence[str]] | None = None) -> list[CpioEntry]:
    """The archive's members: directories, device nodes, /init, busybox, modules, programs.

    modules maps paths inside the guest ("lib/modules/REL/.../e1000.ko") to
    their bytes; by_model names, per card, the paths /init loads, in insmod
    order (default: all of modules, for e1000); programs maps names to put in
    /bin.
    """
    by_model = by_model if by_model is not None else {nics.DEFAULT: list(modules)}
    files = {"init": init_script(by_model).encode(), "bin/busybox": busybox}
    files.update({f"bin/{name}": data for name, data in programs.items()})
    entries = [CpioEntry(d, S_IFDIR | 0o755, nlink=2) for d in _dirs_of([*files, *modules])]
    entries += [
        CpioEntry("dev/console", S_IFCHR | 0o600, rdevmajor=CONSOLE_DEVICE[0],
                  rdevminor=CONSOLE_DEVICE[1]),
        CpioEntry("dev/null", S_IFCHR | 0o666, rdevmajor=NULL_DEVICE[0],
                  rdevminor=NULL_DEVICE[1]),
    ]
    entries += [CpioEntry(path, S_IFREG | 0o755, data) for path, data in files.items()]
    entries += [CpioEntry(path, S_IFREG | 0o644, data) for path, data in modules.items()]
    return entries


def build_program(source: Path, output: Path, runner: Runner = run_command) -> Path:
    """Compile one guest program statically (only when the source, or a header
    beside it, is newer)."""
    newest = max(p.stat().st_mtime for p in [source, *source.parent.glob("*.h")])
    if not output.exists() or output.stat().st_mtime < newest:
        output.parent.mkdir(parents=True, exist_ok=True)
        runner(["gcc", "-static", "-O2", "-Wall", "-o", str(output), str(source)], None)
    return output


# ---- all together ----------------------------------------------------------------

@dataclass(frozen=True)
class LinuxGuest:
    kernel: Path             # vmlinuz
    initramfs: Path
    release: str             # uname -r, e.g. 6.1.0-56-amd64
    package: str             # linux-image-6.1.0-56-amd64
    package_version: str     # 6.1.192-2
    busybox_version: str
    modules: tuple[str, ...]

    @staticmethod
    def cmdline(ip: str, netmask: str, dev: str = "eth0", model: str = nics.DEFAULT) -> str:
        """Kernel command line: serial console, quiet, no reboot on panic, ip=, and
        the card whose modules /init loads."""
        return (f"console=ttyS0 quiet panic=-1 ip={ip}:::{netmask}::{dev}:off "
                f"xv6net.nic={model}")

    @property
    def description(self) -> str:
        return f"Linux {self.release} (Debian {self.package} {self.package_version})"


def kernel_release(root: Path) -> str:
    """The one release under root/lib/modules (e.g. 6.1.0-56-amd64)."""
    modules = root / "lib" / "modules"
    releases = sorted(p.name for p in modules.iterdir() if p.is_dir()) if modules.is_dir() else []
    if len(releases) != 1:
        raise LinuxGuestError(f"expected one kernel release in {modules}, found {releases}")
    return releases[0]


def card_modules(tree: Path) -> dict[str, list[tuple[Path, bytes]]]:
    """Per card of xv6net.nics, the modules Linux needs for it, in insmod order."""
    result = {}
    for model in nics.MODELS.values():
        order: list[tuple[Path, bytes]] = []
        for name in model.linux_modules:
            order += [item for item in module_closure(tree, name) if item[0] not in
                      {path for path, _ in order}]
        result[model.name] = order
    return result


def kernel_files(root: Path) -> list[Path]:
    """What the guest needs from the kernel package: vmlinuz, modules.builtin and
    every card's modules."""
    release = kernel_release(root)
    tree = root / "lib" / "modules" / release
    modules = {path.relative_to(root) for order in card_modules(tree).values()
               for path, _ in order}
    builtin = [Path("lib/modules") / release / "modules.builtin"]
    return [Path("boot") / f"vmlinuz-{release}", *[p for p in builtin if (root / p).is_file()],
            *sorted(modules)]


def busybox_files(root: Path) -> list[Path]:
    return [Path("bin/busybox")]


def prepare(build: Path = BUILD, agents: Path = AGENT_SOURCES, compress: bool = False,
            runner: Runner = run_command) -> LinuxGuest:
    """Fetch, unpack and assemble everything; reuse what build/ already holds."""
    package = resolve_kernel_package(build, runner)
    kernel_deb = fetch(package, build, runner)
    busybox_deb = fetch(BUSYBOX_PACKAGE, build, runner)
    kernel_root = unpack(kernel_deb, kernel_files, runner)
    busybox = unpack(busybox_deb, busybox_files, runner) / "bin" / "busybox"
    release = kernel_release(kernel_root)
    vmlinuz = kernel_root / "boot" / f"vmlinuz-{release}"
    for path in (vmlinuz, busybox):
        if not path.is_file():
            raise LinuxGuestError(f"{path} is missing from the package")

    tree = kernel_root / "lib" / "modules" / release
    modules: dict[str, bytes] = {}
    by_model: dict[str, list[str]] = {}
    for model, order in card_modules(tree).items():
        by_model[model] = []
        for path, data in order:
            inside = path.relative_to(kernel_root).as_posix().removesuffix(".xz")
            modules[inside] = data
            by_model[model].append(inside)
    programs = {src.stem: build_program(src, build / "agents" / src.stem, runner).read_bytes()
                for src in sorted(agents.glob("*.c"))}
    archive = write_cpio(initramfs_entries(busybox.read_bytes(), modules, programs, by_model))
    initramfs = build / ("initramfs.cpio.gz" if compress else "initramfs.cpio")
    write_atomic(initramfs, gzip.compress(archive, mtime=0) if compress else archive)
    return LinuxGuest(
        kernel=vmlinuz, initramfs=initramfs, release=release, package=package,
        package_version=deb_field(kernel_deb, "Version", runner),
        busybox_version=deb_field(busybox_deb, "Version", runner),
        modules=tuple(PurePosixPath(m).name for m in modules))


def main() -> int:
    """`python -m xv6net.linuxguest`: prepare the guest and say where it is."""
    try:
        guest = prepare()
    except LinuxGuestError as err:
        print(f"linuxguest: {err}")
        return 1
    print(f"{guest.description}\nkernel {guest.kernel}\ninitramfs {guest.initramfs} "
          f"({os.path.getsize(guest.initramfs)} bytes)\nmodules {' '.join(guest.modules)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
