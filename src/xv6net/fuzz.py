"""The network stack's libFuzzer targets: run them, report, keep what crashed.

The targets are built by `make fuzzers` into build/fuzz/fuzz_NAME from
tests/fuzz/fuzz_NAME.c (docs/testing.md). For each target:

- tests/fuzz/seeds/NAME/ holds seed inputs made from real traffic
  (`xv6net fuzz seeds PCAP...` turns the project's captures into them);
- build/fuzz/corpus/NAME/ is the working corpus, grown by each run;
- tests/fuzz/regressions/NAME/ holds every input that ever crashed a target;
  `make test` replays them, and a crash found by a run is copied there.

    xv6net fuzz run [--seconds 60] [--target NAME ...]   what `make fuzz` runs
    xv6net fuzz smoke [--runs 20000]                      a short fixed-seed run of each
    xv6net fuzz replay                                    every regression input, once
    xv6net fuzz seeds PCAP ...                            seed corpora from captures
"""

from __future__ import annotations

import argparse
import hashlib
import re
import shutil
import struct
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "build" / "fuzz"
SEEDS = ROOT / "tests" / "fuzz" / "seeds"
REGRESSIONS = ROOT / "tests" / "fuzz" / "regressions"
ARTIFACT = re.compile(r"^(crash|leak|timeout|oom|slow-unit)-[0-9a-f]+$")
# Seed sets are kept small: they are committed fixtures.
MAX_FRAME_SEEDS = 120
FRAMES_PER_SEQUENCE = 12
MAX_SEQUENCES = 24


@dataclass
class Result:
    target: str
    seconds: float = 0.0
    execs: int = 0
    exec_per_s: int = 0
    cov: int = 0
    features: int = 0
    corpus: int = 0
    returncode: int = 0
    crashes: list[Path] = field(default_factory=list)
    report: str = ""             # the sanitizer's or libFuzzer's words about a crash

    @property
    def clean(self) -> bool:
        return self.returncode == 0 and not self.crashes


def target_names(build: Path = BUILD) -> list[str]:
    return sorted(p.name.removeprefix("fuzz_") for p in build.glob("fuzz_*")
                  if p.is_file() and p.stat().st_mode & 0o111)


def parse_output(text: str, result: Result) -> Result:
    """Fill in the figures from libFuzzer's output (-print_final_stats=1)."""
    stats = dict(re.findall(r"^stat::(\w+):\s+(\d+)", text, re.MULTILINE))
    result.execs = int(stats.get("number_of_executed_units", 0))
    result.exec_per_s = int(stats.get("average_exec_per_sec", 0))
    progress = re.findall(r"^#\d+\s+\w+\s+cov: (\d+) ft: (\d+) corp: (\d+)", text, re.MULTILINE)
    if progress:
        result.cov, result.features, result.corpus = (int(n) for n in progress[-1])
    report = re.search(r"^(==\d+==ERROR:.*|.*kernel panic:.*|.*runtime error:.*)$", text,
                       re.MULTILINE)
    if report:
        result.report = report.group(1).strip()
    return result


def _argv(binary: Path, workdir: Path, *, seconds: float | None, runs: int | None,
          seed: int | None, corpora: Sequence[Path]) -> list[str]:
    argv = [str(binary), "-print_final_stats=1", f"-artifact_prefix={workdir}/",
            "-rss_limit_mb=2048", "-timeout=10"]
    if seconds is not None:
        argv.append(f"-max_total_time={int(seconds)}")
    if runs is not None:
        argv.append(f"-runs={runs}")
    if seed is not None:
        argv.append(f"-seed={seed}")
    return argv + [str(c) for c in corpora if c.is_dir()]


