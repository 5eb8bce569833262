"""The impairment relay's decisions, with fixed seeds and no sockets."""

import json
import socket
import threading

import pytest

from xv6net import impair
from xv6net.impair import ImpairError, Impairment, parse_impairment, plan


def frames(count: int, gap: float = 0.001, size: int = 100) -> list[tuple[float, bytes]]:
    """count distinct frames, one every gap seconds: the index in the first 4 bytes
    after a 14-byte header."""
    return [(i * gap, bytes(14) + i.to_bytes(4, "big") + bytes(size - 18)) for i in range(count)]


def index_of(frame: bytes) -> int:
    return int.from_bytes(frame[14:18], "big")


def test_parse_the_issue_example():
    imp = parse_impairment("loss=5%,reorder=25%,dup=1%,corrupt=1%,delay=20ms:10ms")
    assert (imp.loss, imp.reorder, imp.dup, imp.corrupt) == (0.05, 0.25, 0.01, 0.01)
    assert imp.delay == pytest.approx(0.020) and imp.jitter == pytest.approx(0.010)
    assert parse_impairment(imp.text()) == imp


def test_parse_forms():
    assert parse_impairment("loss=0.1").loss == pytest.approx(0.1)
    assert parse_impairment("delay=1.5s").delay == pytest.approx(1.5)
    assert parse_impairment("delay=20").delay == pytest.approx(0.020)     # ms, as netem
    assert parse_impairment("delay=300us").delay == pytest.approx(0.0003)
    assert parse_impairment("seed=42, loss=1%").seed == 42
    assert parse_impairment("").passes_all


@pytest.mark.parametrize("spec", ["loss=120%", "loss=-1%", "los=5%", "loss", "delay=5ms:10ms",
                                  "delay=fast", "seed=x", "loss=1%,loss=2%", "delay=11s",
                                  "dup=nan%"])
def test_bad_specs_are_refused(spec):
    with pytest.raises(ImpairError):
        parse_impairment(spec)


def test_no_impairment_passes_every_frame_unchanged_at_once():
    arrivals = frames(1000)
    out, counts = plan(Impairment(), arrivals)
    assert out == arrivals
    assert counts["in"] == counts["out"] == 1000
    assert sum(counts[a] for a in ("dropped", "duplicated", "reordered", "corrupted")) == 0


def test_a_seed_repeats_and_another_seed_differs():
    spec = "loss=10%,dup=5%,reorder=10%,corrupt=5%,delay=5ms:2ms"
    first, _ = plan(parse_impairment(spec + ",seed=3"), frames(500))
    again, _ = plan(parse_impairment(spec + ",seed=3"), frames(500))
    other, _ = plan(parse_impairment(spec + ",seed=4"), frames(500))
    assert first == again
    assert first != other


def test_the_two_directions_draw_differently():
    imp = parse_impairment("loss=20%")
    zero, _ = plan(imp, frames(200), direction=0)
    one, _ = plan(imp, frames(200), direction=1)
    assert [index_of(f) for _, f in zero] != [index_of(f) for _, f in one]


def test_loss_drops_about_the_given_share_and_counts_it():
    out, counts = plan(parse_impairment("loss=5%,seed=1"), frames(10000))
    assert counts["dropped"] == 10000 - len(out)
    assert 400 < counts["dropped"] < 600
    kept = [index_of(f) for _, f in out]
    assert kept == sorted(kept)            # loss alone keeps the order


def test_exactly_the_frames_draw_picks_are_lost():
    imp = parse_impairment("loss=30%,seed=9")
    rng = impair.direction_rng(imp, 0)
    lost = {i for i in range(300) if impair.draw(imp, rng, 100).lost}
    out, _ = plan(imp, frames(300))
    assert {index_of(f) for _, f in out} == set(range(300)) - lost


def test_duplicates_follow_their_original():
    out, counts = plan(parse_impairment("dup=10%,seed=2"), frames(1000))
    assert len(out) == 1000 + counts["duplicated"]
    assert 60 < counts["duplicated"] < 140
    indices = [index_of(f) for _, f in out]
    doubled = [i for i in set(indices) if indices.count(i) == 2]
    assert len(doubled) == counts["duplicated"]
    for i in doubled:
        at = indices.index(i)
        assert indices[at + 1] == i


def test_corruption_flips_one_bit_after_the_ethernet_header():
    arrivals = frames(2000)
    out, counts = plan(parse_impairment("corrupt=2%,seed=5"), arrivals)
    assert len(out) == 2000
    changed = 0
    for (_, sent), (_, got) in zip(arrivals, out, strict=True):
        if sent != got:
            changed += 1
            diff = [i for i in range(len(sent)) if sent[i] != got[i]]
            assert len(diff) == 1 and diff[0] >= 14
            assert bin(sent[diff[0]] ^ got[diff[0]]).count("1") == 1
    assert changed == counts["corrupted"] and 20 < changed < 60


