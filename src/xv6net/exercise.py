"""Lab exercises cut from the working code, and their graders (docs/exercises.md).

A solution region in the kernel's source is a run of lines between two
comment lines:

    // EXERCISE(arp-reply): answer an ARP request for our address
    ...the solution...
    // END EXERCISE

One exercise may have several regions (e1000-rx: the refill and the
interrupt), in one file or several. The markers are comments only, so the
full tree builds and runs as it is. What replaces a region in a student's
tree (its stub) lives in the side table EXERCISES below, one stub per region
in source order (files sorted by path, then by line), together with the
handout's text and the tests that grade it: the markers stay one line each,
and the kernel's source reads as ordinary code.

`make_tree` writes a copy of the git-tracked tree with one exercise's regions
replaced by their stubs (the markers kept, so the student sees where to
write) and a HANDOUT.md; `grade` builds a tree, runs the exercise's tests
with pytest and prints a score per test and a total, in the style of MIT's
6.1810 graders.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

BEGIN = re.compile(r"^(?P<indent>\s*)// EXERCISE\((?P<name>[a-z0-9][a-z0-9-]*)\): (?P<desc>\S.*)$")
END = re.compile(r"^\s*// END EXERCISE\s*$")
LOOSE = re.compile(r"//\s*(END )?EXERCISE")   # anything that looks like a marker
SCAN_DIRS = ("kernel", "user")
SCAN_SUFFIXES = (".c", ".h", ".S")
HOST_TESTS = "tests/unit/test_host.py::test_host_case"
BUILD_TARGETS = ("all", "host-tests")
E2E = "e2e:"   # an `affects` entry naming one of E2E_CHECKS

# The end-to-end checks that tests/e2e/test_exercises.py runs on every stripped
# tree, in one guest on QEMU's SLiRP (10.0.2.15, gateway 10.0.2.2): with an
# exercise stubbed out, each passes unless the exercise's `affects` names it, as
# "e2e:NAME" or, for one of usertests' tests, "e2e:usertests:TEST"; and each one
# named fails (the list was measured by running every check on every tree).
E2E_CHECKS: dict[str, str] = {
    "shell": "the shell runs a pipeline (echo | cat)",
    "usertests": "usertests: every test passes (each test its own result, usertests:TEST)",
    "ping-lo": "ping -c 2 127.0.0.1: both echo requests answered over lo",
    "udp-lo": "a line sent to udpecho on 127.0.0.1 comes back",
    "tcp-lo": "a line sent to tcpecho on 127.0.0.1 over TCP comes back; the server counts it",
    "ping-gateway": "ping -c 2 10.0.2.2 (SLiRP's gateway, through the e1000): both answered",
}
BUILD_TIMEOUT = 900.0
TEST_TIMEOUT = 1800.0


class ExerciseError(Exception):
    """A malformed marker, an unknown exercise, a tree that cannot be written."""


@dataclass(frozen=True)
class Region:
    """Lines begin+1 .. end-1 (0-based) of path are the solution; begin and end
    are the marker lines."""

    name: str
    description: str
    path: str
    begin: int
    end: int
    indent: str


@dataclass(frozen=True)
class GradedTest:
    nodeid: str
    points: int
    title: str


@dataclass(frozen=True)
class Exercise:
    name: str
    stubs: tuple[str, ...]   # one per region, in source order
    task: str                # the handout's "what to implement"
    reading: str             # RFC sections, manual pages
    tests: tuple[GradedTest, ...]
    # What needs this code to pass, beyond the graded tests: host tests, as
    # "test_SOURCE" (the whole file) or "test_SOURCE:test_NAME", and end-to-end
    # checks, as "e2e:NAME" (E2E_CHECKS) or "e2e:usertests:TEST". With the
    # exercise stubbed out, every other host test and check still passes
    # (tests/e2e/test_exercises.py checks it).
    affects: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.affects, tuple):   # ("x") is a string, not a tuple
            raise TypeError(f"exercise {self.name}: affects must be a tuple")

    def tied(self, source: str, test: str) -> bool:
        """Whether a host test may fail while this exercise is stubbed out."""
        graded = f"{HOST_TESTS}[{source}-{test}]"
        hosts = [a for a in self.affects if not a.startswith(E2E)]
        return (source in hosts or f"{source}:{test}" in hosts
                or any(t.nodeid == graded for t in self.tests))

    def tied_check(self, check: str) -> bool:
        """Whether an end-to-end check (a name of E2E_CHECKS, or usertests:TEST)
        fails while this exercise is stubbed out."""
        whole = check.partition(":")[0]
        return E2E + check in self.affects or E2E + whole in self.affects


def host(source: str, test: str, points: int = 10) -> GradedTest:
    """A test of tests/host/SOURCE.c, run alone through pytest."""
    return GradedTest(f"{HOST_TESTS}[{source}-{test}]", points,
                      f"{source}: {test.removeprefix('test_').replace('_', ' ')}")


def e2e(nodeid: str, points: int = 20) -> GradedTest:
    """An end-to-end test (boots guests)."""
    name = nodeid.rsplit("::", 1)[-1]
    return GradedTest(nodeid, points, "e2e: " + name.removeprefix("test_").replace("_", " "))


# ---- the side table: stubs, handouts, graders --------------------------------------

# tests/host/test_offload.c's tests that open a TCP connection (a SYN in):
# whatever breaks TCP's input breaks them.
OFFLOAD_TCP = tuple("test_offload:" + t for t in (
    "test_a_tcp_segment_leaves_the_pseudo_header_sum_to_a_txcsum_card",
    "test_without_the_flag_the_stack_sums_tcp_itself",
    "test_a_tcp_sum_of_zero_goes_out_as_zero",
    "test_a_tso_card_gets_whole_segments_in_one_frame_that_cut_right",
    "test_without_tso_every_segment_is_at_most_an_mss",
    "test_the_sysctl_turns_segmentation_offload_off",
    "test_a_tcp_segment_the_card_vouched_for_is_answered"))
# ... and its UDP test that needs a datagram delivered to a socket.
OFFLOAD_UDP_IN = "test_offload:test_a_checksum_the_card_vouched_for_is_not_checked_again"

EXERCISES: dict[str, Exercise] = {e.name: e for e in (
    Exercise(
        name="e1000-tx",
        stubs=(
            "// TODO: put pb on the transmit ring and tell the card (HANDOUT.md).\n"
            "pbuf_free(pb);\n"
            "return -ENOSYS;\n",
        ),
        task="Write the body of `e1000_xmit` in kernel/e1000.c: reclaim the descriptors the "
             "card has finished (`txreclaim`), refuse with -ENOBUFS (freeing the buffer) when "
             "the ring is full, fill the next legacy transmit descriptor (address, length, "
             "EOP | IFCS | RS), remember the buffer so that it is freed once sent, and move "
             "the tail (TDT) past it. All of it under `e->txlock`: the interrupt handler "
             "reclaims too. Make sure the descriptor is in memory before the card is told.",
        reading="Intel 8254x Software Developer's Manual (317453006EN), section 3.3 "
                "(legacy transmit descriptor), 3.4 (transmit descriptor ring), 13.4.38-42 "
                "(TDBAL..TDT); docs/e1000.md",
        tests=(
            e2e("tests/e2e/test_lan.py::test_slirp_gateway_answers_arp[e1000]"),
            e2e("tests/e2e/test_lan.py::test_back_to_back_without_root[e1000]"),
        ),
        affects=("e2e:ping-gateway",),
    ),
    Exercise(
        name="e1000-rx",
        stubs=(
            "// TODO: hand the frame up and post *fresh in its place (HANDOUT.md).\n"
            "e->rx[i].status = 0;   // dropped: the slot goes back to the card as it was\n"
            "drops->errors++;\n"
            "return 0;\n",
            "// TODO: mask receive interrupts and schedule the receive thread.\n",
        ),
        task="Two pieces of kernel/e1000.c. In `rxtake`: a completed descriptor with a "
             "good frame (EOP set, no errors, a sane length) gives up its buffer (set the "
             "buffer's end to the frame's length) and gets the fresh one in its place; a bad "
             "one, or a good one with no fresh buffer, is counted in *drops and keeps its "
             "buffer; either way the descriptor is re-armed (address, status 0) for the "
             "card. In `e1000intr`: when ICR has a receive cause, mask receive interrupts "
             "(IMC) and schedule the device's poll with `netdev_schedule` (urgent when the "
             "ring is filling: RXO or RXDMT0); `e1000_irqenable` unmasks them once the "
             "ring is empty.",
        reading="Intel 8254x Software Developer's Manual, section 3.2 (receive descriptors "
                "and ring), 13.4.17-20 (ICR, ICS, IMS, IMC), 13.4.27-32 (RDBAL..RDT); "
                "docs/e1000.md",
        tests=(
            e2e("tests/e2e/test_lan.py::test_slirp_gateway_answers_arp[e1000]"),
            e2e("tests/e2e/test_lan.py::test_back_to_back_without_root[e1000]"),
        ),
        affects=("e2e:ping-gateway",),
    ),
    Exercise(
        name="arp-reply",
        stubs=(
            "// TODO: answer the request (HANDOUT.md).\n",
        ),
        task="In `arp_input` (kernel/net/arp.c), a request for our address must be answered: "
             "build a reply (`arpbuild`) from us to the asker, with our address as sender "
             "and the asker's as target, count it in `cnt.answered`, and send it to the "
             "asker's hardware address with `ether_output`.",
        reading="RFC 826 (\"Packet Reception\"); RFC 1122 section 2.3.2; arp(7)",
        tests=(
            host("test_arp", "test_a_request_for_us_is_answered_and_its_sender_learned"),
            host("test_arp", "test_a_request_for_another_host_is_not_answered_nor_learned"),
            e2e("tests/e2e/test_lan.py::test_back_to_back_without_root[e1000]"),
        ),
        affects=("test_arp:test_the_table_is_bounded",   # it asks for replies
                 "test_trace:test_the_filter_picks_the_frames"),
    ),
    Exercise(
        name="arp-queue",
        stubs=(
            "// TODO: send the waiting packets to the resolved address (HANDOUT.md).\n",
            "// TODO: keep pb until the address is resolved (HANDOUT.md).\n"
            "// dropoldest() and continues() are there for you.\n"
            "(void)dropoldest;\n"
            "(void)continues;\n"
            "cnt.queue_drops++;\n"
            "pbuf_free(pb);\n",
        ),
        task="Packets sent to a neighbour whose address is being resolved wait on its "
             "entry (kernel/net/arp.c). In `enqueue`: put pb on `e->queue` and add its "
             "buffer size to `e->qbytes`; when the queue is full (ARP_QLEN packets or "
             "ARP_MAXQBYTES bytes), drop the oldest packets first (`dropoldest`), and with "
             "a datagram's first fragment drop the fragments that follow it (`continues`), "
             "which could never be reassembled. In `learn`: once the address is known, move "
             "every waiting packet to *ready with its device and destination address set "
             "(`pb->dev`, `pb->lladdr`) and reset `e->qbytes`; the caller sends them once "
             "the table's lock is dropped.",
        reading="RFC 1122 section 2.3.2.2 (ARP packet queue); RFC 826",
        tests=(
            host("test_arp", "test_output_waits_for_the_reply_then_goes_to_the_right_mac"),
            host("test_arp", "test_a_full_queue_drops_the_oldest_then_sends_the_rest_in_order"),
            host("test_arp", "test_an_unanswered_request_is_retried_each_second_then_fails"),
            e2e("tests/e2e/test_ip_wire.py::test_a_fragmented_datagram_waits_whole_for_arp[e1000]"),
        ),
        affects=("test_forward:test_a_next_hop_that_never_answers_earns_host_unreachable",
                 # the first echo request waits for ARP, and is dropped
                 "e2e:ping-gateway"),
    ),
    Exercise(
        name="ip-input",
        stubs=(
            "// TODO: check the header (HANDOUT.md); badsource() is there for you.\n"
            "(void)badsource;\n"
            "(void)dev;\n"
            "(void)pb;\n"
            "*dstclass = 0;\n"
            "COUNT(hdrerrors);\n"
            "return 0;\n",
        ),
        task="Write `checkhdr` in kernel/net/ip.c: return the header length of a good "
             "IPv4 packet, or 0 after counting why it is dropped. Drop (COUNT(hdrerrors)) "
             "what is shorter than a header, not version 4, with a header length under 20 "
             "or past the packet, or a total length shorter than the header or longer than "
             "the packet; drop (COUNT(badsum)) a header whose checksum is wrong. Trim the "
             "Ethernet padding past the total length (`pbuf_trim`). Set *dstclass "
             "(`ip_addrclass` of the destination) and drop (COUNT(addrerrors)) martian "
             "sources (`badsource`), destination 0.0.0.0, and 127/8 from anywhere but lo; "
             "drop (COUNT(notforus)) what is for another host (unless it came on lo). "
             "Count, but keep, a TTL of 0.",
        reading="RFC 791 section 3.1 (header format); RFC 1122 sections 3.2.1.1-3.2.1.8 "
                "(what a host checks); RFC 1071 (the checksum)",
        tests=(
            host("test_ip", "test_an_echo_request_gets_the_exact_reply"),
            host("test_ip", "test_bad_headers_are_dropped_and_counted"),
            host("test_ip", "test_other_hosts_and_martian_sources_are_dropped"),
            host("test_ip", "test_fragments_in_any_order_are_reassembled"),
        ),
        # everything that sends IPv4 into the stack
        affects=("test_forward", "test_ip", "test_tcp", "test_trace", "test_udp",
                 *OFFLOAD_TCP, "test_offload:test_loopback_finishes_the_sum_whatever_eth0_says",
                 OFFLOAD_UDP_IN,
                 "e2e:usertests:polludp", "e2e:usertests:conctcp", "e2e:ping-lo",
                 "e2e:udp-lo", "e2e:tcp-lo", "e2e:ping-gateway"),
    ),
    Exercise(
        name="icmp-echo",
        stubs=(
            "// TODO: send the echo reply (HANDOUT.md).\n"
            "(void)pb;\n"
            "(void)info;\n",
        ),
        task="Write `echoreply` in kernel/net/icmp.c: no reply to a broadcast ping; "
             "otherwise copy the request (rp is at its ICMP header) into a new buffer of "
             "its size (`pbuf_alloc_len`, `pbuf_put`), make it an echo reply (type 0, code "
             "0), recompute the checksum over the whole message (`wire_cksum`, with the "
             "field zeroed first), and send it with `ip_output` from the address the request "
             "was sent to, back to its source; count what went out (tx, txechoreply). "
             "The request itself is freed by the caller.",
        reading="RFC 792 (\"Echo or Echo Reply Message\"); RFC 1122 section 3.2.2.6",
        tests=(
            host("test_ip", "test_an_echo_request_gets_the_exact_reply"),
            host("test_ip", "test_fragments_in_any_order_are_reassembled"),
            e2e("tests/e2e/test_ip_wire.py::test_echo_request_gets_a_correct_reply[e1000-56]"),
        ),
        affects=("test_trace:test_off_nothing_is_logged",   # they ping the stack
                 "test_trace:test_an_echo_request_is_traced_through_every_layer",
                 "e2e:ping-lo"),   # (a ping to the gateway needs no echo reply from us)
    ),
    Exercise(
        name="udp-demux",
        stubs=(
            "// TODO: rank the socket (HANDOUT.md).\n"
            "(void)s;\n"
            "(void)d;\n"
            "return 0;\n",
        ),
        task="Write `rank` in kernel/net/udp.c, which `lookup` hands to `sock_find` (one "
             "pass over the AF_INET sockets under the table's lock: the socket ranked "
             "highest comes back with a reference held). A socket fits datagram d if it is "
             "UDP, bound to d->dport, and its local address is unset, or is d->dst, or any "
             "when the datagram is a broadcast. A connected socket (rport set) fits only a "
             "datagram from its remote address and port, and beats an unconnected one: "
             "return SOCK_EXACT for it, 1 for an unconnected fit, 0 for no fit.",
        reading="RFC 768; RFC 1122 section 4.1.3.5; udp(7) (\"connect\")",
        tests=(
            host("test_udp", "test_a_datagram_reaches_the_bound_socket_with_its_source"),
            host("test_udp", "test_a_port_unreachable_refuses_the_connected_socket"),
            host("test_udp", "test_loopback_delivers_to_ourselves"),
            host("test_udp", "test_a_full_queue_drops_and_counts_and_close_frees_it"),
        ),
        affects=("test_udp:test_bad_user_pointers_fault_without_losing_the_pool",
                 "test_udp:test_poll_sees_a_datagram_and_is_woken_by_it",
                 "test_udp:test_msg_peek_leaves_the_datagram_queued",
                 "test_udp:test_a_small_datagram_waits_in_a_short_buffer",
                 "test_udp:test_the_receive_buffer_holds_more_short_datagrams",
                 "test_udp:test_without_short_buffers_a_datagram_keeps_its_own",
                 "test_offload:test_loopback_finishes_the_sum_whatever_eth0_says",
                 OFFLOAD_UDP_IN, "e2e:usertests:polludp", "e2e:udp-lo"),
    ),
    Exercise(
        name="tcp-handshake",
        stubs=(
            "// TODO: a SYN on a listener makes a connection (HANDOUT.md).\n"
            "// backlogroom(), tcp_wscale() and synoptions() are there for you.\n"
            "(void)lp;\n"
            "(void)sg;\n"
            "(void)backlogroom;\n"
            "(void)synoptions;\n",
            "// TODO: the answer to our SYN (HANDOUT.md).\n"
            "(void)tp;\n"
            "(void)sg;\n",
        ),
        task="Two functions of kernel/net/tcp_input.c, RFC 9293's first steps of segment "
             "arrival. `listeninput` (LISTEN): ignore a RST; answer an ACK with a reset "
             "(`resetfor`); ignore anything but a SYN; if the backlog is full "
             "(`backlogroom`, which may turn over the oldest half-open connection) count "
             "dropbacklog and drop it. Otherwise allocate a connection (`tcp_alloc`; none: "
             "count dropnotcb) in SYN-RECEIVED, child of the listener (`parent`, TF_OPENED, "
             "the listener's nsynrcvd, its TF_NODELAY, TF_KEEPALIVE, TF_RCVLOCKED and "
             "TF_SNDLOCKED flags and its buffer sizes), with both ends' addresses and "
             "ports, our window scale (`tcp_wscale`) and the peer's "
             "options (`synoptions`); IRS, RCV.NXT and RCV.ADV from the SYN; ISS from "
             "`tcp_iss` and SND.UNA, SND.NXT, SND.MAX and `recover` equal to it; the "
             "peer's (unscaled) window as SND.WND and `max_sndwnd`, SND.WL1 = SEG.SEQ, "
             "SND.WL2 = ISS, `lastrecv`; count passiveopens and send the SYN-ACK "
             "(`tcp_sendsyn`). `synsentinput` (SYN-SENT): an ACK that is not for our SYN "
             "(SEG.ACK =< ISS or > SND.MAX) gets a reset; a RST with an acceptable ACK "
             "refuses the connection (count attemptfails, `tcp_drop` with -ECONNREFUSED), "
             "without one it is ignored; so is anything without SYN. A SYN sets IRS, "
             "RCV.NXT, RCV.ADV and the peer's options; with our SYN acknowledged, take "
             "the RTT sample (`rttack`), move SND.UNA, become ESTABLISHED "
             "(`established`) and ACK at once (TF_ACKNOW, `tcp_output`); without, it is a "
             "simultaneous open: SYN-RECEIVED, the peer's window as SND.WND, SND.WL1, the "
             "timer off, and our SYN again with an ACK (`tcp_sendsyn`).",
        reading="RFC 9293 sections 3.5 (establishing a connection, figures 6-8) and "
                "3.10.7.2-3.10.7.3 (SEGMENT ARRIVES in LISTEN and SYN-SENT); RFC 7323 "
                "section 2 (window scale on the SYN); RFC 5961 section 3 (blind resets)",
        tests=(
            host("test_tcp", "test_passive_open_is_exact_and_accept_gives_the_peer"),
            host("test_tcp", "test_active_open_sends_mss_window_scale_and_sack_permitted"),
            host("test_tcp", "test_a_rst_to_our_syn_refuses_the_connection"),
            host("test_tcp", "test_simultaneous_open_goes_through_syn_received"),
            host("test_tcp", "test_a_syn_flood_turns_over_the_backlog_and_leaves_room"),
            e2e("tests/e2e/test_ip_guests.py::test_tcp_between_guests[e1000]"),
        ),
        affects=("test_tcp",   # every TCP test opens a connection first
                 *OFFLOAD_TCP, "e2e:tcp-lo", "e2e:usertests:conctcp"),
    ),
    Exercise(
        name="tcp-rexmt",
        stubs=(
            "// TODO: arm the timer with the RTO, backed off (HANDOUT.md).\n"
            "(void)tp;\n",
            "// TODO: take the sample (HANDOUT.md).\n"
            "(void)tp;\n"
            "(void)rtt;\n",
            "// TODO: back off and send again, or give up (HANDOUT.md).\n"
            "tp->t_rexmt = 0;   // off: a deadline that has passed fires at every tick\n",
        ),
        task="The retransmission timer, three functions of kernel/net/tcp_timer.c "
             "(times in ticks, HZ a second). `tcp_setrexmt`: arm `t_rexmt` "
             "(`tcp_deadline`) with the RTO doubled `rxtshift` times (at most 10), never "
             "more than TCP_RTOMAX. `tcp_rttupdate`: a round-trip sample R (at least 1 "
             "tick) updates SRTT and RTTVAR as RFC 6298 2.2-2.3 says, in Jacobson's "
             "scaled integers (`srtt` holds 8*SRTT, `rttvar` 4*RTTVAR; the first sample "
             "sets SRTT = R, RTTVAR = R/2), then RTO = SRTT + max(1, 4*RTTVAR) within "
             "[TCP_RTOMIN, TCP_RTOMAX], and the backoff is over (`rxtshift` 0). "
             "`rexmttimeout`: the timer is off; count timeouts; one more backoff, and past "
             "the limit (TCP_MAXRXT, or TCP_SYNRXT before the connection is synchronized) "
             "give up (`tcp_drop` with the connection's error or -ETIMEDOUT; before "
             "synchronized, count attemptfails). Karn's rule: no RTT sample may come from "
             "what is sent again, so stop timing (TF_RTTIMING) and leave recovery "
             "(TF_RECOVERY). Not yet synchronized: count retranssegs and send the SYN "
             "again (`tcp_sendsyn` arms the timer). Otherwise collapse the window (RFC "
             "5681 3.1: ssthresh = max(flight/2, 2*MSS), cwnd = one MSS), forget duplicate "
             "ACKs, go back to SND.UNA (snd_nxt; recover = snd_max), re-arm the timer and "
             "send (`tcp_output`).",
        reading="RFC 6298 (computing TCP's retransmission timer), sections 2-5; Karn and "
                "Partridge, \"Improving Round-Trip Time Estimates in Reliable Transport "
                "Protocols\" (1987); RFC 5681 section 3.1 (after a timeout); RFC 9293 "
                "section 3.8.1",
        tests=(
            host("test_tcp", "test_rtt_samples_set_the_rto_and_a_segment_sent_twice_gives_none"),
            host("test_tcp", "test_retransmission_backs_off_until_etimedout"),
            host("test_tcp", "test_an_unanswered_syn_fails_with_etimedout"),
        ),
        affects=("test_tcp:test_a_zero_window_is_probed_with_backoff_and_reopened",
                 "test_tcp:test_the_trace_follows_an_active_open_and_a_timeout"),
    ),
)}


# ---- markers --------------------------------------------------------------------------


def parse_regions(text: str, path: str) -> list[Region]:
    """The regions marked in one file's text; ExerciseError on a malformed marker."""
    regions: list[Region] = []
    open_: tuple[int, re.Match[str]] | None = None
    for lineno, line in enumerate(text.splitlines()):
        begin, end = BEGIN.match(line), END.match(line)
        where = f"{path}:{lineno + 1}"
        if begin:
            if open_:
                raise ExerciseError(f"{where}: EXERCISE inside the region opened at line "
                                    f"{open_[0] + 1}")
            open_ = (lineno, begin)
        elif end:
            if not open_:
                raise ExerciseError(f"{where}: END EXERCISE without an EXERCISE")
            start, m = open_
            regions.append(Region(m["name"], m["desc"].strip(), path, start, lineno,
                                  m["indent"]))
            open_ = None
        elif LOOSE.search(line):
            raise ExerciseError(f"{where}: malformed marker (want '// EXERCISE(name): what' "
                                f"or '// END EXERCISE'): {line.strip()}")
    if open_:
        raise ExerciseError(f"{path}:{open_[0] + 1}: EXERCISE without an END EXERCISE")
    return regions


