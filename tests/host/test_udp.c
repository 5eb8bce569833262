// UDP sockets on the host: the socket calls a program makes (through
// sock_*, with host pointers as user addresses), the frames that cross the
// wire, queues and their drops, ICMP errors, timeouts on the fake clock
// (kernel/net/udp.c, socket.c, icmp.c; RFC 768, 1122).

#include "tests/host/fixture.h"

static uchar frame[PBUF_BIGSIZE];

static int
recv_from(struct socket *s, char *buf, int len, int flags, struct sockaddr_in *from)
{
  int fromlen = sizeof *from;
  return sock_recvfrom(s, (uint)buf, len, flags, (struct sockaddr *)from, &fromlen);
}

static void
test_a_datagram_reaches_the_bound_socket_with_its_source(void)
{
  struct hostnic *eth0 = boot_resolved("");
  struct socket *s = udp_socket(0, 7777);
  uint len = host_udp_frame(frame, our_mac, peer_mac, PEER_IP, OUR_IP, 5000, 7777, "hello", 5);
  host_receive(eth0, frame, len);
  char buf[64];
  struct sockaddr_in from;
  CHECK_EQ(recv_from(s, buf, sizeof buf, MSG_DONTWAIT, &from), 5);
  CHECK_MEM(buf, "hello", 5);
  CHECK_EQ(from.sin_family, AF_INET);
  CHECK_EQ(from.sin_addr, PEER_IP);
  CHECK_EQ(ntohs(from.sin_port), 5000);
  CHECK_EQ(recv_from(s, buf, sizeof buf, MSG_DONTWAIT, &from), -EAGAIN);
  sock_close(s);
  CHECK(host_pool_full());
}

static void
test_a_closed_port_earns_an_exact_port_unreachable(void)
{
  struct hostnic *eth0 = boot_resolved("");
  uint len = host_udp_frame(frame, our_mac, peer_mac, PEER_IP, OUR_IP, 5000, 9, "x", 1);
  host_receive(eth0, frame, len);
  CHECK_EQ(host_nsent(eth0), 1);
  struct frame *r = next_sent(eth0);
  const uchar *ip = r->b + 14, *ic = ip + 20;
  CHECK_EQ(get32addr(ip + 16), PEER_IP);
  CHECK_EQ(ip[9], IPPROTO_ICMP);
  CHECK_EQ(ic[0], 3);                              // destination unreachable
  CHECK_EQ(ic[1], 3);                              // port
  CHECK_MEM(ic + 8, frame + 14, 20 + 8);           // the offending header and 8 bytes
  CHECK_EQ(get16(ip + 2), 20 + 8 + 20 + 8);
  CHECK_EQ(stats().udp_rx_noport, 1);
  CHECK(host_pool_full());
}

static void
test_sendto_puts_the_exact_datagram_on_the_wire(void)
{
  struct hostnic *eth0 = boot_resolved("");
  struct socket *s = udp_socket(0, 6000);
  struct sockaddr_in to = sin(PEER_IP, 53);
  char data[100];
  for (uint i = 0; i < sizeof data; i++)
    data[i] = i;
  CHECK_EQ(sock_sendto(s, (uint)data, sizeof data, (struct sockaddr *)&to, sizeof to), 100);
  CHECK_EQ(host_nsent(eth0), 1);
  struct frame *f = next_sent(eth0);
  uchar want[256];
  uint len = host_udp_frame(want, peer_mac, our_mac, OUR_IP, PEER_IP, 6000, 53, data, 100);
  CHECK_EQ(f->len, len);
  // Everything but the IP identification (and so the header checksum).
  CHECK_MEM(f->b, want, 14 + 4);
  CHECK_MEM(f->b + 14 + 6, want + 14 + 6, 4);
  CHECK_MEM(f->b + 14 + 12, want + 14 + 12, len - 14 - 12);
  uchar fixed[256];
  memmove(fixed, f->b, f->len);
  host_fixsums(fixed, f->len);
  CHECK_MEM(fixed, f->b, f->len);                  // both checksums right
  sock_close(s);
  CHECK(host_pool_full());
}

