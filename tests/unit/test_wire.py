"""WirePeer and its framing against a fake QEMU: a socketpair, or a TCP client on loopback."""

import socket
import struct
import threading
import time

import pytest
from scapy.layers.l2 import Ether
from scapy.utils import rdpcap

from xv6net.qemu import VMSpec, build_argv, netdev_arg
from xv6net.wire import (
    MAX_FRAME,
    FrameDecoder,
    PcapWriter,
    WireError,
    WirePeer,
    encode,
)

FRAME_A = bytes.fromhex("ffffffffffff 020000000001 0806") + bytes(46)
FRAME_B = bytes.fromhex("525476360002 020000000001 88b5") + b"\x00\x00\x00\x07" + bytes(42)


def read_exactly(sock: socket.socket, n: int, timeout: float = 2.0) -> bytes:
    sock.settimeout(timeout)
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            break
        data += chunk
    return data


def read_frame(sock: socket.socket) -> bytes:
    (length,) = struct.unpack(">I", read_exactly(sock, 4))
    return read_exactly(sock, length)


def wait_for(condition, timeout: float = 2.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)
    return True


def wirepeer_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "wirepeer" and t.is_alive()]


@pytest.fixture
def pair():
    """(peer, fake QEMU end) over a socketpair; both closed afterwards."""
    ours, theirs = socket.socketpair()
    peer = WirePeer(connection=ours)
    peer.start()
    yield peer, theirs
    peer.close()
    theirs.close()


# ---- framing ----------------------------------------------------------------

def test_encode_is_big_endian_length_then_frame():
    assert encode(b"\x01\x02\x03") == b"\x00\x00\x00\x03\x01\x02\x03"
    assert encode(FRAME_A)[:4] == bytes.fromhex("0000003c")
    assert encode(b"") == b"\x00\x00\x00\x00"


def test_encode_limits_frames_to_what_qemu_takes():
    assert len(encode(bytes(MAX_FRAME))) == MAX_FRAME + 4
    with pytest.raises(ValueError, match="at most"):
        encode(bytes(MAX_FRAME + 1))


def test_decoder_reassembles_frames_split_anywhere():
    stream = encode(FRAME_A) + encode(b"") + encode(FRAME_B) + encode(b"x")
    decoder = FrameDecoder()
    out: list[bytes] = []
    for i in range(len(stream)):
        out += decoder.feed(stream[i:i + 1])
    assert out == [FRAME_A, b"", FRAME_B, b"x"]
    assert decoder.pending == 0


def test_decoder_returns_whole_frames_and_keeps_the_rest():
    stream = encode(FRAME_A) + encode(FRAME_B)
    decoder = FrameDecoder()
    assert decoder.feed(stream[:-5]) == [FRAME_A]
    assert decoder.pending == len(encode(FRAME_B)) - 5
    assert decoder.feed(stream[-5:]) == [FRAME_B]
    assert decoder.pending == 0


def test_decoder_refuses_a_length_qemu_would_refuse():
    with pytest.raises(WireError, match="exceeds"):
        FrameDecoder().feed(struct.pack(">I", MAX_FRAME + 1))


# ---- pcap ---------------------------------------------------------------------

def test_pcap_writer_writes_a_file_scapy_reads(tmp_path):
    path = tmp_path / "x.pcap"
    writer = PcapWriter(path)
    writer.write(FRAME_A, 1700000000.25)
    writer.write(FRAME_B, 1700000001.5)
    writer.close()
    raw = path.read_bytes()
    magic, major, minor, _, _, snaplen, linktype = struct.unpack_from("<IHHiIII", raw)
    assert (magic, major, minor, snaplen, linktype) == (0xA1B2C3D4, 2, 4, MAX_FRAME, 1)
    packets = rdpcap(str(path))
    assert [bytes(p) for p in packets] == [FRAME_A, FRAME_B]
    assert float(packets[0].time) == pytest.approx(1700000000.25, abs=1e-6)
    assert packets[1][Ether].type == 0x88B5


def test_pcap_writer_refuses_writes_after_close(tmp_path):
    writer = PcapWriter(tmp_path / "x.pcap")
    writer.close()
    writer.close()
    with pytest.raises(ValueError, match="closed"):
        writer.write(FRAME_A, 0.0)


