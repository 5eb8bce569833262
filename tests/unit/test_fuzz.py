"""The fuzz harnesses (tests/fuzz, src/xv6net/fuzz.py): the toolkit's parsing and
seed writing, then each libFuzzer target briefly with a fixed seed, and every
input that ever crashed a target replayed (docs/testing.md)."""

import struct
import subprocess
from pathlib import Path

import pytest
from scapy.all import ARP, ICMP, IP, TCP, UDP, Ether, wrpcap

from xv6net import fuzz

ROOT = Path(__file__).resolve().parents[2]

LIBFUZZER_OUTPUT = """\
INFO: Seed: 1
#2\tINITED cov: 20 ft: 21 corp: 1/1b exec/s: 0 rss: 30Mb
#1024\tNEW    cov: 150 ft: 400 corp: 30/900b lim: 8 exec/s: 0 rss: 40Mb
#20000\tDONE   cov: 168 ft: 761 corp: 71/3188b lim: 445 exec/s: 2178 rss: 58Mb
stat::number_of_executed_units: 20000
stat::average_exec_per_sec:     2178
stat::new_units_added:          130
"""


def test_parse_output():
    r = fuzz.parse_output(LIBFUZZER_OUTPUT, fuzz.Result("frames"))
    assert (r.execs, r.exec_per_s, r.cov, r.features, r.corpus) == (20000, 2178, 168, 761, 71)
    assert r.report == ""


def test_parse_output_finds_the_report():
    text = LIBFUZZER_OUTPUT + "==123==ERROR: AddressSanitizer: heap-buffer-overflow on x\n"
    assert "heap-buffer-overflow" in fuzz.parse_output(text, fuzz.Result("x")).report
    text = "\nkernel panic: pbuf leak: 10 of 2048\n"
    assert "pbuf leak" in fuzz.parse_output(text, fuzz.Result("x")).report


def test_frames_record_layout():
    assert fuzz.frames_record(10, b"abc") == struct.pack("<HH", 10, 3) + b"abc"
    assert fuzz.frames_record(99999, b"")[:2] == struct.pack("<H", 1023)


def test_seeds_from_frames(tmp_path):
    frames = [(0.0, b"\x01" * 60), (0.5, b"\x02" * 60), (0.6, b"\x01" * 60)]
    written = fuzz.seeds_from_frames(frames, tmp_path)
    assert written == {"frame": 2, "wire": 2, "dhcp": 0, "dns": 0, "frames": 1}
    sequence = next((tmp_path / "frames").iterdir()).read_bytes()
    assert sequence[:4] == struct.pack("<HH", 500, 60)        # the gap to the next frame
    assert len(sequence) == 3 * (4 + 60)


def test_protocol_seeds_pick_dhcp_frames_and_dns_messages():

    dhcp = bytes(Ether() / IP(dst="255.255.255.255") / UDP(sport=67, dport=68) / (b"x" * 240))
    dns = bytes(Ether() / IP() / UDP(sport=53, dport=40000) / (b"\x12\x34" + b"q" * 20))
    other = bytes(Ether() / IP() / UDP(sport=9, dport=9) / b"y")
    seeds = fuzz.protocol_seeds([dhcp, dns, other, b"\x00" * 10])
    assert seeds["dhcp"] == [dhcp]
    assert seeds["dns"] == [b"\x12\x34" + b"q" * 20]


def test_spread_takes_evenly():
    assert fuzz.spread(list(range(10)), 5) == [0, 2, 4, 6, 8]
    assert fuzz.spread([1, 2], 5) == [1, 2]


def test_table_lists_every_target():
    text = fuzz.table([fuzz.Result("frame", execs=10), fuzz.Result("wire", execs=20)])
    assert "frame" in text and "wire" in text and "20" in text


