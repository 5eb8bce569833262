"""`xv6net demo` (`make demo`): the shell, ARP between guests and Linux on a bridge, the web.

As root, the demo creates a network namespace holding a Linux bridge with a
Linux peer address (10.0.0.1/24) and two guests on taps, A (10.0.0.2) and B
(10.0.0.3). Part 1 runs a short shell session on guest A. Part 2: guest A
arpings guest B and the Linux peer; Linux's arping gets replies from both
guests, and Linux's neighbour table resolves both. Then it prints a
one-line-per-frame summary of everything on the LAN and where the pcap files
are, and ends on the web: guest A's `httpd` serves its status page, Linux's
curl fetches it, and the demo prints the URL to open from the namespace
(with `--serve SECONDS` it keeps serving that long first). Without root the
same guests are joined back to back by QEMU's stream backend over a Unix socket
(no bridge, no Linux peer, no web part), and the demo says so.

Every check that fails is reported, and the demo exits 1; the lab is always
torn down (also on Ctrl-C).
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TextIO

from xv6net import linux, nics, parse, pcap, topology
from xv6net.console import AbortError
from xv6net.lab import LAB_ERRORS, Lab, hand_over
from xv6net.qemu import Accel
from xv6net.topology import Topology
from xv6net.vm import VM

RESULTS = Path("build/demo")
ARP_COUNT = 3
WEB_TIMEOUT = 10.0   # seconds for httpd to listen


@dataclass(frozen=True)
class Step:
    command: str
    timeout: float = 10.0
    expect: str | None = None   # regex (MULTILINE) the output must contain


SHELL_STEPS: tuple[Step, ...] = (
    Step("ls /"),
    Step("ls /bin", expect=r"^sh\b"),
    Step("ls /bin | wc", expect=r"^\s*\d+\s+\d+\s+\d+\s*$"),
    Step("echo hello | cat", expect=r"^hello$"),
    Step("usertests", timeout=300.0, expect=r"ALL TESTS PASSED"),
)


@dataclass(frozen=True)
class DemoConfig:
    kernel: Path = Path("build/kernel.elf")
    initramfs: Path = Path("build/initramfs.cpio")
    accel: Accel = "tcg"
    append: str = ""
    memory_mb: int = 128
    cpus: int = 0                 # 0: the default (qemu.default_cpus)
    results: Path = RESULTS
    steps: Sequence[Step] = SHELL_STEPS
    bridged: bool | None = None          # None: bridged when running as root
    network: bool = True                 # part 2 (ARP); False: the shell part only
    log: Path | None = None              # guest A's console transcript, also copied here
    nic_model: str = nics.DEFAULT        # the card both guests have (xv6net.nics)
    serve_seconds: float = 0.0           # how long the web part keeps serving at the end


class DemoFailed(Exception):
    pass


@dataclass
class Demo:
    """One run of the demo: the lab, where to print, and what went wrong."""

    lab: Lab
    out: TextIO
    failures: list[str] = field(default_factory=list)

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def check(self, ok: bool, what: str) -> None:
        """Record a failed check; the demo goes on and exits 1 at the end."""
        if not ok:
            self.failures.append(what)
            self.say(f"demo: CHECK FAILED: {what}")

    def guest_run(self, name: str, command: str, timeout: float = 10.0) -> str:
        self.say(f"{name}$ {command}")
        try:
            output = self.lab.guest(name).run(command, timeout=timeout)
        except (TimeoutError, EOFError, AbortError) as err:
            raise DemoFailed(f"guest {name}: {command!r}: {err}") from None
        self.say(output.rstrip("\n"))
        return output

    def linux_run(self, argv: Sequence[str], timeout: float = 20.0) -> str:
        self.say(f"linux# {' '.join(argv)}")
        result = self.lab.peer_run(argv, timeout=timeout)
        output = (result.stdout + result.stderr).rstrip("\n")
        self.say(output)
        return output


def run_step(vm: VM, step: Step, out: TextIO, prompt: str = "$") -> None:
    """Run one shell step on vm, print it, raise DemoFailed if it fails."""
    print(f"{prompt} {step.command}", file=out, flush=True)
    try:
        output = vm.run(step.command, timeout=step.timeout)
    except (TimeoutError, EOFError, AbortError) as err:
        raise DemoFailed(f"{step.command!r}: {err}") from None
    print(output, end="", file=out, flush=True)
    if step.expect and not re.search(step.expect, output, re.MULTILINE):
        raise DemoFailed(f"{step.command!r}: output lacks {step.expect!r}")


# ---- the parts ------------------------------------------------------------------

def shell_part(demo: Demo, steps: Sequence[Step]) -> None:
    demo.say("\n== part 1: the shell on guest a ==")
    for step in steps:
        run_step(demo.lab.guest("a"), step, demo.out, prompt="a$")


def guest_arping(demo: Demo, guest: str, target: str, expect_mac: str) -> None:
    output = demo.guest_run(guest, f"arping -c {ARP_COUNT} {target}", timeout=ARP_COUNT * 2 + 5)
    replies = parse.arping_replies(output)
    demo.check(len(replies) == ARP_COUNT and all(r == (target, expect_mac) for r in replies),
               f"guest {guest}: {ARP_COUNT} replies from {target} at {expect_mac}, "
               f"got {replies}")


def linux_arping(demo: Demo, lan: str, target: str, expect_mac: str) -> None:
    argv = linux.arping_argv(demo.lab.bridge(lan), target, ARP_COUNT)
    replies = parse.arping_replies(demo.linux_run(argv))
    demo.check(len(replies) == ARP_COUNT and all(r == (target, expect_mac) for r in replies),
               f"Linux arping: {ARP_COUNT} replies from {target} at {expect_mac}, got {replies}")


def linux_neighbours(demo: Demo, lan: str, guests: Sequence[str]) -> None:
    lab = demo.lab
    for guest in guests:
        ip = lab.ip(guest)
        assert ip is not None
        try:
            lab.linux_resolve(lan, ip)
        except TimeoutError as err:
            demo.check(False, str(err))
    demo.linux_run(["ip", "neigh", "show", "dev", lab.bridge(lan)])
    table = lab.linux_neighbours(lan)
    for guest in guests:
        entry = table.get(lab.ip(guest) or "")
        demo.check(entry is not None and entry.mac == lab.mac(guest),
                   f"Linux's neighbour table: {lab.ip(guest)} at {lab.mac(guest)}, got {entry}")


def bridged_arp_part(demo: Demo) -> None:
    lab = demo.lab
    demo.say("\n== part 2: ARP on a Linux bridge: guests a and b, Linux at 10.0.0.1 ==")
    demo.guest_run("a", "ifconfig eth0")
    guest_arping(demo, "a", lab.ip("b") or "", lab.mac("b"))
    guest_arping(demo, "a", "10.0.0.1", lab.peer_mac("lan0"))
    demo.guest_run("a", "arp -a")
    for guest in ("a", "b"):
        linux_arping(demo, "lan0", lab.ip(guest) or "", lab.mac(guest))
    linux_neighbours(demo, "lan0", ("a", "b"))
    demo.guest_run("b", "netstat")


def back_to_back_arp_part(demo: Demo) -> None:
    lab = demo.lab
    demo.say("\n== part 2: ARP between guests a and b, back to back ==")
    demo.guest_run("a", "ifconfig eth0")
    guest_arping(demo, "a", lab.ip("b") or "", lab.mac("b"))
    guest_arping(demo, "b", lab.ip("a") or "", lab.mac("a"))
    demo.guest_run("a", "arp -a")
    demo.guest_run("b", "netstat")


def capture_part(demo: Demo, lan: str) -> None:
    lab = demo.lab
    lab.stop_captures()   # dumpcap writes out the bridge's capture
    path = lab.lan_pcap(lan)
    lines = pcap.summary(path)
    where = "Linux's capture on the bridge" if lab.netns else "guest a's NIC, one end of the wire"
    demo.say(f"\n== capture: {len(lines)} frames on {lan} ({where}) ==")
    for line in lines:
        demo.say(line)
    problems = pcap.tshark_problems(path)
    demo.check(not problems, f"tshark finds no malformed frames or expert warnings: {problems}")
    nic_pcaps = [lab.pcap(ref.guest.name, ref.number) for ref in lab.topology.nics_on(lan)]
    demo.say(f"\npcap for Wireshark: {path}")
    demo.say(f"each guest NIC's own capture: {', '.join(str(p) for p in nic_pcaps)}")


def web_part(demo: Demo, serve_seconds: float = 0.0) -> None:
    """Guest a's httpd serves its status page; Linux's curl fetches it."""
    lab = demo.lab
    ip = lab.ip("a") or ""
    assert lab.netns is not None
    demo.say(f"\n== web: guest a's httpd on {ip}, curl from Linux ==")
    demo.guest_run("a", "httpd > /tmp/httpd.log &")
    deadline = time.monotonic() + WEB_TIMEOUT
    while "0.0.0.0:80 " not in lab.guest("a").run("netstat -tan"):
        if time.monotonic() > deadline:
            raise DemoFailed("guest a: httpd does not listen on port 80")
        time.sleep(0.2)
    head = demo.linux_run(["curl", "-sS", "-i", "--max-time", "10", f"http://{ip}/files/hello.txt"])
    demo.check(head.startswith("HTTP/1.1 200 OK"), f"curl: 200 OK from {ip}, got {head[:40]!r}")
    page = lab.peer_run(["curl", "-sS", "--max-time", "10", f"http://{ip}/"], timeout=20).stdout
    uptime = re.search(r'<p id="uptime">([^<]*)</p>', page)
    arp = re.findall(r"<tr><td>([\d.]+)</td><td>([0-9a-f:]{17})</td><td>(\w+)</td>", page)
    demo.say(f"linux# curl -s http://{ip}/   ({len(page)} bytes of HTML; from it:)")
    demo.say(f"  uptime {uptime[1] if uptime else '?'}; ARP cache: "
             + ", ".join(f"{a} at {m} {s}" for a, m, s in arp))
    demo.check(uptime is not None and "Hello from xv6net" in page,
               "the status page has the greeting and the guest's uptime")
    demo.guest_run("a", "cat /tmp/httpd.log")
    demo.say(f"\nthe page, from the namespace: sudo ip netns exec {lab.netns.name} "
             f"curl http://{ip}/   (or a browser run there: http://{ip}/)")
    if serve_seconds > 0:
        demo.say(f"serving for {serve_seconds:g} s (Ctrl-C ends it sooner)")
        time.sleep(serve_seconds)
    else:
        demo.say("(the lab goes away now: `xv6net demo --serve 600` keeps it up ten minutes)")


# ---- running it ---------------------------------------------------------------------

def demo_topology(config: DemoConfig, bridged: bool) -> Topology:
    base = topology.two_guests() if bridged else topology.back_to_back()
    guests = [replace(g, cmdline=config.append, memory_mb=config.memory_mb, cpus=config.cpus)
              for g in base.guests]
    return Topology(base.lans, guests, base.peers)


def _parts(config: DemoConfig, bridged: bool) -> list[Callable[[Demo], None]]:
    parts: list[Callable[[Demo], None]] = [lambda demo: shell_part(demo, config.steps)]
    if config.network:
        parts.append(bridged_arp_part if bridged else back_to_back_arp_part)
        parts.append(lambda demo: capture_part(demo, "lan0" if bridged else "wire"))
        if bridged:
            parts.append(lambda demo: web_part(demo, config.serve_seconds))
    return parts


def _announce(out: TextIO, lab: Lab) -> None:
    if lab.netns is not None:
        print(f"demo: two guests on a Linux bridge in network namespace {lab.netns.name}",
              file=out)
    else:
        print("demo: not running as root, so no namespace, bridge or Linux peer: two guests "
              "back to back over QEMU's stream backend on a Unix socket", file=out)


def run_demo(config: DemoConfig = DemoConfig(), out: TextIO = sys.stdout) -> int:
    """Run the demo; 0 when every step and check passed, 1 otherwise."""
    bridged = os.geteuid() == 0 if config.bridged is None else config.bridged
    lab = Lab(demo_topology(config, bridged), config.results, kernel=config.kernel,
              initramfs=config.initramfs, accel=config.accel, nic_model=config.nic_model)
    print(f"demo: booting {config.kernel} under QEMU ({config.accel}), NICs: "
          f"{nics.model(config.nic_model).title}", file=out, flush=True)
    demo = Demo(lab, out)
    try:
        with lab:
            _announce(out, lab)
            print(lab.describe(), file=out)
            print(lab.guest("a").boot_log.strip("\n"), file=out, flush=True)
            for part in _parts(config, bridged):
                part(demo)
    except (DemoFailed, pcap.PcapError, *LAB_ERRORS) as err:
        demo.failures.append(str(err))
    finally:
        _save_log(lab, config.log)
    failures = demo.failures
    if failures:
        print(f"demo: FAILED: {len(failures)} problem(s): {failures[0]}", file=out, flush=True)
        return 1
    print("demo: all steps passed; guests shut down, namespace removed"
          if bridged else "demo: all steps passed; guests shut down", file=out, flush=True)
    return 0


def _save_log(lab: Lab, log: Path | None) -> None:
    if log is not None and "a" in lab.guests:
        log.write_text(lab.guest("a").log)
        hand_over([log])
