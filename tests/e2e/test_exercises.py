"""The exercises are real (issue 18, docs/exercises.md): the full tree passes
every grader, and for every exercise the tree with that exercise stubbed out
builds (-Werror) and fails its grader; and everything not tied to the exercise
still works there: its host tests, and the end-to-end checks of E2E_CHECKS in
a guest booted from it. What is tied to an exercise (may fail, and for the
checks must fail) is its graded tests and its `affects` in the side table.

Each stripped tree is made once (the `trees` fixture) from a copy of this
tree's build directory, so that make recompiles only the stubbed file, and
built with `make all host-tests`; its grader runs with -x (stop at the first
failing test), host tests before QEMU tests. The trees' guests boot a few at
a time (`checked`), once every tree is made and graded.
"""

import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from xv6net import exercise, topology
from xv6net.exercise import E2E, E2E_CHECKS, EXERCISES
from xv6net.qemu import NicSpec, VMSpec
from xv6net.vm import VM

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
BUILT = ("kernel", "user", "host", "kernel.elf", "initramfs.cpio")   # from make all host-tests
SCORE = re.compile(r"^Score: (\d+)/(\d+)$", re.MULTILINE)
RESULT = re.compile(r"^(ok  |FAIL) (test_\w+)$", re.MULTILINE)
BOOT_TIMEOUT = 30.0


def run_grader(tree: Path, name: str, *extra: str) -> tuple[int, str]:
    proc = subprocess.run([sys.executable, "-m", "xv6net", "grade", name, "--tree", str(tree),
                           *extra], cwd=tree, capture_output=True, text=True, timeout=900,
                          check=False)
    return proc.returncode, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def built() -> Path:
    for name in BUILT:
        if not (ROOT / "build" / name).exists():
            pytest.skip(f"build/{name} is missing: run `make all host-tests` first")
    return ROOT / "build"


@pytest.mark.parametrize("name", list(EXERCISES))
def test_the_full_tree_passes_the_grader(built, name):
    status, out = run_grader(ROOT, name)
    total = sum(t.points for t in EXERCISES[name].tests)
    assert (status, SCORE.findall(out)) == (0, [(str(total), str(total))]), out
    assert out.count(": OK (") == 1 + len(EXERCISES[name].tests), out   # make and each test


@dataclass(frozen=True)
class Stripped:
    """A tree with one exercise stubbed out, and how `make all host-tests` went."""

    name: str
    tree: Path
    made: bool
    make_output: str


class Trees:
    """The stripped trees, each made and built once, when first asked for."""

    def __init__(self, built: Path, base: Path) -> None:
        self.built, self.base = built, base
        self.trees: dict[str, Stripped] = {}

    def get(self, name: str) -> Stripped:
        if name not in self.trees:
            self.trees[name] = self._make(name)
        return self.trees[name]

    def _make(self, name: str) -> Stripped:
        tree = self.base / name
        exercise.make_tree(ROOT, name, tree)
        (tree / "build").mkdir()
        for item in BUILT:   # copies keep their times: only the stubbed file is newer
            src = self.built / item
            if src.is_dir():
                shutil.copytree(src, tree / "build" / item, symlinks=True)
            else:
                shutil.copy2(src, tree / "build" / item)
        for region in exercise.scan(tree)[name]:
            assert "TODO" in (tree / region.path).read_text().splitlines()[region.begin + 1]
        make = subprocess.run(["make", "-s", "-j2", *exercise.BUILD_TARGETS], cwd=tree,
                              capture_output=True, text=True, timeout=600, check=False)
        return Stripped(name, tree, make.returncode == 0, make.stdout + make.stderr)


@pytest.fixture(scope="module")
def trees(built, tmp_path_factory) -> Trees:
    return Trees(built, tmp_path_factory.mktemp("labs"))


@pytest.mark.parametrize("name", list(EXERCISES))
def test_the_stripped_tree_builds_and_fails_its_grader(trees, name):
    stripped = trees.get(name)
    assert stripped.made, stripped.make_output      # the stub compiles with -Werror
    status, out = run_grader(stripped.tree, name, "-x")
    assert "make: OK" in out, out
    (score, total), = SCORE.findall(out)
    assert status == 1 and int(score) < int(total), out
    assert re.search(r": FAIL \(", out), out          # a test failed, not merely did not run


