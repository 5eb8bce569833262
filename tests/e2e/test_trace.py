"""`xv6net trace` end to end (issue 18): the ping and tcp-handshake scenarios
on a real lab (guest a and a Linux peer in a namespace), their walkthroughs
checked against what crossed the wire and against the source."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from labtools import INITRD, KERNEL, ROOT, require_kernel

from xv6net import walkthrough as wt

pytestmark = [pytest.mark.e2e, pytest.mark.root]

HEADING = re.compile(r"^### Frame (\d+) \(\+[\d.]+ s, (\d+) bytes\): the guest (sends|receives) "
                     r"(.*)$", re.M)


def frames_of(markdown: str) -> dict[str, tuple[str, str]]:
    """Each frame's summary -> (sends/receives, its section's text)."""
    heads = list(HEADING.finditer(markdown))
    out = {}
    for i, m in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(markdown)
        out[m[4]] = (m[3], markdown[m.end():end])
    return out


def trace_lines(section: str) -> list[str]:
    return re.findall(r"^\| [\d.]+ \| \d+ \| `([^`]*)` \|", section, re.M)


@pytest.mark.timeout(600)
def test_ping_and_a_tcp_handshake_are_walked_through_frame_by_frame(tmp_path):
    require_kernel()
    doc = tmp_path / "life.md"
    result = subprocess.run(
        [sys.executable, "-m", "xv6net", "trace", "ping", "tcp-handshake", "-o", str(tmp_path),
         "--markdown", str(doc), "--kernel", str(KERNEL), "--initrd", str(INITRD)],
        capture_output=True, text=True, timeout=540, check=False, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr

    ping = (tmp_path / "ping" / "walkthrough.md").read_text()
    frames = frames_of(ping)
    ours = "IPv4 10.0.0.2 > 10.0.0.1 ICMP echo request"
    linux = "IPv4 10.0.0.1 > 10.0.0.2 ICMP echo request"
    got = {summary.rsplit(" id ", 1)[0]: v for summary, v in frames.items()}
    assert set(got) == {ours, linux, "IPv4 10.0.0.1 > 10.0.0.2 ICMP echo reply",
                        "IPv4 10.0.0.2 > 10.0.0.1 ICMP echo reply"}, list(frames)
    way, section = got[ours]
    assert way == "sends"
    assert [t.split(":")[0] for t in trace_lines(section)] == [
        "ip_output", "arp_output", "ether_output", "e1000_xmit"]
    way, section = got[linux]
    assert way == "receives"
    assert trace_lines(section)[-1] == "icmp_input: type 8 code 0, echo request -> reply"
    assert "- **ICMP** (bytes 34-41): type=echo-request" in section   # scapy's decode
    assert (tmp_path / "ping" / "walkthrough.html").read_text().count("<h3>") == 4

    tcp = frames_of((tmp_path / "tcp-handshake" / "walkthrough.md").read_text())
    flags = {re.search(r"TCP \d+ > \d+ \[([SFRP.]*)\]", s)[1]: v for s, v in tcp.items()
             if "[" in s and "TCP" in s}
    assert {"S", "S.", "F."} <= set(flags), list(tcp)
    assert flags["S"][0] == "sends"
    assert trace_lines(flags["S"][1])[0].startswith("tcp_output: port ")
    synack = trace_lines(flags["S."][1])
    assert "tcp_input: state SYN_SENT -> ESTABLISHED" in synack
    assert all(trace_lines(section) for _, section in tcp.values())   # every frame traced

    for md in (tmp_path / "ping" / "walkthrough.md", tmp_path / "tcp-handshake" /
               "walkthrough.md", doc):
        text = md.read_text()
        assert len(wt.source_links(text)) >= 14
        assert wt.check_links(text, md.parent, ROOT) == []
    assert Path(tmp_path / "tcp-handshake" / "capture.pcap").stat().st_size > 0


@pytest.mark.timeout(600)
def test_arp_udp_and_a_lossy_tcp_transfer_are_walked_through(tmp_path):
    require_kernel()
    result = subprocess.run(
        [sys.executable, "-m", "xv6net", "trace", "arp", "udp", "tcp-loss", "-o", str(tmp_path),
         "--kernel", str(KERNEL), "--initrd", str(INITRD)],
        capture_output=True, text=True, timeout=540, check=False, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr

    arp = frames_of((tmp_path / "arp" / "walkthrough.md").read_text())
    request = arp["ARP who-has 10.0.0.1 tell 10.0.0.2"]
    assert request[0] == "sends"
    assert [t.split(":")[0] for t in trace_lines(request[1])] == ["ether_output", "e1000_xmit"]
    ping = next(v for s, v in arp.items() if s.startswith("IPv4 10.0.0.2 > 10.0.0.1 ICMP echo "
                                                            "request"))
    assert "arp_output: 10.0.0.1 unresolved -> queued, request sent" in trace_lines(ping[1])
    reply = next(v for s, v in arp.items() if s.startswith("ARP 10.0.0.1 is-at"))
    assert "arp_input: reply from 10.0.0.1, learned -> done" in trace_lines(reply[1])

    udp = frames_of((tmp_path / "udp" / "walkthrough.md").read_text())
    back = udp["IPv4 10.0.0.1 > 10.0.0.2 UDP 7007 > 49152, 6 bytes"]
    assert re.fullmatch(r"udp_input: port 49152 from 10\.0\.0\.1:7007 -> \w+",
                        trace_lines(back[1])[-1]), back[1]

    # 12% loss each way: the guest sent something twice (after a timeout, or
    # three duplicate ACKs), and every TCP segment it sent has its lines.
    trace = (tmp_path / "tcp-loss" / "trace.txt").read_text()
    sent = re.findall(r"tcp_output: port \d+ \[[SFRP.]*\] seq (\d+) ack \d+, (\d+) bytes", trace)
    data = [seq for seq, size in sent if int(size) > 0]
    assert len(data) != len(set(data)) or "tcp_timer:" in trace, trace
    loss = (tmp_path / "tcp-loss" / "walkthrough.md").read_text()
    for summary, (way, section) in frames_of(loss).items():
        if way == "sends" and " TCP " in summary:
            assert trace_lines(section), summary
    assert wt.check_links(loss, tmp_path / "tcp-loss", ROOT) == []
