"""The writable root file system from the shell: redirection, the file tools,
/proc/cmdline, and running out of space (ENOSPC) and getting it back."""

import re

import pytest

pytestmark = pytest.mark.e2e

FS_TESTS = ("create", "append", "lseek", "truncate", "unlink", "mkdir", "rename", "cowfile",
            "bigfile", "enospc", "inodes", "dirchange", "getrandom")
DF_LINE = re.compile(r"^rootfs\s+(?P<total>\d+)\s+(?P<used>\d+)\s+(?P<avail>\d+)"
                     r"\s+(?P<pct>\d+)% /$", re.MULTILINE)


def df(vm) -> dict[str, int]:
    out = vm.run("df")
    match = DF_LINE.search(out)
    assert match, out
    return {key: int(value) for key, value in match.groupdict().items()}


def test_redirection_creates_truncates_and_appends(guest):
    assert guest.run("echo one > /tmp/f; echo two >> /tmp/f; cat /tmp/f") == "one\ntwo\n"
    assert guest.run("echo three > /tmp/f; cat /tmp/f") == "three\n"
    assert guest.run("cat < /tmp/f | wc").split() == ["1", "1", "6"]
    assert guest.run("echo x > /nodir/f") == "sh: /nodir/f: No such file or directory\n"
    assert guest.run("echo x > /bin") == "sh: /bin: Is a directory\n"


def test_file_tools(guest):
    assert guest.run("mkdir -p /tmp/a/b/c; touch /tmp/a/b/c/f; echo hi > /tmp/a/g") == ""
    assert guest.run("mv /tmp/a/g /tmp/a/b; cp /tmp/a/b/g /tmp/a/h; cat /tmp/a/h /tmp/a/b/g") == \
        "hi\nhi\n"
    assert guest.run("rmdir /tmp/a") == "rmdir: failed to remove '/tmp/a': Directory not empty\n"
    assert guest.run("rm /tmp/a") == "rm: cannot remove '/tmp/a': Is a directory\n"
    assert guest.run("mkdir /tmp/a") == \
        "mkdir: cannot create directory '/tmp/a': File exists\n"
    assert guest.run("rm -r /tmp/a; ls /tmp | wc").split()[0] == "2"   # . and .. only
    assert guest.run("rm /tmp/nothere") == \
        "rm: cannot remove '/tmp/nothere': No such file or directory\n"
    assert guest.run("rm -f /tmp/nothere") == ""


def test_a_copied_program_runs(guest):
    assert guest.run("cp /bin/echo /tmp/myecho; /tmp/myecho from a file of pages") == \
        "from a file of pages\n"


def test_proc_cmdline_is_the_kernel_command_line(boot, guest_spec):
    vm = boot(guest_spec(cmdline="hello=world quiet"))
    assert vm.run("cat /proc/cmdline").endswith("hello=world quiet\n")


def test_file_system_usertests_pass_on_a_small_file_system(boot, guest_spec):
    vm = boot(guest_spec(cmdline="rootfs.size=300k"))
    assert df(vm)["total"] == 300 - 300 % 4
    out = vm.run("usertests " + " ".join(FS_TESTS), timeout=120)
    for name in FS_TESTS:
        assert f"test {name}: ok" in out, out
    assert "ALL TESTS PASSED" in out, out


def test_shell_fills_the_file_system_to_enospc_and_recovers(boot, guest_spec):
    vm = boot(guest_spec(cmdline="rootfs.size=256k"))
    before = df(vm)
    assert (before["total"], before["used"]) == (256, 0)
    # A program appended until it does not fit. /bin/usertests (about 250
    # KiB, once about 170) fills the file system in one append or two: the
    # file system's size, not the program's, decides what lands.
    for _ in range(3):
        out = vm.run("cat /bin/usertests >> /tmp/fill")
        if out:
            break
    assert out == "cat: write: No space left on device\n"
    full = df(vm)
    assert (full["used"], full["avail"], full["pct"]) == (256, 0, 100)
    # 63 pages of data and the file's indirect page: every page was used.
    assert re.search(r"^fill\s+2 \d+ 258048$", vm.run("ls /tmp"), re.MULTILINE)
    # A new file still gets an inode, but not one byte.
    assert vm.run("echo more > /tmp/more") == "echo: write: No space left on device\n"
    assert vm.run("cat /tmp/more") == ""
    assert vm.run("echo more >> /tmp/fill") == "echo: write: No space left on device\n"
    assert vm.run("rm /tmp/fill /tmp/more") == ""
    assert df(vm) == before
    assert vm.run("echo works again > /tmp/ok; cat /tmp/ok") == "works again\n"
