"""The benchmark's pure parts: parsers, statistics, summaries, the Linux guest's files."""

import json
import lzma
import os
import socket
import struct
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from xv6net import bench, benchpeer, linuxguest, qemu
from xv6net.initramfs import S_IFCHR, read_cpio

# ---- parsers --------------------------------------------------------------------------

PING = """\
PING 10.0.0.2 (10.0.0.2) 56(84) bytes of data.
64 bytes from 10.0.0.2: icmp_seq=1 ttl=64 time=0.289 ms
64 bytes from 10.0.0.2: icmp_seq=3 ttl=64 time=1.50 ms

--- 10.0.0.2 ping statistics ---
3 packets transmitted, 2 received, 33.3333% packet loss, time 20ms
"""


def test_ping_times_per_sequence_number():
    assert bench.ping_times(PING) == {1: 0.289, 3: 1.5}


def test_arping_times_in_both_flavours_and_units():
    habets = ("60 bytes from 52:54:76:36:00:00 (10.0.0.2): index=0 time=205.2 usec\n"
              "60 bytes from 52:54:76:36:00:00 (10.0.0.2): index=1 time=1.250 msec\n")
    iputils = "Unicast reply from 10.0.0.2 [52:54:76:36:00:00]  0.553ms\n"
    assert bench.arping_times(habets) == pytest.approx([0.2052, 1.25])
    assert bench.arping_times(iputils) == [0.553]
    assert bench.arping_times("Timeout\n") == []


def test_sink_and_blast_lines():
    sink = bench.sink_report("$ udpsink: received 10 datagrams 320 bytes in 900 us; "
                             "maxseq 9 reordered 0\n")
    assert sink == bench.SinkReport(10, 320, 900, 9, 0)
    blast = bench.blast_report("udpblast: sent 5 datagrams of 32 bytes in 77 us; "
                               "retries 2 errors 1\n")
    assert blast == bench.BlastReport(5, 32, 77, 2, 1)
    with pytest.raises(bench.BenchError):
        bench.sink_report("udpsink: listening on port 9001\n")


def test_tcp_lines_of_both_systems():
    # xv6net's tcpblast/tcpsink and the Linux guest's twins print the same lines.
    assert bench.tcp_report(bench._TCPBLAST,
                            "tcpblast: sent 2097152 bytes in 114000 us (147168 kbit/s)\n") == (
        2097152, 114000)
    assert bench.tcp_report(bench._TCPSINK, "tcpsink: connection from 10.0.0.1:4000\n"
                            "tcpsink: received 100 bytes in 20 us (40000 kbit/s)\n") == (100, 20)
    with pytest.raises(bench.BenchError):
        bench.tcp_report(bench._TCPSINK, "tcpsink: listening on port 5002\n")
    conn = bench._TCPCONN.search("tcpconn: 300 connections in 3001234 us (99 per second), "
                                 "2 errors\n")
    assert conn is not None and conn.groups() == ("300", "3001234", "2")
    assert bench.mbit_s(1_000_000, 0.5) == 16.0
    assert bench.mbit_s(1, 0) is None


