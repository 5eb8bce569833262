"""`xv6net bench-http` (run by `make bench`): xv6net's httpd against busybox httpd in
the Linux guest, same run, same card, measured from the namespace (issue 14).

It boots each system in turn on the benchmark's bridge (`xv6net.bench`: the same
namespace layout, QEMU command line and Linux guest), starts its web server on
port 80 with the same two files (a 42-byte text file and 1 MiB of noise), and from
Linux runs ApacheBench for `--seconds` with `--concurrency` clients on the small
file, with keep-alive and with a connection per request, and curl for the 1 MiB
file `--fetches` times. Rows go to bench/results/http-latest.json, a table to the
terminal; the target is xv6net at least twice the Linux guest's requests per
second. Figures are what this machine gave under its load at the time: not a
pass mark.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from xv6net import bench, linuxguest, nics
from xv6net.netns import Netns, NetnsError
from xv6net.vm import VMError

RESULTS = bench.RESULTS
TARGET_RATIO = 2.0   # issue 14: at least twice the Linux guest's requests per second
SMALL = "/files/hello.txt"
BIG = "/noise.bin"
SMALL_TEXT = "A plain text file served by xv6net httpd."   # rootfs/var/www/files/hello.txt

# The Linux guest's web root: the same two files as xv6net's /var/www, then
# busybox httpd in the foreground, in the background of the agent's shell.
LINUX_SERVER = (f"mkdir -p /www/files && echo '{SMALL_TEXT}' > /www/files/hello.txt && "
                "dd if=/dev/urandom of=/www/noise.bin bs=4096 count=256 2>/dev/null && "
                "(httpd -f -p 80 -h /www &) && sleep 1 && netstat -tln")
XV6_SERVER = "httpd > /dev/null &"


class HttpBenchError(RuntimeError):
    pass


@dataclass(frozen=True)
class HttpConfig:
    systems: tuple[str, ...] = bench.SYSTEMS
    model: str = nics.DEFAULT
    seconds: float = 10.0
    concurrency: int = 20
    fetches: int = 5
    results: Path = RESULTS
    kernel: Path = Path("build/kernel.elf")
    initramfs: Path = Path("build/initramfs.cpio")

    def bench_config(self) -> bench.Config:
        return replace(bench.Config(), systems=self.systems, models=(self.model,),
                       kernel=self.kernel, initramfs=self.initramfs, results=self.results)


# ---- parsing ------------------------------------------------------------------------

_AB_FIELDS = {
    "complete": r"^Complete requests:\s+(\d+)$",
    "failed": r"^Failed requests:\s+(\d+)$",
    "keepalive": r"^Keep-Alive requests:\s+(\d+)$",
    "non2xx": r"^Non-2xx responses:\s+(\d+)$",
    "rps": r"^Requests per second:\s+([\d.]+) \[#/sec\]",
    "mean_ms": r"^Time per request:\s+([\d.]+) \[ms\] \(mean\)$",
}


def ab_report(text: str) -> dict[str, float]:
    """ApacheBench's summary: complete, failed, keepalive, non2xx, rps, mean_ms."""
    out: dict[str, float] = {}
    for key, pattern in _AB_FIELDS.items():
        m = re.search(pattern, text, re.MULTILINE)
        if m:
            out[key] = float(m[1])
        elif key in ("keepalive", "non2xx"):
            out[key] = 0.0
    if "rps" not in out or "complete" not in out:
        raise HttpBenchError(f"ab printed no summary: {text[-400:]!r}")
    return out