def source_files(root: Path) -> list[Path]:
    """The files markers may be in, sorted (the order stubs are listed in)."""
    files = [p for d in SCAN_DIRS if (root / d).is_dir() for p in (root / d).rglob("*")
             if p.suffix in SCAN_SUFFIXES and p.is_file()]
    return sorted(files, key=lambda p: p.relative_to(root).as_posix())


def scan(root: Path) -> dict[str, list[Region]]:
    """Every exercise's regions in the tree at root, in source order."""
    found: dict[str, list[Region]] = {}
    for path in source_files(root):
        rel = path.relative_to(root).as_posix()
        for region in parse_regions(path.read_text(errors="replace"), rel):
            found.setdefault(region.name, []).append(region)
    return found


def check_table(found: dict[str, list[Region]]) -> None:
    """Markers and the side table agree: every marked exercise is in the table
    with one stub per region, and every exercise in the table is marked."""
    for name, regions in found.items():
        ex = EXERCISES.get(name)
        if ex is None:
            raise ExerciseError(f"{regions[0].path}:{regions[0].begin + 1}: exercise {name} "
                                f"is not in xv6net/exercise.py's EXERCISES")
        if len(ex.stubs) != len(regions):
            raise ExerciseError(f"exercise {name}: {len(regions)} regions marked but "
                                f"{len(ex.stubs)} stubs in EXERCISES")
    missing = sorted(set(EXERCISES) - set(found))
    if missing:
        raise ExerciseError(f"no regions marked for: {', '.join(missing)}")


