"""bench-http's parsing and rows, without QEMU (src/xv6net/benchhttp.py)."""

import argparse

import pytest

from xv6net import benchhttp

# ApacheBench 2.3's summary, as it printed it for xv6net's httpd (trimmed).
AB_KEEPALIVE = """\
Server Software:        xv6net-httpd
Server Hostname:        10.0.0.2
Server Port:            80

Document Path:          /files/hello.txt
Document Length:        42 bytes

Concurrency Level:      20
Time taken for tests:   10.001 seconds
Complete requests:      3382
Failed requests:        0
Keep-Alive requests:    3382
Total transferred:      571558 bytes
HTML transferred:       142044 bytes
Requests per second:    338.17 [#/sec] (mean)
Time per request:       59.141 [ms] (mean)
Time per request:       2.957 [ms] (mean, across all concurrent requests)
"""


def test_ab_report_reads_the_summary():
    report = benchhttp.ab_report(AB_KEEPALIVE)
    assert report == {"complete": 3382, "failed": 0, "keepalive": 3382, "non2xx": 0,
                      "rps": 338.17, "mean_ms": 59.141}


def test_ab_report_counts_non_2xx_and_refuses_no_summary():
    text = AB_KEEPALIVE.replace("Keep-Alive requests:    3382\n", "") + \
        "Non-2xx responses:      7\n"
    report = benchhttp.ab_report(text)
    assert (report["keepalive"], report["non2xx"]) == (0, 7)
    with pytest.raises(benchhttp.HttpBenchError, match="no summary"):
        benchhttp.ab_report("apr_socket_recv: Connection reset by peer (104)\n")


def test_rows_compare_with_the_target():
    rows = benchhttp.ratio_rows({
        "xv6net": {"rps_keepalive": 300.0, "rps_close": 40.0, "big_mib_s": 8.0},
        "linux": {"rps_keepalive": 100.0, "rps_close": 130.0, "big_mib_s": 27.0},
    })
    by = {r["metric"]: r for r in rows}
    assert by["rps_keepalive"]["ratio"] == 3.0 and by["rps_keepalive"]["met"] is True
    assert by["rps_close"]["met"] is False
    assert by["big_mib_s"]["target"] is None and by["big_mib_s"]["met"] is None
    assert "rps_keepalive" in benchhttp.table(rows)


def test_a_missing_system_leaves_the_ratio_empty():
    rows = benchhttp.ratio_rows({"xv6net": {"rps_keepalive": 300.0}})
    assert all(r["ratio"] is None and r["met"] is None for r in rows)


def test_arguments():
    parser = argparse.ArgumentParser()
    benchhttp.add_arguments(parser)
    config = benchhttp.config_from_args(parser.parse_args(
        ["--systems", "xv6net", "--nic-model", "ne2k_pci,e1000", "--seconds", "2"]))
    assert (config.systems, config.model, config.seconds) == (("xv6net",), "ne2k_pci", 2.0)
    with pytest.raises(SystemExit):
        benchhttp.config_from_args(parser.parse_args(["--systems", "bsd"]))