# ---- WirePeer over a socketpair ---------------------------------------------

def test_recv_returns_the_guests_frames_in_order(pair):
    peer, qemu = pair
    qemu.sendall(encode(FRAME_A) + encode(FRAME_B))
    assert peer.recv(2) == FRAME_A
    assert peer.recv(2) == FRAME_B
    assert [(f.direction, f.data) for f in peer.frames] == [("in", FRAME_A), ("in", FRAME_B)]


def test_send_writes_length_prefixed_frames(pair):
    peer, qemu = pair
    peer.send(FRAME_B)
    assert read_frame(qemu) == FRAME_B
    assert peer.send_many([FRAME_A, b"\x01" * 13]) == 2
    assert read_frame(qemu) == FRAME_A
    assert read_frame(qemu) == b"\x01" * 13
    assert [f.direction for f in peer.frames] == ["out", "out", "out"]


def test_send_refuses_oversized_frames_without_writing(pair):
    peer, qemu = pair
    with pytest.raises(ValueError):
        peer.send(bytes(MAX_FRAME + 1))
    peer.send(b"ok")
    assert read_frame(qemu) == b"ok"
    assert peer.frames[-1].data == b"ok"
    assert len(peer.frames) == 1


def test_recv_times_out_with_none(pair):
    peer, _ = pair
    start = time.monotonic()
    assert peer.recv(0.3) is None
    elapsed = time.monotonic() - start
    assert 0.3 <= elapsed < 1.3


def test_recv_until_skips_and_received_keeps_everything(pair):
    peer, qemu = pair
    qemu.sendall(encode(FRAME_A) + encode(FRAME_B) + encode(FRAME_A))
    is_b = lambda f: f[12:14] == b"\x88\xb5"  # noqa: E731
    assert peer.recv_until(is_b, 2) == FRAME_B
    assert peer.recv(2) == FRAME_A           # the one after B is still queued
    assert peer.recv_until(is_b, 0.2) is None
    assert peer.received() == [FRAME_A, FRAME_B, FRAME_A]
    assert peer.received(is_b) == [FRAME_B]


def test_recv_all_collects_up_to_count(pair):
    peer, qemu = pair
    qemu.sendall(b"".join(encode(FRAME_B) for _ in range(5)) + encode(FRAME_A))
    is_b = lambda f: f[12:14] == b"\x88\xb5"  # noqa: E731
    assert peer.recv_all(is_b, 3, timeout=2) == [FRAME_B] * 3
    start = time.monotonic()
    assert peer.recv_all(is_b, 5, timeout=0.5) == [FRAME_B] * 2
    assert time.monotonic() - start < 1.5


def test_clear_forgets_queued_frames_only(pair):
    peer, qemu = pair
    qemu.sendall(encode(FRAME_A) + encode(FRAME_B) + encode(FRAME_A))
    assert peer.recv(2) == FRAME_A
    assert wait_for(lambda: len(peer.received()) == 3)
    assert peer.clear() == 2
    assert peer.recv(0.1) is None
    assert len(peer.received()) == 3


def test_eof_ends_waits_at_once(pair):
    peer, qemu = pair
    qemu.sendall(encode(FRAME_A))
    qemu.close()
    assert peer.recv(2) == FRAME_A          # what came before the close is kept
    start = time.monotonic()
    assert peer.recv(5) is None
    assert time.monotonic() - start < 1.0
    assert peer.eof


def test_a_broken_stream_is_reported(pair):
    peer, qemu = pair
    qemu.sendall(struct.pack(">I", MAX_FRAME + 1) + b"junk")
    with pytest.raises(WireError, match="exceeds"):
        peer.recv(2)
    with pytest.raises(WireError):
        peer.send(FRAME_A)


def test_send_times_out_when_nobody_reads(pair):
    peer, _ = pair
    start = time.monotonic()
    with pytest.raises(WireError, match="timed out"):
        peer.send_many([bytes(1500)] * 20000, timeout=0.5)
    assert time.monotonic() - start < 2.0


