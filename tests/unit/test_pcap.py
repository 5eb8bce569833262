"""pcap summaries (scapy) and the tshark cross-check, on captures made here with scapy."""

import shutil

import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import ARP, LLC, Dot3, Ether
from scapy.packet import Raw
from scapy.utils import wrpcap

from xv6net import pcap
from xv6net.pcap import PcapError

A = "52:54:76:36:00:00"
B = "52:54:76:36:01:00"
BCAST = "ff:ff:ff:ff:ff:ff"
needs_tshark = pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark missing")


def frames_for_test():
    request = Ether(src=A, dst=BCAST) / ARP(op=1, hwsrc=A, psrc="10.0.0.2", pdst="10.0.0.3")
    reply = Ether(src=B, dst=A) / ARP(op=2, hwsrc=B, psrc="10.0.0.3", hwdst=A, pdst="10.0.0.2")
    gratuitous = Ether(src=B, dst=BCAST) / ARP(op=1, hwsrc=B, psrc="10.0.0.3", pdst="10.0.0.3")
    truncated = Ether(src=A, dst=BCAST, type=0x0806) / Raw(b"\x00\x01\x08\x00\x06")
    test_frame = Ether(src=A, dst=B, type=0x88B5) / Raw((7).to_bytes(4, "big") + bytes(42))
    udp = Ether(src=A, dst=B) / IP(src="10.0.0.2", dst="10.0.0.3") / UDP(sport=5000, dport=9)
    dot3 = Dot3(src=A, dst=B) / LLC() / Raw(b"x" * 40)
    packets = [request / Raw(bytes(18)), reply, gratuitous, truncated, test_frame, udp, dot3]
    for offset, packet in enumerate(packets):
        packet.time = 1000.0 + offset * 0.5
    return packets


@pytest.fixture
def capture(tmp_path):
    path = tmp_path / "t.pcap"
    wrpcap(str(path), frames_for_test())
    return path


def test_summary_one_line_per_frame(capture):
    lines = pcap.summary(capture)
    assert len(lines) == 7
    assert lines[0] == (f"    1  0.000000 {A} > {BCAST} ARP       60 "
                        "who-has 10.0.0.3 tell 10.0.0.2")
    assert lines[1].endswith(f"ARP       42 10.0.0.3 is-at {B}")
    assert lines[1].split()[1] == "0.500000"
    assert lines[2].endswith("who-has 10.0.0.3 tell 10.0.0.3 (gratuitous)")
    assert lines[3].endswith("ARP       19 ARP, truncated (5 bytes)")
    assert lines[4].endswith("0x88b5    60 seq 7")
    assert " IPv4 " in lines[5] and "10.0.0.2:5000 > 10.0.0.3:discard" in lines[5]
    assert " 802.3 " in lines[6]


def test_frames_give_fields_and_sequence_numbers(capture):
    frames = pcap.frames(capture)
    assert [f.number for f in frames] == list(range(1, 8))
    assert frames[0].ethertype == 0x0806 and frames[0].type_name == "ARP"
    assert (frames[1].src, frames[1].dst) == (B, A)
    assert frames[4].seq == 7
    assert frames[3].seq is None or frames[3].length == 19
    assert frames[4].data[:6] == bytes.fromhex("525476360100")


def test_odd_arp_header_is_named():
    arp = ARP(bytes(ARP(op=1, hwtype=6, hwlen=6, psrc="10.0.0.2", pdst="10.0.0.3")))
    assert pcap.describe_arp(arp) == \
        "who-has 10.0.0.3 tell 10.0.0.2 hw 6 proto 0x0800 hlen 6 plen 4"
    assert pcap.describe_arp(ARP(bytes(ARP(op=9, psrc="1.2.3.4", pdst="5.6.7.8")))) == \
        "op 9 1.2.3.4 -> 5.6.7.8"


def test_missing_and_broken_files(tmp_path):
    with pytest.raises(PcapError, match=r"nope\.pcap"):
        pcap.summary(tmp_path / "nope.pcap")
    bad = tmp_path / "bad.pcap"
    bad.write_bytes(b"this is not a pcap file at all")
    with pytest.raises(PcapError, match=r"bad\.pcap"):
        pcap.summary(bad)