@pytest.fixture(scope="module")
def targets():
    proc = subprocess.run(["make", "-s", "fuzzers"], cwd=ROOT, capture_output=True, text=True,
                          timeout=900, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    names = fuzz.target_names()
    assert set(TARGETS) <= set(names)
    return names


TARGETS = ["frame", "frames", "wire", "dhcp", "dns", "tcp", "http"]


@pytest.mark.parametrize("name", TARGETS)
def test_each_target_runs_briefly_and_cleanly(targets, name):
    result = fuzz.run_target(name, runs=4000, seed=1, keep=False)
    assert result.clean, result.report
    assert result.execs >= 4000
    assert result.cov > 20


@pytest.mark.parametrize("name", TARGETS)
def test_every_kept_crash_input_replays_cleanly(targets, name):
    proc = fuzz.replay(name)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def test_seeds_from_a_pcap(tmp_path):
    frames = [Ether(dst="ff:ff:ff:ff:ff:ff", src="02:00:00:00:00:01", type=0x88B5)
              / (bytes([i]) * 50)
              for i in range(3)]
    for i, f in enumerate(frames):
        f.time = 100.0 + i * 0.25
    wrpcap(str(tmp_path / "x.pcap"), frames)
    read = fuzz.read_pcap_frames([tmp_path / "x.pcap"])
    assert [raw for _, raw in read] == [bytes(f) for f in frames]
    assert [round(t, 2) for t, _ in read] == [0.0, 0.25, 0.5]


# ---- the host's jumping clock against the stepping one ---------------------------------
# tests/host/host.c runs the stack's timers only at the ticks where one has
# work (nettimer_next); HOST_CLOCK=step runs them at every tick, as the
# kernel does. Both must put the same frames on the wire at the same ticks.

OUR_MAC, PEER_MAC, LOST_MAC = "52:54:00:00:00:02", "02:00:00:00:00:01", "02:00:00:00:00:05"
OUR_IP, PEER_IP, LOST_IP = "10.0.0.2", "10.0.0.1", "10.0.0.5"
FUZZ_ISS = 4294967000         # tcp.isn= of tests/fuzz/fuzzstack.h
PEER_ISS = 1000


def timer_scenario() -> bytes:
    """A `frames` input that needs every timer of the stack: a neighbour that
    never answers ARP (retries a second apart, then failure), one learned from
    its request that ages out, a datagram whose second fragment never comes
    (reassembly timeout, ICMP time exceeded), a SYN whose SYN-ACK is never
    acknowledged (retransmissions, backed off), and a connection that gets
    data (delayed ACK) and is then left half-closed. Empty records make the
    clock run on for up to a second each."""
    peer = Ether(src=PEER_MAC, dst=OUR_MAC)
    records = [
        (10, bytes(Ether(src=PEER_MAC, dst="ff:ff:ff:ff:ff:ff")
                   / ARP(op=1, hwsrc=PEER_MAC, psrc=PEER_IP, pdst=OUR_IP))),
        (5, bytes(Ether(src=LOST_MAC, dst=OUR_MAC) / IP(src=LOST_IP, dst=OUR_IP)
                  / ICMP(id=1, seq=1))),
        (5, bytes(peer / IP(src=PEER_IP, dst=OUR_IP, id=77, flags="MF")
                  / UDP(sport=9, dport=7) / (b"f" * 40))),
        (5, bytes(peer / IP(src=PEER_IP, dst=OUR_IP) / TCP(sport=40001, dport=80, flags="S",
                                                           seq=PEER_ISS))),
        (5, bytes(peer / IP(src=PEER_IP, dst=OUR_IP) / TCP(sport=40002, dport=80, flags="S",
                                                           seq=PEER_ISS))),
        (5, bytes(peer / IP(src=PEER_IP, dst=OUR_IP)
                  / TCP(sport=40002, dport=80, flags="A", seq=PEER_ISS + 1,
                        ack=FUZZ_ISS + 1))),
        (5, bytes(peer / IP(src=PEER_IP, dst=OUR_IP)
                  / TCP(sport=40002, dport=80, flags="PA", seq=PEER_ISS + 1,
                        ack=FUZZ_ISS + 1) / (b"d" * 100))),
    ]
    records += [(1023, b"")] * 12
    return b"".join(fuzz.frames_record(delay, frame) for delay, frame in records)


def wire_log(binary: Path, inputs: list[Path], clock: str, log: Path) -> list[tuple[int, bytes]]:
    env = {"PATH": "/usr/bin:/bin", "HOST_CLOCK": clock, "HOST_WIRELOG": str(log)}
    proc = subprocess.run([str(binary), *map(str, inputs)], env=env, capture_output=True,
                          text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    sent = []
    for line in log.read_text().splitlines():
        tick, _, frame = line.split()
        sent.append((int(tick), bytes.fromhex(frame)))
    return sent


def test_the_jumping_clock_sends_what_the_stepping_clock_sends(targets, tmp_path):
    scenario = tmp_path / "timers"
    scenario.write_bytes(timer_scenario())
    binary = fuzz.BUILD / "fuzz_frames"
    step = wire_log(binary, [scenario], "step", tmp_path / "step.log")
    jump = wire_log(binary, [scenario], "jump", tmp_path / "jump.log")
    assert jump == step

    # ...and the scenario did need each timer, at its right tick (HZ 100).
    # (libFuzzer runs a file given to it twice: the checks look at the first.)
    def ticks(match) -> list[int]:
        return [t for t, f in step if match(Ether(f))]

    lost = ticks(lambda p: ARP in p and p[ARP].op == 1 and p[ARP].pdst == LOST_IP)
    assert len(lost) >= 3 and lost[1] - lost[0] == lost[2] - lost[1] == 100   # a second apart
    synack = ticks(lambda p: TCP in p and p[TCP].dport == 40002 and p[TCP].flags == "SA")
    timxceed = ticks(lambda p: ICMP in p and p[ICMP].type == 11)
    assert timxceed and timxceed[0] == synack[0] - 2 + 300   # fragment 2 ticks before; 3 s
    resent = ticks(lambda p: TCP in p and p[TCP].dport == 40001 and p[TCP].flags == "SA")
    assert len(resent) >= 3 and resent[2] - resent[1] == 2 * (resent[1] - resent[0])
    # The peer's entry (STALE from its request at tick 0, arp.gc=4) is gone by
    # the next retransmission, 4 s after the third: it is asked for again.
    again = ticks(lambda p: ARP in p and p[ARP].op == 1 and p[ARP].pdst == PEER_IP)
    assert again and again[0] == resent[2] + 400
    acks = ticks(lambda p: TCP in p and p[TCP].dport == 40002 and p[TCP].flags == "A"
                 and p[TCP].ack == PEER_ISS + 101)
    assert acks and acks[0] == synack[0] + 2 + 4      # data two ticks after, TCP_DELACK 4


@pytest.mark.parametrize("name", ["frames", "tcp"])
def test_the_clocks_agree_on_the_seeds(targets, name, tmp_path):
    inputs = sorted((fuzz.SEEDS / name).iterdir()) + fuzz.regression_inputs(name)
    binary = fuzz.BUILD / f"fuzz_{name}"
    step = wire_log(binary, inputs, "step", tmp_path / "step.log")
    assert step
    assert wire_log(binary, inputs, "jump", tmp_path / "jump.log") == step
