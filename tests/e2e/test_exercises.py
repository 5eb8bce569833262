"""The exercises are real (issue 18, docs/exercises.md): the full tree passes
every grader, and for every exercise the tree with that exercise stubbed out
builds (-Werror), boots to the shell, and fails its grader; and its other
host tests, those not tied to the exercise (graded, or in its `affects`), still
pass.

Each stripped tree starts from a copy of this tree's build directory, so that
make recompiles only the stubbed file; the graders run with -x (stop at the
first failing test), and their host tests come before their QEMU tests.
"""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from xv6net import exercise
from xv6net.exercise import EXERCISES
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


@pytest.mark.parametrize("name", list(EXERCISES))
def test_the_stripped_tree_builds_boots_and_fails_its_grader(built, name, tmp_path):
    tree = tmp_path / "lab"
    exercise.make_tree(ROOT, name, tree)
    (tree / "build").mkdir()
    for item in BUILT:   # copies keep their times: only the stubbed file is newer
        src = built / item
        if src.is_dir():
            shutil.copytree(src, tree / "build" / item, symlinks=True)
        else:
            shutil.copy2(src, tree / "build" / item)
    for region in exercise.scan(tree)[name]:
        assert "TODO" in (tree / region.path).read_text().splitlines()[region.begin + 1]

    status, out = run_grader(tree, name, "-x")
    assert "make: OK" in out, out                     # the stub compiles with -Werror
    (score, total), = SCORE.findall(out)
    assert status == 1 and int(score) < int(total), out
    assert re.search(r": FAIL \(", out), out          # a test failed, not merely did not run

    spec = VMSpec(kernel=tree / "build" / "kernel.elf",
                  initramfs=tree / "build" / "initramfs.cpio", nics=[NicSpec("user")])
    with VM(spec, logfile=tmp_path / "console.log") as vm:
        vm.wait_for_shell(BOOT_TIMEOUT)
        assert vm.run("echo booted").strip() == "booted"


def stripped_tree(root: Path, name: str, tmp_path: Path, items: tuple[str, ...]) -> Path:
    """The tree with exercise name stubbed out, its build/ a copy of items."""
    tree = tmp_path / "lab"
    exercise.make_tree(root, name, tree)
    (tree / "build").mkdir()
    for item in items:   # copies keep their times: only the stubbed file is newer
        src = root / "build" / item
        if src.is_dir():
            shutil.copytree(src, tree / "build" / item, symlinks=True)
        else:
            shutil.copy2(src, tree / "build" / item)
    return tree


@pytest.mark.parametrize("name", list(EXERCISES))
def test_the_stripped_trees_other_host_tests_still_pass(built, name, tmp_path):
    """Stubbing one exercise out breaks only what is tied to it: every host
    test (tests/host) that is neither graded for it nor in its `affects`
    passes, and at least one tied test fails."""
    tree = stripped_tree(ROOT, name, tmp_path, ("host",))
    make = subprocess.run(["make", "-s", "-j2", "host-tests"], cwd=tree, capture_output=True,
                          text=True, timeout=600, check=False)
    assert make.returncode == 0, make.stdout + make.stderr
    ex = EXERCISES[name]
    untied_failures, tied_failures, ran = [], [], 0
    for binary in sorted((tree / "build" / "host").glob("test_*")):
        if not binary.is_file():
            continue
        proc = subprocess.run([str(binary)], cwd=tree, capture_output=True, text=True,
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