def stripped(text: str, regions: list[Region], stubs: list[str]) -> str:
    """text with each region's solution lines replaced by its stub (indented as
    its marker); the markers stay."""
    lines = text.splitlines(keepends=True)
    for region, stub in sorted(zip(regions, stubs, strict=True),
                               key=lambda rs: rs[0].begin, reverse=True):
        body = [(region.indent + s if s.strip() else "\n") for s in stub.splitlines(True)]
        body = [b if b.endswith("\n") else b + "\n" for b in body]
        lines[region.begin + 1:region.end] = body
    return "".join(lines)


# ---- the student's tree -----------------------------------------------------------------


def tracked_files(root: Path) -> list[str]:
    """The files git tracks at root (as they are in the working tree)."""
    proc = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True,
                          check=False)
    if proc.returncode != 0:
        raise ExerciseError(f"{root}: not a git tree ({proc.stderr.decode().strip()})")
    return [n for n in proc.stdout.decode().split("\0") if n and (root / n).is_file()]


def handout(ex: Exercise, regions: list[Region]) -> str:
    where = "\n".join(f"- `{r.path}`, lines {r.begin + 1}-{r.end + 1}: {r.description}"
                      for r in regions)
    points = sum(t.points for t in ex.tests)
    tests = "\n".join(f"- {t.title} ({t.points} points): `{t.nodeid}`" for t in ex.tests)
    return f"""# Exercise {ex.name}: {regions[0].description}

## What to implement

{ex.task}

Where (between the `// EXERCISE({ex.name})` and `// END EXERCISE` lines; the rest of
the tree is complete and working):

{where}

## Read

{ex.reading}

## Build and test

    make                      # the kernel and initramfs; -Werror, as the grader builds
    make qemu                 # boot it and try it (ping 10.0.2.2, arp, netstat)
    make host-tests           # the network stack built for the host (ASan/UBSan)

## Grade

    xv6net grade {ex.name}       # builds, then runs these tests ({points} points):

{tests}

The grade is full marks only when every test passes; `xv6net grade {ex.name} -x`
stops at the first failure. Each test's name says what it checks; read it in
tests/ when one fails.
"""


