"""The samples machinery of `xv6net docs`, without booting anything."""

import pytest

from xv6net import docs
from xv6net.docs import DocsError, Recipe, find_blocks, fold, replace_blocks, shape, wrapped

DOCUMENT = """# Title

<!-- sample: one -->
```
$ ping -c 2 10.0.2.2
64 bytes from 10.0.2.2: icmp_seq=1 ttl=255 time=0.4 ms
64 bytes from 10.0.2.2: icmp_seq=2 ttl=255 time=0.3 ms
```
<!-- /sample -->

text between

<!-- sample: two -->
```text
old
```
<!-- /sample -->
"""


def test_blocks_are_found_in_order():
    blocks = find_blocks(DOCUMENT)
    assert [b.name for b in blocks] == ["one", "two"]
    assert blocks[1].text == "old\n"
    assert blocks[0].text.startswith("$ ping -c 2")


def test_replacing_keeps_everything_else():
    new = replace_blocks(DOCUMENT, {"two": "fresh\nlines"})
    assert new == DOCUMENT.replace("```text\nold\n```", "```text\nfresh\nlines\n```")
    assert replace_blocks(DOCUMENT, {}) == DOCUMENT


def test_unclosed_block_is_an_error():
    with pytest.raises(DocsError, match="'one' has no closing"):
        find_blocks("<!-- sample: one -->\n```\ntext\n")


def test_unknown_recipe_is_an_error(tmp_path):
    path = tmp_path / "x.md"
    path.write_text(DOCUMENT)
    with pytest.raises(DocsError, match="no recipe 'one'"):
        list(docs.documents([path]))


def test_shape_masks_numbers_macs_and_repeats():
    a = "Unicast reply from 10.0.0.3 [52:54:76:36:01:00]  1.546ms\n" * 3 + "Sent 3 probes\n"
    b = "Unicast reply from 10.0.0.9 [52:54:00:12:34:56]  0.553ms\nSent 1 probes\n"
    assert shape(a) == shape(b) == ["Unicast reply from 0.0.0.0 [MAC] 0.0ms", "Sent 0 probes"]
    assert shape("time=897.975 usec") == shape("time=1.234 msec")


def test_shape_tells_a_changed_line():
    # What the README's samples drifted by: a program printing other words.
    assert shape("arping: from 0.0.0.0 eth0") != shape("ARPING 10.0.2.2 from 10.0.2.15 eth0")
    assert shape("ls\n28 112 721\n") != shape("ls\n28 112 721\nnew line\n")


def test_fold_makes_runs_one_line():
    lines = ["$ usertests", "test a: ok", "pid 9 x: trap 14", "test b: ok", "done"]
    patterns = (r"^test \S+: ok$", r"^pid \d+ \S+: trap")
    assert fold(lines, patterns) == ["$ usertests", "...", "done"]
    assert fold(["...", "test c: ok"], patterns) == ["..."]


def test_recipe_compares_shapes_in_order_or_as_sets():
    ordered = Recipe(lambda ctx: "")
    assert ordered.matches("a 1\nb 2\n", "a 7\nb 9\n")
    assert ordered.difference("a 1\nb 2\n", "b 2\na 1\n") != []
    unordered = Recipe(lambda ctx: "", ordered=False)
    assert unordered.matches("a 1\nb 2\n", "b 2\na 1\n")
    assert unordered.difference("a 1\nb 2\n", "a 1\nc 3\n") == ["- b 0", "+ c 0"]


def test_check_reports_drift_and_update_rewrites(tmp_path, monkeypatch):
    path = tmp_path / "doc.md"
    path.write_text(DOCUMENT)
    monkeypatch.setattr(docs, "RECIPES", {
        "one": Recipe(lambda ctx: "$ ping -c 2 10.0.2.2\n64 bytes from 10.0.2.2: icmp_seq=1 "
                                  "ttl=255 time=0.9 ms\n"),
        "two": Recipe(lambda ctx: "new shape\n"),
        "root": Recipe(lambda ctx: "", root=True),
    })
    report = docs.update([path], docs.Context(), check=True, as_root=False)
    assert [d.split("\n")[0] for d in report.drifted] == [f"{path}: two"]
    assert path.read_text() == DOCUMENT                 # --check writes nothing
    report = docs.update([path], docs.Context(), as_root=False)
    assert "new shape\n```" in path.read_text()
    assert report.written == [f"{path}: one", f"{path}: two"]
    assert docs.update([path], docs.Context(), check=True, as_root=False).drifted == []


def test_root_recipes_are_skipped_without_root(tmp_path, monkeypatch):
    path = tmp_path / "doc.md"
    path.write_text("<!-- sample: r -->\n```\nold\n```\n<!-- /sample -->\n")
    monkeypatch.setattr(docs, "RECIPES", {"r": Recipe(lambda ctx: "new", root=True)})
    report = docs.update([path], docs.Context(), as_root=False)
    assert report.skipped == ["r (needs root)"]
    assert "old" in path.read_text()


def test_long_command_lines_are_wrapped_with_options_kept_whole():
    text = wrapped(["qemu-system-i386", "-name", "x", "-smp", "cpus=1,sockets=1"] +
                   ["-device", "e1000,netdev=n0,mac=52:54:76:36:00:00,romfile="] * 3)
    lines = text.splitlines()
    assert all(len(line) <= docs.WRAP for line in lines)
    assert all(line.endswith(" \\") for line in lines[:-1])
    assert not any(line.rstrip(" \\").endswith(("-smp", "-device", "-name")) for line in lines)
