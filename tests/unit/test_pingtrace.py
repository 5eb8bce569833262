"""xv6net.pingtrace: QEMU's trace lines and a pcap cut into a ping's stages."""

import struct

import pytest

from xv6net import pingtrace

T0 = 1_700_000_000


def pcap(frames):
    """A classic pcap of Ethernet/IPv4/ICMP echo frames: (time, type, seq)."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    for when, kind, seq in frames:
        icmp = struct.pack("!BBHHH", kind, 0, 0, 7, seq) + b"x" * 8
        ip = bytes([0x45, 0]) + struct.pack("!H", 20 + len(icmp)) + bytes(5) + b"\x01" \
            + bytes(10)
        frame = bytes(12) + b"\x08\x00" + ip + icmp
        sec, usec = int(when), round((when - int(when)) * 1e6)
        out.append(struct.pack("<IIII", sec, usec, len(frame), len(frame)) + frame)
    return b"".join(out)


def line(us, event, args):
    t = T0 + us / 1e6
    return f"123@{int(t)}.{round((t - int(t)) * 1e6):06d}:{event} {args}"


ECHO = [  # one echo, microseconds after T0; the timer (vector 2) rises in between
    (10, "e1000x_rx_flt_ucast_match", "unicast match[0]: 52:54:00:00:00:01"),
    (30, "ioapic_set_irq", "vector: 11 level: 1"),
    (50, "ioapic_set_irq", "vector: 2 level: 1"),
    (60, "ioapic_set_irq", "vector: 2 level: 0"),
    (70, "ioapic_set_irq", "vector: 11 level: 0"),
    (80, "apic_mem_writel", "0xb0 = 0x00000000"),
]


def test_stages_of_one_echo():
    text = "\n".join(["qemu-system-x86_64: a line that is not an event",
                      *(line(us, ev, args) for us, ev, args in ECHO)])
    events = pingtrace.parse_trace(text)
    assert len(events) == len(ECHO)
    frames = pingtrace.pcap_icmp(pcap([(T0, 8, 1), (T0 + 200e-6, 0, 1), (T0 + 0.5, 8, 2)]))
    assert [(kind, seq) for _, kind, seq in frames] == [(8, 1), (0, 1), (8, 2)]
    marks = pingtrace.stages(events, frames)
    assert len(marks) == 1     # the second request has no reply
    rows = {name: med for name, med, _ in pingtrace.breakdown(marks)}
    assert rows["wire -> rx"] == pytest.approx(10, abs=1)
    assert rows["rx -> irq"] == pytest.approx(20, abs=1)       # not the timer's line
    assert rows["irq -> ack"] == pytest.approx(40, abs=1)
    assert rows["eoi -> reply"] == pytest.approx(120, abs=1)
    assert rows["wire -> reply"] == pytest.approx(200, abs=1)


def test_the_card_line_is_the_one_raised_after_most_requests():
    # The timer's line rises between the filter and the card's line in the
    # first echo only: the vote over the echoes still finds the card's.
    lines = [line(us, ev, args) for us, ev, args in [*ECHO[:1], (15, "ioapic_set_irq",
                                                                "vector: 2 level: 1"), *ECHO[1:]]]
    lines += [line(1000 + us, ev, args) for us, ev, args in ECHO]
    lines += [line(2000 + us, ev, args) for us, ev, args in ECHO]
    events = pingtrace.parse_trace("\n".join(lines))
    assert pingtrace.card_line(events, [T0, T0 + 0.001, T0 + 0.002]) == 11
    assert pingtrace.card_line(events, []) is None


def test_marks_cut_the_guest_part():
    marked = [*ECHO[:2], (40, "apic_mem_writel", "0x80 = 0x00000001"), *ECHO[2:],
              (100, "apic_mem_writel", "0x80 = 0x00000002"),
              (120, "apic_mem_writel", "0x80 = 0x00000003"),
              (150, "apic_mem_writel", "0x80 = 0x00000004"),
              (190, "apic_mem_writel", "0x80 = 0x00000005")]
    events = pingtrace.parse_trace("\n".join(line(us, ev, a) for us, ev, a in marked))
    marks = pingtrace.stages(events, pingtrace.pcap_icmp(pcap([(T0, 8, 1),
                                                               (T0 + 170e-6, 0, 1)])))
    rows = {name: med for name, med, _ in pingtrace.breakdown(marks)}
    assert rows["irq -> isr"] == pytest.approx(10, abs=1)
    assert rows["eoi -> netrx"] == pytest.approx(20, abs=1)
    assert rows["icmp -> tdt"] == pytest.approx(30, abs=1)
    assert rows["tdt -> reply"] == pytest.approx(20, abs=1)
    assert rows["tdt -> tdt_done"] == pytest.approx(40, abs=1)


def test_an_echo_missing_a_stage_is_left_out_and_bad_pcap_refused():
    events = pingtrace.parse_trace("\n".join(line(us, ev, a) for us, ev, a in ECHO[:4]))
    frames = pingtrace.pcap_icmp(pcap([(T0, 8, 1), (T0 + 200e-6, 0, 1)]))
    assert pingtrace.stages(events, frames) == []
    assert pingtrace.breakdown([]) == []
    with pytest.raises(ValueError):
        pingtrace.pcap_icmp(b"not a pcap at all, no")


VIRTIO_ECHO = [  # one echo on virtio-net: QEMU's generic virtio events
    (10, "virtqueue_pop", "vq 0x7f01 elem 0x5501 in_num 1 out_num 0"),   # a receive buffer
    (20, "ioapic_set_irq", "vector: 11 level: 1"),
    (35, "ioapic_set_irq", "vector: 11 level: 0"),
    (45, "apic_mem_writel", "0xb0 = 0x00000000"),
    (60, "virtio_queue_notify", "vdev 0x5502 n 0 vq 0x7f01"),   # the receive queue's: not it
    (90, "virtio_queue_notify", "vdev 0x5502 n 1 vq 0x7f02"),
    (95, "virtqueue_pop", "vq 0x7f02 elem 0x5503 in_num 0 out_num 1"),  # the reply
]


def test_virtio_stages_come_from_the_virtqueue_events():
    events = pingtrace.parse_trace("\n".join(line(us, ev, a) for us, ev, a in VIRTIO_ECHO))
    assert pingtrace.profile_of(events) is pingtrace.PROFILES["virtio-net-pci"]
    frames = pingtrace.pcap_icmp(pcap([(T0, 8, 1), (T0 + 100e-6, 0, 1)]))
    marks = pingtrace.stages(events, frames)
    assert len(marks) == 1
    rows = {name: med for name, med, _ in pingtrace.breakdown(marks)}
    assert list(rows) == ["wire -> rx", "rx -> irq", "irq -> ack", "ack -> eoi",
                          "eoi -> notify", "notify -> txpop", "txpop -> reply", "wire -> reply"]
    assert rows["wire -> rx"] == pytest.approx(10, abs=1)   # the receive buffer, not the reply's
    assert rows["eoi -> notify"] == pytest.approx(45, abs=1)   # queue 1's notify
    assert rows["notify -> txpop"] == pytest.approx(5, abs=1)
    assert rows["txpop -> reply"] == pytest.approx(5, abs=1)


def test_a_frame_handled_on_the_interrupts_way_out_has_no_netrx_mark():
    # netrx_idle: the marks go isr, ack, eoi, icmp with no 2 (netrx) between.
    def echo(at, netrx):
        marked = [*ECHO[:2], (40, "apic_mem_writel", "0x80 = 0x00000001"), *ECHO[2:],
                  *([(100, "apic_mem_writel", "0x80 = 0x00000002")] if netrx else []),
                  (120, "apic_mem_writel", "0x80 = 0x00000003"),
                  (150, "apic_mem_writel", "0x80 = 0x00000004"),
                  (190, "apic_mem_writel", "0x80 = 0x00000005")]
        return [line(at + us, ev, a) for us, ev, a in marked]
    events = pingtrace.parse_trace("\n".join(echo(0, netrx=False) + echo(1000, netrx=True)))
    frames = pingtrace.pcap_icmp(pcap([(T0, 8, 1), (T0 + 170e-6, 0, 1),
                                       (T0 + 0.001, 8, 2), (T0 + 0.001170, 0, 2)]))
    marks = pingtrace.stages(events, frames)
    assert len(marks) == 2
    assert "netrx" not in marks[0] and "netrx" in marks[1]
    rows = {name: med for name, med, _ in pingtrace.breakdown(marks)}
    assert rows["eoi -> icmp"] == pytest.approx(40, abs=1)    # the first echo's only
    assert rows["eoi -> netrx"] == pytest.approx(20, abs=1)   # the second's
    assert rows["netrx -> icmp"] == pytest.approx(20, abs=1)
    assert rows["icmp -> tdt"] == pytest.approx(30, abs=1)