def test_delay_and_jitter_keep_order_within_bounds():
    arrivals = frames(1000, gap=0.002)
    out, _ = plan(parse_impairment("delay=20ms:10ms,seed=8"), arrivals)
    assert [index_of(f) for _, f in out] == list(range(1000))
    times = [t for t, _ in out]
    assert times == sorted(times)
    sent = dict((index_of(f), t) for t, f in arrivals)
    delays = [t - sent[index_of(f)] for t, f in out]
    assert min(delays) >= 0.010 - 1e-9
    # in-order departure can push a frame past delay+jitter only behind a later-drawn one
    assert max(delays) <= 0.030 + 1e-9
    assert max(delays) - min(delays) > 0.015       # jitter is really drawn


def test_a_reordered_frame_leaves_after_the_next_one():
    out, counts = plan(parse_impairment("reorder=25%,seed=11"), frames(1000))
    indices = [index_of(f) for _, f in out]
    assert sorted(indices) == list(range(1000))     # nothing lost or added
    swapped = [i for i in range(1, len(indices)) if indices[i] < indices[i - 1]]
    assert len(swapped) == counts["reordered"]
    assert 180 < counts["reordered"] < 320
    for at in swapped:                               # each late by exactly one frame
        assert indices[at] == indices[at - 1] - 1


def test_a_held_frame_leaves_after_hold_when_no_frame_follows():
    imp = Impairment(reorder=1.0, hold=0.010)
    out, counts = plan(imp, [(0.0, b"x" * 60)])
    assert counts["reordered"] == 1
    assert out == [(pytest.approx(0.010), b"x" * 60)]


def test_the_queue_limit_counts_overflow():
    shaper = impair.Shaper(parse_impairment("delay=1s"), impair.direction_rng(Impairment(), 0),
                           limit=10)
    for t, frame in frames(15):
        shaper.offer(frame, t)
    assert shaper.counts["overflow"] == 5 and shaper.pending() == 10


def test_the_issue_mix_counts_add_up():
    spec = "loss=5%,reorder=25%,dup=1%,corrupt=1%,delay=20ms:10ms,seed=7"
    out, counts = plan(parse_impairment(spec), frames(5000))
    assert counts["out"] == len(out) == 5000 - counts["dropped"] + counts["duplicated"]
    assert all(counts[action] > 0 for action in ("dropped", "duplicated", "reordered",
                                                 "corrupted"))


def _stream_pair() -> tuple[socket.socket, int]:
    server = socket.create_server(("127.0.0.1", 0))
    return server, server.getsockname()[1]


def _stream_ends(kind: str, tmp_path):
    """A listening socket that plays the listening QEMU, where the relay
    listens, where it connects, and a function that connects to the relay as
    the other QEMU: TCP on loopback, or Unix sockets (the lab's stream LANs)."""
    if kind == "tcp":
        server, connect_port = _stream_pair()
        listen_port = impair_free_port()
        return (server, listen_port, connect_port,
                lambda: socket.create_connection(("127.0.0.1", listen_port)))
    server_path, listen_path = tmp_path / "a.sock", tmp_path / "relay.sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(server_path))
    server.listen(1)

    def connect() -> socket.socket:
        sock = socket.socket(socket.AF_UNIX)
        sock.connect(str(listen_path))
        return sock
    return server, str(listen_path), str(server_path), connect


@pytest.mark.parametrize("kind", ["tcp", "unix"])
def test_stream_relay_carries_qemu_records_both_ways(kind, tmp_path):
    """The no-root relay between two stream ends, with real sockets."""
    server, listen_at, connect_to, connect = _stream_ends(kind, tmp_path)
    listening = impair.StreamPort(listen_at, listen=True)
    connecting = impair.StreamPort(connect_to, listen=False)
    assert listening.name.endswith(str(listen_at))
    qemu_a, _ = server.accept()
    qemu_b = connect()                                   # the connecting QEMU
    stop = threading.Event()
    result: list = []
    thread = threading.Thread(target=lambda: result.append(
        impair.relay([listening, connecting], Impairment(), stop.is_set)))
    thread.start()
    try:
        records = [bytes([i]) * (60 + i) for i in range(20)]
        qemu_b.sendall(b"".join(len(r).to_bytes(4, "big") + r for r in records))
        got = _read_records(qemu_a, len(records))
        assert got == records
        qemu_a.sendall(len(records[3]).to_bytes(4, "big") + records[3])
        assert _read_records(qemu_b, 1) == [records[3]]
    finally:
        stop.set()
        thread.join(5)
        for sock in (qemu_a, qemu_b, server):
            sock.close()
        listening.close()
        connecting.close()
    counts = result[0]
    assert counts[0]["in"] == counts[0]["out"] == 20
    assert counts[1]["in"] == counts[1]["out"] == 1
    json.loads(impair.report(["l", "c"], counts))


def impair_free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _read_records(sock: socket.socket, count: int) -> list[bytes]:
    sock.settimeout(5)
    data = b""
    records = []
    while len(records) < count:
        data += sock.recv(65536)
        while len(data) >= 4 and len(data) >= 4 + int.from_bytes(data[:4], "big"):
            length = int.from_bytes(data[:4], "big")
            records.append(data[4:4 + length])
            data = data[4 + length:]
    return records
