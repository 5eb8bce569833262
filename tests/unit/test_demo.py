"""The demo's bookkeeping and topology, without QEMU."""

import io

from xv6net import demo
from xv6net.demo import Demo, DemoConfig


def test_failed_checks_are_recorded_and_printed():
    out = io.StringIO()
    record = Demo(lab=None, out=out)  # type: ignore[arg-type]
    record.check(True, "fine")
    record.check(False, "Linux arping: 3 replies from 10.0.0.2")
    assert record.failures == ["Linux arping: 3 replies from 10.0.0.2"]
    assert out.getvalue() == "demo: CHECK FAILED: Linux arping: 3 replies from 10.0.0.2\n"


def test_demo_topologies_carry_the_guest_options():
    config = DemoConfig(append="debug=1", memory_mb=64, cpus=2)
    bridged = demo.demo_topology(config, bridged=True)
    assert bridged.needs_root and [p.ip for p in bridged.peers] == ["10.0.0.1"]
    assert {(g.cmdline, g.memory_mb, g.cpus) for g in bridged.guests} == {("debug=1", 64, 2)}
    wire = demo.demo_topology(config, bridged=False)
    assert not wire.needs_root and wire.lans[0].kind == "stream"


def test_the_network_part_can_be_left_out():
    assert len(demo._parts(DemoConfig(network=False), bridged=True)) == 1
    assert len(demo._parts(DemoConfig(), bridged=True)) == 4   # the web part needs Linux
    assert len(demo._parts(DemoConfig(), bridged=False)) == 3
