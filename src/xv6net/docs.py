"""`xv6net docs` (`make docs`): the samples in README.md and docs/*.md come from real runs.

A sample is a fenced block between two marker comments, which Markdown does not
show:

    <!-- sample: quickstart -->
    ```
    $ ping -c 3 10.0.2.2
    ...
    ```
    <!-- /sample -->

The name is one of the RECIPES below: what to boot and what to type (or which
host command to run). `xv6net docs` runs every recipe the document uses (those
that need root only as root) and writes each output into its block;
`xv6net docs --check` runs them and compares each block's *shape* with the
fresh output, and exits 1 naming the blocks that have drifted. The shape of a
text is its lines with every number masked (counts, times, addresses, ports,
pids), MACs masked, runs of spaces made one, and a run of lines of the same
shape made one: a sample that shows 3 arping replies where the program now
prints 4 still matches, one whose lines, words or frames changed does not.
Some recipes compare the set of line shapes instead of their sequence (frames
and Linux's ARP traffic come in a different order from run to run).
"""

from __future__ import annotations

import argparse
import difflib
import os
import pty
import re
import select
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from xv6net import topology
from xv6net.lab import Lab
from xv6net.vm import VM

DOCS = ("README.md", "docs/lab.md", "docs/toolkit.md", "docs/kernel.md", "docs/network.md")
RESULTS = Path("build/docs")
BEGIN = re.compile(r"^<!-- sample: (?P<name>[\w-]+) -->\n```[^\n]*\n", re.MULTILINE)
END = "```\n<!-- /sample -->"
WRAP = 88   # columns for a long host command line
FOLDED = "..."
SESSION_TIMEOUT = 120.0


class DocsError(RuntimeError):
    """A document's markers are broken, or a recipe could not run."""


# ---- blocks in a document --------------------------------------------------------

@dataclass(frozen=True)
class Block:
    name: str
    start: int      # offset of the block's text (after the opening fence)
    end: int        # offset of the closing fence
    text: str


def find_blocks(document: str, where: str = "document") -> list[Block]:
    """The marked samples of a document, in order."""
    blocks = []
    for match in BEGIN.finditer(document):
        end = document.find(END, match.end())
        if end < 0:
            raise DocsError(f"{where}: sample {match['name']!r} has no closing "
                            "```/<!-- /sample -->")
        blocks.append(Block(match["name"], match.end(), end, document[match.end():end]))
    return blocks


def replace_blocks(document: str, texts: dict[str, str]) -> str:
    """The document with each block whose recipe ran holding that output."""
    out, last = [], 0
    for block in find_blocks(document):
        if block.name in texts:
            out += [document[last:block.start], texts[block.name].rstrip("\n") + "\n"]
            last = block.end
    return "".join(out) + document[last:]


# ---- shapes --------------------------------------------------------------------------

MAC = re.compile(r"\b[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5}\b")
HEX = re.compile(r"\b0x[0-9a-fA-F]+\b")
NUMBER = re.compile(r"\d+")
UNIT = re.compile(r"\b(?:usec|msec)\b")   # Linux's arping picks the unit by the value


def line_shape(line: str) -> str:
    line = MAC.sub("MAC", line)
    line = HEX.sub("0x0", line)
    line = NUMBER.sub("0", line)
    line = UNIT.sub("sec", line)
    return " ".join(line.split())


def fold(lines: Sequence[str], patterns: Sequence[str]) -> list[str]:
    """Each run of consecutive lines that match any of the patterns becomes one
    "..." (a sample need not list every test or every file)."""
    out: list[str] = []
    for line in lines:
        if any(re.search(p, line) for p in patterns) or line == FOLDED:
            if not out or out[-1] != FOLDED:
                out.append(FOLDED)
        else:
            out.append(line)
    return out


def shape(text: str, folds: Sequence[str] = ()) -> list[str]:
    """What must stay the same between a sample and a fresh run (see the module doc)."""
    lines = [line_shape(line) for line in fold(text.rstrip("\n").splitlines(), folds)]
    out: list[str] = []
    for line in lines:
        if not out or out[-1] != line:
            out.append(line)
    return out


# ---- recipes ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Recipe:
    run: Callable[[Context], str]
    root: bool = False
    folds: tuple[str, ...] = ()     # regexes: such runs of lines are written as "..."
    ordered: bool = True            # False: compare the set of line shapes

    def render(self, output: str) -> str:
        """The block's text: the output, folded."""
        return "\n".join(fold(output.rstrip("\n").splitlines(), self.folds)) + "\n"

    def matches(self, sample: str, fresh: str) -> bool:
        return not self.difference(sample, fresh)

    def difference(self, sample: str, fresh: str, most: int = 12) -> list[str]:
        """How the shapes differ ("-" the sample's line, "+" the fresh run's); [] if not."""
        old, new = shape(sample, self.folds), shape(fresh, self.folds)
        if not self.ordered:
            return ([f"- {line}" for line in sorted(set(old) - set(new))] +
                    [f"+ {line}" for line in sorted(set(new) - set(old))])[:most]
        diff = difflib.unified_diff(old, new, lineterm="", n=0)
        return [line for line in diff if line[:1] in "+-" and line[:3] not in ("---", "+++")][:most]


