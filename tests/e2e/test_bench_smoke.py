"""`xv6net bench --quick`: the harness still works end to end (not a benchmark).

One xv6net boot on a bridge in a namespace, a few samples of every figure;
the JSON must have every key and plausible values, and the chart must exist.
--quick measures the e1000 unless told otherwise; the other cards take the
same path (`Session`), with the card's model on the tap's -device.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from xv6net import bench

pytestmark = [pytest.mark.e2e, pytest.mark.root]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    for path in ("build/kernel.elf", "build/initramfs.cpio"):
        if not (ROOT / path).is_file():
            pytest.skip(f"{path} is missing: run `make` first")
    out = tmp_path_factory.mktemp("bench")
    proc = subprocess.run([sys.executable, "-m", "xv6net", "bench", "--quick", "--results",
                           str(out)], cwd=ROOT, capture_output=True, text=True, timeout=100,
                          check=False)
    print(proc.stdout[-4000:], proc.stderr[-4000:])
    assert proc.returncode == 0, proc.stderr
    data = json.loads((out / "latest.json").read_text())
    data["_dir"] = str(out)
    data["_stdout"] = proc.stdout
    return data


@pytest.mark.timeout(120)
def test_results_have_every_key(results):
    assert set(results) >= {"schema", "started", "duration_s", "config", "machine", "models"}
    assert results["schema"] == 2
    machine = results["machine"]
    assert machine["cores"] >= 1
    assert machine["qemu"].startswith("QEMU emulator version")
    assert machine["accel"] == "tcg"
    assert machine["cpu_model"]
    assert list(results["models"]) == ["e1000"]
    card = results["models"]["e1000"]
    assert card["nic"].startswith("e1000: Intel 82540EM")
    assert list(card["systems"]) == ["xv6net"]
    assert card["systems"]["xv6net"]["description"].startswith("xv6net ")
    keys = [row["key"] for row in card["metrics"]]
    assert keys == [metric.key for metric in bench.METRICS]
    for row in card["metrics"]:
        assert set(row) >= {"label", "unit", "cpus", "xv6net", "ratio", "target", "met"}
        assert row["cpus"] == 1      # --quick without --smp: one vCPU, every row says so
    assert machine["guest_cpus"] == [1]
    assert "scaling" not in card     # one vCPU count, nothing to scale


@pytest.mark.timeout(120)
def test_figures_are_plausible(results):
    system = results["models"]["e1000"]["systems"]["xv6net"]
    run = system["runs"][0]
    assert run["errors"] == []
    figures = system["summaries"][0]
    assert 0.05 < figures["boot_s"] < 30
    assert 0.05 < figures["shell_s"] < 30
    assert 0 < figures["arp_ms_median"] < 100
    assert 0 < figures["rtt_ms_min"] <= figures["rtt_ms_median"] <= figures["rtt_ms_p99"] < 500
    assert figures["ping_loss"] <= results["config"]["pings"] // 10
    assert len(run["ping_ms"]) + figures["ping_loss"] == results["config"]["pings"]
    assert figures["rtt_ms_min"] == min(run["ping_ms"])
    # Every step offered what was asked for as long as asked, and nothing
    # arrived that was not sent.
    config = results["config"]
    durations = [config["step_seconds"]] * len(run["steps"]) + [config["flood_seconds"]]
    for step, seconds in zip([*run["steps"], run["flood"]], durations, strict=True):
        assert step["gen_seconds"] == pytest.approx(seconds, rel=0.1)
        asked = round(step["offered_rate"] * step["gen_seconds"])
        assert abs(step["sent"] - asked) <= max(2, asked // 50)
        assert step["delivered_rate"] == pytest.approx(step["received"] / step["gen_seconds"])
        assert 0 <= step["received"] <= step["sent"]
        assert step["rx_frames"] >= step["received"]
        assert step["interrupts"] >= 0
        # QEMU's threads: the guest's vCPUs worked, and none can exceed a core
        # by much (the clock ticks of /proc round; "vcpu" sums the vCPUs').
        busy = step["qemu_busy"]
        vcpus = run["cpus"]
        assert 0 < busy["vcpu"] <= 1.2 * vcpus and 0 < busy["main"] <= 1.2, busy
    first = run["steps"][0]
    # At the lowest rate nothing should be lost; a host too busy to run the guest for the
    # ring's 128 ms (256 descriptors at 2,000/s) loses a few, which the bench reports (seen
    # once in CI): this smoke test checks the bench, so it allows 1%.
    assert first["lost"] <= first["sent"] // 100, "xv6net lost datagrams at the lowest rate"
    assert 0 < first["irq_per_packet"] <= 2
    clean = [s["achieved_rate"] for s in run["steps"] if s["lost"] == 0]
    assert figures["udp_rx_lossfree_pps"] == (max(clean) if clean else None)
    if first["lost"] == 0:
        assert figures["udp_rx_lossfree_pps"] >= config["rates"][0] * 0.95
    assert figures["udp_rx_flood_pps"] == run["flood"]["delivered_rate"]
    assert figures["udp_rx_flood_pps"] > 0
    assert figures["flood_shell_latency_s"] is not None
    assert run["tx"]["received"] == run["tx"]["sent"] == config["tx_count"]
    assert figures["udp_tx_pps"] > 100


@pytest.mark.timeout(120)
def test_latency_rows_have_their_shape(results):
    # Issue 16's rows: the ping series with `spin` running, the pings after a
    # neighbour flush, QEMU's CPU while the guest idles. Shapes and sanity,
    # never timing thresholds.
    config = results["config"]
    system = results["models"]["e1000"]["systems"]["xv6net"]
    run, figures = system["runs"][0], system["summaries"][0]
    assert run["errors"] == []
    assert run["hog_ping_sent"] == config["pings"]
    assert len(run["hog_ping_ms"]) + figures["hog_ping_loss"] == config["pings"]
    assert figures["hog_ping_loss"] <= config["pings"] // 10
    assert figures["rtt_hog_ms_median"] <= figures["rtt_hog_ms_p99"]
    # udpecho's round trips, spin still running: all of them, or nearly.
    assert run["hog_udp_sent"] == config["pings"]
    assert len(run["hog_udp_ms"]) + figures["hog_udp_loss"] == config["pings"]
    assert figures["hog_udp_loss"] <= config["pings"] // 10
    assert 0 < figures["rtt_hog_udp_ms_median"] <= figures["rtt_hog_udp_ms_p99"]
    assert len(run["first_ping_ms"]) == config["first_pings"]
    assert any(t is not None for t in run["first_ping_ms"])
    assert figures["first_ping_ms_median"] > 0
    idle = run["idle"]
    assert idle["seconds"] == pytest.approx(config["idle_seconds"], rel=0.2)
    assert set(idle["busy"]) == {"vcpu", "main", "other"}
    assert 0 <= idle["total"] <= 1.2 * 3 and idle["total"] == pytest.approx(
        sum(idle["busy"].values()))
    assert figures["idle_qemu_cpu"] == idle["total"]
    assert "| QEMU's host CPU, guest idle | core |" in results["_stdout"]


@pytest.mark.timeout(120)
def test_latency_only_run_measures_only_latency(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "xv6net", "bench", "--quick", "--latency-only",
                           "--no-chart", "--results", str(tmp_path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=100, check=False)
    assert proc.returncode == 0, proc.stderr
    data = json.loads((tmp_path / "latest.json").read_text())
    card = data["models"]["e1000"]
    assert [row["key"] for row in card["metrics"]] == list(bench.LATENCY_KEYS)
    run = card["systems"]["xv6net"]["runs"][0]
    assert run["errors"] == [] and run["ping_ms"] and run["hog_ping_ms"] and run["idle"]
    assert run["steps"] == [] and run["flood"] == {} and run["tcp_tx"] == {}
    assert "UDP rx" not in proc.stdout


@pytest.mark.timeout(120)
def test_tcp_rows_moved_the_bytes(results):
    # Both transfers carried every byte and the peer timed them; every one of
    # the connections to tcpecho echoed its bytes. No timing thresholds.
    config = results["config"]
    system = results["models"]["e1000"]["systems"]["xv6net"]
    run, figures = system["runs"][0], system["summaries"][0]
    assert run["errors"] == []
    for name in ("tcp_tx", "tcp_rx"):
        moved = run[name]
        assert moved["bytes"] == moved["sent"] == config["tcp_bytes"], (name, moved)
        assert moved["seconds"] > 0 and moved["guest_us"] > 0, (name, moved)
        assert figures[f"{name}_mbit_s"] == pytest.approx(
            moved["bytes"] * 8 / moved["seconds"] / 1e6)
    # Two flows at once into two tcpsinks, half the bytes each.
    both = run["tcp_rx2"]
    assert [f["bytes"] for f in both["flows"]] == [config["tcp_bytes"] // 2] * 2, both
    assert both["bytes"] == both["sent"] == config["tcp_bytes"] // 2 * 2, both
    assert both["seconds"] == max(f["seconds"] for f in both["flows"]) > 0, both
    assert figures["tcp_rx2_mbit_s"] == pytest.approx(both["bytes"] * 8 / both["seconds"] / 1e6)
    conn = run["tcp_conn"]
    assert conn["echoed"] == conn["connections"] > 0 and conn["errors"] == 0, conn
    assert figures["tcp_conn_per_s"] == pytest.approx(conn["echoed"] / conn["seconds"])
    out = run["tcp_conn_out"]   # the guest's tcpconn to the peer's server
    assert out["connections"] > 0 and out["errors"] == 0 and out["guest_us"] > 0, out
    assert figures["tcp_conn_out_per_s"] == pytest.approx(
        out["connections"] / (out["guest_us"] / 1e6))
    assert "| TCP throughput, guest sends | Mbit/s |" in results["_stdout"]


@pytest.mark.timeout(120)
def test_table_and_chart(results):
    assert "| boot to network-ready | s |" in results["_stdout"]
    assert "### e1000: Intel 82540EM" in results["_stdout"]
    png = Path(results["_dir"]) / "latest-e1000.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
