"""The exercise markers' parser, the side table, and the tree writer
(src/xv6net/exercise.py); no QEMU. tests/e2e/test_exercises.py builds, boots
and grades the trees."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from xv6net import exercise
from xv6net.exercise import EXERCISES, Exercise, ExerciseError, GradedTest, parse_regions

ROOT = Path(__file__).resolve().parents[2]

SOURCE = """\
int
f(int x)
{
  // EXERCISE(double): return twice x
  int y = x * 2;
  return y;
  // END EXERCISE
}

void
g(void)
{
  if (1) {
    // EXERCISE(double): say hello
    hello();
    // END EXERCISE
  }
}
"""


def test_regions_are_found_with_their_lines_and_indent():
    regions = parse_regions(SOURCE, "a.c")
    assert [(r.name, r.description, r.begin, r.end, r.indent) for r in regions] == [
        ("double", "return twice x", 3, 6, "  "),
        ("double", "say hello", 13, 15, "    "),
    ]


@pytest.mark.parametrize(("text", "why"), [
    ("// EXERCISE(a): x\n// EXERCISE(b): y\n// END EXERCISE\n", "inside the region"),
    ("// END EXERCISE\n", "without an EXERCISE"),
    ("// EXERCISE(a): x\nint y;\n", "without an END"),
    ("// EXERCISE(a) no colon\n// END EXERCISE\n", "malformed marker"),
    ("// EXERCISE(Bad_Name): x\n// END EXERCISE\n", "malformed marker"),
    ("// EXERCISE(a):\n// END EXERCISE\n", "malformed marker"),
    ("  //END EXERCISE\n", "malformed marker"),
])
def test_malformed_markers_are_refused_with_their_line(text, why):
    with pytest.raises(ExerciseError, match=why) as err:
        parse_regions(text, "k.c")
    assert str(err.value).startswith("k.c:")


def test_stripping_replaces_only_the_bodies_and_keeps_the_markers():
    regions = parse_regions(SOURCE, "a.c")
    out = exercise.stripped(SOURCE, regions, ["return -1;\n", "// nothing\n\n(void)0;"])
    assert out == SOURCE.replace("  int y = x * 2;\n  return y;\n", "  return -1;\n").replace(
        "    hello();\n", "    // nothing\n\n    (void)0;\n")
    assert [(r.begin, r.end) for r in parse_regions(out, "a.c")] == [(3, 5), (12, 16)]


def test_the_tree_and_the_table_agree():
    found = exercise.scan(ROOT)
    exercise.check_table(found)        # raises if not
    assert len(EXERCISES) >= 6
    for name, regions in found.items():
        assert all(r.description for r in regions), name
        assert EXERCISES[name].tests and EXERCISES[name].reading, name


def test_every_graded_test_exists():
    ids = sorted({t.nodeid for ex in EXERCISES.values() for t in ex.tests})
    proc = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q",
                           "-p", "no:cacheprovider", *ids], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    collected = {line for line in proc.stdout.splitlines() if "::" in line}
    assert collected == set(ids)


def test_every_affected_host_test_and_check_exists():
    """An exercise's `affects` names host test files or tests that exist, or
    end-to-end checks of E2E_CHECKS (or one of usertests' tests)."""
    tests = {}
    for path in (ROOT / "tests" / "host").glob("test_*.c"):
        tests[path.stem] = set(re.findall(r"^\s*TEST\((test_\w+)\)", path.read_text(), re.M))
    usertests = set(re.findall(r'^\s*\{ "([\w-]+)", \w+ \},$',
                               (ROOT / "user" / "usertests.c").read_text(), re.M))
    assert {"getpid", "polludp", "select"} <= usertests
    for ex in EXERCISES.values():
        for entry in ex.affects:
            if entry.startswith(exercise.E2E):
                check, _, test = entry.removeprefix(exercise.E2E).partition(":")
                assert check in exercise.E2E_CHECKS, (ex.name, entry)
                assert not test or (check == "usertests" and test in usertests), (ex.name, entry)
                continue
            source, _, test = entry.partition(":")
            assert source in tests, (ex.name, entry)
            assert not test or test in tests[source], (ex.name, entry)
    tcp = EXERCISES["tcp-rexmt"]
    assert tcp.tied("test_tcp", "test_retransmission_backs_off_until_etimedout")   # graded
    assert tcp.tied("test_tcp", "test_a_zero_window_is_probed_with_backoff_and_reopened")
    assert not tcp.tied("test_tcp", "test_passive_open_is_exact_and_accept_gives_the_peer")
    assert EXERCISES["ip-input"].tied("test_udp", "test_loopback_delivers_to_ourselves")
    udp = EXERCISES["udp-demux"]
    assert udp.tied_check("udp-lo") and udp.tied_check("usertests:polludp")
    assert not udp.tied_check("usertests:pipe") and not udp.tied_check("tcp-lo")
    assert not udp.tied("e2e", "udp-lo")   # a check is not a host test
    assert not any(ex.tied_check("shell") for ex in EXERCISES.values())


def test_a_table_that_disagrees_with_the_markers_is_refused(monkeypatch):
    found = {"double": parse_regions(SOURCE, "a.c")}
    monkeypatch.setattr(exercise, "EXERCISES", {})
    with pytest.raises(ExerciseError, match="not in"):
        exercise.check_table(found)
    monkeypatch.setattr(exercise, "EXERCISES", {"double": fake(("x\n",))})
    with pytest.raises(ExerciseError, match="2 regions marked but 1 stubs"):
        exercise.check_table(found)
    monkeypatch.setattr(exercise, "EXERCISES", {"double": fake(("x\n", "y\n")),
                                                "other": fake(("z\n",))})
    with pytest.raises(ExerciseError, match="no regions marked for: other"):
        exercise.check_table(found)


def fake(stubs: tuple[str, ...]) -> Exercise:
    return Exercise("double", stubs, "Double it.", "RFC 0",
                    (GradedTest("tests/x.py::test_x", 10, "x"),))


@pytest.fixture
def tree(tmp_path, monkeypatch) -> Path:
    """A git tree with one marked file, one tracked file, one untracked file."""
    root = tmp_path / "src"
    (root / "kernel").mkdir(parents=True)
    (root / "kernel" / "a.c").write_text(SOURCE)
    (root / "Makefile").write_text("all:\n")
    (root / "notes.txt").write_text("untracked\n")
    for argv in (["git", "init", "-q"], ["git", "add", "kernel/a.c", "Makefile"]):
        subprocess.run(argv, cwd=root, check=True, capture_output=True)
    monkeypatch.setattr(exercise, "EXERCISES", {"double": fake(("return -1;\n", "\n"))})
    return root


def test_make_tree_copies_tracked_files_and_stubs_one_exercise(tree, tmp_path):
    dest = tmp_path / "lab"
    exercise.make_tree(tree, "double", dest)
    assert sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()) == [
        "HANDOUT.md", "Makefile", "kernel/a.c"]
    text = (dest / "kernel" / "a.c").read_text()
    assert "int y = x * 2" not in text and "hello();" not in text
    assert "  return -1;\n" in text
    assert text.count("// EXERCISE(double)") == 2
    handout = (dest / "HANDOUT.md").read_text()
    assert handout.startswith("# Exercise double: return twice x\n")
    assert "Double it." in handout and "RFC 0" in handout and "tests/x.py::test_x" in handout
    assert "`kernel/a.c`, lines 4-6: return twice x" in handout
    assert "xv6net grade double" in handout
    assert (tree / "kernel" / "a.c").read_text() == SOURCE      # the source is untouched


def test_make_tree_refuses_an_unknown_exercise_or_a_used_directory(tree, tmp_path):
    with pytest.raises(ExerciseError, match="no exercise 'triple'"):
        exercise.make_tree(tree, "triple", tmp_path / "lab")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("")
    with pytest.raises(ExerciseError, match="not an empty directory"):
        exercise.make_tree(tree, "double", tmp_path / "full")


def test_grade_needs_a_tree(tmp_path):
    with pytest.raises(ExerciseError, match="not inside an xv6net tree"):
        exercise.find_root(tmp_path)


def test_junit_keys_match_node_ids():
    assert exercise._junit_key("tests/unit/test_host.py::test_host_case[test_arp-test_x]") == (
        "tests.unit.test_host", "test_host_case[test_arp-test_x]")


def test_the_cli_lists_the_exercises():
    proc = subprocess.run([sys.executable, "-m", "xv6net", "exercise", "list"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    names = [line.split()[0] for line in proc.stdout.splitlines()]
    assert names == list(EXERCISES)
    assert "arp-reply     answer an ARP request for our address (kernel/net/arp.c)" \
        in proc.stdout                        # the names in a column as wide as the longest
