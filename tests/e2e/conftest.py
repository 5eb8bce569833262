"""Fixtures that boot the kernel. The Makefile builds first; these only boot."""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from xv6net.qemu import NicSpec, VMSpec
from xv6net.vm import VM

ROOT = Path(__file__).resolve().parents[2]
KERNEL = ROOT / "build" / "kernel.elf"
INITRD = ROOT / "build" / "initramfs.cpio"
BOOT_TIMEOUT = 30.0


def make_guest_spec(**kwargs) -> VMSpec:
    """A guest with one e1000 on SLiRP (restrict=on), unless nics= says otherwise."""
    kwargs.setdefault("nics", [NicSpec("user")])
    return VMSpec(kernel=KERNEL, initramfs=INITRD, **kwargs)


@pytest.fixture
def guest_spec() -> Callable[..., VMSpec]:
    """make_guest_spec, after checking that the kernel has been built."""
    for path in (KERNEL, INITRD):
        if not path.is_file():
            pytest.skip(f"{path.relative_to(ROOT)} is missing: run `make` first")
    return make_guest_spec


@pytest.fixture
def boot(guest_spec, tmp_path) -> Iterator[Callable[..., VM]]:
    """Boot a guest from a spec (default: guest_spec()); returns it at the shell prompt."""
    vms: list[VM] = []

    def start(spec: VMSpec | None = None, name: str = "guest") -> VM:
        vm = VM(spec or guest_spec(), logfile=tmp_path / f"{name}-console.log")
        vms.append(vm)
        vm.start()
        vm.wait_for_shell(BOOT_TIMEOUT)
        return vm

    yield start
    for vm in reversed(vms):
        vm.close()
        # pytest shows this only when the test failed
        print(f"--- console (tail) ---\n{vm.log[-3000:]}\n--- QEMU output ---\n{vm.stderr}")


@pytest.fixture
def guest(boot) -> VM:
    """One booted guest with one e1000 NIC on restricted SLiRP, at the shell prompt."""
    return boot()