@dataclass
class Context:
    """What the recipes share: the guests they boot, started on first use."""

    kernel: Path = Path("build/kernel.elf")
    initramfs: Path = Path("build/initramfs.cpio")
    results: Path = RESULTS
    stack: ExitStack = field(default_factory=ExitStack)
    labs: dict[str, Lab] = field(default_factory=dict)

    def lab(self, name: str) -> Lab:
        """The named topology, booted (on first use) as `xv6net lab` would."""
        if name not in self.labs:
            lab = Lab(topology.NAMED[name](), self.results / name, kernel=self.kernel,
                      initramfs=self.initramfs)
            self.stack.enter_context(lab)
            self.labs[name] = lab
        return self.labs[name]

    def capture(self, name: str) -> Path:
        """The first guest's capture on that lab, complete (the lab is shut down)."""
        lab = self.lab(name)
        lab.close()
        first = lab.topology.guests[0].name
        return lab.pcap(first, 0)

    def xv6net(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "xv6net", *args, "--kernel", str(self.kernel),
                "--initrd", str(self.initramfs)]

    def close(self) -> None:
        self.stack.close()


def transcript(vm: VM, commands: Sequence[str], prompt: str = "$", timeout: float = 60.0) -> str:
    """Each command as typed at the prompt, then what it printed."""
    out = []
    for command in commands:
        out.append(f"{prompt} {command}\n{vm.run(command, timeout=timeout)}")
    return "".join(out)


def wrapped(argv: Sequence[str]) -> str:
    """A long command line folded with backslashes, as one would paste it; an
    option stays on the same line as its value."""
    words: list[str] = []
    for word in (shlex.quote(w) for w in argv):
        if words and words[-1].startswith("-") and not word.startswith("-") and \
                " " not in words[-1]:
            words[-1] += " " + word
        else:
            words.append(word)
    lines, line = [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > WRAP - 2:
            lines.append(line + " \\")
            line = "   "
        line = f"{line} {word}" if line else word
    return "\n".join([*lines, line]) + "\n"


def host(argv: Sequence[str], timeout: float = 60.0) -> str:
    """A host command's output; it must succeed."""
    result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False,
                            env={**os.environ, "PYTHONPATH": str(Path("src").resolve())})
    if result.returncode != 0:
        raise DocsError(f"{shlex.join(argv)} failed ({result.returncode}): {result.stderr}")
    return result.stdout


def terminal(argv: Sequence[str], typed: Sequence[str], prompt: str,
             timeout: float = SESSION_TIMEOUT) -> str:
    """What a person sees running argv on a terminal and typing each line of
    typed at a prompt, then an empty line (the program sees a tty: it prompts,
    and the terminal echoes what is typed)."""
    pid, fd = pty.fork()
    if pid == 0:   # the child
        os.environ["PYTHONPATH"] = str(Path("src").resolve())
        try:
            os.execvp(argv[0], list(argv))
        finally:
            os._exit(127)
    seen = b""
    deadline = time.monotonic() + timeout
    try:
        for count, line in enumerate([*typed, ""], start=1):
            seen = _read_until(fd, seen, deadline, lambda s, n=count: s.count(prompt.encode()) >= n)
            os.write(fd, line.encode() + b"\n")
        seen = _read_until(fd, seen, deadline, lambda s: False)   # to the end
    finally:
        os.close(fd)
        os.waitpid(pid, 0)
    return seen.decode(errors="replace").replace("\r\n", "\n")


def _read_until(fd: int, seen: bytes, deadline: float, done: Callable[[bytes], bool]) -> bytes:
    """Read from fd until done(seen) or the other side closes."""
    while not done(seen):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise DocsError("a terminal session went past its time limit; last output:\n"
                            f"{seen[-600:].decode(errors='replace')}")
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            continue
        try:
            data = os.read(fd, 4096)
        except OSError:   # EIO: the program has exited
            data = b""
        if not data:
            break
        seen += data
    return seen


# The commands of the samples. Each returns the text of its block.

def boot_session(ctx: Context) -> str:
    vm = ctx.lab("slirp-dhcp").guest("a")   # as `make qemu APPEND=ip=dhcp`
    return vm.boot_log.lstrip("\n") + transcript(vm, [
        "ls /bin | wc", "echo hello | cat", "echo a note > /tmp/note; cat /tmp/note", "df",
        "usertests"], timeout=300)


