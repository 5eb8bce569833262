"""VM life cycle without a kernel: errors are clear and nothing is left behind."""

import tempfile

import pytest

from xv6net.qemu import VMSpec
from xv6net.vm import VM, VMError


def test_missing_kernel_is_reported(tmp_path):
    with pytest.raises(VMError, match="run make first"), VM(VMSpec(kernel=tmp_path / "k.elf")):
        pass


def test_missing_qemu_binary_is_reported_and_cleaned_up(tmp_path, monkeypatch):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    kernel = tmp_path / "k.elf"
    kernel.write_bytes(b"")
    spec = VMSpec(kernel=kernel, initramfs=None, qemu=str(tmp_path / "no-such-qemu"))
    with pytest.raises(VMError, match="cannot start"), VM(spec):
        pass
    assert list(scratch.iterdir()) == []


def test_close_twice_is_harmless(tmp_path):
    vm = VM(VMSpec(kernel=tmp_path / "k.elf"))
    vm.close()
    vm.close()
    assert vm.log == ""
