"""Every program in /bin against bad command lines, systematically.

For each program: -h and --help print its usage on stdout and exit 0; with no
arguments it either does its job and ends, or says what is missing; and for
every argument it takes, a matrix of bad values (garbage, negative, zero, too
big, malformed addresses and MACs, unknown interfaces...) must each be
refused: exit status 2, a first line on stderr "PROG: ..." that quotes the
bad value (or names the option), then the usage, none of the texts a program
prints when it passed junk on to the kernel ("Success", "Unknown error"...),
and all within a time limit. The list of programs comes from the guest's own
/bin, so a new program without an entry here fails the test.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest
from guestnet import INITRD, KERNEL, require_kernel

from xv6net.console import INTERRUPT_TIMEOUT
from xv6net.qemu import NicSpec, VMSpec
from xv6net.vm import VM

pytestmark = pytest.mark.e2e

TIME_LIMIT = 10.0
SLIRP_IP = "ip=10.0.2.15::10.0.2.2:255.255.255.0::eth0:off"

# What a program says when it handed an unchecked value to a system call, or
# printed errno without one having been set.
BANNED = ("Success", "Unknown error", "Bad address", "Invalid argument", "No such device",
          "Numerical argument out of domain", "Network is unreachable")

INT_HUGE = "99999999999"

# Bad values by kind of argument.
COUNT = ("abc", "-1", "0", INT_HUGE, "3x", "")
PORT = ("abc", "-1", "0", "70000", INT_HUGE, "80x")
SECONDS = ("abc", "-1", "0", INT_HUGE, "1e3", "1.5s")
ADDRESS = ("10.0.0.300", "1.2.3", "abc", "1.2.3.4.5", "-1", "10.0.0.1x")
HOST = ("10.0.0.300", "1.2.3", "1.2.3.4.5", "-1")   # names: test_unknown_hosts
MAC = ("52:54:00:zz:00:01", "52:54", "abc", "52:54:00:00:00:01:02", "5:54:00:00:00:01")
IFACE = ("eth9", "abc", "lo0")
MASK = ("255.0.255.0", "0.255.255.255", "300.0.0.0", "abc")
ETHERTYPE = ("zz", "5ff", "10000", "-1", "0x")


def sizes(low: int, high: int) -> tuple[str, ...]:
    return ("abc", "-1", str(low - 1), str(high + 1), INT_HUGE)


@dataclass(frozen=True)
class Program:
    name: str
    noargs: str                      # "runs" (exit 0), "missing" (exit 2), "refuses" (exit 1)
    slots: dict[str, tuple[str, ...]] = field(default_factory=dict)   # template -> bad values
    extra: tuple[str, ...] = ()      # more bad command lines, whole


PROGRAMS = [
    Program("arp", "runs", {
        "arp -s {} 52:54:00:00:00:01": ADDRESS,
        "arp -s 10.0.2.9 {}": MAC,
        "arp -s 10.0.2.9 52:54:00:00:00:01 -i {}": IFACE,
        "arp -d {}": ADDRESS,
        "arp -i {}": IFACE,
    }, ("arp -s 192.168.9.9 52:54:00:00:00:01", "arp -s 10.0.2.9", "arp -s -d 10.0.2.9",
        "arp 10.0.2.9", "arp -s 10.0.2.9 01:00:5e:00:00:01",
        "arp -s 127.0.0.2 52:54:00:00:00:01 -i lo")),
    Program("arping", "missing", {
        "arping -c {} 10.0.2.2": COUNT,
        "arping -w {} 10.0.2.2": SECONDS,
        "arping -I {} 10.0.2.2": IFACE,
        "arping {}": HOST,
    }, ("arping 10.0.2.2 10.0.2.3", "arping -c")),
    Program("badptr", "runs", extra=("badptr now",)),
    Program("cat", "runs"),
    Program("cp", "missing", extra=("cp /etc/hosts",)),
    Program("crash", "missing", {"crash {}": ("nosuch", "NULL", "")},
            ("crash null null",)),
    Program("df", "runs", extra=("df / /tmp",)),
    Program("dhclient", "skip", {
        "dhclient -t {} eth0": sizes(1, 3600),
        "dhclient -p {} eth0": ("abc", "-1", "11", INT_HUGE),
        "dhclient {}": (*IFACE, "lo"),
    }, ("dhclient eth0 eth1", "dhclient -t")),
    Program("echo", "runs"),
    Program("ethrecv", "missing", {
        "ethrecv -t {} eth0 88b5 1": SECONDS,
        "ethrecv {} 88b5 1": IFACE,
        "ethrecv eth0 {} 1": ETHERTYPE,
        "ethrecv -t 1 eth0 88b5 {}": COUNT,
    }, ("ethrecv eth0 88b5", "ethrecv eth0 88b5 1 2")),
    Program("ethsend", "missing", {
        "ethsend {} ff:ff:ff:ff:ff:ff 88b5 1": IFACE,
        "ethsend eth0 {} 88b5 1": MAC,
        "ethsend eth0 ff:ff:ff:ff:ff:ff {} 1": ETHERTYPE,
        "ethsend eth0 ff:ff:ff:ff:ff:ff 88b5 {}": COUNT,
        "ethsend eth0 ff:ff:ff:ff:ff:ff 88b5 1 {}": sizes(60, 1514),
    }, ("ethsend eth0 ff:ff:ff:ff:ff:ff 88b5",)),
    Program("ethtool", "missing", {
        "ethtool -k {}": IFACE,
        "ethtool -i {}": IFACE,
    }, ("ethtool eth0", "ethtool -k", "ethtool -k eth0 eth1", "ethtool -x eth0")),
    Program("forkloop", "missing", {"forkloop {}": SECONDS}, ("forkloop 1 2",)),
    Program("grep", "missing"),
    Program("host", "missing", {
        "host -W {} x": sizes(1, 60),
        "host -R {} x": sizes(1, 10),
        "host x {}": ("nothere-server",),
    }, ("host a b c",)),
    Program("httpd", "skip", {
        "httpd -p {}": PORT,
        "httpd -t {}": SECONDS,
        "httpd -n {}": sizes(1, 48),
    }, ("httpd / /tmp", "httpd -p")),
    Program("ifconfig", "runs", {
        "ifconfig {}": IFACE,
        "ifconfig eth0 {} up": ADDRESS[:2],
        "ifconfig eth0 netmask {}": MASK,
        "ifconfig eth0 mtu {}": sizes(68, 1500),
    }, ("ifconfig eth0 netmask", "ifconfig eth0 mtu", "ifconfig eth0 sideways")),
    Program("init", "refuses", extra=("init now",)),
    Program("kill", "missing", {
        "kill -s {} 99999": ("FOO", "99", "-1"),
        "kill {}": ("abc", "0", "1x", INT_HUGE),
        "kill -- {}": ("-1", "0"),
    }, ("kill -FOO 99999", "kill -s", "kill -l FOO", "kill -1")),
    Program("kprof", "missing", {"kprof start {}": sizes(2, 8192)},
            ("kprof frobnicate", "kprof stop now")),
    Program("lockstat", "runs", extra=("lockstat -x", "lockstat now", "lockstat -o extra")),
    Program("ls", "runs"),
    Program("nettrace", "runs", {"nettrace on {}": ("bogus", "icmp,", ",udp", "ICMP", "icmp,,udp")},
            ("nettrace frobnicate", "nettrace off now", "nettrace on icmp udp")),
    Program("mkdir", "missing"),
    Program("mv", "missing", extra=("mv /tmp",)),
    Program("nc", "missing", {
        "nc -u 10.0.2.2 {}": PORT,
        "nc -u {} 7": HOST,
        "nc -u -s {} 10.0.2.2 7": ADDRESS,
        "nc -u -l {}": PORT,
        "nc -u -w {} 10.0.2.2 7": SECONDS,
        "nc -u -q {} 10.0.2.2 7": SECONDS,
        "nc -u -p {} 10.0.2.2 7": PORT,
        "nc 10.0.2.2 {}": PORT,
        "nc {} 7": HOST,
        "nc -l {}": PORT,
        "nc -l -k {}": PORT,
        "nc -s {} 10.0.2.2 7": ADDRESS,
    }, ("nc -u 10.0.2.2", "nc -u -l", "nc -u 10.0.2.2 7 8", "nc 10.0.2.2", "nc -l",
        "nc -k 10.0.2.2 7", "nc 10.0.2.2 7 8")),
    Program("netstat", "runs", extra=("netstat now", "netstat -s -m", "netstat -t -s",
                                      "netstat -t now")),
    Program("ping", "missing", {
        "ping -c {} 10.0.2.2": COUNT,
        "ping -s {} -c 1 10.0.2.2": sizes(8, 16000),
        "ping -i {} -c 1 10.0.2.2": SECONDS,
        "ping -W {} -c 1 10.0.2.2": SECONDS,
        "ping {}": HOST,
    }, ("ping 10.0.2.2 10.0.2.3", "ping -c")),
    Program("polltest", "skip", {
        "polltest -t {}": ("abc", "-2", INT_HUGE, "1x"),
        "polltest -u {}": PORT,
        "polltest -n {}": COUNT,
    }, ("polltest now",)),
    Program("rm", "missing"),
    Program("rmdir", "missing"),
    Program("sysinfo", "runs", extra=("sysinfo now",)),
    Program("sysctl", "missing", {
        "sysctl -w {}": ("abc", "=1", "net.ipv4.ip_forward=abc", "net.ipv4.ip_forward=",
                         "net.ipv4.ip_forward=-1", f"net.ipv4.ip_forward={INT_HUGE}"),
    }, ("sysctl -a net.ipv4.ip_forward", "sysctl -w")),
    Program("traceroute", "missing", {
        "traceroute -m {} 10.0.2.2": sizes(1, 255),
        "traceroute -q {} 10.0.2.2": sizes(1, 10),
        "traceroute -f {} 10.0.2.2": sizes(1, 255),
        "traceroute -w {} 10.0.2.2": SECONDS,
        "traceroute -p {} 10.0.2.2": PORT,
        "traceroute 10.0.2.2 {}": sizes(28, 16000),
        "traceroute {}": HOST,
    }, ("traceroute 10.0.2.2 60 1", "traceroute -m", "traceroute -f 9 -m 8 10.0.2.2")),
    Program("route", "runs", {
        "route add -net {} netmask 255.255.255.0": ADDRESS,
        "route add -net 10.9.0.0 netmask {}": MASK,
        "route add default gw {}": ADDRESS,
        "route add default gw 10.0.2.2 dev {}": IFACE,
        "route add -host {}": ADDRESS,
    }, ("route add -net 10.9.0.1 netmask 255.255.255.0", "route add", "route frob",
        "route add default gw", "route add -net 10.9.0.0", "route add default gw 10.0.2.2 x")),
    Program("sh", "runs", extra=("sh -c", "sh /bin/ls extra")),
    Program("sha256sum", "runs"),
    Program("seq", "missing", {
        "seq {}": ("abc", "-1", INT_HUGE, "3x", ""),
        "seq {} 5": ("abc", "-1", INT_HUGE, "3x", ""),
    }, ("seq 1 2 3",)),
    Program("sizesweep", "missing", {
        "sizesweep -f {} udp": sizes(1, 16400),
        "sizesweep -l {} udp": sizes(1, 16400),
        "sizesweep {}": ("tcp", ""),
    }, ("sizesweep -f 10 -l 5 udp", "sizesweep udp icmp")),
    Program("sleep", "missing", {"sleep {}": ("abc", "-1", INT_HUGE, "1x", "")}),
    Program("sockhold", "missing", {
        "sockhold {}": ("udp:0", "udp:70000", "udp:5-2", "udp:abc", "tcp"),
        "sockhold -b {} raw": ("abc", INT_HUGE, "3x", ""),   # any int, as setsockopt takes it
    }),
    Program("sockrace", "runs", {"sockrace -n {}": COUNT}, ("sockrace now",)),
    Program("spin", "missing", {"spin {}": SECONDS}, ("spin 1 2",)),
    Program("tcpblast", "missing", {
        "tcpblast {} 9 100": HOST,
        "tcpblast 10.0.2.2 {} 100": PORT,
        "tcpblast 10.0.2.2 9 {}": ("abc", "-1", INT_HUGE, "3x", ""),
        "tcpblast -t {} 10.0.2.2 9 100": ("0", "256", "abc", "-1", ""),
    }, ("tcpblast 10.0.2.2", "tcpblast 10.0.2.2 9", "tcpblast 10.0.2.2 9 100 7")),
    Program("tcpconn", "missing", {
        "tcpconn {} 9": HOST,
        "tcpconn 10.0.2.2 {}": PORT,
        "tcpconn -t {} 10.0.2.2 9": SECONDS,
        "tcpconn -n {} 10.0.2.2 9": ("abc", "-1", "0", INT_HUGE, "3x", ""),
        "tcpconn -s {} 10.0.2.2 9": ("abc", "-1", "0", "1025", INT_HUGE, ""),
    }, ("tcpconn 10.0.2.2", "tcpconn 10.0.2.2 9 7")),
    Program("tcpecho", "missing", {
        "tcpecho {}": PORT,
        "tcpecho -n {} 7": COUNT,
    }, ("tcpecho 7 8",)),
    Program("tcpsink", "missing", {"tcpsink {}": PORT}, ("tcpsink 7 8", "tcpsink -x 7")),
    Program("udpblast", "missing", {
        "udpblast -n {} 10.0.2.2 9": COUNT,
        "udpblast -s {} 10.0.2.2 9": sizes(4, 1472),
        "udpblast {} 9": ADDRESS,
        "udpblast 10.0.2.2 {}": PORT,
    }, ("udpblast 10.0.2.2",)),
    Program("udpecho", "missing", {"udpecho {}": PORT}, ("udpecho 7 8",)),
    Program("sysfuzz", "skip", {
        "sysfuzz -n {}": COUNT,
        "sysfuzz -l {}": COUNT,
        "sysfuzz -s {}": ("abc", "-1", INT_HUGE, "3x", ""),
    }, ("sysfuzz now", "sysfuzz -x")),
    Program("touch", "missing"),
    Program("udpsink", "missing", {
        "udpsink -n {} 9": COUNT,
        "udpsink -t {} 9": COUNT,
        "udpsink -w {} 9": COUNT,
        "udpsink {}": PORT,
    }),
    Program("usertests", "skip", {"usertests {}": ("nosuch", "")}),
    Program("wc", "runs"),
    Program("wget", "missing", {"wget -T {} http://x/": SECONDS},
            ("wget http://a/ http://b/", "wget -O")),
]
BY_NAME = {p.name: p for p in PROGRAMS}


@dataclass
class Result:
    command: str
    output: str
    status: int | None               # None: it had to be interrupted


def quoted(value: str) -> str:
    return f"'{value}'" if value else "''"


def shell_word(value: str) -> str:
    return value if value else "''"


@pytest.fixture(scope="module")
def shell(tmp_path_factory):
    """One guest for the whole module, as `make qemu` boots it."""
    require_kernel()
    spec = VMSpec(kernel=KERNEL, initramfs=INITRD, cmdline=SLIRP_IP, nics=[NicSpec("user")])
    with VM(spec, logfile=tmp_path_factory.mktemp("args") / "console.log") as vm:
        vm.wait_for_shell(30)
        yield vm


def run(vm: VM, command: str, stdout: bool = False) -> Result:
    """command with stdin from /dev/null (and stdout too unless asked for),
    its output and exit status; a ^C if it runs past the time limit."""
    redirect = "" if stdout else " > /dev/null"
    try:
        out = vm.run(f"{command} < /dev/null{redirect}; echo status=$?", timeout=TIME_LIMIT)
    except TimeoutError:
        return Result(command, vm.console.interrupt(INTERRUPT_TIMEOUT), None)
    match = re.search(r"status=(-?\d+)\n$", out)
    assert match, f"{command}: no status in {out!r}"
    return Result(command, out[:match.start()], int(match[1]))


def usage_error_problems(program: str, result: Result, value: str | None) -> list[str]:
    """What is wrong with the way a bad command line was refused."""
    problems = []
    lines = result.output.splitlines()
    if result.status is None:
        return [f"did not end within {TIME_LIMIT:g} s"]
    if result.status != 2:
        problems.append(f"exit status {result.status}, want 2")
    if not lines or not lines[0].startswith(f"{program}: "):
        problems.append(f"first line does not start with '{program}: '")
    elif value is not None and quoted(value) not in lines[0] and not (
            value.startswith("-") and quoted(value[1:]) in lines[0]) and not (
            value.startswith("-") and f"-- '{value[1:2]}'" in lines[0]):
        problems.append(f"first line does not quote the bad value {quoted(value)}")
    if not any(line.startswith("usage: ") for line in lines[1:]):
        problems.append("no usage after the message")
    problems += [f"says {text!r}" for text in BANNED if text in result.output]
    return problems


def bad_command_lines(program: Program) -> list[tuple[str, str | None]]:
    """(command, the bad value it must name or None) for every bad value."""
    cases: list[tuple[str, str | None]] = []
    for template, values in program.slots.items():
        cases += [(template.format(shell_word(v)), v) for v in values]
    cases += [(line, None) for line in program.extra]
    if program.name != "echo":
        cases.append((f"{program.name} -Z", "-Z"))
    return cases


def test_every_program_is_covered(shell):
    names = {line.split()[0] for line in shell.run("ls /bin").splitlines()[2:] if line.strip()}
    assert names == set(BY_NAME), "programs in /bin without an entry here, or gone"


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_help(shell, name):
    if name == "echo":   # as GNU echo: only --help alone; -h is printed
        assert run(shell, "echo -h", stdout=True).output == "-h\n"
        flags = ["--help"]
    else:
        flags = ["-h", "--help"]
    for flag in flags:
        shown = run(shell, f"{name} {flag}", stdout=True)
        assert shown.status == 0 and shown.output.startswith(f"usage: {name}"), shown
        hidden = run(shell, f"{name} {flag}")            # all of it went to stdout
        assert (hidden.status, hidden.output) == (0, ""), hidden


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_no_arguments(shell, name):
    program = BY_NAME[name]
    if program.noargs == "skip":
        pytest.skip(f"{name} with no arguments is a long run, which its own test makes")
    result = run(shell, name)
    if program.noargs == "runs":
        assert result.status == 0, result
    elif program.noargs == "refuses":
        assert result.status == 1 and result.output.startswith(f"{name}: "), result
    else:
        assert usage_error_problems(name, result, None) == [], result
        assert "missing" in result.output.splitlines()[0], result
    assert not any(text in result.output for text in BANNED), result


@pytest.mark.timeout(300)
@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_bad_values(shell, name):
    failures = []
    for command, value in bad_command_lines(BY_NAME[name]):
        result = run(shell, command)
        problems = usage_error_problems(name, result, value)
        if problems:
            failures.append(f"{command}: {'; '.join(problems)}\n{result.output}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(("command", "status", "message"), [
    ("ping -c 1 nothere.invalid", 2, "ping: nothere.invalid: "),
    ("arping -c 1 nothere.invalid", 2, "arping: nothere.invalid: "),
    ("traceroute nothere.invalid", 2, "nothere.invalid: "),
    ("echo x | nc -u nothere.invalid 7", 1, 'nc: getaddrinfo for host "nothere.invalid" port 7: '),
])
def test_unknown_hosts(shell, command, status, message):
    """A name that does not resolve is said as the Linux tools say it."""
    result = run(shell, command)
    assert result.status == status and result.output.startswith(message), result
    assert not any(text in result.output for text in BANNED), result


def test_nothing_changed(shell):
    """All those refusals left the guest's network as it was."""
    assert "inet 10.0.2.15  netmask 255.255.255.0" in shell.run("ifconfig eth0")
    routes = shell.run("route").splitlines()[2:]
    assert [r.split()[:3] for r in routes] == [
        ["10.0.2.0", "0.0.0.0", "255.255.255.0"], ["0.0.0.0", "10.0.2.2", "0.0.0.0"]]
    assert "PERM" not in shell.run("arp -a")