def make_tree(src: Path, name: str, dest: Path) -> list[Region]:
    """Write at dest a copy of the git-tracked tree at src with exercise name's
    regions replaced by their stubs, and HANDOUT.md. dest must not exist, or be
    an empty directory."""
    found = scan(src)
    check_table(found)
    if name not in EXERCISES:
        raise ExerciseError(f"no exercise {name!r} (xv6net exercise list)")
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise ExerciseError(f"{dest}: exists and is not an empty directory")
    regions, ex = found[name], EXERCISES[name]
    byfile: dict[str, list[Region]] = {}
    for r in regions:
        byfile.setdefault(r.path, []).append(r)
    stubs = dict(zip(regions, ex.stubs, strict=True))
    for rel in tracked_files(src):
        out = dest / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src / rel, out)
        if rel in byfile:
            text = (src / rel).read_text()
            out.write_text(stripped(text, byfile[rel], [stubs[r] for r in byfile[rel]]))
    regions = scan(dest)[name]   # where they are now, stubbed
    (dest / "HANDOUT.md").write_text(handout(ex, regions))
    return regions


# ---- the grader ----------------------------------------------------------------------------


def find_root(start: Path) -> Path:
    """The tree (a Makefile beside kernel/) at or above start."""
    for d in (start, *start.parents):
        if (d / "Makefile").is_file() and (d / "kernel").is_dir():
            return d
    raise ExerciseError(f"{start}: not inside an xv6net tree (no Makefile beside kernel/)")


