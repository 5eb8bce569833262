"""The Linux peer's raw-socket helper: frames, tallies, command line (no sockets)."""

import subprocess
import sys

import pytest

from xv6net import netns, peer

DST = "52:54:76:36:00:00"
SRC = bytes.fromhex("525476370000")


def test_frame_layout_matches_ethsend():
    frame = peer.make_frame(peer.parse_mac(DST), SRC, 0x88B5, 258, 60)
    assert len(frame) == 60
    assert frame[:6] == bytes.fromhex("525476360000")
    assert frame[6:12] == SRC
    assert frame[12:14] == b"\x88\xb5"
    assert frame[14:18] == (258).to_bytes(4, "big")
    assert frame[18:] == bytes(range(18, 60))   # ethsend's pattern: byte i is i
    assert peer.frame_seq(frame) == 258
    assert peer.frame_seq(frame[:17]) is None


def test_big_frames_wrap_the_pattern():
    frame = peer.make_frame(peer.parse_mac(DST), SRC, 0x88B5, 0, 1514)
    assert len(frame) == 1514
    assert frame[256] == 0 and frame[300] == 300 & 0xFF


def test_mac_round_trip_and_errors():
    assert peer.format_mac(peer.parse_mac(DST)) == DST
    with pytest.raises(ValueError):
        peer.parse_mac("52:54:76")


def test_tally_counts_sequence_errors():
    tally = peer.Tally()
    for seq in (0, 1, 2, 4, 5, 3):
        tally.add(peer.make_frame(SRC, SRC, 0x88B5, seq, 60), SRC + b"\0\0")
    assert tally.as_dict() == {"received": 6, "bytes": 360, "out_of_sequence": 2,
                               "sources": ["52:54:76:37:00:00"]}


def test_frame_size_is_checked():
    assert peer.frame_size("1514") == 1514
    for bad in ("59", "1515"):
        with pytest.raises(peer.argparse.ArgumentTypeError):
            peer.frame_size(bad)


def test_runs_as_a_plain_script_with_the_standard_library():
    # The lab runs it as `python .../peer.py` inside the namespace: no package imports.
    result = subprocess.run([sys.executable, "-S", peer.__file__, "send", "--help"],
                            capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    assert "dst" in result.stdout and "--size" in result.stdout


def test_bad_arguments_exit_2():
    result = subprocess.run([sys.executable, peer.__file__, "send", "lo", DST, "88b5", "1",
                             "--size", "20"], capture_output=True, text=True, timeout=30,
                            check=False)
    assert result.returncode == 2
    assert "frame size 20 not in 60..1514" in result.stderr


def test_refuses_to_send_outside_a_lab_namespace():
    # pytest runs in the host's namespace: nothing may leave from here
    assert peer.lab_namespace() is None
    for args in (["send", "lo", DST, "88b5", "1"], ["udp", "127.0.0.1"]):
        result = subprocess.run([sys.executable, peer.__file__, *args], capture_output=True,
                                text=True, timeout=30, check=False)
        assert result.returncode == 1
        assert "refusing to send outside a lab namespace" in result.stderr


def test_lab_prefix_matches_the_toolkit():
    assert peer.LAB_PREFIX == netns.PREFIX
