"""Read the kernel's sampling profile (`kprof dump`) and attribute it to functions.

The guest prints one line per sample (user/kprof.c):

    k PID EIP PC1 PC2 PC3 PC4     kernel mode: where, and the return addresses above
    u PID EIP                     user mode

This module resolves the addresses against the kernel ELF's symbol table (`nm`)
and reports, per function, its *self* share (samples whose EIP is in it) and
its *inclusive* share (samples with it anywhere in the recorded chain, counted
once per sample). `xv6net prof FILE` prints the table; `xv6net bench --profile`
records one during the flood.
"""

from __future__ import annotations

import argparse
import bisect
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

DEFAULT_KERNEL = Path("build/kernel.elf")
USER = "[user]"
UNKNOWN = "[unknown]"

_LINE = re.compile(r"^(?P<mode>[ku]) (?P<pid>-?\d+) (?P<addrs>[0-9a-fA-F]+(?: [0-9a-fA-F]+)*)\s*$")


@dataclass(frozen=True)
class Sample:
    user: bool
    pid: int
    eip: int
    callers: tuple[int, ...]   # kernel return addresses, innermost first (no zeros)


def parse(text: str) -> list[Sample]:
    """The samples in a `kprof dump` transcript; other lines are ignored."""
    samples = []
    for line in text.splitlines():
        m = _LINE.match(line.strip())
        if not m:
            continue
        addrs = [int(a, 16) for a in m.group("addrs").split()]
        user = m.group("mode") == "u"
        callers = () if user else tuple(a for a in addrs[1:] if a)
        samples.append(Sample(user, int(m.group("pid")), addrs[0], callers))
    return samples


class Symbols:
    """Function names by address, from `nm -n` of an ELF file."""

    def __init__(self, entries: Iterable[tuple[int, str]]) -> None:
        pairs = sorted(entries)
        self._addrs = [a for a, _ in pairs]
        self._names = [n for _, n in pairs]

    @classmethod
    def from_nm(cls, text: str) -> Symbols:
        entries = []
        for line in text.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[1] in "tTwW":
                entries.append((int(parts[0], 16), parts[2]))
        return cls(entries)

    @classmethod
    def from_elf(cls, path: Path) -> Symbols:
        out = subprocess.run(["nm", "-n", "--defined-only", str(path)], check=True,
                             capture_output=True, text=True).stdout
        return cls.from_nm(out)

    def name(self, addr: int) -> str:
        i = bisect.bisect_right(self._addrs, addr) - 1
        return self._names[i] if i >= 0 else UNKNOWN


@dataclass(frozen=True)
class Row:
    function: str
    self_samples: int
    inclusive_samples: int


@dataclass(frozen=True)
class Profile:
    samples: int
    kernel: int
    user: int
    rows: tuple[Row, ...]   # sorted by self share, then inclusive

    def share(self, n: int) -> float:
        return n / self.samples if self.samples else 0.0

    def to_json(self, top: int = 40) -> dict[str, object]:
        return {
            "samples": self.samples, "kernel": self.kernel, "user": self.user,
            "functions": [{"function": r.function, "self": self.share(r.self_samples),
                           "inclusive": self.share(r.inclusive_samples)}
                          for r in self.rows[:top]],
        }


def attribute(samples: Sequence[Sample], symbols: Symbols) -> Profile:
    """Self and inclusive sample counts per function."""
    self_counts: Counter[str] = Counter()
    incl_counts: Counter[str] = Counter()
    for s in samples:
        if s.user:
            self_counts[USER] += 1
            incl_counts[USER] += 1
            continue
        chain = [symbols.name(s.eip)] + [symbols.name(a - 1) for a in s.callers]
        self_counts[chain[0]] += 1
        for name in set(chain):
            incl_counts[name] += 1
    names = set(self_counts) | set(incl_counts)
    rows = sorted((Row(n, self_counts[n], incl_counts[n]) for n in names),
                  key=lambda r: (-r.self_samples, -r.inclusive_samples, r.function))
    user = self_counts[USER]
    return Profile(len(samples), len(samples) - user, user, tuple(rows))


def table(profile: Profile, top: int = 25) -> str:
    lines = [f"{profile.samples} samples: kernel {profile.share(profile.kernel):.1%}, "
             f"user {profile.share(profile.user):.1%}",
             f"{'self':>7} {'incl':>7}  function"]
    for r in profile.rows[:top]:
        lines.append(f"{profile.share(r.self_samples):7.1%} "
                     f"{profile.share(r.inclusive_samples):7.1%}  {r.function}")
    by_incl = sorted(profile.rows, key=lambda r: -r.inclusive_samples)[:top]
    lines.append("")
    lines.append("by inclusive share:")
    for r in by_incl:
        lines.append(f"{profile.share(r.inclusive_samples):7.1%}  {r.function}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="xv6net prof", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return cmd_prof(parser.parse_args(argv))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="a console transcript holding `kprof dump`")
    parser.add_argument("--kernel", type=Path, default=DEFAULT_KERNEL)
    parser.add_argument("--top", type=int, default=25)


def cmd_prof(args: argparse.Namespace) -> int:
    """Print the profile; bad input is one line on stderr and status 1."""
    for path, what in ((args.file, "transcript"), (args.kernel, "kernel")):
        if not path.is_file():
            print(f"xv6net prof: {what} {path}: no such file", file=sys.stderr)
            return 1
    if args.top < 1:
        print(f"xv6net prof: --top {args.top}: must be 1 or more", file=sys.stderr)
        return 1
    samples = parse(args.file.read_text(errors="replace"))
    if not samples:
        print(f"xv6net prof: no kprof samples in {args.file} (see `kprof dump`)",
              file=sys.stderr)
        return 1
    try:
        symbols = Symbols.from_elf(args.kernel)
    except subprocess.CalledProcessError as err:
        print(f"xv6net prof: nm cannot read {args.kernel}: {err.stderr.strip()}",
              file=sys.stderr)
        return 1
    print(table(attribute(samples, symbols), args.top))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