def test_responder_answers_on_the_reader_thread(pair):
    peer, qemu = pair
    peer.respond(lambda f: f[::-1] if f == FRAME_A else None)
    qemu.sendall(encode(FRAME_B) + encode(FRAME_A))
    assert read_frame(qemu) == FRAME_A[::-1]
    peer.respond(lambda f: [b"one", b"two"])
    qemu.sendall(encode(FRAME_B))
    assert read_frame(qemu) == b"one"
    assert read_frame(qemu) == b"two"
    peer.respond(None)
    qemu.sendall(encode(FRAME_A))
    assert wait_for(lambda: len(peer.received()) == 4)
    qemu.settimeout(0.3)
    with pytest.raises(TimeoutError):
        qemu.recv(1)
    assert [f.direction for f in peer.frames] == ["in", "in", "out", "in", "out", "out", "in"]


def test_pcap_holds_both_directions_in_order(tmp_path):
    ours, qemu = socket.socketpair()
    path = tmp_path / "wire.pcap"
    with WirePeer(connection=ours, pcap=path) as peer:
        peer.send(FRAME_B)
        read_frame(qemu)
        qemu.sendall(encode(FRAME_A))
        assert peer.recv(2) == FRAME_A
    qemu.close()
    assert [bytes(p) for p in rdpcap(str(path))] == [FRAME_B, FRAME_A]


def test_close_stops_the_reader_thread():
    ours, qemu = socket.socketpair()
    before = len(wirepeer_threads())
    peer = WirePeer(connection=ours)
    peer.start()
    assert len(wirepeer_threads()) == before + 1
    peer.close()
    peer.close()
    assert len(wirepeer_threads()) == before
    assert ours.fileno() == -1
    qemu.close()


# ---- WirePeer listening on loopback ---------------------------------------------

def test_peer_listens_on_loopback_for_one_qemu():
    with WirePeer() as peer:
        assert 0 < peer.port < 65536
        assert not peer.connected
        client = socket.create_connection(("127.0.0.1", peer.port), timeout=2)
        try:
            peer.wait_connected(2)
            client.sendall(encode(FRAME_A))
            assert peer.recv(2) == FRAME_A
            peer.send(FRAME_B)
            assert read_frame(client) == FRAME_B
            with pytest.raises(ConnectionRefusedError):
                socket.create_connection(("127.0.0.1", peer.port), timeout=2).close()
        finally:
            client.close()


def test_nic_is_a_socket_connect_backend_to_the_peer():
    with WirePeer() as peer:
        nic = peer.nic(mac="52:54:76:36:00:02")
        assert nic.backend == "socket-connect"
        assert netdev_arg(nic, "n0") == f"socket,id=n0,connect=127.0.0.1:{peer.port}"
        argv = build_argv(VMSpec(nics=[nic]))
        assert argv[argv.index("-nic") + 1] == "none"
        assert "e1000,netdev=n0,mac=52:54:76:36:00:02,romfile=" in argv


def test_wait_connected_is_bounded():
    with WirePeer() as peer:
        start = time.monotonic()
        with pytest.raises(WireError, match="did not connect"):
            peer.wait_connected(0.3)
        with pytest.raises(WireError, match="did not connect"):
            peer.send(FRAME_A, timeout=0.3)
        assert time.monotonic() - start < 2.0


def test_only_loopback_is_allowed():
    with pytest.raises(ValueError, match="loopback"):
        WirePeer("0.0.0.0")
    with pytest.raises(ValueError, match="loopback"):
        WirePeer("10.0.0.1")


def test_a_peer_given_a_connection_has_no_port(pair):
    peer, _ = pair
    assert peer.connected
    with pytest.raises(WireError, match="not listening"):
        _ = peer.port


def test_received_since_a_time(pair):
    peer, qemu = pair
    qemu.sendall(encode(FRAME_A))
    assert wait_for(lambda: len(peer.received()) == 1)
    middle = time.time()
    qemu.sendall(encode(FRAME_B))
    assert wait_for(lambda: len(peer.received()) == 2)
    assert peer.received(since=middle) == [FRAME_B]
    assert peer.received(lambda f: f == FRAME_A, since=middle) == []


def test_a_failed_start_leaves_nothing_open(tmp_path):
    with WirePeer() as first:
        threads = len(wirepeer_threads())
        peer = WirePeer(port=first.port, pcap=tmp_path / "x.pcap")
        with pytest.raises(OSError):
            peer.start()                          # the port is taken
        assert peer._listener is None and peer._pcap is None
        assert len(wirepeer_threads()) == threads
