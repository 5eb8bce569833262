"""The relay process wrapper, with impair.py's stream mode on loopback (no root)."""

import socket

import pytest

from xv6net import relay
from xv6net.impair import ImpairError


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_stream_relay_process_starts_carries_and_reports():
    qemu_a = socket.create_server(("127.0.0.1", 0))           # the listening guest
    listen = free_port()
    process = relay.ImpairRelay(relay.stream_argv(listen, qemu_a.getsockname()[1],
                                                  "loss=0%,seed=2"), label="wire")
    process.start()
    try:
        a, _ = qemu_a.accept()
        b = socket.create_connection(("127.0.0.1", listen))      # the connecting guest
        frame = bytes(range(60))
        b.sendall(len(frame).to_bytes(4, "big") + frame)
        a.settimeout(5)
        got = b""
        while len(got) < 64:
            got += a.recv(64 - len(got))
        assert got == len(frame).to_bytes(4, "big") + frame
    finally:
        counts = process.stop()
        qemu_a.close()
    first, second = counts.values()
    assert first["in"] == first["out"] == 1 and second["in"] == 0
    assert process.stop() is counts                               # a second stop: the same
    text = relay.format_counts("wire", process.spec, {"b -> a": first, "a -> b": second})
    assert text.splitlines() == [
        "impair wire (seed=2):",
        "  b -> a: in 1 out 1 dropped 0 duplicated 0 reordered 0 corrupted 0 overflow 0 errors 0"
        " missed 0",
        "  a -> b: in 0 out 0 dropped 0 duplicated 0 reordered 0 corrupted 0 overflow 0 errors 0"
        " missed 0"]


def test_a_relay_that_cannot_start_says_why():
    process = relay.ImpairRelay(relay.stream_argv(free_port(), free_port(), "loss=1%"),
                                label="wire")
    why = r"did not start: impair: cannot open the link's ends: \[Errno 111\] Connection refused"
    with pytest.raises(relay.RelayError, match=why):
        process.start()


def test_a_bad_spec_is_refused_before_anything_runs():
    with pytest.raises(ImpairError):
        relay.ImpairRelay(relay.stream_argv(1, 2, "loss=lots"))


def test_a_report_without_counts_is_an_error():
    with pytest.raises(relay.RelayError, match="printed no counts: boom"):
        relay.parse_report("impair: ready\n", "boom\n", "x")
