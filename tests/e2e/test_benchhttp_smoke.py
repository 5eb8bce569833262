"""`xv6net bench-http` for xv6net alone, briefly: the harness still works end to end
(not a benchmark). One boot on the benchmark's bridge, ApacheBench for 2 s each way
and two fetches of the 1 MiB file; the JSON must hold plausible figures."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.root]

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(150)
def test_bench_http_runs_for_xv6net(tmp_path):
    for path in ("build/kernel.elf", "build/initramfs.cpio"):
        if not (ROOT / path).is_file():
            pytest.skip(f"{path} is missing: run `make` first")
    if shutil.which("ab") is None:
        pytest.skip("ab is not installed (make bootstrap installs apache2-utils)")
    proc = subprocess.run([sys.executable, "-m", "xv6net", "bench-http", "--systems", "xv6net",
                           "--seconds", "2", "--fetches", "2", "--results", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=140, check=False)
    print(proc.stdout[-3000:], proc.stderr[-3000:])
    assert proc.returncode == 0, proc.stderr
    data = json.loads((tmp_path / "http-latest.json").read_text())
    ours = data["systems"]["xv6net"]
    assert "error" not in ours
    for key in ("ab_keepalive", "ab_close"):
        assert ours[key]["failed"] == 0 and ours[key]["complete"] > 20, ours[key]
        assert ours[key]["exit"] == 0
    assert ours["ab_keepalive"]["keepalive"] == ours["ab_keepalive"]["complete"]
    assert len(ours["big_mib_s_each"]) == 2 and ours["big_mib_s"] > 0
    rows = {r["metric"]: r for r in data["rows"]}
    assert rows["rps_keepalive"]["xv6net"] == ours["ab_keepalive"]["rps"]
    assert rows["rps_keepalive"]["linux"] is None and rows["rps_keepalive"]["met"] is None
    assert "rps_keepalive" in proc.stdout and "http-latest.json" in proc.stdout
