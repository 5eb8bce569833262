"""The toolkit against a real guest: teardown, monitor, guests without NICs, the demo."""

import io
import os
import re
import threading

import pytest

from xv6net.demo import DemoConfig, Step, run_demo
from xv6net.vm import VMError

pytestmark = pytest.mark.e2e


def test_close_kills_qemu(boot):
    vm = boot()
    pid = vm.pid
    vm.close()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_a_second_start_is_refused_and_leaves_no_reader_behind(boot):
    # `with VM(...) as vm: vm.start()` once started a second QEMU and console reader, and
    # left the first ones running (tests/unit/test_console.py then found the reader).
    vm = boot()
    readers = {t for t in threading.enumerate() if t.name.startswith("console-reader")}
    with pytest.raises(VMError, match="already started"):
        vm.start()
    assert {t for t in threading.enumerate() if t.name.startswith("console-reader")} == readers
    assert vm.run("echo still here") == "still here\n"


def test_guest_without_nic_has_no_e1000(boot, guest_spec):
    vm = boot(guest_spec(nics=[]))
    assert "8086:100e" not in vm.boot_log
    assert "8086:100e" not in vm.monitor("info pci")
    assert vm.run("echo up") == "up\n"


def test_monitor_info_network_is_restricted(guest):
    network = guest.monitor("info network")
    assert "restrict=on" in network
    assert "restrict=off" not in network


def demo_config(guest_spec, tmp_path, **kwargs) -> DemoConfig:
    spec = guest_spec()
    return DemoConfig(kernel=spec.kernel, initramfs=spec.initramfs, results=tmp_path / "demo",
                      **kwargs)


def test_demo_with_short_script(guest_spec, tmp_path):
    out = io.StringIO()
    steps = [Step("echo hello | cat", expect="^hello$"), Step("ls /bin", expect=r"^sh\b")]
    config = demo_config(guest_spec, tmp_path, steps=steps, network=False, bridged=False,
                         log=tmp_path / "demo.log")
    assert run_demo(config, out=out) == 0
    text = out.getvalue()
    assert "a$ echo hello | cat\nhello\n" in text
    assert "hello" in (tmp_path / "demo.log").read_text()


def test_demo_reports_failure(guest_spec, tmp_path):
    out = io.StringIO()
    steps = [Step("echo nope", expect="^yes$")]
    config = demo_config(guest_spec, tmp_path, steps=steps, network=False, bridged=False)
    assert run_demo(config, out=out) == 1
    assert "FAILED" in out.getvalue()


@pytest.mark.root
@pytest.mark.timeout(180)
def test_demo_on_a_bridge(guest_spec, tmp_path):
    out = io.StringIO()
    config = demo_config(guest_spec, tmp_path, steps=[Step("echo hello | cat", expect="^hello$")])
    assert run_demo(config, out=out) == 0, out.getvalue()[-3000:]
    text = out.getvalue()
    assert "two guests on a Linux bridge in network namespace xv6n-" in text
    assert "Unicast reply from 10.0.0.3 [52:54:76:36:01:00]" in text
    assert "Unicast reply from 10.0.0.1 [52:54:76:37:00:00]" in text
    assert "10.0.0.2 lladdr 52:54:76:36:00:00" in text
    assert "10.0.0.3 lladdr 52:54:76:36:01:00" in text
    assert "who-has 10.0.0.3 tell 10.0.0.2" in text
    assert f"pcap for Wireshark: {tmp_path / 'demo' / 'lan0.pcap'}" in text
    assert ("linux# curl -sS -i --max-time 10 http://10.0.0.2/files/hello.txt\n"
            "HTTP/1.1 200 OK") in text
    assert re.search(r"ARP cache: 10\.0\.0\.\d at 52:54:76:3\d:\d\d:00", text), text[-2000:]
    assert "curl http://10.0.0.2/   (or a browser run there: http://10.0.0.2/)" in text
    assert "CHECK FAILED" not in text