def test_tcp_peer_commands_on_loopback():
    # The peer's three TCP ends against each other and a tiny echo server on
    # 127.0.0.1 (no namespace, no root): bytes counted, pattern kept, echoes checked.
    peer = [sys.executable, str(Path(benchpeer.__file__).resolve())]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = subprocess.Popen([*peer, "tcpsink", "127.0.0.1", str(port), "--timeout", "20"],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert sink.stdout is not None and sink.stdout.readline().strip() == "ready"
        sent = subprocess.run([*peer, "tcpsend", "127.0.0.1", str(port), "1000003"],
                              capture_output=True, text=True, timeout=30, check=True)
        got = json.loads(sink.communicate(timeout=30)[0])
    finally:
        sink.kill()
    assert json.loads(sent.stdout)["bytes"] == got["bytes"] == 1000003
    assert benchpeer.pattern(502) == bytes(range(251)) * 2

    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen(8)

        def serve() -> None:
            while True:   # until the socket closes under it
                try:
                    conn, _ = srv.accept()
                except OSError:
                    return
                with conn:
                    conn.sendall(conn.recv(100))

        threading.Thread(target=serve, daemon=True).start()
        out = subprocess.run([*peer, "tcpconn", "127.0.0.1", str(srv.getsockname()[1]),
                              "--seconds", "0.3", "--wait", "2"],
                             capture_output=True, text=True, timeout=30, check=True)
    tally = json.loads(out.stdout)
    assert tally["connections"] == tally["echoed"] > 0 and tally["errors"] == 0, tally

    # tcpserve: echoes --size bytes and closes first.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([*peer, "tcpserve", "127.0.0.1", str(port)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "ready"
        for _ in range(3):
            with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                sock.sendall(b"0123456789abcdef")
                got = b""
                while data := sock.recv(100):
                    got += data
            assert got == b"0123456789abcdef"   # and then end of file: the server closed
    finally:
        server.kill()
        server.communicate(timeout=5)


XV6_COUNTERS = """\
eth0: flags=4163<UP,BROADCAST,RUNNING,MULTICAST>  mtu 1500
        inet 10.0.0.2  netmask 255.255.255.0
        ether 52:54:76:36:00:00  (Ethernet)  driver ne2k
        RX packets 60004  bytes 4320288
        RX errors 0  dropped 0  overruns 7  nobuf 1  ringfull 3
        TX packets 4  bytes 316
        TX errors 0  dropped 0
        interrupts 9118
Udp:
    60000 packets received, 0 to unknown port, 0 receive errors
    0 with bad checksums, 26777 receive buffer errors, 0 packets sent
"""


def test_xv6_counters():
    assert bench.xv6_counters(XV6_COUNTERS) == {
        "interrupts": 9118, "rx_packets": 60004, "rx_missed": 8, "ring_full": 3, "rx_errors": 0,
        "udp_in": 60000, "udp_rcvbuf_errors": 26777}
    with pytest.raises(bench.BenchError):
        bench.xv6_counters("sh: ifconfig: not found\n")


LINUX_COUNTERS = """\
 11:      14233   IO-APIC  11-fasteoi   eth0
Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors
Udp: 60000 3 186 2 186 0 0
stat rx_packets 60010
stat rx_missed_errors 4
stat rx_fifo_errors 0
stat rx_over_errors 2
"""


def test_linux_counters():
    assert bench.linux_counters(LINUX_COUNTERS) == {
        "interrupts": 14233, "rx_packets": 60010, "rx_missed": 4, "ring_full": 2, "rx_errors": 0,
        "udp_in": 60000, "udp_rcvbuf_errors": 186}
    with pytest.raises(bench.BenchError):
        bench.linux_counters("grep: /proc/interrupts: No such file or directory\n")


def test_linux_interrupts_summed_over_cpus():
    two_cpus = LINUX_COUNTERS.replace(" 11:      14233", " 11:      14233      100")
    assert bench.linux_counters(two_cpus)["interrupts"] == 14333


def test_linux_interrupts_of_virtio_summed_over_its_lines():
    msix = LINUX_COUNTERS.replace(
        " 11:      14233   IO-APIC  11-fasteoi   eth0\n",
        " 24:          0   PCI-MSI 49152-edge      virtio0-config\n"
        " 25:       9000   PCI-MSI 49153-edge      virtio0-input.0\n"
        " 26:        333   PCI-MSI 49154-edge      virtio0-output.0\n")
    assert bench.linux_counters(msix)["interrupts"] == 9333


# ---- statistics and summaries -----------------------------------------------------------

def test_percentile_nearest_rank():
    values = list(range(1, 201))          # 1..200
    assert bench.percentile(values, 50) == 100
    assert bench.percentile(values, 99) == 198
    assert bench.percentile([5.0], 99) == 5.0
    with pytest.raises(ValueError):
        bench.percentile([], 50)


def step(rate, lost, irq=0.5):
    return {"offered_rate": rate, "achieved_rate": float(rate), "lost": lost, "sent": 2 * rate,
            "delivered_rate": float(rate), "irq_per_packet": irq}


def test_lossfree_rate_and_loss_below_it():
    steps = [step(5000, 0), step(10000, 3), step(20000, 0), step(30000, 100)]
    assert bench.lossfree(steps) == (20000.0, 3)
    assert bench.lossfree([step(5000, 1)]) == (None, 0)
    assert bench.rate_with_loss_below(steps, 0.002) == 30000.0   # 100 of 60000 lost
    assert bench.rate_with_loss_below(steps, 0.001) == 20000.0


def run_with(boot, rtt, lossfree, flood, repeat=0):
    run = bench.Run("x", repeat, boot_s=boot, shell_s=boot / 2, arp_ms=[0.2, 0.3],
                    ping_sent=3, ping_ms=[rtt, rtt, 2 * rtt])
    run.steps = [step(lossfree, 0, irq=0.4), step(2 * lossfree, 50)]
    run.flood = {**step(300000, 1000), "delivered_rate": flood, "shell_latency_s": 0.01,
                 "irq_per_packet": 0.01}
    run.tx = {"rate": 1000.0}
    return run


def _task(root, pid, tid, comm, *, utime, stime, run_delay_ns=None):
    task = root / str(pid) / "task" / str(tid)
    task.mkdir(parents=True)
    (task / "comm").write_text(comm + "\n")
    # pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt
    # cmajflt utime stime ...; a comm with spaces and parentheses must not
    # shift the fields.
    (task / "stat").write_text(f"{tid} ({comm}) S 1 1 1 0 -1 0 0 0 0 0 {utime} {stime} 0 0\n")
    if run_delay_ns is not None:   # schedstat: time on the CPU, waiting, timeslices
        (task / "schedstat").write_text(f"123456789 {run_delay_ns} 42\n")


def test_qemu_wait_seconds_is_run_delay_by_role(tmp_path):
    _task(tmp_path, 100, 100, "qemu-system-x86", utime=1, stime=1, run_delay_ns=500_000_000)
    _task(tmp_path, 100, 101, "CPU 0/TCG", utime=1, stime=1, run_delay_ns=2_250_000_000)
    _task(tmp_path, 100, 102, "call_rcu", utime=1, stime=1)   # no schedstat: counts 0
    assert bench.qemu_wait_seconds(100, tmp_path) == {"vcpu": 2.25, "main": 0.5, "other": 0.0}


def test_guest_idle_readings():
    text = "uptime 1234\nuartwaitmax 3 us\ncpus 1\nclock 12345678 us\nidle 2345678 us\n"
    assert bench.xv6_idle(text) == (12.345678, 2.345678)
    assert bench.xv6_idle("uptime 1234\n") is None          # an older kernel's sysinfo
    assert bench.linux_idle("cat /proc/uptime\n8.52 3.10\n") == (8.52, 3.10)
    assert bench.linux_idle("cat: can't open '/proc/uptime'\n") is None
    # Two readings 2 s apart by the guest's clock, 0.5 s more idle: a quarter idle.
    assert bench.idle_share((10.0, 4.0), (12.0, 4.5)) == pytest.approx(0.25)
    assert bench.idle_share((10.0, 4.0), (12.0, 6.0), cpus=2) == pytest.approx(0.5)
    assert bench.idle_share(None, (12.0, 4.5)) is None
    assert bench.idle_share((12.0, 4.0), (12.0, 4.0)) is None   # no time passed


def test_qemu_cpu_seconds_by_thread_role(tmp_path):
    hz = bench.os.sysconf("SC_CLK_TCK")
    _task(tmp_path, 100, 100, "qemu-system-x86", utime=3 * hz, stime=1 * hz)
    _task(tmp_path, 100, 101, "CPU 0/TCG", utime=5 * hz, stime=2 * hz)
    _task(tmp_path, 100, 102, "call_rcu", utime=hz // 2, stime=0)
    _task(tmp_path, 100, 103, "worker (x)", utime=hz // 2, stime=0)
    assert bench.qemu_cpu_seconds(100, tmp_path) == {"vcpu": 7.0, "main": 4.0, "other": 1.0}


def test_guest_cpu_per_datagram():
    step = {"qemu_busy": {"vcpu": 0.8, "main": 0.2, "other": 0.0}, "delivered_rate": 100_000}
    assert bench.guest_us_per_datagram(step) == pytest.approx(8.0)
    assert bench.guest_us_per_datagram({"delivered_rate": 5}) is None
    assert bench.guest_us_per_datagram({"qemu_busy": {"vcpu": 0.5}, "delivered_rate": 0}) is None


def test_cpu_busy_is_the_share_of_one_core():
    before = {"vcpu": 1.0, "main": 2.0, "other": 0.0}
    after = {"vcpu": 3.0, "main": 3.0, "other": 0.0}
    assert bench.cpu_busy(before, after, 2.0) == {"vcpu": 1.0, "main": 0.5, "other": 0.0}
    assert bench.cpu_busy(before, after, 0.0)["vcpu"] == 0.0


def test_compare_takes_the_median_of_same_run_ratios():
    runs = {"xv6net": [run_with(1.0, 0.2, 20000, 60000, 0), run_with(2.0, 0.2, 20000, 60000, 1),
                       run_with(1.5, 0.2, 20000, 60000, 2)],
            "linux": [run_with(10.0, 0.4, 10000, 30000, 0), run_with(10.0, 0.4, 10000, 30000, 1),
                      run_with(30.0, 0.4, 10000, 30000, 2)]}
    rows = {row["key"]: row for row in bench.compare(runs)}
    assert rows["boot_s"]["xv6net"] == 1.5
    assert rows["boot_s"]["linux"] == 10.0
    assert rows["boot_s"]["ratio_runs"] == [0.1, 0.2, 0.05]
    assert rows["boot_s"]["ratio"] == 0.1          # not 1.5 / 10
    assert rows["boot_s"]["met"] is False
    assert rows["rtt_ms_median"]["ratio"] == pytest.approx(0.5)
    assert rows["rtt_ms_median"]["met"] is False        # issue 16: <= 0.25
    assert rows["rtt_ms_p99"]["met"] is True            # <= 0.5
    assert rows["udp_rx_lossfree_pps"]["ratio"] == 2.0
    assert rows["udp_rx_lossfree_pps"]["met"] is True
    assert rows["udp_rx_flood_pps"]["met"] is True
    assert rows["udp_rx_lost_below_lossfree"]["met"] is True
    assert rows["flood_shell_latency_s"]["met"] is True
    assert "ratio" in bench.table({"systems": runs, "metrics": list(rows.values())})


def test_latency_rows():
    run = run_with(1.0, 0.2, 20000, 60000)
    run.hog_ping_sent = 4
    run.hog_ping_ms = [0.3, 0.5, 0.4]
    run.hog_udp_sent = 3
    run.hog_udp_ms = [0.6, 0.8, 0.7]
    run.first_ping_ms = [0.9, None, 0.7, 0.8]
    run.idle = {"seconds": 10.0, "busy": {"vcpu": 0.01, "main": 0.02, "other": 0.0},
                "total": 0.03}
    figures = bench.summarise(run)
    assert figures["rtt_hog_ms_median"] == 0.4
    assert figures["rtt_hog_ms_p99"] == 0.5
    assert figures["hog_ping_loss"] == 1
    assert figures["rtt_hog_udp_ms_median"] == 0.7
    assert figures["rtt_hog_udp_ms_p99"] == 0.8
    assert figures["hog_udp_loss"] == 0
    assert figures["first_ping_ms_median"] == pytest.approx(0.8)   # the lost one left out
    assert figures["idle_qemu_cpu"] == 0.03
    rows = {row["key"]: row for row in bench.compare({"xv6net": [run]})}
    assert rows["idle_qemu_cpu"]["met"] is True
    assert rows["rtt_hog_udp_ms_median"]["met"] is True   # < 1 ms
    run.idle["total"] = 0.9      # a guest that spins when idle misses the target
    rows = {row["key"]: row for row in bench.compare({"xv6net": [run]})}
    assert rows["idle_qemu_cpu"]["met"] is False
    assert bench.summarise(bench.Run("x", 0))["idle_qemu_cpu"] is None


def test_latency_only_keeps_the_latency_rows(tmp_path):
    parser = __import__("argparse").ArgumentParser()
    bench.add_arguments(parser)
    config = bench.config_from_args(parser.parse_args(
        ["--latency-only", "--first-pings", "4", "--idle-seconds", "3"]))
    assert config.latency_only and config.first_pings == 4 and config.idle_seconds == 3.0
    assert config.models == ("e1000",)                  # the card unless told
    assert config.systems == ("xv6net", "linux")
    rows = bench.compare({"xv6net": [run_with(1.0, 0.2, 20000, 60000)]},
                         keys=bench.LATENCY_KEYS)
    assert [row["key"] for row in rows] == list(bench.LATENCY_KEYS)
    assert set(bench.LATENCY_KEYS) <= {metric.key for metric in bench.METRICS}


def test_a_failed_run_gives_no_figures_and_misses_targets():
    rows = {row["key"]: row for row in bench.compare({"xv6net": [bench.Run("xv6net", 0)]})}
    assert rows["boot_s"]["xv6net"] is None
    assert rows["boot_s"]["ratio"] is None
    assert rows["flood_shell_latency_s"]["met"] is False


def test_quick_config_is_small_and_args_override(tmp_path):
    parser = __import__("argparse").ArgumentParser()
    bench.add_arguments(parser)
    config = bench.config_from_args(parser.parse_args(["--quick", "--results", str(tmp_path)]))
    assert config.systems == ("xv6net",)
    assert config.repeats == 1
    assert config.results == tmp_path
    assert max(config.rates) < 10_000
    full = bench.config_from_args(parser.parse_args(["--repeats", "5", "--rates", "1000,2000"]))
    assert full.systems == ("xv6net", "linux")
    assert (full.repeats, full.rates) == (5, (1000, 2000))
    assert full.pings >= 200
    with pytest.raises(SystemExit):
        bench.config_from_args(parser.parse_args(["--systems", "windows"]))
    assert full.models == ("e1000", "ne2k_pci", "virtio-net-pci")
    assert config.models == ("e1000",)
    one = bench.config_from_args(parser.parse_args(["--nic-model", "virtio-net-pci"]))
    assert one.models == ("virtio-net-pci",)
    with pytest.raises(SystemExit):
        bench.config_from_args(parser.parse_args(["--nic-model", "pcnet"]))


def test_only_picks_groups_of_steps():
    parser = __import__("argparse").ArgumentParser()
    bench.add_arguments(parser)
    assert bench.config_from_args(parser.parse_args([])).only == ()
    tcp = bench.config_from_args(parser.parse_args(["--only", "tcp"]))
    assert tcp.only == ("tcp",)
    assert [s for s in ("arp", "ping", "udp_rx", "udp_tx", "tcp_tx", "tcp_rx", "tcp_conn",
                        "tcp_conn_out") if bench.step_wanted(s, tcp.only)] == \
        ["tcp_tx", "tcp_rx", "tcp_conn", "tcp_conn_out"]
    assert bench.step_wanted("udp_rx", ()) and bench.step_wanted("ping", ("ping", "udp"))
    with pytest.raises(SystemExit):
        bench.config_from_args(parser.parse_args(["--only", "sctp"]))


def test_append_goes_on_xv6nets_command_line_only(tmp_path):
    parser = __import__("argparse").ArgumentParser()
    bench.add_arguments(parser)
    kernel, initrd = tmp_path / "k.elf", tmp_path / "i.cpio"
    kernel.write_bytes(b"x")
    initrd.write_bytes(b"x")
    args = ["--kernel", str(kernel), "--initrd", str(initrd)]
    plain = bench.config_from_args(parser.parse_args(args))
    assert bench.xv6_guest(plain).cmdline == "ip=10.0.0.2:::255.255.255.0::eth0:off"
    traced = bench.config_from_args(parser.parse_args([*args, "--append", "nettrace=udp"]))
    assert bench.xv6_guest(traced).cmdline == \
        "ip=10.0.0.2:::255.255.255.0::eth0:off nettrace=udp"


def _parse(*argv: str):
    parser = __import__("argparse").ArgumentParser()
    bench.add_arguments(parser)
    return bench.config_from_args(parser.parse_args(list(argv)))


def test_smp_option_gives_the_vcpu_counts():
    assert _parse().cpus == (1,)                      # one vCPU unless told
    assert _parse("--smp", "2").cpus == (2,)
    assert _parse("--smp", "1,2").cpus == (1, 2)
    assert _parse("--quick", "--smp", "2").cpus == (2,)
    for bad in ("0", "9", "two", "1,,2", "", "1,1", "-1", "2.0"):
        with pytest.raises(SystemExit):
            _parse("--smp", bad)


def test_smp_reaches_both_guests_qemu_command_lines(tmp_path):
    kernel, initrd = tmp_path / "k.elf", tmp_path / "i.cpio"
    kernel.write_bytes(b"x")
    initrd.write_bytes(b"x")
    config = _parse("--kernel", str(kernel), "--initrd", str(initrd), "--smp", "2")
    prepared = linuxguest.LinuxGuest(kernel, initrd, "6.1.0-t", "linux-image-t", "6.1", "1.36",
                                     ("e1000",))
    for guest in (bench.xv6_guest(config), bench.linux_guest(prepared)):
        argv = qemu.build_argv(guest.spec(config, 2))
        assert argv[argv.index("-smp") + 1].startswith("cpus=2,"), argv


def test_run_model_measures_each_vcpu_count_and_rows_say_which(monkeypatch):
    guest = bench.Guest("xv6net", 0, "10.0.0.2", "tap-xv6", Path("k"), Path("i"), "", "xv6net t",
                        "", bench.xv6_counters)
    linux = replace(guest, name="linux", index=1, ip="10.0.0.3", description="Linux t")
    measured = []

    def fake_measure(ns, g, config, udpgen, repeat, *, cpus=1):
        measured.append((g.name, repeat, cpus))
        # Twice the flood and the two-flow rate on two vCPUs; the same RTT.
        run = run_with(1.0, 0.2, 20000, 60000 * cpus, repeat)
        run.cpus = cpus
        run.tcp_rx2 = {"mbit_s": 10.0 * cpus}
        return run

    monkeypatch.setattr(bench, "make_guests", lambda *a: {"xv6net": guest, "linux": linux})
    monkeypatch.setattr(bench, "measure", fake_measure)
    config = replace(bench.Config(), repeats=2, cpus=(1, 2))
    out = bench.run_model(None, config, "e1000", None, Path("udpgen"))
    assert sorted(measured) == sorted((n, r, c) for n in ("xv6net", "linux") for r in (0, 1)
                                      for c in (1, 2))
    runs = out["systems"]["xv6net"]["runs"]
    assert [r["cpus"] for r in runs] == [1, 1, 2, 2]
    assert [row["cpus"] for row in out["metrics"]] == \
        [1] * len(bench.METRICS) + [2] * len(bench.METRICS)
    flood = {row["cpus"]: row["xv6net"] for row in out["metrics"]
             if row["key"] == "udp_rx_flood_pps"}
    assert flood == {1: 60000, 2: 120000}
    scaling = {row["key"]: row for row in out["scaling"]}
    assert scaling["udp_rx_flood_pps"]["xv6net"] == [60000, 120000]
    assert scaling["udp_rx_flood_pps"]["xv6net_scaling"] == [1.0, 2.0]
    assert scaling["tcp_rx2_mbit_s"]["linux_scaling"] == [1.0, 2.0]
    assert scaling["rtt_ms_median"]["xv6net_scaling"] == [1.0, 1.0]
    table = bench.table(out)
    assert "| figure | unit | vCPUs |" in table and "| UDP rx, delivered under flood | " \
        "dgram/s | 2 | 120,000 |" in table
    assert "| xv6net, 2/1 |" in bench.scaling_table(out).splitlines()[0] + " |"
    one = bench.run_model(None, replace(config, cpus=(2,)), "e1000", None, Path("udpgen"))
    assert "scaling" not in one and {row["cpus"] for row in one["metrics"]} == {2}


def test_rates_by_card_unless_given():
    default = bench.Config()
    assert bench.rates_for(default, "e1000") == bench.DEFAULT_RATES
    assert bench.rates_for(default, "ne2k_pci")[0] == 2_000
    given = bench.Config(rates=(1_000, 2_000))
    assert bench.rates_for(given, "ne2k_pci") == (1_000, 2_000)


def test_targets_by_card():
    def target(model, key):
        return next(m for m in bench.metrics_for(model) if m.key == key)
    assert target("e1000", "boot_s").target == "ratio <= 1/20"
    virtio = target("virtio-net-pci", "boot_s")
    assert virtio.check(0.04) and not virtio.check(0.06)
    assert virtio.value_check(0.25) and not virtio.value_check(0.35)
    assert not virtio.value_check(None)
    assert target("ne2k_pci", "udp_rx_lossfree_pps").check(1.01)
    assert not target("ne2k_pci", "udp_rx_lossfree_pps").check(0.999)
    assert target("ne2k_pci", "rtt_ms_p99").check(0.99)
    assert not target("ne2k_pci", "rtt_ms_p99").check(1.0)
    assert target("ne2k_pci", "udp_rx_flood_pps").target == "ratio > 1"
    assert target("ne2k_pci", "tcp_rx_mbit_s").check(1.01)
    assert not target("ne2k_pci", "tcp_conn_per_s").check(0.99)
    assert target("ne2k_pci", "arp_ms_median").check(0.99)
    assert target("ne2k_pci", "tcp_tx_mbit_s").target == "ratio > 1"


def test_virtio_boot_needs_both_targets():
    runs = {"xv6net": [run_with(0.4, 0.2, 20000, 60000)],
            "linux": [run_with(10.0, 0.4, 10000, 30000)]}
    rows = {row["key"]: row for row in bench.compare(runs, "virtio-net-pci")}
    assert rows["boot_s"]["ratio"] == pytest.approx(0.04)
    assert rows["boot_s"]["met"] is False                  # 0.4 s > 0.3 s
    runs["xv6net"] = [run_with(0.25, 0.2, 20000, 60000)]
    rows = {row["key"]: row for row in bench.compare(runs, "virtio-net-pci")}
    assert rows["boot_s"]["met"] is True


# ---- the peer's ARP frames --------------------------------------------------------------

def test_arp_request_and_reply_recognition():
    mac, ours, theirs = bytes.fromhex("525476370000"), bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
    frame = benchpeer.arp_request(mac, ours, theirs)
    assert len(frame) == 42
    assert frame[:6] == b"\xff" * 6 and frame[12:14] == b"\x08\x06"
    assert not benchpeer.is_reply_from(frame, theirs)          # a request
    reply = frame[:20] + struct.pack("!H", 2) + bytes(6) + theirs + frame[32:]
    assert benchpeer.is_reply_from(reply, theirs)
    assert not benchpeer.is_reply_from(reply, ours)


# ---- the Linux guest ---------------------------------------------------------------------

def make_elf(sections: dict[str, bytes]) -> bytes:
    """A minimal 64-bit little-endian ELF with the given sections (and .shstrtab)."""
    names = ["", *sections, ".shstrtab"]
    strtab = b"\0".join(n.encode() for n in names) + b"\0"
    offsets = {n: strtab.index(n.encode() + b"\0") for n in names[1:]}
    body = b""
    placed = []
    for name, data in [*sections.items(), (".shstrtab", strtab)]:
        placed.append((name, 64 + len(body), len(data)))
        body += data
    shoff = 64 + len(body)
    header = b"\x7fELF\x02\x01\x01" + bytes(9) + struct.pack(
        "<HHIQQQIHHHHHH", 1, 62, 1, 0, 0, shoff, 0, 64, 0, 0, 64, len(names), len(names) - 1)
    table = bytes(64)
    for name, offset, size in placed:
        table += struct.pack("<IIQQQQIIQQ", offsets[name], 1, 0, 0, offset, size, 0, 0, 1, 0)
    return header + body + table


def test_modinfo_from_elf():
    elf = make_elf({".text": b"\x90" * 8,
                    ".modinfo": b"license=GPL\0depends=mii,libphy\0name=e1000\0"})
    assert linuxguest.elf_section(elf, ".text") == b"\x90" * 8
    assert linuxguest.modinfo(elf)["depends"] == "mii,libphy"
    with pytest.raises(linuxguest.LinuxGuestError):
        linuxguest.elf_section(elf, ".nothere")
    with pytest.raises(linuxguest.LinuxGuestError):
        linuxguest.elf_section(b"\x7fELF\x01\x01" + bytes(60), ".modinfo")


def test_module_closure_orders_dependencies_first(tmp_path):
    tree = tmp_path / "kernel" / "drivers"
    tree.mkdir(parents=True)
    (tree / "e1000.ko").write_bytes(make_elf({".modinfo": b"depends=mii\0"}))
    (tree / "mii.ko.xz").write_bytes(lzma.compress(make_elf({".modinfo": b"depends=\0"})))
    order = linuxguest.module_closure(tmp_path, "e1000")
    assert [path.name for path, _ in order] == ["mii.ko.xz", "e1000.ko"]
    assert order[0][1].startswith(b"\x7fELF")      # decompressed
    with pytest.raises(linuxguest.LinuxGuestError, match="no module"):
        linuxguest.module_closure(tmp_path, "e1000e")


def test_kernel_package_from_apt_cache():
    output = "linux-image-amd64\n  Depends: linux-image-6.1.0-56-amd64\n"
    assert linuxguest.depends_of(output) == ["linux-image-6.1.0-56-amd64"]
    assert linuxguest.kernel_package(lambda argv, cwd: output) == "linux-image-6.1.0-56-amd64"
    with pytest.raises(linuxguest.LinuxGuestError):
        linuxguest.kernel_package(lambda argv, cwd: "linux-image-amd64\n")


def test_kernel_package_after_apt_update_or_from_the_cache(tmp_path):
    calls = []

    def apt(argv, cwd):
        calls.append(argv[0])
        updated = "apt-get" in calls
        return "  Depends: linux-image-6.1.0-57-amd64\n" if updated else ""

    assert linuxguest.resolve_kernel_package(tmp_path, apt) == "linux-image-6.1.0-57-amd64"
    assert calls == ["apt-cache", "apt-get", "apt-cache"]
    (tmp_path / "linux-image-6.1.0-56-amd64_6.1.192-2_amd64.deb").write_bytes(b"")
    offline = linuxguest.resolve_kernel_package(tmp_path, lambda argv, cwd: "")
    assert offline == "linux-image-6.1.0-56-amd64"
    with pytest.raises(linuxguest.LinuxGuestError):
        linuxguest.resolve_kernel_package(tmp_path / "empty", lambda argv, cwd: "")


def test_initramfs_for_linux(tmp_path):
    modules = {"lib/modules/6.1.0-56-amd64/kernel/e1000.ko": b"\x7fELF module"}
    entries = linuxguest.initramfs_entries(b"busybox!", modules, {"udpsink": b"sink"})
    archive = {e.name: e for e in read_cpio(linuxguest.write_cpio(entries))}
    assert archive["init"].mode == 0o100755
    init = archive["init"].data.decode()
    assert init.startswith("#!/bin/busybox sh\n")
    assert "insmod /lib/modules/6.1.0-56-amd64/kernel/e1000.ko" in init
    assert archive["dev/console"].mode & 0o170000 == S_IFCHR
    assert (archive["dev/console"].rdevmajor, archive["dev/console"].rdevminor) == (5, 1)
    assert archive["bin/busybox"].data == b"busybox!"
    assert archive["bin/udpsink"].mode == 0o100755
    for directory in ("proc", "sys", "dev", "lib/modules/6.1.0-56-amd64/kernel"):
        assert archive[directory].is_dir
    assert linuxguest.LinuxGuest.cmdline("10.0.0.3", "255.255.255.0").endswith(
        "ip=10.0.0.3:::255.255.255.0::eth0:off xv6net.nic=e1000")


def test_init_script_is_valid_sh():
    script = linuxguest.init_script({"e1000": ["lib/modules/x/e1000.ko"],
                                     "ne2k_pci": ["lib/modules/x/8390.ko",
                                                  "lib/modules/x/ne2k-pci.ko"]})
    result = subprocess.run(["sh", "-n"], input=script, text=True, capture_output=True,
                            check=False)
    assert result.returncode == 0, result.stderr


def test_init_script_loads_the_modules_of_the_card_on_the_command_line(tmp_path):
    """Run the script's argument parsing and module choice in sh, with insmod and
    everything after it replaced by echo."""
    script = linuxguest.init_script({"e1000": ["m/e1000.ko"],
                                     "ne2k_pci": ["m/8390.ko", "m/ne2k-pci.ko"],
                                     "virtio-net-pci": ["m/virtio_pci.ko", "m/virtio_net.ko"]})
    head = script[:script.index("IFS=:")]
    head = head.replace("$(cat /proc/cmdline)", "$CMDLINE")
    for line in ("/bin/busybox --install -s /bin", "export PATH=/bin"):
        head = head.replace(line, "")
    head = "\n".join(line for line in head.splitlines()
                     if not line.startswith(("mount ", "dmesg ")))
    head = head.replace("insmod ", "echo insmod ")

    def loaded(cmdline: str) -> list[str]:
        result = subprocess.run(["sh", "-c", head],
                                env={"CMDLINE": cmdline, "PATH": "/bin:/usr/bin"},
                                text=True, capture_output=True, check=True)
        return result.stdout.split()

    assert loaded("quiet ip=10.0.0.3:::255.255.255.0::eth0:off") == ["insmod", "/m/e1000.ko"]
    assert loaded("ip=x xv6net.nic=ne2k_pci") == ["insmod", "/m/8390.ko", "insmod",
                                                  "/m/ne2k-pci.ko"]
    assert loaded("xv6net.nic=virtio-net-pci")[-1] == "/m/virtio_net.ko"
    assert "no modules" in " ".join(loaded("xv6net.nic=pcnet"))
    cmdline = linuxguest.LinuxGuest.cmdline("10.0.0.3", "255.255.255.0", model="ne2k_pci")
    assert cmdline.endswith("ip=10.0.0.3:::255.255.255.0::eth0:off xv6net.nic=ne2k_pci")


def test_every_text_of_the_chart_is_inside_the_picture(tmp_path):
    """The ratio panel's long labels once pushed its title past the right edge."""
    pytest.importorskip("matplotlib")
    runs = {"xv6net": [run_with(1.0, 0.2, 20000, 60000)],
            "linux": [run_with(10.0, 0.4, 10000, 30000)]}
    results = {
        "systems": {name: {"description": "Linux 6.1 (Debian 12, busybox)" if name == "linux"
                           else name, "runs": [bench.asdict(r) for r in rs]}
                    for name, rs in runs.items()},
        "metrics": bench.compare(runs, "virtio-net-pci"),
    }
    machine = {"qemu": "QEMU emulator version 7.2.22", "accel": "tcg"}
    nic = "virtio-net-pci: virtio-net (legacy transport), split virtqueues, DMA"
    fig = bench.chart_figure(results, machine, nic)
    fig.canvas.draw()
    drawn = fig.get_tightbbox(fig.canvas.get_renderer())   # every drawn artist, inches
    picture = fig.bbox_inches
    assert drawn.x0 >= picture.x0 and drawn.x1 <= picture.x1, (drawn, picture)
    assert drawn.y0 >= picture.y0 and drawn.y1 <= picture.y1, (drawn, picture)
    bench.draw_chart(results, machine, tmp_path / "chart.png", nic)
    assert (tmp_path / "chart.png").stat().st_size > 10_000


def test_a_linux_agent_is_rebuilt_when_its_source_or_a_header_beside_it_changes(tmp_path):
    source, header, output = tmp_path / "p.c", tmp_path / "common.h", tmp_path / "out" / "p"
    source.write_text("int main(void) { return 0; }\n")
    header.write_text("\n")
    calls: list[list[str]] = []

    def runner(argv, _input):
        calls.append(argv)
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_bytes(b"built")

    for path, when in ((source, 100), (header, 100)):
        os.utime(path, (when, when))
    linuxguest.build_program(source, output, runner)
    os.utime(output, (200, 200))
    linuxguest.build_program(source, output, runner)      # nothing newer: not again
    assert len(calls) == 1
    os.utime(header, (300, 300))
    linuxguest.build_program(source, output, runner)      # the header changed
    assert len(calls) == 2
    assert calls[0][:2] == ["gcc", "-static"]


def _scripted_session(model: str, only: tuple[str, ...] = ()) -> tuple[bench.Session, list[str]]:
    """A Session whose measurements and reboots only write their names down."""
    guest = bench.Guest("xv6net", 0, "10.0.0.2", "tap-xv6", Path("kernel.elf"),
                        Path("initramfs.cpio"), "", "xv6net", "netstat -s",
                        bench.xv6_counters, model=model)
    config = replace(bench.Config.quick(), only=only)
    session = bench.Session(ns=None, guest=guest, config=config, udpgen=Path("udpgen"),
                            run=bench.Run("xv6net", 0))
    done: list[str] = []
    for attr in dir(session):
        if attr.startswith("measure_") and attr != "measure_all":
            setattr(session, attr, lambda name=attr[len("measure_"):]: done.append(name))
    session.reboot = lambda: done.append("reboot")
    return session, done


def test_ne2k_tcp_steps_each_start_on_a_fresh_boot():
    session, done = _scripted_session("ne2k_pci")
    session.measure_all()
    tcp = done[done.index("tcp_tx") - 1:]
    assert tcp == ["reboot", "tcp_tx", "reboot", "tcp_rx", "reboot", "tcp_rx2",
                   "reboot", "tcp_conn", "reboot", "tcp_conn_out"]
    assert done.count("reboot") == 5


def test_no_fresh_boots_on_other_cards_nor_before_the_first_step():
    session, done = _scripted_session("e1000")
    session.measure_all()
    assert "reboot" not in done and "tcp_rx" in done
    session, done = _scripted_session("ne2k_pci", only=("tcp",))
    session.measure_all()
    assert done[0] == "tcp_tx" and done.count("reboot") == 4