def build(root: Path) -> tuple[bool, str]:
    proc = subprocess.run(["make", "-s", "-j2", *BUILD_TARGETS], cwd=root, capture_output=True,
                          text=True, timeout=BUILD_TIMEOUT, check=False)
    return proc.returncode == 0, proc.stdout + proc.stderr


@dataclass(frozen=True)
class Outcome:
    test: GradedTest
    status: str      # OK, FAIL, SKIP, NOT RUN
    seconds: float


def _junit_key(nodeid: str) -> tuple[str, str]:
    """(module, name) as pytest's JUnit XML reports a node id."""
    path, _, name = nodeid.partition("::")
    return path.removesuffix(".py").replace("/", "."), name.rsplit("::", 1)[-1]


def run_tests(root: Path, tests: tuple[GradedTest, ...], stop_first: bool) -> list[Outcome]:
    """Run the tests with pytest in root; one outcome per test."""
    with tempfile.TemporaryDirectory(prefix="xv6net-grade-") as tmp:
        report = Path(tmp) / "report.xml"
        argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                f"--junitxml={report}", "-o", "junit_family=xunit1",
                *(["-x"] if stop_first else []), *(t.nodeid for t in tests)]
        subprocess.run(argv, cwd=root, capture_output=True, text=True,
                       timeout=TEST_TIMEOUT, check=False)
        results: dict[tuple[str, str], tuple[str, float]] = {}
        if report.is_file():
            for case in ET.parse(report).getroot().iter("testcase"):
                status = "OK"
                if case.find("failure") is not None or case.find("error") is not None:
                    status = "FAIL"
                elif case.find("skipped") is not None:
                    status = "SKIP"
                results[(case.get("classname", ""), case.get("name", ""))] = (
                    status, float(case.get("time", "0")))
    outcomes = []
    for t in tests:
        status, secs = results.get(_junit_key(t.nodeid), ("NOT RUN", 0.0))
        outcomes.append(Outcome(t, status, secs))
    return outcomes


