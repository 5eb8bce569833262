"""The toolkit against a real guest: teardown, monitor, guests without NICs, the demo."""

import io
import os

import pytest

from xv6net.demo import Step, run_demo

pytestmark = pytest.mark.e2e


def test_close_kills_qemu(boot):
    vm = boot()
    pid = vm.pid
    vm.close()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_guest_without_nic_has_no_e1000(boot, guest_spec):
    vm = boot(guest_spec(nics=[]))
    assert "8086:100e" not in vm.boot_log
    assert "8086:100e" not in vm.monitor("info pci")
    assert vm.run("echo up") == "up\n"


def test_monitor_info_network_is_restricted(guest):
    network = guest.monitor("info network")
    assert "restrict=on" in network
    assert "restrict=off" not in network


def test_demo_with_short_script(guest_spec, tmp_path):
    out = io.StringIO()
    spec = guest_spec()
    steps = [Step("echo hello | cat", expect="^hello$"), Step("ls /bin", expect=r"^sh\b")]
    assert run_demo(spec, out=out, logfile=tmp_path / "demo.log", steps=steps) == 0
    text = out.getvalue()
    assert "$ echo hello | cat\nhello\n" in text
    assert "hello" in (tmp_path / "demo.log").read_text()


def test_demo_reports_failure(guest_spec):
    out = io.StringIO()
    steps = [Step("echo nope", expect="^yes$")]
    assert run_demo(guest_spec(), out=out, steps=steps) == 1
    assert "FAILED" in out.getvalue()