def ratio_rows(results: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per figure: both systems, xv6net/Linux, and whether the target holds."""
    rows = []
    for key, unit in (("rps_keepalive", "req/s"), ("rps_close", "req/s"),
                      ("big_mib_s", "MiB/s")):
        ours = results.get("xv6net", {}).get(key)
        theirs = results.get("linux", {}).get(key)
        ratio = ours / theirs if ours is not None and theirs else None
        target = TARGET_RATIO if key.startswith("rps") else None
        rows.append({"metric": key, "unit": unit, "xv6net": ours, "linux": theirs,
                     "ratio": None if ratio is None else round(ratio, 3),
                     "target": target,
                     "met": None if ratio is None or target is None else ratio >= target})
    return rows


def table(rows: Sequence[dict[str, Any]]) -> str:
    def fmt(v: object) -> str:
        return "-" if v is None else f"{v:.2f}" if isinstance(v, float) else str(v)
    lines = [f"{'metric':<15} {'unit':<6} {'xv6net':>10} {'linux':>10} {'ratio':>7} "
             f"{'target':>7} met"]
    for r in rows:
        lines.append(f"{r['metric']:<15} {r['unit']:<6} {fmt(r['xv6net']):>10} "
                     f"{fmt(r['linux']):>10} {fmt(r['ratio']):>7} {fmt(r['target']):>7} "
                     f"{fmt(r['met'])}")
    return "\n".join(lines)


# ---- measuring ---------------------------------------------------------------------

def ab(ns: Netns, ip: str, config: HttpConfig, keepalive: bool) -> dict[str, float]:
    argv = ["ab", *(["-k"] if keepalive else []), "-c", str(config.concurrency),
            "-t", f"{config.seconds:g}", "-n", "10000000", "-s", "30", f"http://{ip}{SMALL}"]
    result = ns.run(argv, timeout=config.seconds + 90, check=False)
    report = ab_report(result.stdout + result.stderr)
    report["exit"] = float(result.returncode)
    return report


def big_fetches(ns: Netns, ip: str, config: HttpConfig) -> list[float]:
    """MiB/s of each curl of the 1 MiB file."""
    rates = []
    for _ in range(config.fetches):
        result = ns.run(["curl", "-sS", "-o", "/dev/null", "--max-time", "60", "-w",
                         "%{http_code} %{size_download} %{speed_download}", f"http://{ip}{BIG}"],
                        timeout=90, check=False)
        fields = result.stdout.split()
        if len(fields) != 3 or fields[0] != "200" or int(fields[1]) != 1 << 20:
            raise HttpBenchError(f"curl {BIG}: {result.stdout!r} {result.stderr!r}")
        rates.append(float(fields[2]) / (1 << 20))
    return rates


def wait_listening(ns: Netns, ip: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        result = ns.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                         "--max-time", "2", f"http://{ip}{SMALL}"], timeout=10, check=False)
        if result.stdout == "200":
            return
        if time.monotonic() > deadline:
            raise HttpBenchError(f"no web server answers on {ip}:80")
        time.sleep(0.3)


def measure(ns: Netns, guest: bench.Guest, config: HttpConfig) -> dict[str, Any]:
    """Boot one system, start its server, measure; the figures and any error."""
    run = bench.Run(guest.name, 0)
    session = bench.Session(ns, guest, config.bench_config(), Path("unused-udpgen"), run)
    logfile = config.results / f"http-{guest.name}-{guest.model}-console.log"
    out: dict[str, Any] = {"description": guest.description, "ip": guest.ip,
                           "load_before": os.getloadavg()[0]}
    try:
        session.boot(logfile)
        assert session.shell is not None and session.vm is not None
        if guest.name == "linux":
            session.shell.run(LINUX_SERVER, timeout=30)
        else:   # xv6net's sh takes no "; echo" after "&": the VM's own run knows its prompt
            session.vm.run(XV6_SERVER, timeout=30)
        wait_listening(ns, guest.ip)
        keep = ab(ns, guest.ip, config, keepalive=True)
        close = ab(ns, guest.ip, config, keepalive=False)
        rates = big_fetches(ns, guest.ip, config)
        out.update(ab_keepalive=keep, ab_close=close, big_mib_s_each=rates,
                   rps_keepalive=keep["rps"], rps_close=close["rps"],
                   big_mib_s=statistics.median(rates))
        session.log(f"{keep['rps']:.1f} req/s keep-alive, {close['rps']:.1f} req/s "
                    f"a connection each, {out['big_mib_s']:.2f} MiB/s for 1 MiB")
    except (HttpBenchError, bench.BenchError, VMError, TimeoutError, EOFError, NetnsError,
            subprocess.SubprocessError) as err:
        out["error"] = str(err)
        session.log(f"failed: {err}")
    finally:
        session.close()
        out["load_after"] = os.getloadavg()[0]
    return out


def run(config: HttpConfig) -> dict[str, Any]:
    started = datetime.datetime.now(datetime.UTC)
    t0 = time.monotonic()
    bconfig = config.bench_config()
    prepared = linuxguest.prepare() if "linux" in config.systems else None
    guests = bench.make_guests(bconfig, config.model, prepared)
    config.results.mkdir(parents=True, exist_ok=True)
    systems = {}
    with Netns() as ns:
        ns.add_bridge(bench.BRIDGE, mac=bench.BRIDGE_MAC)
        ns.add_address(bench.BRIDGE, f"{bench.PEER_IP}/24")
        for guest in guests.values():
            ns.add_tap(guest.tap, bench.BRIDGE)
        for name, guest in guests.items():
            systems[name] = measure(ns, guest, config)
    return {
        "schema": 1,
        "started": started.isoformat(timespec="seconds"),
        "duration_s": round(time.monotonic() - t0, 1),
        "nic": config.model,
        "config": {"seconds": config.seconds, "concurrency": config.concurrency,
                   "fetches": config.fetches, "systems": list(config.systems)},
        "machine": bench.machine_facts(bconfig),
        "systems": systems,
        "rows": ratio_rows(systems),
    }


# ---- the command -------------------------------------------------------------------

def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--systems", default=",".join(bench.SYSTEMS),
                        help="comma-separated, of xv6net,linux (default: %(default)s)")
    parser.add_argument("--nic-model", default=nics.DEFAULT,
                        help=f"the card, of {','.join(nics.NAMES)} (default: %(default)s; "
                             "a list: its first)")
    parser.add_argument("--seconds", type=float, default=HttpConfig.seconds,
                        help="ApacheBench's time per run (default: %(default)s)")
    parser.add_argument("--concurrency", type=int, default=HttpConfig.concurrency,
                        help="ApacheBench's clients (default: %(default)s)")
    parser.add_argument("--fetches", type=int, default=HttpConfig.fetches,
                        help="curls of the 1 MiB file (default: %(default)s)")
    parser.add_argument("--results", type=Path, default=RESULTS,
                        help="where http-latest.json goes (default: %(default)s)")
    parser.add_argument("--kernel", type=Path, default=HttpConfig.kernel)
    parser.add_argument("--initrd", type=Path, default=HttpConfig.initramfs)


def config_from_args(args: argparse.Namespace) -> HttpConfig:
    systems = tuple(s for s in args.systems.split(",") if s)
    if not systems or set(systems) - set(bench.SYSTEMS):
        raise SystemExit(f"xv6net bench-http: systems are of {bench.SYSTEMS}")
    model = args.nic_model.split(",")[0]
    if model == "all":
        model = nics.DEFAULT
    nics.model(model)
    return HttpConfig(systems=systems, model=model, seconds=args.seconds,
                      concurrency=args.concurrency, fetches=args.fetches, results=args.results,
                      kernel=args.kernel, initramfs=args.initrd)


def cmd_bench_http(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    if not bench.is_root_or_says_so("bench-http"):
        return 1
    try:
        results = run(config)
    except (linuxguest.LinuxGuestError, bench.BenchError, NetnsError, OSError,
            subprocess.SubprocessError) as err:
        print(f"xv6net bench-http: {err}", file=sys.stderr)
        return 1
    path = config.results / "http-latest.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\n### HTTP on {config.model}: {config.concurrency} clients, "
          f"{config.seconds:g} s each\n")
    print(table(results["rows"]))
    print(f"\nbench-http: {path} ({results['duration_s']:.0f} s)")
    errors = [f"{name}: {s['error']}" for name, s in results["systems"].items() if "error" in s]
    for error in errors:
        print(f"bench-http: error: {error}", file=sys.stderr)
    return 1 if errors else 0