def test_empty_capture(tmp_path):
    path = tmp_path / "empty.pcap"
    wrpcap(str(path), [])
    assert pcap.summary(path) == []


def test_tshark_argv_never_resolves_names():
    argv = pcap.tshark_argv("x.pcap", ["frame.number"], "arp")
    assert argv[:3] == ["tshark", "-n", "-r"]
    assert argv[argv.index("-Y") + 1] == "arp"


def test_tshark_argv_passes_preferences():
    argv = pcap.tshark_argv("x.pcap", ["tcp.checksum.status"], prefs=pcap.CHECKSUM_PREFS)
    assert argv.count("-o") == 3
    assert argv[argv.index("-o") + 1] == "tcp.check_checksum:TRUE"
    assert "-o" not in pcap.tshark_argv("x.pcap", ["frame.number"])


def test_parse_fields():
    text = "frame.number\teth.type\n1\t0x0806\n2\t0x88b5\n"
    assert pcap.parse_fields(text) == [{"frame.number": "1", "eth.type": "0x0806"},
                                       {"frame.number": "2", "eth.type": "0x88b5"}]
    assert pcap.parse_fields("") == []


@needs_tshark
def test_tshark_agrees_with_scapy(capture):
    rows = pcap.tshark_decode(capture)
    assert len(rows) == len(pcap.frames(capture))
    assert rows[0]["_ws.col.Info"] == "Who has 10.0.0.3? Tell 10.0.0.2"
    assert rows[0]["eth.type"] == "0x0806"
    assert rows[1]["_ws.col.Info"] == f"10.0.0.3 is at {B}"
    assert [r["frame.len"] for r in rows[:5]] == ["60", "42", "42", "19", "60"]


@needs_tshark
def test_tshark_display_filter_and_fields(capture):
    rows = pcap.tshark_decode(capture, ["frame.number", "data.data"], "eth.type == 0x88b5")
    assert [r["frame.number"] for r in rows] == ["5"]
    assert rows[0]["data.data"].startswith("00000007")


@needs_tshark
def test_tshark_problems_finds_only_the_truncated_arp(capture):
    problems = pcap.tshark_problems(capture)
    assert [p["frame.number"] for p in problems] == ["4"]
    assert "Malformed" in problems[0]["_ws.expert.message"]


@needs_tshark
def test_tshark_problems_on_a_clean_capture(tmp_path):
    path = tmp_path / "clean.pcap"
    wrpcap(str(path), frames_for_test()[:3])
    assert pcap.tshark_problems(path) == []


@needs_tshark
def test_tshark_failure_is_reported(tmp_path):
    with pytest.raises(PcapError, match=r"tshark on .*nope\.pcap failed"):
        pcap.tshark_decode(tmp_path / "nope.pcap")


def test_port_guesses_are_the_dissectors_of_ephemeral_ports():
    decodes = ("udp.port\t53\tdns\t\t\nudp.port\t34980\tecatf\t\t\ntcp.port\t57000\tirc\t\t\n"
               "tcp.port\t6667\tirc\t\t\nethertype\t34980\tecatf\t\t\nudp.port\tx\tbad\n")
    assert pcap.port_guesses(decodes) == ("ecatf", "irc")
    assert pcap.port_guesses("") == ()


@needs_tshark
def test_tshark_problems_ignores_a_protocol_guessed_from_a_source_port(tmp_path):
    # Linux's traceroute once sent its "@ABC..." probes from port 34980, EtherCAT's: tshark then
    # decoded the probe as EtherCAT network variables and called it malformed.
    payload = bytes(0x40 + i % 32 for i in range(32))
    probe = Ether(src=A, dst=B) / IP(src="10.0.1.2", dst="10.0.2.2", ttl=5) \
        / UDP(sport=34980, dport=33438) / Raw(payload)
    path = tmp_path / "probe.pcap"
    wrpcap(str(path), [probe])
    guessed = pcap.tshark_decode(path, pcap.PROBLEM_FIELDS, "_ws.malformed")
    assert guessed and "Malformed" in guessed[0]["_ws.expert.message"], guessed
    assert pcap.tshark_problems(path) == []
    assert "ecatf" in pcap.installed_port_guesses()
