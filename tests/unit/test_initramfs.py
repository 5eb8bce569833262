"""The cpio newc writer: exact header bytes, round trip, the standard tree, GNU cpio."""

import re
import shutil
import subprocess

import pytest

from xv6net.initramfs import (
    S_IFCHR,
    S_IFDIR,
    S_IFREG,
    CpioEntry,
    build_entries,
    main,
    normalise_dest,
    pack_entry,
    read_cpio,
    write_cpio,
)

HEADER = re.compile(rb"070701[0-9a-f]{104}")


def test_header_bytes_written_out_by_hand():
    packed = pack_entry(CpioEntry("a", 0o100644, b"xy"), ino=1)
    expected = (
        b"070701"
        b"00000001"   # ino
        b"000081a4"   # mode 0100644
        b"00000000"   # uid
        b"00000000"   # gid
        b"00000001"   # nlink
        b"00000000"   # mtime
        b"00000002"   # filesize
        b"00000000"   # devmajor
        b"00000000"   # devminor
        b"00000000"   # rdevmajor
        b"00000000"   # rdevminor
        b"00000002"   # namesize, with the NUL
        b"00000000"   # check
        b"a\0"        # 110 + 2 = 112: already a multiple of 4
        b"xy\0\0"     # data padded to 4
    )
    assert packed == expected


@pytest.mark.parametrize("name", ["b", "bb", "bbb", "bbbb", "bin/sh"])
def test_name_padding(name):
    packed = pack_entry(CpioEntry(name, 0o100644, b"12345"), ino=7)
    data_at = packed.index(b"12345")
    assert data_at % 4 == 0
    assert packed[110:110 + len(name) + 1] == name.encode() + b"\0"
    assert set(packed[110 + len(name) + 1:data_at]) <= {0}
    assert len(packed) % 4 == 0


def test_archive_ends_with_trailer_and_is_aligned():
    archive = write_cpio([CpioEntry("x", 0o100644, b"abc")])
    assert len(archive) % 4 == 0
    assert b"TRAILER!!!\0" in archive
    starts = [m.start() for m in HEADER.finditer(archive)]
    assert len(starts) == 2
    assert all(s % 4 == 0 for s in starts)


def test_round_trip():
    entries = [
        CpioEntry("bin", S_IFDIR | 0o755, nlink=2),
        CpioEntry("bin/prog", S_IFREG | 0o755, bytes(range(256)) * 3),
        CpioEntry("empty", S_IFREG | 0o644, b""),
        CpioEntry("dev/tty", S_IFCHR | 0o666, rdevmajor=4, rdevminor=1),
    ]
    back = read_cpio(write_cpio(entries))
    assert [e.name for e in back] == [e.name for e in entries]
    assert [e.ino for e in back] == [1, 2, 3, 4]
    for got, want in zip(back, entries, strict=True):
        assert (got.mode, got.data, got.nlink, got.rdevmajor, got.rdevminor) == (
            want.mode, want.data, want.nlink, want.rdevmajor, want.rdevminor)
        assert got.mtime == 0


def test_reader_rejects_garbage():
    with pytest.raises(ValueError, match="magic"):
        read_cpio(b"070707" + b"0" * 200)
    with pytest.raises(ValueError, match="truncated"):
        read_cpio(write_cpio([])[:50])
    archive = write_cpio([CpioEntry("f", 0o100644, b"x" * 100)])
    with pytest.raises(ValueError):
        read_cpio(archive[:150])


def test_standard_tree():
    entries = build_entries({"bin/sh": b"SH", "/etc/motd": b"hi", "usr/share/doc/x": b"X"})
    by_name = {e.name: e for e in entries}
    for d in ("bin", "dev", "etc", "usr", "usr/share", "usr/share/doc"):
        assert by_name[d].mode == 0o040755
    assert by_name["tmp"].mode == 0o041777
    assert by_name["dev/console"].mode == 0o020666
    assert (by_name["dev/console"].rdevmajor, by_name["dev/console"].rdevminor) == (1, 0)
    assert by_name["dev/null"].mode == 0o020666
    assert (by_name["dev/null"].rdevmajor, by_name["dev/null"].rdevminor) == (2, 0)
    assert by_name["bin/sh"].mode == 0o100755
    assert by_name["etc/motd"].mode == 0o100644
    assert by_name["usr/share/doc/x"].data == b"X"
    assert not any(e.name.startswith("/") for e in entries)