static void
test_a_full_queue_drops_and_counts_and_close_frees_it(void)
{
  struct hostnic *eth0 = boot_resolved("");
  struct socket *s = udp_socket(0, 7777);
  uint len = host_udp_frame(frame, our_mac, peer_mac, PEER_IP, OUR_IP, 5000, 7777, "hello", 5);
  int sent = 0;
  while (stats().udp_rx_queuedrops == 0 && sent < 5000) {
    host_receive(eth0, frame, len);
    sent++;
  }
  CHECK(stats().udp_rx_queuedrops == 1);
  CHECK(sent < 5000);
  CHECK(pbuf_free_count(PBUF_SIZE) > 0);                         // the queue is bounded below the pool
  sock_close(s);
  CHECK(host_pool_full());
}

static void
test_a_port_unreachable_refuses_the_connected_socket(void)
{
  struct hostnic *eth0 = boot_resolved("");
  struct socket *s = udp_socket(0, 6001);
  struct sockaddr_in to = sin(PEER_IP, 9);
  CHECK_EQ(sock_connect(s, (struct sockaddr *)&to, sizeof to), 0);
  CHECK_EQ(sock_sendto(s, (uint)"ping", 4, 0, 0), 4);
  struct frame *f = next_sent(eth0);
  // The peer's answer: port unreachable quoting our datagram.
  uint ql = 20 + 8;
  uint n = host_ether(frame, our_mac, peer_mac, ETH_P_IP);
  n += host_ipv4(frame + n, PEER_IP, OUR_IP, IPPROTO_ICMP, 8 + ql, 3, 0, 64);
  uchar *ic = frame + n;
  memset(ic, 0, 8);
  ic[0] = 3;
  ic[1] = 3;
  memmove(ic + 8, f->b + 14, ql);
  host_fixsums(frame, n + 8 + ql);
  host_receive(eth0, frame, n + 8 + ql);
  char buf[8];
  struct sockaddr_in from;
  CHECK_EQ(recv_from(s, buf, sizeof buf, MSG_DONTWAIT, &from), -ECONNREFUSED);
  CHECK_EQ(recv_from(s, buf, sizeof buf, MSG_DONTWAIT, &from), -EAGAIN);   // reported once
  sock_close(s);
  CHECK(host_pool_full());
}

static void
test_bad_user_pointers_fault_without_losing_the_pool(void)
{
  struct hostnic *eth0 = boot_resolved("");
  struct socket *s = udp_socket(0, 7777);
  struct sockaddr_in to = sin(PEER_IP, 9);
  CHECK_EQ(sock_sendto(s, host_badaddr(), 10, (struct sockaddr *)&to, sizeof to), -EFAULT);
  CHECK_EQ(sock_sendto(s, 0, 10, (struct sockaddr *)&to, sizeof to), -EFAULT);
  CHECK_EQ(host_nsent(eth0), 0);
  uint len = host_udp_frame(frame, our_mac, peer_mac, PEER_IP, OUR_IP, 5000, 7777, "abc", 3);
  host_receive(eth0, frame, len);
  int fromlen = sizeof to;
  CHECK_EQ(sock_recvfrom(s, host_badaddr(), 3, MSG_DONTWAIT, (struct sockaddr *)&to, &fromlen),
           -EFAULT);
  CHECK(host_pool_full());                         // the datagram was freed, not leaked
  sock_close(s);
}