QUICKSTART = (
    "ifconfig eth0",
    "ping -c 3 10.0.2.2",
    "arp -a",
    "route",
    "udpecho 7777 > /dev/null &",
    "echo hello | nc -u 127.0.0.1 7777",
    "jobs",
    "netstat",
)


def wait_udp(vm: VM, port: int, timeout: float = 10.0) -> None:
    """Until a socket is bound to port (a background server has started):
    a person types slower than the guest starts a program; a script does not."""
    deadline = time.monotonic() + timeout
    while f":{port} " not in vm.run("netstat"):
        if time.monotonic() > deadline:
            raise DocsError(f"nothing listens on UDP port {port} after {timeout:g} s")
        time.sleep(0.1)


def quickstart(ctx: Context) -> str:
    vm = ctx.lab("slirp").guest("a")
    first = QUICKSTART.index("udpecho 7777 > /dev/null &") + 1
    before = transcript(vm, QUICKSTART[:first])
    wait_udp(vm, 7777)
    return before + transcript(vm, QUICKSTART[first:])


def restricted(ctx: Context) -> str:
    # 192.0.2.1 is TEST-NET-1 (RFC 5737), never routed: with restrict=on nothing
    # leaves QEMU anyway, and this is what any outside address does.
    return transcript(ctx.lab("slirp").guest("a"), ["ping -c 2 192.0.2.1"])


def usage_error(ctx: Context) -> str:
    return transcript(ctx.lab("slirp").guest("a"), ["ping -c -1 10.0.2.2", "echo $?"])


def two_guests(ctx: Context) -> str:
    lab = ctx.lab("back-to-back")
    server = transcript(lab.guest("b"), ["udpecho 7777 > /dev/null &"], prompt="b$")
    wait_udp(lab.guest("b"), 7777)
    return server + \
        transcript(lab.guest("a"), ["ifconfig eth0", "arping -c 3 10.0.0.3", "arp -a",
                                    "ping -c 2 -s 3000 10.0.0.3",
                                    "echo hello | nc -u 10.0.0.3 7777"], prompt="a$")


def pcap_session(ctx: Context) -> str:
    path = ctx.capture("slirp")
    out = []
    for args in (["summary", "--tshark"], ["check"]):
        argv = [sys.executable, "-m", "xv6net", "pcap", *args, str(path)]
        out.append(f"$ xv6net pcap {' '.join(args)} {path}\n{host(argv)}")
    return "".join(out)


def dry_run(ctx: Context) -> str:
    return wrapped(shlex.split(host([sys.executable, "-m", "xv6net", "run", "--dry-run"])))


def lab_list(ctx: Context) -> str:
    return "$ xv6net lab --list\n" + host([sys.executable, "-m", "xv6net", "lab", "--list"])


def slirp_lab(ctx: Context) -> str:
    argv = ctx.xv6net("lab", "--topology", "slirp", "--timeout", "5")
    typed = ["a ping -c 2 10.0.2.2", "b ls", "a ping 10.0.2.2", "a echo still here"]
    return "$ xv6net lab --topology slirp --timeout 5\n" + terminal(argv, typed, "lab> ")


def bridged_lab(ctx: Context) -> str:
    argv = ctx.xv6net("lab", "--topology", "two-lans")
    typed = ["r arping -c 1 10.0.1.1", "a ping -c 1 10.0.1.2", "! ip -br addr show br-lan2"]
    return "$ sudo xv6net lab --topology two-lans\n" + terminal(argv, typed, "lab> ")


def dhcp_lab(ctx: Context) -> str:
    argv = ctx.xv6net("lab", "--topology", "dhcp")
    typed = ["a cat /etc/resolv.conf", "a host www", "a host nothere.lab", "a ping -c 2 www",
             "! cat build/lab/dhcp/dnsmasq-lan0.leases"]
    return "$ sudo xv6net lab --topology dhcp\n" + terminal(argv, typed, "lab> ")


def routed_lab(ctx: Context) -> str:
    argv = ctx.xv6net("lab", "--topology", "routed")
    typed = ["@left traceroute -n 10.0.3.2", "@left ping -c 2 10.0.3.2",
             "@left ping -c 1 -t 2 10.0.3.2", "@left ping -c 1 10.9.9.9",
             "r1 sysctl net.ipv4.ip_forward", "r1 traceroute 10.0.3.2",
             "r2 traceroute -n -m 2 -q 1 10.0.1.7"]
    return "$ sudo xv6net lab --topology routed\n" + terminal(argv, typed, "lab> ")