def grade(root: Path, name: str, stop_first: bool = False) -> int:
    """Build the tree and run exercise name's tests; print a score per test and
    a total. 0 only when the build and every test pass."""
    ex = EXERCISES.get(name)
    if ex is None:
        raise ExerciseError(f"no exercise {name!r} (xv6net exercise list)")
    total = sum(t.points for t in ex.tests)
    print(f"== Grading {name} in {root} ==", flush=True)
    t0 = time.monotonic()
    ok, output = build(root)
    print(f"make: {'OK' if ok else 'FAIL'} ({time.monotonic() - t0:.1f}s)", flush=True)
    if not ok:
        print(output[-4000:])
        print(f"Score: 0/{total}")
        return 1
    score, failed = 0, []
    for o in run_tests(root, ex.tests, stop_first):
        if o.status in ("FAIL", "SKIP"):
            failed.append(o.test.nodeid)
        shown = f"{o.status} ({o.seconds:.1f}s)" if o.status != "NOT RUN" else o.status
        print(f"{o.test.title}: {shown}  [{o.test.points if o.status == 'OK' else 0}"
              f"/{o.test.points}]")
        score += o.test.points if o.status == "OK" else 0
    print(f"Score: {score}/{total}")
    if failed:
        print(f"(see why with: python -m pytest -x '{failed[0]}')")
    return 0 if score == total else 1