@pytest.mark.parametrize("name", list(EXERCISES))
def test_the_stripped_trees_other_host_tests_still_pass(trees, name):
    """Stubbing one exercise out breaks only what is tied to it: every host
    test (tests/host) that is neither graded for it nor in its `affects`
    passes, and at least one tied test fails."""
    stripped = trees.get(name)
    assert stripped.made, stripped.make_output
    ex = EXERCISES[name]
    untied_failures, tied_failures, ran = [], [], 0
    for binary in sorted((stripped.tree / "build" / "host").glob("test_*")):
        if not binary.is_file():
            continue
        proc = subprocess.run([str(binary)], cwd=stripped.tree, capture_output=True, text=True,
                              timeout=300, check=False)
        results = RESULT.findall(proc.stdout)
        assert results, f"{binary.name}: no results\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}"
        ran += len(results)
        for verdict, test in results:
            if verdict == "FAIL":
                tied = ex.tied(binary.name, test)
                (tied_failures if tied else untied_failures).append(f"{binary.name}:{test}")
    assert untied_failures == [], untied_failures
    assert ran > 50   # every host test ran (78 when this was written)
    if any("test_host" in t.nodeid for t in ex.tests):
        assert tied_failures, "no host test tied to the exercise failed"


# ---- the end-to-end checks (E2E_CHECKS) ------------------------------------------------
#
# Each check runs a few shell commands in the guest and returns its results:
# a name (the check's, or usertests:TEST) and None when it passed, or the
# output that shows why not. A check that hangs (a connect nobody answers) is
# interrupted with ^C after its timeout, so the next one has a shell.

Results = dict[str, str | None]
CHECK_TIMEOUT = 10.0
USERTESTS_TIMEOUT = 120.0                   # 3 s on an idle machine
SERVER_TIMEOUT = 5.0                        # for a background server to say it listens
NOTICE = re.compile(r"^\[\d+\]  \S.*\n", re.MULTILINE)   # the shell's "[1]  Done  cmd"
UDP_PORT, TCP_PORT = 7777, 7778
GATEWAY = "10.0.2.2"


def attempt(vm: VM, command: str, timeout: float = CHECK_TIMEOUT) -> str:
    """command's output, without the shell's job notices; after a timeout, ^C
    and what it had printed, marked as such."""
    try:
        return NOTICE.sub("", vm.run(command, timeout))
    except TimeoutError:
        return f"(no prompt within {timeout:g} s: ^C)\n" + vm.console.interrupt()


def wait_in_file(vm: VM, path: str, text: str, timeout: float = SERVER_TIMEOUT) -> str:
    """The guest file at path once text is in it (or when the time is up): a
    server in the background writes there, not on the console we type on."""
    deadline = time.monotonic() + timeout
    while True:
        out = vm.run(f"cat {path}")
        if text in out or time.monotonic() > deadline:
            return out


def start_server(vm: VM, command: str, log: str) -> str:
    vm.run(f"{command} > {log} &")
    return wait_in_file(vm, log, "listening on port")


def passed(ok: bool, evidence: str) -> str | None:
    return None if ok else evidence or "(no output)"


def check_shell(vm: VM) -> Results:
    out = attempt(vm, "echo hello from the shell | cat")
    return {"shell": passed(out == "hello from the shell\n", out)}


def check_usertests(vm: VM) -> Results:
    out = attempt(vm, "usertests", USERTESTS_TIMEOUT)
    results: Results = {f"usertests:{name}": passed(verdict == "ok", f"test {name}: {verdict}")
                        for name, verdict in re.findall(r"^test ([\w-]+): (.*)$", out, re.M)}
    summary = re.search(r"^usertests: (\d+) tests, \d+ failed", out, re.M)
    finished = summary is not None and int(summary[1]) == len(results) > 0
    results["usertests"] = passed(finished, out[-2000:])   # it ran to its end
    return results


def check_ping_lo(vm: VM) -> Results:
    out = attempt(vm, "ping -c 2 -i 0.2 127.0.0.1")
    return {"ping-lo": passed("2 packets transmitted, 2 received" in out, out)}


def check_udp_lo(vm: VM) -> Results:
    log = start_server(vm, f"udpecho {UDP_PORT}", "/tmp/udpecho.out")
    out = attempt(vm, f"echo over udp | nc -u -w 1 127.0.0.1 {UDP_PORT}")
    return {"udp-lo": passed(out == "over udp\n", f"{log}{out}")}


def check_tcp_lo(vm: VM) -> Results:
    log = start_server(vm, f"tcpecho -n 1 {TCP_PORT}", "/tmp/tcpecho.out")
    out = attempt(vm, f"echo over tcp | nc 127.0.0.1 {TCP_PORT}")
    if out == "over tcp\n":   # and the server saw the 9 bytes and the close
        log = wait_in_file(vm, "/tmp/tcpecho.out", "closed after 9 bytes")
        return {"tcp-lo": passed("closed after 9 bytes" in log, log)}
    return {"tcp-lo": passed(False, f"{log}{out}")}