def run_target(name: str, *, seconds: float | None = None, runs: int | None = None,
               seed: int | None = None, build: Path = BUILD, keep: bool = True) -> Result:
    """Fuzz one target; crashing inputs are copied to its regressions folder
    (when keep) and listed in the result."""
    binary = build / f"fuzz_{name}"
    corpus = build / "corpus" / name
    workdir = build / "artifacts" / name
    corpus.mkdir(parents=True, exist_ok=True)
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    argv = _argv(binary, workdir, seconds=seconds, runs=runs, seed=seed,
                 corpora=[corpus, SEEDS / name])
    limit = (seconds or 0) + 120 if runs is None else 600
    started = time.monotonic()
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=limit, check=False)
    result = parse_output(proc.stdout + proc.stderr, Result(name))
    result.seconds = time.monotonic() - started
    result.returncode = proc.returncode
    for artifact in sorted(workdir.iterdir()):
        if not ARTIFACT.match(artifact.name):
            continue
        if keep:
            kept = REGRESSIONS / name / artifact.name
            kept.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(artifact, kept)
            result.crashes.append(kept)
        else:
            result.crashes.append(artifact)
    return result


def regression_inputs(name: str) -> list[Path]:
    folder = REGRESSIONS / name
    return sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []


def replay(name: str, build: Path = BUILD) -> subprocess.CompletedProcess[str]:
    """Run each regression input of a target once (no fuzzing)."""
    inputs = regression_inputs(name)
    argv = [str(build / f"fuzz_{name}"), *map(str, inputs)]
    if not inputs:
        return subprocess.CompletedProcess(argv, 0, "", "")
    return subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)


def table(results: Sequence[Result]) -> str:
    head = f"{'target':<10} {'seconds':>7} {'execs':>12} {'exec/s':>8} {'cov':>6} " \
           f"{'features':>8} {'corpus':>6}  crashes"
    lines = [head]
    for r in results:
        lines.append(f"{r.target:<10} {r.seconds:>7.0f} {r.execs:>12,} {r.exec_per_s:>8,} "
                     f"{r.cov:>6} {r.features:>8} {r.corpus:>6}  {len(r.crashes)}")
    return "\n".join(lines)


# ---- seeds from captures ------------------------------------------------------------