# ---- the command line ----------------------------------------------------------------------


def add_arguments(exercise: argparse.ArgumentParser, grade_: argparse.ArgumentParser) -> None:
    actions = exercise.add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="the exercises marked in this tree, one line each")
    make = actions.add_parser("make", help="write a copy of the tree with one exercise "
                                           "stubbed out, and HANDOUT.md")
    make.add_argument("name")
    make.add_argument("dir", type=Path)
    grade_.add_argument("name")
    grade_.add_argument("-x", "--exitfirst", action="store_true",
                        help="stop at the first failing test")
    grade_.add_argument("--tree", type=Path, help="the tree to grade (default: the one "
                                                  "around the current directory)")


def cmd_exercise(args: argparse.Namespace) -> int:
    try:
        root = find_root(Path.cwd())
        if args.action == "list":
            found = scan(root)
            check_table(found)
            width = max(map(len, EXERCISES))
            for name in EXERCISES:
                regions = found[name]
                files = ", ".join(dict.fromkeys(r.path for r in regions))
                what = "; ".join(dict.fromkeys(r.description for r in regions))
                print(f"{name:<{width}} {what} ({files})")
            return 0
        regions = make_tree(root, args.name, args.dir)
        print(f"{args.dir}: {args.name} stubbed in "
              f"{', '.join(dict.fromkeys(r.path for r in regions))}; read "
              f"{args.dir / 'HANDOUT.md'}")
        return 0
    except ExerciseError as err:
        print(f"xv6net exercise: {err}", file=sys.stderr)
        return 1


def cmd_grade(args: argparse.Namespace) -> int:
    try:
        root = find_root((args.tree or Path.cwd()).resolve())
        return grade(root, args.name, args.exitfirst)
    except ExerciseError as err:
        print(f"xv6net grade: {err}", file=sys.stderr)
        return 1