def check_ping_gateway(vm: VM) -> Results:
    # -W 3: QEMU's e1000 holds received frames for a second after the driver's
    # RCTL write at boot (docs/e1000.md); they come late, not never.
    out = attempt(vm, f"ping -c 2 -i 0.2 -W 3 {GATEWAY}")
    return {"ping-gateway": passed("2 packets transmitted, 2 received" in out, out)}


CHECKS: dict[str, Callable[[VM], Results]] = {
    "shell": check_shell,
    "usertests": check_usertests,
    "ping-lo": check_ping_lo,
    "udp-lo": check_udp_lo,
    "tcp-lo": check_tcp_lo,
    "ping-gateway": check_ping_gateway,
}


def run_checks(vm: VM) -> Results:
    results: Results = {}
    for check in CHECKS.values():
        results |= check(vm)
    return results


def misplaced(name: str, results: Results) -> list[str]:
    """What the results say against exercise name's `affects`: a result that
    failed but is not tied to it, or an entry of its affects that no failing
    result answers to (a stale entry would hide a regression)."""
    ex = EXERCISES[name]
    failed = [r for r, why in results.items() if why is not None]
    wrong = [f"{r} failed, not tied to {name}:\n{results[r]}" for r in failed
             if not ex.tied_check(r)]
    for entry in (a.removeprefix(E2E) for a in ex.affects if a.startswith(E2E)):
        if not any(r == entry or r.startswith(entry + ":") for r in failed):
            wrong.append(f"{E2E}{entry} is in {name}'s affects but passed")
    return wrong


def test_every_check_is_implemented():
    assert list(CHECKS) == list(E2E_CHECKS)


CHECKED_TEST = "test_the_stripped_tree_boots_and_passes_the_checks_not_tied_to_it"
PARALLEL_BOOTS = 3   # guests at once: the checks mostly wait (timeouts), little CPU


def boot_and_check(stripped: Stripped, logdir: Path) -> Results:
    """Boot the stripped tree's kernel on SLiRP and run every check in it."""
    build = stripped.tree / "build"
    spec = VMSpec(kernel=build / "kernel.elf", initramfs=build / "initramfs.cpio",
                  nics=[NicSpec("user")],   # SLiRP, restrict=on
                  cmdline=topology.kernel_cmdline(topology.slirp(), "a"))
    with VM(spec, logfile=logdir / f"{stripped.name}-console.log") as vm:
        vm.wait_for_shell(BOOT_TIMEOUT)
        return run_checks(vm)


@pytest.fixture(scope="module")
def checked(request, trees, tmp_path_factory) -> dict[str, Future[Results]]:
    """The checks' results for every stripped tree whose check test is to
    run: the trees are made one after the other, then booted and checked a
    few at a time (independent guests on their own SLiRP, no root)."""
    names = [n for n in EXERCISES if any(
        item.originalname == CHECKED_TEST and item.callspec.params.get("name") == n
        for item in request.session.items if isinstance(item, pytest.Function))]
    ready = {n: trees.get(n) for n in names}
    logdir = tmp_path_factory.mktemp("consoles")
    with ThreadPoolExecutor(PARALLEL_BOOTS) as pool:
        futures = {n: pool.submit(boot_and_check, t, logdir)
                   for n, t in ready.items() if t.made}
    return futures   # all done: leaving the pool waited for them


@pytest.mark.timeout(900)   # the first one's setup boots every tree (49 s on an idle machine)
@pytest.mark.parametrize("name", list(EXERCISES))
def test_the_stripped_tree_boots_and_passes_the_checks_not_tied_to_it(checked, trees, name):
    """A guest booted from the stripped tree on SLiRP passes every end-to-end
    check that the exercise's `affects` does not name, and fails those it does."""
    stripped = trees.get(name)
    assert stripped.made, stripped.make_output
    results = checked[name].result()   # the boot's exception, if it did not boot
    assert "usertests:polludp" in results and "ping-gateway" in results   # they all ran
    wrong = misplaced(name, results)
    assert not wrong, "\n".join(wrong)


def test_a_wrong_affects_is_caught():
    """The check above can fail: results as udp-demux's tree gives them, judged
    against its affects, against an affects that misses a broken check, and
    against one that names a check that works."""
    results: Results = {"shell": None, "usertests": None, "usertests:pipe": None,
                        "usertests:polludp": "test polludp: FAILED", "ping-lo": None,
                        "udp-lo": "(no prompt)", "tcp-lo": None, "ping-gateway": None}
    assert misplaced("udp-demux", results) == []
    assert misplaced("tcp-handshake", results) != []        # udp-lo, polludp not tied
    assert misplaced("icmp-echo", results) != []            # and ping-lo passed
    assert misplaced("arp-reply", {**results, "usertests:polludp": None,
                                   "udp-lo": None}) == []