def test_parents_come_before_children():
    names = [e.name for e in build_entries({"a/b/c/file": b"", "bin/x": b""})]
    for name in names:
        for i, char in enumerate(name):
            if char == "/":
                assert names.index(name[:i]) < names.index(name)


def test_deterministic():
    files = {"bin/b": b"2", "bin/a": b"1"}
    assert write_cpio(build_entries(files)) == write_cpio(build_entries(dict(files)))


@pytest.mark.parametrize("bad", ["", "/", "..", "bin/../../x", "./."])
def test_bad_destinations(bad):
    with pytest.raises(ValueError):
        normalise_dest(bad)


def test_normalise_dest():
    assert normalise_dest("/bin/./sh") == "bin/sh"


def test_file_over_directory_rejected():
    with pytest.raises(ValueError, match="both"):
        build_entries({"bin": b"oops"})


def test_command_line(tmp_path):
    (tmp_path / "sh").write_bytes(b"\x7fELF-sh")
    (tmp_path / "readme").write_text("hello\n")
    out = tmp_path / "out" / "initramfs.cpio"
    rc = main([str(out), f"bin/sh={tmp_path / 'sh'}", f"README={tmp_path / 'readme'}"])
    assert rc == 0
    entries = {e.name: e for e in read_cpio(out.read_bytes())}
    assert entries["bin/sh"].data == b"\x7fELF-sh"
    assert entries["README"].data == b"hello\n"
    assert entries["README"].mode == 0o100644
    assert [e.ino for e in entries.values()] == list(range(1, len(entries) + 1))


def test_command_line_missing_source(tmp_path, capsys):
    assert main([str(tmp_path / "o.cpio"), f"bin/x={tmp_path / 'nope'}"]) == 1
    assert "initramfs:" in capsys.readouterr().err
    assert not (tmp_path / "o.cpio").exists()


def test_command_line_bad_mapping(tmp_path):
    with pytest.raises(SystemExit):
        main([str(tmp_path / "o.cpio"), "no-equals-sign"])


@pytest.fixture
def gnu_cpio():
    path = shutil.which("cpio")
    if path is None:
        pytest.skip("GNU cpio is not installed (tools/bootstrap.py installs it)")
    return path


def test_gnu_cpio_lists_our_archive(tmp_path, gnu_cpio):
    archive = tmp_path / "a.cpio"
    archive.write_bytes(write_cpio(build_entries({"bin/sh": b"SH" * 1000, "etc/x": b"1"})))
    listing = subprocess.run([gnu_cpio, "-itv", "--quiet", "-F", str(archive)],
                             capture_output=True, text=True, check=True).stdout.splitlines()
    modes = {line.split()[-1]: line.split()[0] for line in listing}
    assert modes == {
        "bin": "drwxr-xr-x", "dev": "drwxr-xr-x", "etc": "drwxr-xr-x", "tmp": "drwxrwxrwt",
        "dev/console": "crw-rw-rw-", "dev/null": "crw-rw-rw-",
        "bin/sh": "-rwxr-xr-x", "etc/x": "-rw-r--r--",
    }


def test_gnu_cpio_extracts_data(tmp_path, gnu_cpio):
    payload = bytes(range(251)) * 7
    archive = tmp_path / "a.cpio"
    archive.write_bytes(write_cpio(build_entries({"bin/prog": payload})))
    got = subprocess.run([gnu_cpio, "-i", "--quiet", "--to-stdout", "-F", str(archive),
                          "bin/prog"], capture_output=True, check=True).stdout
    assert got == payload


def test_we_read_gnu_cpio_archives(tmp_path, gnu_cpio):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "f").write_bytes(b"gnu data")
    made = subprocess.run([gnu_cpio, "-o", "-H", "newc", "--quiet"], input=b"d\nd/f\n",
                          cwd=tmp_path, capture_output=True, check=True).stdout
    entries = {e.name: e for e in read_cpio(made)}
    assert entries["d"].is_dir
    assert entries["d/f"].is_file
    assert entries["d/f"].data == b"gnu data"