static void
test_a_receive_timeout_runs_out_on_the_clock(void)
{
  boot_resolved("");
  struct socket *s = udp_socket(0, 7777);
  struct timeval tv = { 2, 500000 };
  CHECK_EQ(sock_setopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
  char buf[8];
  struct sockaddr_in from;
  uint start = readticks();
  CHECK_EQ(recv_from(s, buf, sizeof buf, 0, &from), -EAGAIN);
  CHECK_EQ(readticks() - start, 250);              // 2.5 s of the fake clock
  int len = sizeof tv;
  struct timeval got;
  CHECK_EQ(sock_getopt(s, SOL_SOCKET, SO_RCVTIMEO, &got, &len), 0);
  CHECK_EQ(got.tv_sec, 2);
  CHECK_EQ(got.tv_usec, 500000);
  sock_close(s);
}

static void
test_a_killed_process_is_interrupted(void)
{
  boot_resolved("");
  struct socket *s = udp_socket(0, 7777);
  host_set_interrupted(1);
  char buf[8];
  struct sockaddr_in from;
  CHECK_EQ(recv_from(s, buf, sizeof buf, 0, &from), -EINTR);
  host_set_interrupted(0);
  sock_close(s);
}

static void
test_loopback_delivers_to_ourselves(void)
{
  boot_resolved("");
  struct socket *srv = udp_socket(host_ip(127, 0, 0, 1), 7777);
  struct socket *cli = udp_socket(0, 0);
  struct sockaddr_in to = sin(host_ip(127, 0, 0, 1), 7777);
  CHECK_EQ(sock_sendto(cli, (uint)"over lo", 7, (struct sockaddr *)&to, sizeof to), 7);
  host_netrx();
  char buf[16];
  struct sockaddr_in from;
  CHECK_EQ(recv_from(srv, buf, sizeof buf, MSG_DONTWAIT, &from), 7);
  CHECK_MEM(buf, "over lo", 7);
  CHECK_EQ(from.sin_addr, host_ip(127, 0, 0, 1));
  sock_close(srv);
  sock_close(cli);
  CHECK(host_pool_full());
}

static void
test_binding_a_taken_port_is_refused(void)
{
  boot_resolved("");
  struct socket *a = udp_socket(0, 7777), *b = udp_socket(0, 0);
  struct sockaddr_in addr = sin(0, 7777);
  CHECK_EQ(sock_bind(b, (struct sockaddr *)&addr, sizeof addr), -EADDRINUSE);
  addr = sin(host_ip(192, 168, 9, 9), 7778);
  CHECK_EQ(sock_bind(b, (struct sockaddr *)&addr, sizeof addr), -EADDRNOTAVAIL);
  sock_close(a);
  addr = sin(0, 7777);
  CHECK_EQ(sock_bind(b, (struct sockaddr *)&addr, sizeof addr), 0);   // free again
  sock_close(b);
}

// The readiness hook (sock_poll) that poll(2) asks, and the pollwakeup()
// calls that end a poller's sleep: one for every datagram queued.
static void
test_poll_sees_a_datagram_and_is_woken_by_it(void)
{
  struct hostnic *eth0 = boot_resolved("");
  struct socket *s = udp_socket(0, 7777);
  CHECK_EQ(sock_poll(s, POLLIN | POLLOUT), POLLOUT);   // sending never waits
  int wakes = host_pollwakes();
  uint len = host_udp_frame(frame, our_mac, peer_mac, PEER_IP, OUR_IP, 5000, 7777, "hi", 2);
  host_receive(eth0, frame, len);
  CHECK_EQ(host_pollwakes(), wakes + 1);
  CHECK_EQ(sock_poll(s, POLLIN), POLLIN | POLLOUT);
  char buf[8];
  struct sockaddr_in from;
  CHECK_EQ(recv_from(s, buf, sizeof buf, MSG_DONTWAIT, &from), 2);
  CHECK_EQ(sock_poll(s, POLLIN), POLLOUT);
  sock_close(s);
  CHECK(host_pool_full());
}

// A port unreachable for a connected socket: POLLERR, and a wakeup.
static void
test_poll_reports_an_icmp_error(void)
{
  struct hostnic *eth0 = boot_resolved("");
  struct socket *s = udp_socket(0, 7777);
  struct sockaddr_in to = sin(PEER_IP, 9);
  CHECK_EQ(sock_connect(s, (struct sockaddr *)&to, sizeof to), 0);
  CHECK_EQ(sock_sendto(s, (uint)"x", 1, 0, 0), 1);
  struct frame *f = next_sent(eth0);
  uint ql = 20 + 8;
  uint n = host_ether(frame, our_mac, peer_mac, ETH_P_IP);
  n += host_ipv4(frame + n, PEER_IP, OUR_IP, IPPROTO_ICMP, 8 + ql, 3, 0, 64);
  uchar *ic = frame + n;
  memset(ic, 0, 8);
  ic[0] = 3;
  ic[1] = 3;
  memmove(ic + 8, f->b + 14, ql);
  host_fixsums(frame, n + 8 + ql);
  int wakes = host_pollwakes();
  host_receive(eth0, frame, n + 8 + ql);
  CHECK_EQ(host_pollwakes(), wakes + 1);
  CHECK_EQ(sock_poll(s, POLLIN), POLLOUT | POLLERR);
  char buf[8];
  struct sockaddr_in from;
  CHECK_EQ(recv_from(s, buf, sizeof buf, 0, &from), -ECONNREFUSED);
  CHECK_EQ(sock_poll(s, POLLIN), POLLOUT);
  sock_close(s);
  CHECK(host_pool_full());
}

// MSG_PEEK returns the datagram and its sender and leaves it queued.
static void
test_msg_peek_leaves_the_datagram_queued(void)
{
  struct hostnic *eth0 = boot_resolved("");
  struct socket *s = udp_socket(0, 7777);
  uint len = host_udp_frame(frame, our_mac, peer_mac, PEER_IP, OUR_IP, 5000, 7777, "peek", 4);
  host_receive(eth0, frame, len);
  char buf[8];
  struct sockaddr_in from;
  memset(&from, 0, sizeof from);
  CHECK_EQ(recv_from(s, buf, 2, MSG_PEEK | MSG_DONTWAIT, &from), 2);
  CHECK_MEM(buf, "pe", 2);
  CHECK_EQ(from.sin_addr, PEER_IP);
  CHECK_EQ(ntohs(from.sin_port), 5000);
  CHECK_EQ(s->rxq.len, 1);
  CHECK_EQ(recv_from(s, buf, sizeof buf, MSG_PEEK, &from), 4);
  CHECK_EQ(recv_from(s, buf, sizeof buf, 0, &from), 4);
  CHECK_MEM(buf, "peek", 4);
  CHECK_EQ(recv_from(s, buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT, &from), -EAGAIN);
  sock_close(s);
  CHECK(host_pool_full());
}

// O_NONBLOCK (fcntl sets s->nonblock): a receive with nothing queued fails
// at once instead of sleeping (a sleep would advance the fake clock).
static void
test_a_nonblocking_socket_does_not_wait(void)
{
  boot_resolved("");
  struct socket *s = udp_socket(0, 7777);
  struct timeval tv = { 5, 0 };
  CHECK_EQ(sock_setopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
  s->nonblock = 1;
  char buf[8];
  struct sockaddr_in from;
  uint start = readticks();
  CHECK_EQ(recv_from(s, buf, sizeof buf, 0, &from), -EAGAIN);
  CHECK_EQ(readticks(), start);
  sock_close(s);
}

// Copybreak: a small datagram waits in a short buffer, charged 256 bytes
// against SO_RCVBUF, and its 2 KiB buffer is back in the pool at once.
static void
test_a_small_datagram_waits_in_a_short_buffer(void)
{
  struct hostnic *eth0 = boot_resolved("");
  struct socket *s = udp_socket(0, 7777);
  uint regular = pbuf_free_count(PBUF_SIZE), shorts = pbuf_free_count(PBUF_SHORTSIZE);
  uint len = host_udp_frame(frame, our_mac, peer_mac, PEER_IP, OUR_IP, 5000, 7777, "small", 5);
  host_receive(eth0, frame, len);
  CHECK_EQ(s->rxq.len, 1);
  CHECK_EQ(s->rxq.head->size, PBUF_SHORTSIZE);
  CHECK_EQ(s->rmem, PBUF_SHORTSIZE);
  CHECK_EQ(pbuf_free_count(PBUF_SHORTSIZE), shorts - 1);
  CHECK_EQ(pbuf_free_count(PBUF_SIZE), regular);
  char buf[64];
  struct sockaddr_in from;
  CHECK_EQ(recv_from(s, buf, sizeof buf, MSG_DONTWAIT, &from), 5);
  CHECK_MEM(buf, "small", 5);
  CHECK_EQ(from.sin_addr, PEER_IP);
  CHECK_EQ(ntohs(from.sin_port), 5000);
  CHECK_EQ(s->rmem, 0);
  sock_close(s);
  CHECK(host_pool_full());
}

// Datagrams queued before the first drop, with payloads of n bytes.
static uint
queued_until_full(struct hostnic *eth0, struct socket *s, ushort port, uint n)
{
  static char payload[PBUF_SHORTSIZE + 1];
  memset(payload, 'q', sizeof payload);
  uint len = host_udp_frame(frame, our_mac, peer_mac, PEER_IP, OUR_IP, 5000, port, payload, n);
  uint drops = stats().udp_rx_queuedrops;
  for (int i = 0; i < 5000 && stats().udp_rx_queuedrops == drops; i++)
    host_receive(eth0, frame, len);
  CHECK_EQ(stats().udp_rx_queuedrops, drops + 1);
  return s->rxq.len;
}

// The default SO_RCVBUF (212,992) holds 104 datagrams in 2 KiB buffers; short
// ones fit 832 times, so the queue's own bound (SOCK_RXQ) comes first. The
// boundary is exact: 256 bytes of payload is short, 257 is not.
static void
test_the_receive_buffer_holds_more_short_datagrams(void)
{
  struct hostnic *eth0 = boot_resolved("");
  struct socket *s = udp_socket(0, 7777);
  CHECK_EQ(queued_until_full(eth0, s, 7777, PBUF_SHORTSIZE), SOCK_RXQ);
  CHECK_EQ(s->rmem, SOCK_RXQ * PBUF_SHORTSIZE);
  sock_flush(s);
  CHECK_EQ(queued_until_full(eth0, s, 7777, PBUF_SHORTSIZE + 1),
           SOCK_RCVBUF_DEFAULT / PBUF_SIZE);
  CHECK_EQ(s->rxq.head->size, PBUF_SIZE);
  sock_close(s);
  CHECK(host_pool_full());
}

// When every short buffer is queued somewhere, a small datagram keeps its
// 2 KiB buffer and is charged for it: nothing is lost for want of a copy.
static void
test_without_short_buffers_a_datagram_keeps_its_own(void)
{
  struct hostnic *eth0 = boot_resolved("");
  struct socket *full[NSHORTPBUF / SOCK_RXQ];
  for (uint i = 0; i < NELEM(full); i++) {
    full[i] = udp_socket(0, 8000 + i);
    CHECK_EQ(queued_until_full(eth0, full[i], 8000 + i, 8), SOCK_RXQ);
  }
  CHECK_EQ(pbuf_free_count(PBUF_SHORTSIZE), 0);
  struct socket *s = udp_socket(0, 7777);
  uint len = host_udp_frame(frame, our_mac, peer_mac, PEER_IP, OUR_IP, 5000, 7777, "long", 4);
  host_receive(eth0, frame, len);
  CHECK_EQ(s->rxq.len, 1);
  CHECK_EQ(s->rxq.head->size, PBUF_SIZE);
  CHECK_EQ(s->rmem, PBUF_SIZE);
  char buf[8];
  struct sockaddr_in from;
  CHECK_EQ(recv_from(s, buf, sizeof buf, MSG_DONTWAIT, &from), 4);
  CHECK_MEM(buf, "long", 4);
  sock_close(s);
  for (uint i = 0; i < NELEM(full); i++)
    sock_close(full[i]);
  CHECK(host_pool_full());
}

static const struct test tests[] = {
  TEST(test_a_datagram_reaches_the_bound_socket_with_its_source),
  TEST(test_a_closed_port_earns_an_exact_port_unreachable),
  TEST(test_sendto_puts_the_exact_datagram_on_the_wire),
  TEST(test_a_full_queue_drops_and_counts_and_close_frees_it),
  TEST(test_a_port_unreachable_refuses_the_connected_socket),
  TEST(test_bad_user_pointers_fault_without_losing_the_pool),
  TEST(test_a_receive_timeout_runs_out_on_the_clock),
  TEST(test_a_killed_process_is_interrupted),
  TEST(test_loopback_delivers_to_ourselves),
  TEST(test_binding_a_taken_port_is_refused),
  TEST(test_poll_sees_a_datagram_and_is_woken_by_it),
  TEST(test_poll_reports_an_icmp_error),
  TEST(test_msg_peek_leaves_the_datagram_queued),
  TEST(test_a_nonblocking_socket_does_not_wait),
  TEST(test_a_small_datagram_waits_in_a_short_buffer),
  TEST(test_the_receive_buffer_holds_more_short_datagrams),
  TEST(test_without_short_buffers_a_datagram_keeps_its_own),
};

int
main(void)
{
  return run_tests(tests, NELEM(tests), 1);
}