def demo(ctx: Context) -> str:
    argv = [sys.executable, "-m", "xv6net", "demo", "--kernel", str(ctx.kernel),
            "--initrd", str(ctx.initramfs)]
    return "$ sudo make demo\n" + host(argv, timeout=600)


# usertests' lines, PCI lines, ls lines, netstat's counters, and frames from
# the bridge's own address (an IGMP report, there or not with the timing)
DEMO_FOLDS = (r"^test \S+: ok$", r"^pid \d+ \S+: trap", r"^pci ", r"^\S+\s+\d+ \d+ \d+$",
              r"^    \d+ [a-z]", r" igmp ")
USERTESTS_FOLDS = (r"^test \S+: ok$", r"^pid \d+ \S+: trap")

RECIPES: dict[str, Recipe] = {
    # the order they run in: the slirp lab serves three, then its capture is read
    "boot": Recipe(boot_session, folds=USERTESTS_FOLDS),
    "quickstart": Recipe(quickstart),
    "restricted": Recipe(restricted),
    "usage-error": Recipe(usage_error),
    "pcap": Recipe(pcap_session),
    "two-guests": Recipe(two_guests),
    "qemu-command": Recipe(dry_run),
    "lab-list": Recipe(lab_list),
    "slirp-lab": Recipe(slirp_lab),
    "bridged-lab": Recipe(bridged_lab, root=True, ordered=False),
    "dhcp-lab": Recipe(dhcp_lab, root=True, ordered=False),
    "routed-lab": Recipe(routed_lab, root=True, ordered=False),
    "demo": Recipe(demo, root=True, folds=DEMO_FOLDS, ordered=False),
}


# ---- running them -------------------------------------------------------------------

@dataclass
class Report:
    written: list[str] = field(default_factory=list)     # "README.md: quickstart"
    drifted: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def documents(paths: Sequence[Path]) -> Iterator[tuple[Path, str, list[Block]]]:
    for path in paths:
        text = path.read_text()
        blocks = find_blocks(text, str(path))
        for block in blocks:
            if block.name not in RECIPES:
                raise DocsError(f"{path}: no recipe {block.name!r} "
                                f"(one of {', '.join(RECIPES)})")
        yield path, text, blocks


def run_recipes(names: set[str], ctx: Context, as_root: bool, report: Report) -> dict[str, str]:
    outputs = {}
    for name, recipe in RECIPES.items():
        if name not in names:
            continue
        if recipe.root and not as_root:
            report.skipped.append(f"{name} (needs root)")
            continue
        print(f"docs: running {name}", file=sys.stderr, flush=True)
        outputs[name] = recipe.render(recipe.run(ctx))
    return outputs


def update(paths: Sequence[Path], ctx: Context, check: bool = False,
           as_root: bool | None = None) -> Report:
    """Run the recipes the documents use; rewrite their blocks, or with check
    only compare shapes."""
    as_root = os.geteuid() == 0 if as_root is None else as_root
    docs = list(documents(paths))
    report = Report()
    try:
        outputs = run_recipes({b.name for _, _, blocks in docs for b in blocks}, ctx, as_root,
                              report)
    finally:
        ctx.close()
    for path, text, blocks in docs:
        for block in blocks:
            diff = RECIPES[block.name].difference(block.text, outputs[block.name]) \
                if block.name in outputs else []
            if diff:
                report.drifted.append(f"{path}: {block.name}\n    " + "\n    ".join(diff))
        if not check:
            new = replace_blocks(text, outputs)
            if new != text:
                path.write_text(new)
                report.written += [f"{path}: {b.name}" for b in blocks if b.name in outputs]
    return report


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="*", type=Path,
                        help=f"documents (default: {' '.join(DOCS)})")
    parser.add_argument("--check", action="store_true",
                        help="only compare the samples' shapes with fresh runs; exit 1 on drift")
    parser.add_argument("--kernel", type=Path, default=Path("build/kernel.elf"))
    parser.add_argument("--initrd", type=Path, default=Path("build/initramfs.cpio"))


def cmd_docs(args: argparse.Namespace) -> int:
    paths = args.files or [Path(p) for p in DOCS]
    for path in (*paths, args.kernel, args.initrd):
        if not path.is_file():
            print(f"xv6net docs: {path}: no such file", file=sys.stderr)
            return 1
    try:
        report = update(paths, Context(args.kernel, args.initrd), check=args.check)
    except DocsError as err:
        print(f"xv6net docs: {err}", file=sys.stderr)
        return 1
    for line in report.skipped:
        print(f"skipped {line}")
    for line in report.drifted:
        print(f"{'drifted' if args.check else 'rewrote, shape changed'}: {line}")
    for line in report.written:
        print(f"wrote {line}")
    return 1 if args.check and report.drifted else 0