def _name(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def frames_record(delay_ms: int, frame: bytes) -> bytes:
    """One record of the `frames` target's input (tests/fuzz/fuzz_frames.c)."""
    return struct.pack("<HH", min(delay_ms, 1023), len(frame)) + frame


def udp_of(frame: bytes) -> tuple[int, int, bytes] | None:
    """(source port, destination port, payload) of an IPv4/UDP frame, or None."""
    if len(frame) < 14 + 20 or frame[12:14] != b"\x08\x00" or frame[14 + 9] != 17:
        return None
    hlen = (frame[14] & 15) * 4
    udp = frame[14 + hlen:]
    if hlen < 20 or len(udp) < 8:
        return None
    sport, dport, ulen = struct.unpack_from("!HHH", udp)
    return sport, dport, udp[8:max(8, min(ulen, len(udp)))]


def protocol_seeds(frames: Sequence[bytes]) -> dict[str, list[bytes]]:
    """Inputs for the stand-alone parsers: whole DHCP frames (the client's
    parser takes frames), and DNS messages (UDP payloads from port 53)."""
    seeds: dict[str, list[bytes]] = {"dhcp": [], "dns": []}
    for frame in frames:
        udp = udp_of(frame)
        if udp is None:
            continue
        sport, dport, payload = udp
        if {sport, dport} & {67, 68}:
            seeds["dhcp"].append(frame)
        if 53 in (sport, dport) and payload:
            seeds["dns"].append(payload)
    return seeds


def spread(items: list, most: int) -> list:  # type: ignore[type-arg]
    """At most `most` of items, taken evenly from the whole list."""
    if len(items) <= most:
        return items
    return [items[i * len(items) // most] for i in range(most)]


def seeds_from_frames(frames: Sequence[tuple[float, bytes]], out: Path) -> dict[str, int]:
    """Write seed inputs for every target from (time, frame) pairs; returns
    how many files each target's folder got."""
    unique: dict[str, bytes] = {}
    for _, raw in frames:
        unique.setdefault(_name(raw), raw)
    written: dict[str, int] = {}
    chosen = spread(list(unique.items()), MAX_FRAME_SEEDS)
    for target in ("frame", "wire"):
        folder = out / target
        folder.mkdir(parents=True, exist_ok=True)
        for name, raw in chosen:
            (folder / name).write_bytes(raw)
        written[target] = len(chosen)
    for target, inputs in protocol_seeds([raw for _, raw in frames]).items():
        folder = out / target
        folder.mkdir(parents=True, exist_ok=True)
        distinct = {_name(data): data for data in inputs}
        for name, data in spread(list(distinct.items()), MAX_FRAME_SEEDS):
            (folder / name).write_bytes(data)
        written[target] = min(len(distinct), MAX_FRAME_SEEDS)
    folder = out / "frames"
    folder.mkdir(parents=True, exist_ok=True)
    sequences = 0
    starts = spread(list(range(0, len(frames), FRAMES_PER_SEQUENCE)), MAX_SEQUENCES)
    for start in starts:
        chunk = frames[start:start + FRAMES_PER_SEQUENCE]
        data = b"".join(frames_record(int(max(0.0, chunk[i + 1][0] - t) * 1000)
                                      if i + 1 < len(chunk) else 0, raw)
                        for i, (t, raw) in enumerate(chunk))
        (folder / _name(data)).write_bytes(data)
        sequences += 1
    written["frames"] = sequences
    return written


def read_pcap_frames(paths: Sequence[Path]) -> list[tuple[float, bytes]]:
    from xv6net import pcap  # noqa: PLC0415 (scapy: only here)
    result: list[tuple[float, bytes]] = []
    for path in paths:
        result.extend((f.time, f.data) for f in pcap.frames(path))
    return result


# ---- the command ----------------------------------------------------------------------

def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True)
    run = actions.add_parser("run", help="fuzz every target (what `make fuzz` runs)")
    run.add_argument("--seconds", type=float, default=60, help="per target (default: 60)")
    run.add_argument("--target", action="append", help="only this target (repeatable)")
    smoke = actions.add_parser("smoke", help="a short run of each target with a fixed seed")
    smoke.add_argument("--runs", type=int, default=20000, help="inputs per target")
    smoke.add_argument("--target", action="append", help="only this target (repeatable)")
    actions.add_parser("replay", help="run every kept crashing input once")
    seeds = actions.add_parser("seeds", help="seed corpora from pcap captures")
    seeds.add_argument("pcaps", nargs="+", type=Path)
    seeds.add_argument("-o", "--out", type=Path, default=SEEDS,
                       help="folder of per-target seed folders (default: tests/fuzz/seeds)")


def cmd_fuzz(args: argparse.Namespace) -> int:
    if args.action == "seeds":
        written = seeds_from_frames(read_pcap_frames(args.pcaps), args.out)
        for target, count in written.items():
            print(f"{target}: {count} seed inputs in {args.out / target}")
        return 0
    names = target_names()
    if not names:
        print("xv6net fuzz: no targets in build/fuzz (run `make fuzzers`)", file=sys.stderr)
        return 1
    if args.action == "replay":
        failed = 0
        for name in names:
            proc = replay(name)
            count = len(regression_inputs(name))
            status = "ok" if proc.returncode == 0 else "FAILED"
            print(f"{name}: {count} regression inputs: {status}")
            failed += proc.returncode != 0
        return 1 if failed else 0
    chosen = [n for n in names if not args.target or n in args.target]
    results = []
    for name in chosen:
        if args.action == "smoke":
            result = run_target(name, runs=args.runs, seed=1, keep=False)
        else:
            print(f"fuzzing {name} for {args.seconds:.0f} s ...", flush=True)
            result = run_target(name, seconds=args.seconds)
        results.append(result)
        for crash in result.crashes:
            print(f"{name}: {result.report or 'crash'}\n  input kept in {crash}")
    print(table(results))
    bad = [r for r in results if not r.clean]
    if bad:
        print(f"xv6net fuzz: {len(bad)} target(s) crashed, leaked or failed", file=sys.stderr)
        return 1
    return 0
