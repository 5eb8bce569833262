// TCP at the segment level (kernel/net/tcp_*.c; RFC 9293, 5961, 6298, 5681,
// 6582, 7323): a segment in, the exact segments out, the fake clock moved
// to fire timers. Our ISN is fixed just below 2^32 (tcp.isn=) and so is the
// peer's, so every test's data crosses the sequence wraparound.

#include "tests/host/fixture.h"
#include "kernel/net/tcp.h"
#include "kernel/poll.h"
#include "kernel/net/nettrace.h"
#include "kernel/net/sysctl.h"

#define ISS   4294967000u   // ours: 296 bytes below 2^32
#define PISS  4294966784u   // the peer's: 512 below
#define PPORT 40000
#define LPORT 80
#define CMDLINE "tcp.isn=4294967000"

static uchar frame[PBUF_BIGSIZE];
static int batching;   // inseg only queues: host_netrx takes the frames in one poll

// A segment as the test reads it off the wire.
struct tseg {
  int ok;
  uint seq, ack, flags, win;
  uint sport, dport;
  uint len;          // data bytes
  uchar *data;
  uint optlen;
  uchar *opts;
  uint src, dst;
  uint ttl;
};

static struct hostnic *
boot_tcp(const char *extra)
{
  char cmd[128];
  snprintf(cmd, sizeof cmd, "%s %s", CMDLINE, extra);
  struct hostnic *eth0 = boot_eth0(cmd);
  arp_set(host_netdev(eth0), PEER_IP, peer_mac);
  return eth0;
}

// The next frame the stack sent, as a TCP segment (ok 0 if none, or not TCP).
static struct tseg
sent(struct hostnic *nic)
{
  struct tseg s;
  memset(&s, 0, sizeof s);
  struct frame *f = next_sent(nic);
  if (f->len < 14 + 20 + 20 || get16(f->b + 12) != ETH_P_IP || f->b[14 + 9] != IPPROTO_TCP)
    return s;
  uchar *ip = f->b + 14;
  uint hl = (ip[0] & 15) * 4, tot = get16(ip + 2);
  uchar *th = ip + hl;
  uint off = (th[12] >> 4) * 4;
  // Both checksums right, as computed by the harness's own code.
  static uchar copy[PBUF_BIGSIZE];
  memmove(copy, f->b, f->len);
  host_fixsums(copy, f->len);
  CHECK_MEM(copy, f->b, f->len);
  s.ok = 1;
  s.src = get32addr(ip + 12);
  s.dst = get32addr(ip + 16);
  s.ttl = ip[8];
  s.sport = get16(th);
  s.dport = get16(th + 2);
  s.seq = (uint)get16(th + 4) << 16 | get16(th + 6);
  s.ack = (uint)get16(th + 8) << 16 | get16(th + 10);
  s.flags = th[13];
  s.win = get16(th + 14);
  s.optlen = off - 20;
  s.opts = th + 20;
  s.len = tot - hl - off;
  s.data = th + off;
  return s;
}

// The next segments go out with a wrong IPv4 header checksum.
static int spoil_ipsum;

// A segment from the peer (10.0.0.1:PPORT unless said) to us.
static void
inseg_opts(struct hostnic *nic, ushort sport, ushort dport, uint seq, uint ack, int flags,
           uint win, const uchar *opts, uint optlen, const void *data, uint len)
{
  uint n = host_ether(frame, our_mac, peer_mac, ETH_P_IP);
  n += host_ipv4(frame + n, PEER_IP, OUR_IP, IPPROTO_TCP, 20 + optlen + len, 1, 0, 64);
  uchar *th = frame + n;
  memset(th, 0, 20);
  th[0] = sport >> 8; th[1] = sport;
  th[2] = dport >> 8; th[3] = dport;
  th[4] = seq >> 24; th[5] = seq >> 16; th[6] = seq >> 8; th[7] = seq;
  th[8] = ack >> 24; th[9] = ack >> 16; th[10] = ack >> 8; th[11] = ack;
  th[12] = ((20 + optlen) / 4) << 4;
  th[13] = flags;
  th[14] = win >> 8; th[15] = win;
  if (optlen)
    memmove(th + 20, opts, optlen);
  if (len)
    memmove(th + 20 + optlen, data, len);
  n += 20 + optlen + len;
  host_fixsums(frame, n);
  if (spoil_ipsum)
    frame[ETH_HLEN + 10] ^= 0x5A;   // the IPv4 header's checksum, wrong
  if (batching)
    host_enqueue(nic, frame, n);
  else
    host_receive(nic, frame, n);
}

static void
inseg(struct hostnic *nic, uint seq, uint ack, int flags, uint win, const void *data, uint len)
{
  inseg_opts(nic, PPORT, LPORT, seq, ack, flags, win, 0, 0, data, len);
}

static const uchar mss1460[4] = { 2, 4, 0x05, 0xB4 };

static struct socket *
listener(ushort port, int backlog)
{
  struct socket *s = 0;
  CHECK_EQ(sock_create(AF_INET, SOCK_STREAM, 0, &s), 0);
  struct sockaddr_in a = sin(0, port);
  CHECK_EQ(sock_bind(s, (struct sockaddr *)&a, sizeof a), 0);
  CHECK_EQ(sock_listen(s, backlog), 0);
  s->nonblock = 1;
  return s;
}

// The peer connects to our listener (MSS 1460, no window scaling); returns
// the accepted socket. The SYN-ACK is checked exactly.
static struct socket *
passive_open(struct hostnic *nic, struct socket *ls)
{
  inseg_opts(nic, PPORT, LPORT, PISS, 0, TH_SYN, 8192, mss1460, 4, 0, 0);
  struct tseg s = sent(nic);
  CHECK(s.ok);
  CHECK_EQ(s.flags, TH_SYN | TH_ACK);
  CHECK_EQ(s.seq, ISS);
  CHECK_EQ(s.ack, PISS + 1);
  CHECK_EQ(s.sport, LPORT);
  CHECK_EQ(s.dport, PPORT);
  CHECK_EQ(s.win, 65535);
  // MSS 1460 from eth0's MTU, and no window scale: the peer offered none.
  static const uchar want[8] = { 2, 4, 0x05, 0xB4, 1, 1, 1, 1 };
  CHECK_EQ(s.optlen, 8);
  CHECK_MEM(s.opts, want, 8);
  inseg(nic, PISS + 1, ISS + 1, TH_ACK, 8192, 0, 0);
  CHECK_EQ(host_nsent(nic), 0);
  struct socket *c = 0;
  struct sockaddr_in peer;
  int plen = sizeof peer;
  CHECK_EQ(sock_accept(ls, &c, (struct sockaddr *)&peer, &plen), 0);
  CHECK_EQ(peer.sin_addr, PEER_IP);
  CHECK_EQ(ntohs(peer.sin_port), PPORT);
  if (c)
    c->nonblock = 1;
  return c;
}

static int
state_of(struct socket *s)
{
  return ((struct tcpcb *)s->pcb)->state;
}

// How many connection blocks are in use (listeners, orphans and all).
static int
ntcb(void)
{
  struct tcpinfo ti;
  int n = 0;
  while (tcp_list(n, &ti) == 0)
    n++;
  return n;
}

static int
recvs(struct socket *s, char *buf, int len, int flags)
{
  return sock_recvfrom(s, (uint)buf, len, flags, 0, 0);
}

static void
test_passive_open_is_exact_and_accept_gives_the_peer(void)
{
  struct hostnic *eth0 = boot_tcp("");
  struct socket *ls = listener(LPORT, 4);
  struct socket *c = 0;
  CHECK_EQ(sock_accept(ls, &c, 0, 0), -EAGAIN);
  c = passive_open(eth0, ls);
  CHECK(c != 0);
  CHECK_EQ(state_of(c), TCPS_ESTABLISHED);
  struct sockaddr_in a;
  int alen = sizeof a;
  CHECK_EQ(sock_getpeer(c, (struct sockaddr *)&a, &alen), 0);
  CHECK_EQ(a.sin_addr, PEER_IP);
  CHECK_EQ(stats().tcp_passiveopens, 1);
  CHECK_EQ(stats().tcp_currestab, 1);
  sock_close(c);
  sock_close(ls);
}

static void
test_active_open_sends_mss_window_scale_and_sack_permitted(void)
{
  struct hostnic *eth0 = boot_tcp("");
  struct socket *s = 0;
  CHECK_EQ(sock_create(AF_INET, SOCK_STREAM, 0, &s), 0);
  s->nonblock = 1;
  struct sockaddr_in to = sin(PEER_IP, 5001);
  CHECK_EQ(sock_connect(s, (struct sockaddr *)&to, sizeof to), -EINPROGRESS);
  CHECK_EQ(sock_connect(s, (struct sockaddr *)&to, sizeof to), -EALREADY);
  struct tseg y = sent(eth0);
  CHECK_EQ(y.flags, TH_SYN);
  CHECK_EQ(y.seq, ISS);
  CHECK_EQ(y.ack, 0);
  CHECK_EQ(y.dport, 5001);
  CHECK(y.sport >= 49152);
  CHECK_EQ(y.win, 65535);
  // Scale 5: the 128 KiB receive buffer may grow to 1 MiB (autotuning).
  static const uchar want[12] = { 2, 4, 0x05, 0xB4, 1, 3, 3, 5, 1, 1, 4, 2 };
  CHECK_EQ(y.optlen, 12);
  CHECK_MEM(y.opts, want, 12);
  // The peer answers with MSS 1000 and a window scale of 3, and no SACK.
  static const uchar o[8] = { 2, 4, 0x03, 0xE8, 1, 3, 3, 3 };
  inseg_opts(eth0, 5001, y.sport, PISS, ISS + 1, TH_SYN | TH_ACK, 1000, o, 8, 0, 0);
  struct tseg a = sent(eth0);
  CHECK_EQ(a.flags, TH_ACK);
  CHECK_EQ(a.seq, ISS + 1);
  CHECK_EQ(a.ack, PISS + 1);
  CHECK_EQ(a.win, 131072 >> 5);
  struct tcpcb *tp = s->pcb;
  CHECK_EQ(tp->state, TCPS_ESTABLISHED);
  CHECK_EQ(tp->mss, 1000);
  CHECK_EQ(tp->snd_wnd, 8000);   // 1000 << 3
  CHECK(!(tp->flags & TF_SACKOK));
  CHECK_EQ(sock_connect(s, (struct sockaddr *)&to, sizeof to), -EISCONN);
  CHECK_EQ(stats().tcp_activeopens, 1);
  sock_close(s);
}

static void
test_a_syn_to_a_closed_port_is_reset_and_a_rst_never_is(void)
{
  struct hostnic *eth0 = boot_tcp("");
  inseg(eth0, PISS, 0, TH_SYN, 8192, 0, 0);
  struct tseg r = sent(eth0);
  CHECK_EQ(r.flags, TH_RST | TH_ACK);
  CHECK_EQ(r.seq, 0);
  CHECK_EQ(r.ack, PISS + 1);
  inseg(eth0, PISS, 12345, TH_ACK, 8192, "x", 1);
  r = sent(eth0);
  CHECK_EQ(r.flags, TH_RST);
  CHECK_EQ(r.seq, 12345);
  inseg(eth0, PISS, 12345, TH_RST, 0, 0, 0);
  inseg(eth0, PISS, 12345, TH_RST | TH_ACK, 0, 0, 0);
  CHECK_EQ(host_nsent(eth0), 0);
  CHECK_EQ(stats().tcp_outrsts, 2);
  CHECK(host_pool_full());
}

static void
test_data_both_ways_across_the_wraparound(void)
{
  struct hostnic *eth0 = boot_tcp("");
  struct socket *ls = listener(LPORT, 4);
  struct socket *c = passive_open(eth0, ls);
  // The peer sends 1000 bytes: they cross 2^32 at byte 511.
  char data[3000], buf[3000];
  for (uint i = 0; i < sizeof data; i++)
    data[i] = i * 7;
  inseg(eth0, PISS + 1, ISS + 1, TH_ACK | TH_PSH, 8192, data, 1000);
  CHECK_EQ(host_nsent(eth0), 0);                 // the ACK is delayed...
  host_advance(TCP_DELACK);
  struct tseg a = sent(eth0);                    // ...40 ms at most
  CHECK_EQ(a.flags, TH_ACK);
  CHECK_EQ(a.ack, PISS + 1001);
  CHECK_EQ(recvs(c, buf, sizeof buf, 0), 1000);
  CHECK_MEM(buf, data, 1000);
  CHECK_EQ(recvs(c, buf, sizeof buf, 0), -EAGAIN);
  // We send 2000: a full segment, and (Nagle) the rest once it is acked.
  CHECK_EQ(sock_sendto(c, (uint)data, 2000, 0, 0), 2000);
  struct tseg d = sent(eth0);
  CHECK_EQ(d.seq, ISS + 1);
  CHECK_EQ(d.len, 1460);
  CHECK_MEM(d.data, data, 1460);
  CHECK_EQ(host_nsent(eth0), 0);
  inseg(eth0, PISS + 1001, ISS + 1 + 1460, TH_ACK, 8192, 0, 0);
  d = sent(eth0);
  CHECK_EQ(d.seq, ISS + 1 + 1460);                // past 2^32
  CHECK_EQ(d.len, 540);
  CHECK_EQ(d.flags, TH_ACK | TH_PSH);
  CHECK_MEM(d.data, data + 1460, 540);
  inseg(eth0, PISS + 1001, ISS + 2001, TH_ACK, 8192, 0, 0);
  CHECK_EQ(((struct tcpcb *)c->pcb)->snd.len, 0);
  CHECK_EQ(host_nsent(eth0), 0);
  sock_close(c);
  sock_close(ls);
}

// Pieces of uncut segments in page buffers (as virtio-net's driver posts
// them once it has added them) instead of regular ones.
static int uncut_in_pages;

// A segment the card took uncut (virtio-net's GUEST_TSO4): paylen bytes
// from sequence number seq (byte i of the stream is i mod 251, counted from
// PISS + 1) in buffers of at most 1,912 bytes (3,948 in page buffers; the
// first 1,500), cut by gso.c into a train of segments, a buffer each, and
// handed to eth0 as the driver does. Returns the number of buffers.
static int
uncut(struct hostnic *eth0, uint seq, uint paylen, int flags)
{
  static uchar big[16000 + 54];
  uint n = host_ether(big, our_mac, peer_mac, ETH_P_IP);
  n += host_ipv4(big + n, PEER_IP, OUR_IP, IPPROTO_TCP, 20 + paylen, 9, 0x4000, 64);
  uchar *th = big + n;
  memset(th, 0, 20);
  th[0] = PPORT >> 8; th[1] = PPORT & 255; th[3] = LPORT;
  uint ack = ISS + 1;
  th[4] = seq >> 24; th[5] = (seq >> 16) & 255; th[6] = (seq >> 8) & 255; th[7] = seq & 255;
  th[8] = ack >> 24; th[9] = (ack >> 16) & 255; th[10] = (ack >> 8) & 255; th[11] = ack & 255;
  th[12] = 5 << 4;
  th[13] = flags;
  th[14] = 0x20;
  for (uint i = 0; i < paylen; i++)
    th[20 + i] = (seq - (PISS + 1) + i) % 251;
  n += 20 + paylen;
  struct pbuf *pieces[16];
  int k = 0;
  for (uint off = 0; off < n; k++) {
    uint take = MIN(off == 0 ? 1500u : uncut_in_pages ? 3948u : 1912u, n - off);
    if (uncut_in_pages)
      CHECK_EQ(pbuf_alloc_rxpages_n(&pieces[k], 1), 1);
    else
      pieces[k] = pbuf_alloc_rx();
    pieces[k]->rp = pieces[k]->wp = pieces[k]->base + GSO_MAXHDR;
    memmove(pbuf_put(pieces[k], take), big + off, take);
    off += take;
  }
  struct rxdrops drops = { 0, 0, 0 };
  netdev_input_list(host_netdev(eth0), gso_rxsplit(pieces, k, 1460, &drops), &drops);
  CHECK_EQ(drops.errors + drops.nobuf, 0);
  return k;
}

// Read n bytes and check that they are the stream's from offset from.
static void
readstream(struct socket *c, uint from, uint n)
{
  static char buf[16000];
  CHECK(n <= sizeof buf);
  CHECK_EQ(recvs(c, buf, sizeof buf, 0), (int)n);
  for (uint i = 0; i < n; i++) {
    if ((uchar)buf[i] != (from + i) % 251) {
      CHECK_EQ((uchar)buf[i], (from + i) % 251);
      break;
    }
  }
}

// A segment the card took uncut in several buffers (virtio-net's GUEST_TSO4:
// gso.c cuts it, a buffer a segment, a train) arrives whole, in order, and
// is acked; IPv4, TCP and the interface count every segment.
static void
test_an_uncut_segment_in_several_buffers_arrives_whole(void)
{
  struct hostnic *eth0 = boot_tcp("");
  struct socket *ls = listener(LPORT, 4);
  struct socket *c = passive_open(eth0, ls);
  struct netstat_info before = stats();
  uint frames = host_netdev(eth0)->stats.rx_packets;
  CHECK_EQ(uncut(eth0, PISS + 1, 6000, TH_ACK | TH_PSH), 4);
  CHECK_EQ(stats().ip_rx_delivered - before.ip_rx_delivered, 4);
  CHECK_EQ(stats().tcp_insegs - before.tcp_insegs, 4);
  CHECK_EQ(host_netdev(eth0)->stats.rx_packets - frames, 4);
  readstream(c, 0, 6000);
  host_advance_ms(500);   // a delayed ACK, if the last one was owed
  struct tseg last = { 0 };
  while (host_nsent(eth0))
    last = sent(eth0);
  CHECK(last.ok);
  CHECK_EQ(last.ack, PISS + 1 + 6000);
  CHECK_EQ(stats().tcp_inerrs, 0);
  sock_close(c);
  sock_close(ls);
}

// The same in page buffers: three hold 9,000 bytes, where five regular
// ones did, and the receive buffer keeps them until the program reads
// (while PBUF_PAGEQUEUELOW of them stay free for the card).
static void
test_an_uncut_segment_in_page_buffers_is_kept_until_read(void)
{
  struct hostnic *eth0 = boot_tcp("");
  CHECK_EQ(pbuf_addpages(PBUF_PAGEQUEUELOW + 8), PBUF_PAGEQUEUELOW + 8);
  struct socket *ls = listener(LPORT, 4);
  struct socket *c = passive_open(eth0, ls);
  struct netstat_info before = stats();
  uncut_in_pages = 1;
  CHECK_EQ(uncut(eth0, PISS + 1, 9000, TH_ACK | TH_PSH), 3);
  uncut_in_pages = 0;
  CHECK_EQ(stats().tcp_insegs - before.tcp_insegs, 3);
  CHECK_EQ(pbuf_free_count(PBUF_PAGESIZE), PBUF_PAGEQUEUELOW + 8 - 3);   // kept, not copied
  readstream(c, 0, 9000);
  CHECK_EQ(pbuf_free_count(PBUF_PAGESIZE), PBUF_PAGEQUEUELOW + 8);
  host_sent_clear(eth0);
  sock_close(c);
  sock_close(ls);
}

// A train behind a hole: each of its segments is held out of order on its
// own and gets its duplicate ACK, as if it had come alone; the hole filled,
// the reader gets everything.
static void
test_an_uncut_segment_behind_a_hole_is_held_segment_by_segment(void)
{
  struct hostnic *eth0 = boot_tcp("");
  struct socket *ls = listener(LPORT, 4);
  struct socket *c = passive_open(eth0, ls);
  uint before = stats().tcp_ooosegs;
  int k = uncut(eth0, PISS + 1 + 1000, 6000, TH_ACK | TH_PSH);
  CHECK_EQ(stats().tcp_ooosegs - before, (uint)k);
  for (int i = 0; i < k; i++)
    CHECK_EQ(sent(eth0).ack, PISS + 1);           // a duplicate ACK for each
  CHECK_EQ(host_nsent(eth0), 0);
  CHECK_EQ(recvs(c, (char[8]){ 0 }, 8, 0), -EAGAIN);
  uncut(eth0, PISS + 1, 1000, TH_ACK);             // the hole filled
  CHECK_EQ(sent(eth0).ack, PISS + 1 + 7000);
  readstream(c, 0, 7000);
  sock_close(c);
  sock_close(ls);
}

// A train whose address went away between the card and IPv4 (gso.c saw it
// ours) is split: each segment goes up as the frame it is, and each is
// dropped as not for us, every buffer freed.
static void
test_a_train_no_longer_for_us_is_split_and_each_frame_dropped(void)
{
  struct hostnic *eth0 = boot_tcp("");
  struct socket *ls = listener(LPORT, 4);
  struct socket *c = passive_open(eth0, ls);
  static uchar big[6000 + 54];
  struct pbuf *pieces[8];
  uint n = host_ether(big, our_mac, peer_mac, ETH_P_IP);
  n += host_ipv4(big + n, PEER_IP, OUR_IP, IPPROTO_TCP, 20 + 6000, 9, 0x4000, 64);
  memset(big + n, 0, 20 + 6000);
  big[n + 12] = 5 << 4;
  big[n + 13] = TH_ACK;
  n += 20 + 6000;
  int k = 0;
  for (uint off = 0; off < n; k++) {
    uint take = MIN(1900u, n - off);
    pieces[k] = pbuf_alloc_rx();
    pieces[k]->rp = pieces[k]->wp = pieces[k]->base + GSO_MAXHDR;
    memmove(pbuf_put(pieces[k], take), big + off, take);
    off += take;
  }
  struct rxdrops drops = { 0, 0, 0 };
  struct pbuf *train = gso_rxsplit(pieces, k, 1460, &drops);
  CHECK(train != 0 && train->next == 0 && train->train != 0);
  netdev_setaddr(host_netdev(eth0), host_ip(10, 0, 0, 99), host_ip(255, 255, 255, 0));
  uint notforus = stats().ip_rx_notforus, insegs = stats().tcp_insegs;
  netdev_input_list(host_netdev(eth0), train, &drops);
  CHECK_EQ(stats().ip_rx_notforus - notforus, (uint)k);
  CHECK_EQ(stats().tcp_insegs, insegs);
  sock_close(c);
  sock_close(ls);
  CHECK(host_pool_full());
}

// The stream's byte i (the pattern every test below reads back).
static uchar
streambyte(uint i)
{
  return (i * 7 + (i >> 9)) & 255;
}

static void
inbytes(struct hostnic *eth0, uint from, uint n, int flags)
{
  static uchar data[1460];
  for (uint i = 0; i < n; i++)
    data[i] = streambyte(from + i);
  inseg(eth0, PISS + 1 + from, ISS + 1, flags, 8192, (char *)data, n);
}

// Read exactly n bytes, in reads of at most step, and check them against
// the stream from offset from.
static void
readback(struct socket *c, uint from, uint n, uint step)
{
  static char buf[8192];
  uint got = 0;
  while (got < n) {
    int r = recvs(c, buf, MIN(step, n - got), 0);
    CHECK(r > 0);
    if (r <= 0)
      return;
    for (int i = 0; i < r; i++) {
      if ((uchar)buf[i] != streambyte(from + got + i)) {
        CHECK_EQ((uchar)buf[i], streambyte(from + got + i));
        return;
      }
    }
    got += r;
  }
}

// Full segments stay in the buffers they arrived in until the program reads
// them (no copy into the ring): the pool is short of one buffer per segment
// until then, and whole again after.
static void
test_full_segments_are_kept_in_their_buffers_until_read(void)
{
  struct hostnic *eth0 = boot_tcp("");
  struct socket *ls = listener(LPORT, 4);
  struct socket *c = passive_open(eth0, ls);
  uint before = pbuf_free_count(PBUF_SIZE);
  for (uint k = 0; k < 3; k++)
    inbytes(eth0, k * 1460, 1460, TH_ACK);
  struct tcpcb *tp = c->pcb;
  CHECK_EQ(tp->rcv.kept.len, 3);
  CHECK_EQ(tp->rcv.ringlen, 0);
  CHECK_EQ(tp->rcv.len, 3 * 1460);
  CHECK_EQ(before - pbuf_free_count(PBUF_SIZE), 3);
  char peek[100];
  CHECK_EQ(recvs(c, peek, sizeof peek, MSG_PEEK), 100);   // peeking takes nothing
  CHECK_EQ(tp->rcv.kept.len, 3);
  readback(c, 0, 3 * 1460, 1000);   // reads across the buffers' edges
  CHECK_EQ(tp->rcv.kept.len, 0);
  CHECK_EQ(pbuf_free_count(PBUF_SIZE), before);
  sock_close(c);
  sock_close(ls);
  CHECK(host_pool_full());
}

// Bytes copied into the ring come before the buffers kept after them, and a
// short segment behind kept ones is kept too (or copied into the last one's
// room): the program reads the stream in order whatever the mix.
static void
test_ring_and_kept_buffers_read_in_order(void)
{
  struct hostnic *eth0 = boot_tcp("");
  struct socket *ls = listener(LPORT, 4);
  struct socket *c = passive_open(eth0, ls);
  struct tcpcb *tp = c->pcb;
  uint off = 0, sizes[] = { 300, 1460, 1460, 200, 1460, 100, 50, 1460 };
  for (uint k = 0; k < NELEM(sizes); k++) {
    inbytes(eth0, off, sizes[k], TH_ACK | TH_PSH);
    off += sizes[k];
  }
  CHECK_EQ(tp->rcv.ringlen, 300);   // the first, short, into the ring; the rest kept
  CHECK(tp->rcv.kept.len >= 4);
  CHECK_EQ(tp->rcv.len, off);
  readback(c, 0, off, 333);
  CHECK_EQ(tp->rcv.len, 0);
  sock_close(c);
  sock_close(ls);
  CHECK(host_pool_full());
}

// While the pool is short of buffers, nothing is kept: segments are copied,
// and one that comes behind kept buffers first moves their bytes into the
// ring (giving the buffers back), then its own; the stream stays in order.
static void
test_with_the_pool_short_segments_are_copied_and_kept_ones_moved(void)
{
  struct hostnic *eth0 = boot_tcp("");
  struct socket *ls = listener(LPORT, 4);
  struct socket *c = passive_open(eth0, ls);
  struct tcpcb *tp = c->pcb;
  inbytes(eth0, 0, 1460, TH_ACK);
  inbytes(eth0, 1460, 1460, TH_ACK);
  CHECK_EQ(tp->rcv.kept.len, 2);
  static struct pbuf *held[NPBUF];
  uint nheld = 0;
  while (pbuf_free_count(PBUF_SIZE) > PBUF_QUEUELOW && (held[nheld] = pbuf_alloc()) != 0)
    nheld++;   // the pool down to where queues stop taking buffers
  inbytes(eth0, 2920, 1460, TH_ACK);
  CHECK_EQ(tp->rcv.kept.len, 0);
  CHECK_EQ(tp->rcv.ringlen, 3 * 1460);
  for (uint i = 0; i < nheld; i++)
    pbuf_free(held[i]);
  inbytes(eth0, 4380, 1460, TH_ACK);   // room again: kept, behind the ring's bytes
  CHECK_EQ(tp->rcv.kept.len, 1);
  readback(c, 0, 5840, 4096);
  sock_close(c);
  sock_close(ls);
  CHECK(host_pool_full());
}

static void
test_data_and_fin_before_accept_wait_for_the_program(void)
{
  struct hostnic *eth0 = boot_tcp("");
  struct socket *ls = listener(LPORT, 4);
  inseg_opts(eth0, PPORT, LPORT, PISS, 0, TH_SYN, 8192, mss1460, 4, 0, 0);
  CHECK_EQ(sent(eth0).flags, TH_SYN | TH_ACK);
  inseg(eth0, PISS + 1, ISS + 1, TH_ACK, 8192, 0, 0);
  inseg(eth0, PISS + 1, ISS + 1, TH_ACK | TH_PSH, 8192, "early", 5);   // Linux is quick
  inseg(eth0, PISS + 6, ISS + 1, TH_ACK | TH_FIN, 8192, 0, 0);
  struct tseg a = sent(eth0);
  CHECK_EQ(a.flags, TH_ACK);                     // no reset: the listener holds it
  CHECK_EQ(a.ack, PISS + 7);
  struct socket *c = 0;
  CHECK_EQ(sock_accept(ls, &c, 0, 0), 0);
  char buf[16];
  CHECK_EQ(recvs(c, buf, sizeof buf, 0), 5);
  CHECK_MEM(buf, "early", 5);
  CHECK_EQ(recvs(c, buf, sizeof buf, 0), 0);
  CHECK_EQ(stats().tcp_outrsts, 0);
  sock_close(c);
  sock_close(ls);
}

static void
test_every_second_full_segment_is_acked_at_once(void)
{
  struct hostnic *eth0 = boot_tcp("");
  struct socket *ls = listener(LPORT, 4);
  struct socket *c = passive_open(eth0, ls);
  char data[1460];
  memset(data, 'a', sizeof data);
  inseg(eth0, PISS + 1, ISS + 1, TH_ACK, 8192, data, 1460);
  CHECK_EQ(host_nsent(eth0), 0);
  inseg(eth0, PISS + 1461, ISS + 1, TH_ACK, 8192, data, 1460);
  struct tseg a = sent(eth0);
  CHECK_EQ(a.ack, PISS + 1 + 2920);
  host_advance(HZ);
  CHECK_EQ(host_nsent(eth0), 0);                 // nothing more owed
  sock_close(c);
  sock_close(ls);
}

// The ACKs that the every-second-segment rule owes within one netrx batch
// (one poll's frames) go out as one, at the batch's end, and the reader is
// woken once; a lone full segment in a batch of its own still waits for
// the delayed-ACK timer.
static void
test_a_batch_of_segments_gets_one_ack_at_its_end(void)
{
  struct hostnic *eth0 = boot_tcp("");
  struct socket *ls = listener(LPORT, 4);
  struct socket *c = passive_open(eth0, ls);
  char data[1460];
  memset(data, 'b', sizeof data);
  batching = 1;
  for (int i = 0; i < 5; i++)
    inseg(eth0, PISS + 1 + i * 1460, ISS + 1, TH_ACK, 8192, data, 1460);
  batching = 0;
  CHECK_EQ(host_nsent(eth0), 0);                 // queued, not yet polled
  int wakes = host_pollwakes();
  host_netrx();
  CHECK_EQ(host_pollwakes() - wakes, 1);         // the reader woken once, not five times
  CHECK_EQ(host_nsent(eth0), 1);                 // two owed (and a half): one sent
  struct tseg a = sent(eth0);
  CHECK_EQ(a.flags, TH_ACK);
  CHECK_EQ(a.ack, PISS + 1 + 5 * 1460);
  CHECK_EQ(a.len, 0);
  inseg(eth0, PISS + 1 + 5 * 1460, ISS + 1, TH_ACK, 8192, data, 1460);
  CHECK_EQ(host_nsent(eth0), 0);                 // alone: delayed
  host_advance_ms(TCP_DELACK * 1000 / HZ - 10);
  CHECK_EQ(host_nsent(eth0), 0);
  host_advance_ms(20);
  a = sent(eth0);
  CHECK_EQ(a.ack, PISS + 1 + 6 * 1460);
  char buf[8192];
  CHECK_EQ(recvs(c, buf, sizeof buf, 0), 6 * 1460 > 8192 ? 8192 : 6 * 1460);
  sock_close(c);
  sock_close(ls);
}

// The peer's ACKs to our data within one batch: each frees room and opens
// cwnd, and one tcp_output at the batch's end sends what all of them opened,
// in one frame on a card that segments (three two-segment frames when each
// ACK sent its own), and the writer is woken once (three times).
static void
test_a_batch_of_acks_gets_one_burst_at_its_end(void)
{
  struct hostnic *eth0 = boot_tcp("");
  struct socket *ls = listener(LPORT, 4);
  struct socket *c = passive_open(eth0, ls);
  host_netdev(eth0)->features = NETDEV_TXCSUM | NETDEV_TSO;   // its sums unchecked from here
  static char data[30000];
  memset(data, 'd', sizeof data);
  CHECK_EQ(sock_sendto(c, (uint)data, sizeof data, 0, 0), (int)sizeof data);
  // The initial window (4380 bytes, three segments) in one frame.
  CHECK_EQ(host_nsent(eth0), 1);
  CHECK_EQ(next_sent(eth0)->len, 14 + 20 + 20 + 3 * 1460);
  batching = 1;
  for (int i = 1; i <= 3; i++)
    inseg(eth0, PISS + 1, ISS + 1 + i * 1460, TH_ACK, 65535, 0, 0);
  batching = 0;
  int wakes = host_pollwakes();
  host_netrx();
  CHECK_EQ(host_pollwakes() - wakes, 1);          // the writer woken once
  // Slow start: cwnd 4380 + 3 * 1460, nothing in flight: six segments.
  CHECK_EQ(host_nsent(eth0), 1);
  CHECK_EQ(host_sent_tsomss(eth0), 1460);
  struct frame *f = next_sent(eth0);
  CHECK_EQ(f->len, 14 + 20 + 20 + 6 * 1460);
  uchar *th = f->b + 14 + 20;
  CHECK_EQ((uint)get16(th + 4) << 16 | get16(th + 6), ISS + 1 + 3 * 1460);
  CHECK_EQ(host_nsent(eth0), 0);
  sock_close(c);
  sock_close(ls);
}

// Frames of a batch go up in trains (gro.c): a run of TCP segments between
// the same two hosts behind its first, each car still taken as its own
// segment and counted. A frame whose IPv4 header is bad is linked to none:
// it goes alone, is dropped and counted, and cuts the run in two. Sent
// again, it fills the hole and the reader gets every byte in order.
static void
test_a_batch_goes_up_in_trains_and_a_bad_frame_alone(void)
{
  struct hostnic *eth0 = boot_tcp("");
  struct socket *ls = listener(LPORT, 4);
  struct socket *c = passive_open(eth0, ls);
  static char data[6 * 1460];
  for (uint i = 0; i < sizeof data; i++)
    data[i] = i % 251;
  struct netstat_info before = stats();
  batching = 1;
  for (int i = 0; i < 6; i++) {
    spoil_ipsum = i == 2;
    inseg(eth0, PISS + 1 + i * 1460, ISS + 1, TH_ACK, 8192, data + i * 1460, 1460);
  }
  spoil_ipsum = 0;
  batching = 0;
  host_netrx();
  struct netstat_info after = stats();
  CHECK_EQ(after.ip_rx_badsum - before.ip_rx_badsum, 1);
  CHECK_EQ(after.ip_rx - before.ip_rx, 6);
  CHECK_EQ(after.tcp_insegs - before.tcp_insegs, 5);
  CHECK_EQ(after.tcp_trainsegs - before.tcp_trainsegs, 3);   // [0 1] and [3 4 5]
  host_sent_clear(eth0);                                      // an ACK, duplicate ACKs
  inseg(eth0, PISS + 1 + 2 * 1460, ISS + 1, TH_ACK, 8192, data + 2 * 1460, 1460);
  struct tseg a = sent(eth0);
  CHECK_EQ(a.ack, PISS + 1 + 6 * 1460);
  readstream(c, 0, 6 * 1460);
  sock_close(c);
  sock_close(ls);
}

// A card that segments gets as many whole MSS as a TSO buffer holds (64
// KiB, 44 segments of 1460) when the windows allow; with every TSO buffer
// taken, as many as a large buffer holds (16 KiB, 11 segments).
static void
test_a_card_that_segments_gets_64_kib_then_16_without_tso_buffers(void)
{
  struct hostnic *eth0 = boot_tcp("");
  struct socket *ls = listener(LPORT, 4);
  struct socket *c = passive_open(eth0, ls);
  host_netdev(eth0)->features = NETDEV_TXCSUM | NETDEV_TSO;
  struct tcpcb *tp = c->pcb;
  static char data[100000];
  memset(data, 't', sizeof data);
  inseg(eth0, PISS + 1, ISS + 1, TH_ACK, 65535, 0, 0);   // the peer's window: 64 KiB
  tp->cwnd = 1 << 20;                                    // as if after slow start
  CHECK_EQ(sock_sendto(c, (uint)data, sizeof data, 0, 0), (int)sizeof data);
  CHECK_EQ(host_nsent(eth0), 1);
  CHECK_EQ(host_sent_tsomss(eth0), 1460);
  struct frame *f = next_sent(eth0);
  CHECK_EQ(f->len, 14 + 20 + 20 + 44 * 1460);
  CHECK_EQ(get16(f->b + 14 + 2), 20 + 20 + 44 * 1460);   // one IPv4 datagram
  CHECK(pbuf_free_count(PBUF_TSOSIZE) == NTSOPBUF);   // the card gave it back
  struct pbuf *held[NTSOPBUF];
  for (int i = 0; i < NTSOPBUF; i++)
    CHECK((held[i] = pbuf_alloc_len(PBUF_TSOSIZE - PBUF_HEADROOM)) != 0);
  CHECK(pbuf_alloc_len(PBUF_TSOSIZE - PBUF_HEADROOM) == 0);
  inseg(eth0, PISS + 1, ISS + 1 + 44 * 1460, TH_ACK, 65535, 0, 0);
  CHECK(host_nsent(eth0) >= 2);
  CHECK_EQ(host_sent_tsomss(eth0), 1460);
  f = next_sent(eth0);
  CHECK_EQ(f->len, 14 + 20 + 20 + 11 * 1460);
  for (int i = 0; i < NTSOPBUF; i++)
    pbuf_free(held[i]);
  host_sent_clear(eth0);
  sock_close(c);
  sock_close(ls);
}

// Out of order within a batch: each segment gets its duplicate ACK at once
// (fast retransmit counts them), not one at the batch's end.
static void
test_out_of_order_segments_in_a_batch_are_each_acked(void)
{
  struct hostnic *eth0 = boot_tcp("");
  struct socket *ls = listener(LPORT, 4);
  struct socket *c = passive_open(eth0, ls);
  char data[1460];
  memset(data, 'c', sizeof data);
  batching = 1;
  for (int i = 1; i < 4; i++)   // the first segment is missing
    inseg(eth0, PISS + 1 + i * 1460, ISS + 1, TH_ACK, 8192, data, 1460);
  batching = 0;
  host_netrx();
  CHECK_EQ(host_nsent(eth0), 3);
  for (int i = 0; i < 3; i++) {
    struct tseg a = sent(eth0);
    CHECK_EQ(a.ack, PISS + 1);
  }
  sock_close(c);
  sock_close(ls);
}

static void
test_out_of_order_segments_are_held_and_filled_in(void)
{
  struct hostnic *eth0 = boot_tcp("");
  struct socket *ls = listener(LPORT, 4);
  struct socket *c = passive_open(eth0, ls);
  char data[3000], buf[3000];
  for (uint i = 0; i < sizeof data; i++)
    data[i] = i ^ (i >> 8);
  inseg(eth0, PISS + 1 + 1000, ISS + 1, TH_ACK, 8192, data + 1000, 1000);   // a hole
  struct tseg a = sent(eth0);
  CHECK_EQ(a.ack, PISS + 1);                      // a duplicate ACK at once
  inseg(eth0, PISS + 1 + 2000, ISS + 1, TH_ACK | TH_FIN, 8192, data + 2000, 500);
  a = sent(eth0);
  CHECK_EQ(a.ack, PISS + 1);
  CHECK_EQ(recvs(c, buf, sizeof buf, 0), -EAGAIN);
  inseg(eth0, PISS + 1, ISS + 1, TH_ACK, 8192, data, 1000);   // the hole filled
  a = sent(eth0);
  CHECK_EQ(a.ack, PISS + 1 + 2500 + 1);          // everything, and the FIN
  CHECK_EQ(state_of(c), TCPS_CLOSE_WAIT);
  CHECK_EQ(recvs(c, buf, sizeof buf, 0), 2500);
  CHECK_MEM(buf, data, 2500);
  CHECK_EQ(recvs(c, buf, sizeof buf, 0), 0);      // end of stream
  CHECK_EQ(stats().tcp_ooosegs, 2);
  sock_close(c);
  struct tseg f = sent(eth0);
  CHECK_EQ(f.flags, TH_FIN | TH_ACK);
  inseg(eth0, PISS + 2502, ISS + 2, TH_ACK, 8192, 0, 0);
  sock_close(ls);
  CHECK_EQ(ntcb(), 0);
  CHECK(host_pool_full());
}

// A window's worth of full segments behind one lost segment is all held:
// the peer (Linux without SACK) cannot know which were dropped, so every
// one dropped costs it a timeout (seen as minutes-long stalls on a bad link).
static void
test_a_whole_window_is_held_out_of_order(void)
{
  static const uchar synopts[8] = { 2, 4, 0x05, 0xB4, 1, 3, 3, 7 };   // MSS, window scale 7
  struct hostnic *eth0 = boot_tcp("");
  struct socket *ls = listener(LPORT, 4);
  inseg_opts(eth0, PPORT, LPORT, PISS, 0, TH_SYN, 8192, synopts, 8, 0, 0);
  struct tseg s = sent(eth0);
  CHECK_EQ(s.flags, TH_SYN | TH_ACK);
  inseg(eth0, PISS + 1, ISS + 1, TH_ACK, 8192, 0, 0);
  struct socket *c = 0;
  CHECK_EQ(sock_accept(ls, &c, 0, 0), 0);
  c->nonblock = 1;
  uint window = ((struct tcpcb *)c->pcb)->rcv.size;
  uint nseg = window / 1460;                       // all but the first one arrive
  static char data[1460];
  for (uint i = 1; i < nseg; i++) {
    memset(data, i, sizeof data);
    inseg(eth0, PISS + 1 + i * 1460, ISS + 1, TH_ACK, 8192, data, 1460);
    CHECK_EQ(sent(eth0).ack, PISS + 1);            // a duplicate ACK for each
  }
  CHECK_EQ(stats().tcp_dropooofull, 0);
  memset(data, 0, sizeof data);
  inseg(eth0, PISS + 1, ISS + 1, TH_ACK, 8192, data, 1460);   // the hole filled
  CHECK_EQ(sent(eth0).ack, PISS + 1 + nseg * 1460);
  static char buf[4096];
  uint got = 0;
  int n;
  while ((n = recvs(c, buf, sizeof buf, 0)) > 0) {
    for (int j = 0; j < n; j++)
      if ((uchar)buf[j] != (got + j) / 1460 % 256)
        CHECK_EQ((uchar)buf[j], (got + j) / 1460 % 256);
    got += n;
  }
  CHECK_EQ(got, nseg * 1460);
  sock_close(c);
  sock_close(ls);
}

// The SACK option's blocks in a segment we sent, as (left, right) pairs.
static int
sackof(struct tseg *t, uint left[], uint right[])
{
  for (uint i = 0; i < t->optlen;) {
    const uchar *o = t->opts + i;
    if (o[0] == 0)
      break;
    if (o[0] == 1) {
      i++;
      continue;
    }
    if (o[0] == 5) {
      int n = (o[1] - 2) / 8;
      for (int j = 0; j < n; j++) {
        const uchar *b = o + 2 + 8 * j;
        left[j] = (uint)b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3];
        right[j] = (uint)b[4] << 24 | b[5] << 16 | b[6] << 8 | b[7];
      }
      return n;
    }
    i += o[1];
  }
  return 0;
}

// RFC 2018: SACK permitted is answered on the SYN-ACK when offered; while
// data is held out of order, each ACK lists the runs held, the one holding
// the newest segment first, at most four; a filled hole leaves no blocks.
static void
test_sack_blocks_report_what_is_held(void)
{
  static const uchar synopts[8] = { 2, 4, 0x05, 0xB4, 1, 1, 4, 2 };   // MSS, SACK permitted
  struct hostnic *eth0 = boot_tcp("");
  struct socket *ls = listener(LPORT, 4);
  inseg_opts(eth0, PPORT, LPORT, PISS, 0, TH_SYN, 8192, synopts, 8, 0, 0);
  struct tseg s = sent(eth0);
  CHECK_EQ(s.flags, TH_SYN | TH_ACK);
  static const uchar want[12] = { 2, 4, 0x05, 0xB4, 1, 1, 1, 1, 1, 1, 4, 2 };
  CHECK_EQ(s.optlen, 12);
  CHECK_MEM(s.opts, want, 12);
  inseg(eth0, PISS + 1, ISS + 1, TH_ACK, 8192, 0, 0);
  struct socket *c = 0;
  CHECK_EQ(sock_accept(ls, &c, 0, 0), 0);
  c->nonblock = 1;
  uint base = PISS + 1, left[8], right[8];
  static char data[100];
  // Segments of 100 bytes at 1, 3, 4, 6, 8, 10 (in units of 100): runs
  // [1,2) [3,5) [6,7) [8,9) [10,11); 4 arrives last but one, 10 last.
  static const int order[] = { 3, 1, 6, 8, 4, 10 };
  for (int i = 0; i < 6; i++) {
    inseg(eth0, base + order[i] * 100, ISS + 1, TH_ACK, 8192, data, 100);
    struct tseg a = sent(eth0);
    CHECK_EQ(a.ack, base);
    CHECK_EQ(a.len, 0);
    int n = sackof(&a, left, right);
    CHECK(n >= 1);
    CHECK_EQ(left[0] - base, (uint)order[i] * 100 - (order[i] == 4 ? 100 : 0));   // the newest run
    if (i == 4) {   // 4 joined 3: [3,5) first, then [1,2) [6,7) [8,9)
      CHECK_EQ(n, 4);
      CHECK_EQ(right[0] - base, 500);
      CHECK_EQ(left[1] - base, 100);
      CHECK_EQ(left[2] - base, 600);
      CHECK_EQ(left[3] - base, 800);
    }
    if (i == 5) {   // five runs: the newest, then the three lowest
      CHECK_EQ(n, 4);
      CHECK_EQ(left[0] - base, 1000);
      CHECK_EQ(left[1] - base, 100);
      CHECK_EQ(left[2] - base, 300);
      CHECK_EQ(right[2] - base, 500);
      CHECK_EQ(left[3] - base, 600);
    }
  }
  inseg(eth0, base, ISS + 1, TH_ACK, 8192, data, 100);   // fills [0,1): up to 2 is in
  struct tseg a = sent(eth0);
  CHECK_EQ(a.ack, base + 200);
  CHECK_EQ(sackof(&a, left, right), 4);
  CHECK_EQ(left[0] - base, 1000);                         // still the newest first,
  CHECK_EQ(left[1] - base, 300);                          // then the rest from the lowest
  CHECK_EQ(left[3] - base, 800);
  inseg(eth0, base + 200, ISS + 1, TH_ACK, 8192, data, 100);
  a = sent(eth0);
  CHECK_EQ(a.ack, base + 500);
  inseg(eth0, base + 500, ISS + 1, TH_ACK, 8192, data, 100);
  inseg(eth0, base + 700, ISS + 1, TH_ACK, 8192, data, 100);
  inseg(eth0, base + 900, ISS + 1, TH_ACK, 8192, data, 100);
  host_advance(HZ);
  while (host_nsent(eth0) > 1)
    sent(eth0);
  a = sent(eth0);
  CHECK_EQ(a.ack, base + 1100);
  CHECK_EQ(sackof(&a, left, right), 0);                   // nothing held: no blocks
  sock_close(c);
  sock_close(ls);
}

static void
test_a_passive_close_goes_through_close_wait_and_last_ack(void)
{
  struct hostnic *eth0 = boot_tcp("");
  struct socket *ls = listener(LPORT, 4);
  struct socket *c = passive_open(eth0, ls);
  inseg(eth0, PISS + 1, ISS + 1, TH_ACK | TH_FIN, 8192, 0, 0);
  struct tseg a = sent(eth0);
  CHECK_EQ(a.flags, TH_ACK);
  CHECK_EQ(a.ack, PISS + 2);
  CHECK_EQ(state_of(c), TCPS_CLOSE_WAIT);
  char buf[8];
  CHECK_EQ(recvs(c, buf, sizeof buf, 0), 0);
  CHECK_EQ(sock_sendto(c, (uint)"bye", 3, 0, 0), 3);   // CLOSE_WAIT may still send
  a = sent(eth0);
  CHECK_EQ(a.len, 3);
  CHECK_EQ(sock_shutdown(c, SHUT_WR), 0);
  a = sent(eth0);
  CHECK_EQ(a.flags, TH_FIN | TH_ACK);
  CHECK_EQ(a.seq, ISS + 4);
  CHECK_EQ(state_of(c), TCPS_LAST_ACK);
  CHECK_EQ(sock_sendto(c, (uint)"x", 1, 0, 0), -EPIPE);
  inseg(eth0, PISS + 2, ISS + 5, TH_ACK, 8192, 0, 0);
  CHECK_EQ(state_of(c), TCPS_CLOSED);
  sock_close(c);
  sock_close(ls);
  CHECK_EQ(ntcb(), 0);
}

static void
test_an_active_close_waits_in_time_wait_and_acks_a_repeated_fin(void)
{
  struct hostnic *eth0 = boot_tcp("tcp.msl=1000");
  struct socket *ls = listener(LPORT, 4);
  struct socket *c = passive_open(eth0, ls);
  sock_close(c);                                  // an orphan finishes the close
  struct tseg f = sent(eth0);
  CHECK_EQ(f.flags, TH_FIN | TH_ACK);
  CHECK_EQ(f.seq, ISS + 1);
  inseg(eth0, PISS + 1, ISS + 2, TH_ACK, 8192, 0, 0);   // FIN_WAIT_2
  CHECK_EQ(host_nsent(eth0), 0);
  inseg(eth0, PISS + 1, ISS + 2, TH_ACK | TH_FIN, 8192, 0, 0);
  struct tseg a = sent(eth0);
  CHECK_EQ(a.flags, TH_ACK);
  CHECK_EQ(a.ack, PISS + 2);
  struct tcpinfo ti;
  CHECK_EQ(tcp_list(1, &ti), 0);
  CHECK_EQ(ti.state, TCPS_TIME_WAIT);
  host_advance(HZ);                               // half way through 2*MSL
  inseg(eth0, PISS + 1, ISS + 2, TH_ACK | TH_FIN, 8192, 0, 0);   // its ACK was lost
  a = sent(eth0);
  CHECK_EQ(a.flags, TH_ACK);
  CHECK_EQ(a.ack, PISS + 2);
  host_advance(2 * HZ - 1);                       // restarted: still there
  CHECK_EQ(ntcb(), 2);
  host_advance(2);
  CHECK_EQ(ntcb(), 1);                            // the listener alone
  sock_close(ls);
  CHECK(host_pool_full());
}

static void
test_simultaneous_close_goes_through_closing(void)
{
  struct hostnic *eth0 = boot_tcp("tcp.msl=100");
  struct socket *ls = listener(LPORT, 4);
  struct socket *c = passive_open(eth0, ls);
  CHECK_EQ(sock_shutdown(c, SHUT_WR), 0);
  struct tseg f = sent(eth0);
  CHECK_EQ(f.flags, TH_FIN | TH_ACK);
  inseg(eth0, PISS + 1, ISS + 1, TH_ACK | TH_FIN, 8192, 0, 0);   // theirs crossed ours
  CHECK_EQ(state_of(c), TCPS_CLOSING);
  struct tseg a = sent(eth0);
  CHECK_EQ(a.flags, TH_ACK);
  CHECK_EQ(a.ack, PISS + 2);
  inseg(eth0, PISS + 2, ISS + 2, TH_ACK, 8192, 0, 0);
  CHECK_EQ(state_of(c), TCPS_TIME_WAIT);
  host_advance(HZ / 5 + 1);
  CHECK_EQ(state_of(c), TCPS_CLOSED);
  sock_close(c);
  sock_close(ls);
  CHECK_EQ(ntcb(), 0);
}

static void
test_simultaneous_open_goes_through_syn_received(void)
{
  struct hostnic *eth0 = boot_tcp("");
  struct socket *s = 0;
  CHECK_EQ(sock_create(AF_INET, SOCK_STREAM, 0, &s), 0);
  s->nonblock = 1;
  struct sockaddr_in me = sin(0, 7000), to = sin(PEER_IP, 7001);
  CHECK_EQ(sock_bind(s, (struct sockaddr *)&me, sizeof me), 0);
  CHECK_EQ(sock_connect(s, (struct sockaddr *)&to, sizeof to), -EINPROGRESS);
  struct tseg y = sent(eth0);
  CHECK_EQ(y.flags, TH_SYN);
  inseg_opts(eth0, 7001, 7000, PISS, 0, TH_SYN, 8192, mss1460, 4, 0, 0);   // theirs crossed ours
  CHECK_EQ(state_of(s), TCPS_SYN_RCVD);
  struct tseg sa = sent(eth0);
  CHECK_EQ(sa.flags, TH_SYN | TH_ACK);
  CHECK_EQ(sa.seq, ISS);
  CHECK_EQ(sa.ack, PISS + 1);
  inseg_opts(eth0, 7001, 7000, PISS + 1, ISS + 1, TH_ACK, 8192, 0, 0, 0, 0);
  CHECK_EQ(state_of(s), TCPS_ESTABLISHED);
  sock_close(s);
}

static void
test_rst_in_window_is_challenged_exact_resets_outside_is_dropped(void)
{
  struct hostnic *eth0 = boot_tcp("");
  struct socket *ls = listener(LPORT, 4);
  struct socket *c = passive_open(eth0, ls);
  inseg(eth0, PISS + 1 + 1000000, 0, TH_RST, 0, 0, 0);   // far outside
  CHECK_EQ(host_nsent(eth0), 0);
  CHECK_EQ(stats().tcp_rstignored, 1);
  inseg(eth0, PISS + 1 + 100, 0, TH_RST, 0, 0, 0);       // in the window, not exact
  struct tseg a = sent(eth0);
  CHECK_EQ(a.flags, TH_ACK);                             // the challenge ACK
  CHECK_EQ(a.seq, ISS + 1);
  CHECK_EQ(a.ack, PISS + 1);
  CHECK_EQ(state_of(c), TCPS_ESTABLISHED);
  CHECK_EQ(stats().tcp_challengeacks, 1);
  inseg(eth0, PISS + 1, 0, TH_RST, 0, 0, 0);             // exact: reset
  CHECK_EQ(host_nsent(eth0), 0);                         // never a RST for a RST
  CHECK_EQ(state_of(c), TCPS_CLOSED);
  char buf[4];
  CHECK_EQ(recvs(c, buf, sizeof buf, 0), -ECONNRESET);
  CHECK_EQ(recvs(c, buf, sizeof buf, 0), 0);
  CHECK_EQ(sock_sendto(c, (uint)"x", 1, 0, 0), -EPIPE);
  CHECK_EQ(stats().tcp_estabresets, 1);
  sock_close(c);
  sock_close(ls);
  CHECK_EQ(ntcb(), 0);
}

static void
test_a_syn_on_an_established_connection_is_challenged(void)
{
  struct hostnic *eth0 = boot_tcp("");
  struct socket *ls = listener(LPORT, 4);
  struct socket *c = passive_open(eth0, ls);
  inseg_opts(eth0, PPORT, LPORT, PISS + 5, 0, TH_SYN, 8192, mss1460, 4, 0, 0);
  struct tseg a = sent(eth0);
  CHECK_EQ(a.flags, TH_ACK);
  CHECK_EQ(a.ack, PISS + 1);
  CHECK_EQ(state_of(c), TCPS_ESTABLISHED);
  // And challenge ACKs are rate-limited.
  for (int i = 0; i < 300; i++)
    inseg_opts(eth0, PPORT, LPORT, PISS + 5, 0, TH_SYN, 8192, mss1460, 4, 0, 0);
  CHECK(host_nsent(eth0) <= 100);
  host_sent_clear(eth0);
  sock_close(c);
  sock_close(ls);
}

static void
test_retransmission_backs_off_until_etimedout(void)
{
  struct hostnic *eth0 = boot_tcp("");
  struct socket *ls = listener(LPORT, 4);
  struct socket *c = passive_open(eth0, ls);
  CHECK_EQ(sock_sendto(c, (uint)"hello", 5, 0, 0), 5);
  struct tseg d = sent(eth0);
  CHECK_EQ(d.len, 5);
  // The handshake's round trip was 0 ticks: the RTO is the 200 ms floor.
  int rto = TCP_RTOMIN, total = 0;
  for (int i = 0; i < TCP_MAXRXT; i++) {
    host_advance(rto - 1);
    CHECK_EQ(host_nsent(eth0), 0);
    host_advance(1);
    d = sent(eth0);
    CHECK_EQ(d.seq, ISS + 1);
    CHECK_EQ(d.len, 5);
    CHECK_MEM(d.data, "hello", 5);
    total += rto;
    rto = MIN(rto * 2, TCP_RTOMAX);
  }
  host_advance(rto);
  struct tseg r = sent(eth0);
  CHECK_EQ(r.flags & TH_RST, TH_RST);              // the peer is told
  CHECK_EQ(state_of(c), TCPS_CLOSED);
  char buf[4];
  CHECK_EQ(recvs(c, buf, sizeof buf, 0), -ETIMEDOUT);
  CHECK_EQ(stats().tcp_retranssegs, TCP_MAXRXT);
  sock_close(c);
  sock_close(ls);
  CHECK_EQ(ntcb(), 0);
  CHECK(host_pool_full());
}

static void
test_an_unanswered_syn_fails_with_etimedout(void)
{
  struct hostnic *eth0 = boot_tcp("");
  struct socket *s = 0;
  CHECK_EQ(sock_create(AF_INET, SOCK_STREAM, 0, &s), 0);
  s->nonblock = 1;
  struct sockaddr_in to = sin(PEER_IP, 5001);
  CHECK_EQ(sock_connect(s, (struct sockaddr *)&to, sizeof to), -EINPROGRESS);
  CHECK_EQ(sent(eth0).flags, TH_SYN);
  int rto = TCP_RTOINIT;
  for (int i = 0; i < TCP_SYNRXT; i++) {
    host_advance(rto - 1);
    CHECK_EQ(host_nsent(eth0), 0);
    host_advance(1);
    struct tseg y = sent(eth0);
    CHECK_EQ(y.flags, TH_SYN);
    CHECK_EQ(y.seq, ISS);
    rto *= 2;
  }
  host_advance(rto);
  CHECK_EQ(host_nsent(eth0), 0);                   // no RST for an unsynchronized connection
  int err, len = sizeof err;
  CHECK_EQ(sock_getopt(s, SOL_SOCKET, SO_ERROR, &err, &len), 0);
  CHECK_EQ(err, ETIMEDOUT);
  CHECK_EQ(stats().tcp_attemptfails, 1);
  sock_close(s);
  CHECK_EQ(ntcb(), 0);
}

static void
test_a_rst_to_our_syn_refuses_the_connection(void)
{
  struct hostnic *eth0 = boot_tcp("");
  struct socket *s = 0;
  CHECK_EQ(sock_create(AF_INET, SOCK_STREAM, 0, &s), 0);
  s->nonblock = 1;
  struct sockaddr_in to = sin(PEER_IP, 5001);
  CHECK_EQ(sock_connect(s, (struct sockaddr *)&to, sizeof to), -EINPROGRESS);
  struct tseg y = sent(eth0);
  inseg_opts(eth0, 5001, y.sport, 0, ISS + 2, TH_RST | TH_ACK, 0, 0, 0, 0, 0);   // bad ACK
  CHECK_EQ(state_of(s), TCPS_SYN_SENT);
  inseg_opts(eth0, 5001, y.sport, 0, ISS + 1, TH_RST | TH_ACK, 0, 0, 0, 0, 0);
  CHECK_EQ(state_of(s), TCPS_CLOSED);
  int err, len = sizeof err;
  CHECK_EQ(sock_getopt(s, SOL_SOCKET, SO_ERROR, &err, &len), 0);
  CHECK_EQ(err, ECONNREFUSED);
  sock_close(s);
}

static void
test_three_duplicate_acks_retransmit_and_recover(void)
{
  struct hostnic *eth0 = boot_tcp("");
  struct socket *ls = listener(LPORT, 4);
  struct socket *c = passive_open(eth0, ls);
  static char data[20000];
  for (uint i = 0; i < sizeof data; i++)
    data[i] = i * 13;
  uint w = 60000;
  inseg(eth0, PISS + 1, ISS + 1, TH_ACK, w, 0, 0);   // a big window
  CHECK_EQ(sock_sendto(c, (uint)data, sizeof data, 0, 0), (int)sizeof data);
  // The initial window: 3 segments (RFC 5681: 4380 bytes for MSS 1460).
  CHECK_EQ(host_nsent(eth0), 3);
  host_sent_clear(eth0);
  // The first is acked (slow start: 2 more go), then the next is lost.
  inseg(eth0, PISS + 1, ISS + 1 + 1460, TH_ACK, w, 0, 0);
  CHECK_EQ(host_nsent(eth0), 2);
  host_sent_clear(eth0);
  for (int i = 0; i < 2; i++)
    inseg(eth0, PISS + 1, ISS + 1 + 1460, TH_ACK, w, 0, 0);
  CHECK_EQ(host_nsent(eth0), 0);
  inseg(eth0, PISS + 1, ISS + 1 + 1460, TH_ACK, w, 0, 0);   // the third
  struct tseg r = sent(eth0);
  CHECK_EQ(r.seq, ISS + 1 + 1460);
  CHECK_EQ(r.len, 1460);
  CHECK_MEM(r.data, data + 1460, 1460);
  CHECK_EQ(stats().tcp_fastretrans, 1);
  struct tcpcb *tp = c->pcb;
  CHECK(tp->flags & TF_RECOVERY);
  CHECK_EQ(tp->ssthresh, 2 * 1460);                // half of the 4 segments in flight
  // A partial ACK: the next hole is sent at once.
  host_sent_clear(eth0);
  inseg(eth0, PISS + 1, ISS + 1 + 2920, TH_ACK, w, 0, 0);
  r = sent(eth0);
  CHECK_EQ(r.seq, ISS + 1 + 2920);
  host_sent_clear(eth0);
  // Everything up to the recovery point: out of recovery.
  inseg(eth0, PISS + 1, ISS + 1 + 5 * 1460, TH_ACK, w, 0, 0);
  CHECK(!(tp->flags & TF_RECOVERY));
  CHECK(tp->cwnd <= tp->ssthresh + 1460);
  host_sent_clear(eth0);
  sock_close(c);
  sock_close(ls);
}

static void
test_a_zero_window_is_probed_with_backoff_and_reopened(void)
{
  struct hostnic *eth0 = boot_tcp("");
  struct socket *ls = listener(LPORT, 4);
  struct socket *c = passive_open(eth0, ls);
  inseg(eth0, PISS + 1, ISS + 1, TH_ACK, 0, 0, 0);   // the peer's window shuts
  CHECK_EQ(sock_sendto(c, (uint)"data", 4, 0, 0), 4);
  CHECK_EQ(host_nsent(eth0), 0);
  uint t = TCP_PERSMIN;
  for (int i = 0; i < 4; i++) {
    host_advance(t - 1);
    CHECK_EQ(host_nsent(eth0), 0);
    host_advance(1);
    struct tseg p = sent(eth0);
    CHECK_EQ(p.flags, TH_ACK);
    CHECK_EQ(p.seq, ISS);                          // SND.UNA - 1: an answer is owed
    CHECK_EQ(p.len, 0);
    inseg(eth0, PISS + 1, ISS + 1, TH_ACK, 0, 0, 0);   // still shut
    CHECK_EQ(host_nsent(eth0), 0);
    t *= 2;
  }
  CHECK_EQ(stats().tcp_persistprobes, 4);
  inseg(eth0, PISS + 1, ISS + 1, TH_ACK, 100, 0, 0);   // the window update
  struct tseg d = sent(eth0);
  CHECK_EQ(d.len, 4);
  CHECK_MEM(d.data, "data", 4);
  sock_close(c);
  sock_close(ls);
}

// A connection accepted with an 8 KiB receive buffer (SO_RCVBUF 4096,
// doubled as Linux does), the SYN-ACK offering all of it; *lsp is the
// listener. Non-blocking.
static struct socket *
accept_small_rcvbuf(struct hostnic **nicp, struct socket **lsp)
{
  struct hostnic *eth0 = *nicp = boot_tcp("");
  struct socket *ls = *lsp = listener(LPORT, 4);
  int sz = 4096;
  CHECK_EQ(sock_setopt(ls, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz), 0);
  inseg_opts(eth0, PPORT, LPORT, PISS, 0, TH_SYN, 8192, mss1460, 4, 0, 0);
  struct tseg s = sent(eth0);
  CHECK_EQ(s.win, 8192);
  inseg(eth0, PISS + 1, ISS + 1, TH_ACK, 8192, 0, 0);
  struct socket *c = 0;
  CHECK_EQ(sock_accept(ls, &c, 0, 0), 0);
  c->nonblock = 1;
  return c;
}

static void
test_our_window_closes_when_full_and_reading_reopens_it(void)
{
  struct hostnic *eth0;
  struct socket *ls, *c = accept_small_rcvbuf(&eth0, &ls);
  static char data[8192], buf[8192];
  memset(data, 'z', sizeof data);
  uint seq = PISS + 1;
  for (int i = 0; i < 5; i++, seq += 1460)
    inseg(eth0, seq, ISS + 1, TH_ACK, 8192, data, 1460);
  inseg(eth0, seq, ISS + 1, TH_ACK, 8192, data, 8192 - 5 * 1460);
  seq = PISS + 1 + 8192;
  host_advance(TCP_DELACK);
  struct tseg a;
  do
    a = sent(eth0);
  while (host_nsent(eth0) > 0);
  CHECK_EQ(a.ack, seq);
  CHECK_EQ(a.win, 0);                                // full
  inseg(eth0, seq, ISS + 1, TH_ACK, 8192, data, 100);   // beyond the window: refused
  a = sent(eth0);
  CHECK_EQ(a.ack, seq);
  CHECK_EQ(recvs(c, buf, 100, 0), 100);              // too little to reopen (SWS)
  CHECK_EQ(host_nsent(eth0), 0);
  CHECK_EQ(recvs(c, buf, 4000, 0), 4000);
  a = sent(eth0);                                    // the window update
  CHECK_EQ(a.ack, seq);
  CHECK_EQ(a.win, 4100);
  sock_close(c);
  sock_close(ls);
}

// A read while the peer still has more than half the window sends no
// update (the next data's ACK carries it); once the offered window is at
// most half, the data's ACK is left to the read (tcp_batchend,
// readerwillack), and the read sends it with the window it opened.
static void
test_a_window_update_only_when_the_offered_window_is_small(void)
{
  struct hostnic *eth0;
  struct socket *ls, *c = accept_small_rcvbuf(&eth0, &ls);
  struct tseg a;
  static char data[1460], buf[8192];
  memset(data, 'w', sizeof data);
  uint seq = PISS + 1;
  for (int i = 0; i < 2; i++, seq += 1460)
    inseg(eth0, seq, ISS + 1, TH_ACK, 8192, data, 1460);
  a = sent(eth0);
  CHECK_EQ(a.ack, seq);
  CHECK_EQ(a.win, 8192 - 2920);                      // more than half still offered
  CHECK_EQ(recvs(c, buf, sizeof buf, 0), 2920);
  CHECK_EQ(host_nsent(eth0), 0);                     // no update: the peer has room
  for (int i = 0; i < 4; i++, seq += 1460)
    inseg(eth0, seq, ISS + 1, TH_ACK, 8192, data, 1460);
  CHECK_EQ(host_nsent(eth0), 0);                     // at most half offered: left to the read
  CHECK_EQ(recvs(c, buf, sizeof buf, 0), 4 * 1460);
  a = sent(eth0);                                    // the ACK, with the window read
  CHECK_EQ(a.ack, seq);
  CHECK_EQ(a.win, 8192);
  CHECK_EQ(host_nsent(eth0), 0);
  sock_close(c);
  sock_close(ls);
}

// An ACK left to the reader that does not read goes when the delayed-ACK
// timer runs out, with the window as it is.
static void
test_an_ack_left_to_the_reader_goes_at_the_delayed_ack_timer(void)
{
  struct hostnic *eth0;
  struct socket *ls, *c = accept_small_rcvbuf(&eth0, &ls);
  static char data[1460];
  memset(data, 'r', sizeof data);
  uint seq = PISS + 1;
  for (int i = 0; i < 4; i++, seq += 1460)
    inseg(eth0, seq, ISS + 1, TH_ACK, 8192, data, 1460);
  struct tseg a = { 0 };
  while (host_nsent(eth0) > 0)
    a = sent(eth0);                                  // the first two segments' ACK
  CHECK_EQ(a.ack, PISS + 1 + 2 * 1460);
  host_advance_ms(TCP_DELACK * 1000 / HZ - 10);
  CHECK_EQ(host_nsent(eth0), 0);
  host_advance_ms(20);
  a = sent(eth0);
  CHECK_EQ(a.ack, seq);
  CHECK_EQ(a.win, 8192 - 4 * 1460);
  sock_close(c);
  sock_close(ls);
}

static void
test_a_syn_flood_turns_over_the_backlog_and_leaves_room(void)
{
  struct hostnic *eth0 = boot_tcp("");
  struct socket *ls = listener(LPORT, 4);
  for (int i = 0; i < 500; i++)
    inseg_opts(eth0, 1000 + i, LPORT, 5000 * i, 0, TH_SYN, 8192, mss1460, 4, 0, 0);
  host_sent_clear(eth0);
  CHECK_EQ(ntcb(), 1 + 4);                           // the listener and its backlog
  CHECK_EQ(stats().tcp_synrcvddropped, 496);
  // A real client still gets in.
  struct socket *c = passive_open(eth0, ls);
  CHECK(c != 0);
  sock_close(c);
  inseg(eth0, PISS + 1, ISS + 2, TH_ACK, 8192, 0, 0);   // our FIN acked: FIN_WAIT_2
  sock_close(ls);
  host_advance(70 * HZ);                             // the orphan's FIN_WAIT_2 limit                             // the orphans' SYN-ACKs give up
  host_sent_clear(eth0);
  CHECK_EQ(ntcb(), 0);
  CHECK(host_pool_full());
}

static void
test_close_with_linger_zero_and_with_unread_data_resets(void)
{
  struct hostnic *eth0 = boot_tcp("");
  struct socket *ls = listener(LPORT, 4);
  struct socket *c = passive_open(eth0, ls);
  struct linger lg = { 1, 0 };
  CHECK_EQ(sock_setopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
  sock_close(c);
  struct tseg r = sent(eth0);
  CHECK_EQ(r.flags, TH_RST | TH_ACK);
  CHECK_EQ(r.seq, ISS + 1);
  c = passive_open(eth0, ls);   // the same 4-tuple again: the first is gone
  inseg(eth0, PISS + 1, ISS + 1, TH_ACK, 8192, "unread", 6);
  host_sent_clear(eth0);
  sock_close(c);
  r = sent(eth0);
  CHECK_EQ(r.flags, TH_RST | TH_ACK);
  sock_close(ls);
  CHECK_EQ(ntcb(), 0);
}

// After shutdown(SHUT_WR), data that arrives and is never read: close()
// resets at once in FIN_WAIT_1 and FIN_WAIT_2 too (as Linux does), instead
// of an orphan holding the unread bytes' pages until its FIN_WAIT_2 limit.
static void
test_close_after_shutdown_with_unread_data_resets_and_frees(void)
{
  struct hostnic *eth0 = boot_tcp("");
  struct socket *ls = listener(LPORT, 4);
  int before = host_pages_inuse();
  for (int acked = 0; acked < 2; acked++) {
    struct socket *c = passive_open(eth0, ls);
    CHECK_EQ(sock_shutdown(c, SHUT_WR), 0);
    CHECK_EQ(sent(eth0).flags, TH_FIN | TH_ACK);
    if (acked)
      inseg(eth0, PISS + 1, ISS + 2, TH_ACK, 8192, 0, 0);   // FIN_WAIT_2
    CHECK_EQ(state_of(c), acked ? TCPS_FIN_WAIT_2 : TCPS_FIN_WAIT_1);
    inseg(eth0, PISS + 1, ISS + 1 + acked, TH_ACK, 8192, "unread", 6);
    host_sent_clear(eth0);
    CHECK(host_pages_inuse() > before);                      // the bytes hold a page
    sock_close(c);
    struct tseg r = sent(eth0);
    CHECK_EQ(r.flags, TH_RST | TH_ACK);
    CHECK_EQ(ntcb(), 1);                                    // the listener alone
    CHECK_EQ(host_pages_inuse(), before);
  }
  sock_close(ls);
}

static void
test_malformed_options_are_dropped_not_looped(void)
{
  struct hostnic *eth0 = boot_tcp("");
  struct socket *ls = listener(LPORT, 4);
  static const uchar zerolen[4] = { 2, 0, 0, 0 };      // picoTCP #506's option
  static const uchar overrun[4] = { 1, 1, 3, 9 };      // longer than the header
  inseg_opts(eth0, PPORT, LPORT, PISS, 0, TH_SYN, 8192, zerolen, 4, 0, 0);
  inseg_opts(eth0, PPORT, LPORT, PISS, 0, TH_SYN, 8192, overrun, 4, 0, 0);
  CHECK_EQ(host_nsent(eth0), 0);
  CHECK_EQ(stats().tcp_inerrs, 2);
  struct tcpopts o;
  static const uchar big[3] = { 3, 3, 200 };
  CHECK_EQ(tcp_parseopts(big, 3, &o), 0);
  CHECK_EQ(o.wscale, 14);                              // RFC 7323: at most 14
  sock_close(ls);
  CHECK(host_pool_full());
}

static void
test_bad_user_pointers_fault(void)
{
  struct hostnic *eth0 = boot_tcp("");
  struct socket *ls = listener(LPORT, 4);
  struct socket *c = passive_open(eth0, ls);
  CHECK_EQ(sock_sendto(c, host_badaddr(), 10, 0, 0), -EFAULT);
  CHECK_EQ(host_nsent(eth0), 0);
  inseg(eth0, PISS + 1, ISS + 1, TH_ACK, 8192, "abc", 3);
  CHECK_EQ(sock_recvfrom(c, host_badaddr(), 3, 0, 0, 0), -EFAULT);
  char buf[4];
  CHECK_EQ(recvs(c, buf, 3, MSG_PEEK), 3);             // still there
  CHECK_EQ(recvs(c, buf, 3, 0), 3);
  CHECK_MEM(buf, "abc", 3);
  host_sent_clear(eth0);
  sock_close(c);
  sock_close(ls);
}

static void
test_keepalive_probes_an_idle_peer_then_gives_up(void)
{
  struct hostnic *eth0 = boot_tcp("");
  struct socket *ls = listener(LPORT, 4);
  struct socket *c = passive_open(eth0, ls);
  int on = 1;
  CHECK_EQ(sock_setopt(c, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on), 0);
  host_advance(TCP_KEEPIDLE - 1);
  CHECK_EQ(host_nsent(eth0), 0);
  host_advance(1);
  struct tseg p = sent(eth0);
  CHECK_EQ(p.flags, TH_ACK);
  CHECK_EQ(p.seq, ISS);                          // SND.UNA - 1
  inseg(eth0, PISS + 1, ISS + 1, TH_ACK, 8192, 0, 0);   // the peer is there
  host_advance(TCP_KEEPIDLE - 1);
  CHECK_EQ(host_nsent(eth0), 0);                 // idle time counts from its answer
  host_advance(1);
  CHECK_EQ(sent(eth0).seq, ISS);
  for (int i = 1; i < TCP_KEEPCNT; i++) {        // now it is gone
    host_advance(TCP_KEEPINTVL);
    CHECK_EQ(sent(eth0).seq, ISS);
  }
  host_advance(TCP_KEEPINTVL);
  CHECK_EQ(sent(eth0).flags & TH_RST, TH_RST);
  char buf[4];
  CHECK_EQ(recvs(c, buf, sizeof buf, 0), -ETIMEDOUT);
  CHECK_EQ(stats().tcp_keepaliveprobes, 1 + TCP_KEEPCNT);
  sock_close(c);
  sock_close(ls);
}

static void
test_reuseaddr_binds_over_time_wait_only(void)
{
  struct hostnic *eth0 = boot_tcp("");
  struct socket *ls = listener(LPORT, 4);
  struct socket *c = passive_open(eth0, ls);
  sock_close(c);                                 // our FIN
  inseg(eth0, PISS + 1, ISS + 2, TH_ACK | TH_FIN, 8192, 0, 0);   // TIME_WAIT on port 80
  host_sent_clear(eth0);
  sock_close(ls);
  CHECK_EQ(ntcb(), 1);
  struct socket *s = 0, *t = 0;
  struct sockaddr_in a = sin(0, LPORT);
  CHECK_EQ(sock_create(AF_INET, SOCK_STREAM, 0, &s), 0);
  CHECK_EQ(sock_bind(s, (struct sockaddr *)&a, sizeof a), -EADDRINUSE);
  int on = 1;
  CHECK_EQ(sock_setopt(s, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on), 0);
  CHECK_EQ(sock_bind(s, (struct sockaddr *)&a, sizeof a), 0);
  CHECK_EQ(sock_listen(s, 1), 0);
  CHECK_EQ(sock_create(AF_INET, SOCK_STREAM, 0, &t), 0);
  CHECK_EQ(sock_setopt(t, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on), 0);
  CHECK_EQ(sock_bind(t, (struct sockaddr *)&a, sizeof a), -EADDRINUSE);   // a listener holds it
  sock_close(t);
  sock_close(s);
}

// A server that closes first keeps a block per recent client in TIME_WAIT.
// Once they fill the table, a new client's SYN and the accept that follows
// each take the oldest TIME_WAIT block instead of failing (before, accept
// failed with ENOBUFS for good while every freed block went to a SYN).
static void
test_time_wait_blocks_are_recycled_when_the_table_is_full(void)
{
  struct hostnic *eth0 = boot_tcp("");
  struct socket *ls = listener(LPORT, 4);
  for (int i = 0; i < NTCB; i++) {
    ushort port = 20000 + i;
    host_advance(1);                               // each 2*MSL ends a tick later
    inseg_opts(eth0, port, LPORT, PISS, 0, TH_SYN, 8192, mss1460, 4, 0, 0);
    struct tseg s = sent(eth0);
    CHECK_EQ(s.flags, TH_SYN | TH_ACK);
    inseg_opts(eth0, port, LPORT, PISS + 1, s.seq + 1, TH_ACK, 8192, 0, 0, 0, 0);
    struct socket *c = 0;
    CHECK_EQ(sock_accept(ls, &c, 0, 0), 0);
    if (c == 0)
      break;
    sock_close(c);
    struct tseg f = sent(eth0);
    CHECK_EQ(f.flags, TH_FIN | TH_ACK);
    inseg_opts(eth0, port, LPORT, PISS + 1, f.seq + 1, TH_ACK | TH_FIN, 8192, 0, 0, 0, 0);
    host_sent_clear(eth0);
  }
  // With the listener and 126 TIME_WAITs, the 127th client's SYN took the
  // last free block and its accept (which needs a block of its own for a
  // moment) the oldest TIME_WAIT; the 128th client's accept the next one.
  CHECK_EQ(stats().tcp_twrecycled, 2);
  CHECK_EQ(ntcb(), NTCB - 1);
  struct tcpinfo ti;
  int lowest = 99999;
  for (int i = 0; tcp_list(i, &ti) == 0; i++)
    if (ti.state == TCPS_TIME_WAIT && ti.rport < lowest)
      lowest = ti.rport;
  CHECK_EQ(lowest, 20002);
  sock_close(ls);
}

static void
test_poll_reports_accept_data_fin_and_room(void)
{
  struct hostnic *eth0 = boot_tcp("");
  struct socket *ls = listener(LPORT, 4);
  CHECK_EQ(sock_poll(ls, POLLIN) & POLLIN, 0);
  inseg_opts(eth0, PPORT, LPORT, PISS, 0, TH_SYN, 8192, mss1460, 4, 0, 0);
  inseg(eth0, PISS + 1, ISS + 1, TH_ACK, 8192, 0, 0);
  host_sent_clear(eth0);
  CHECK_EQ(sock_poll(ls, POLLIN) & POLLIN, POLLIN);   // a connection to accept
  struct socket *c = 0;
  CHECK_EQ(sock_accept(ls, &c, 0, 0), 0);
  CHECK_EQ(sock_poll(c, POLLIN | POLLOUT), POLLOUT);
  inseg(eth0, PISS + 1, ISS + 1, TH_ACK, 8192, "x", 1);
  CHECK_EQ(sock_poll(c, POLLIN | POLLOUT), POLLIN | POLLOUT);
  char buf[4];
  c->nonblock = 1;
  CHECK_EQ(recvs(c, buf, sizeof buf, 0), 1);
  inseg(eth0, PISS + 2, ISS + 1, TH_ACK | TH_FIN, 8192, 0, 0);
  CHECK_EQ(sock_poll(c, POLLIN) & POLLIN, POLLIN);      // a read returns 0
  inseg(eth0, PISS + 3, 0, TH_RST, 0, 0, 0);
  CHECK(sock_poll(c, POLLIN) & POLLHUP);
  host_sent_clear(eth0);
  sock_close(c);
  sock_close(ls);
}

static void
test_shutdown_read_drops_what_comes(void)
{
  struct hostnic *eth0 = boot_tcp("");
  struct socket *ls = listener(LPORT, 4);
  struct socket *c = passive_open(eth0, ls);
  CHECK_EQ(sock_shutdown(c, SHUT_RD), 0);
  char buf[8];
  CHECK_EQ(recvs(c, buf, sizeof buf, 0), 0);
  inseg(eth0, PISS + 1, ISS + 1, TH_ACK, 8192, "ignored", 7);
  host_advance(TCP_DELACK);
  struct tseg a = sent(eth0);
  CHECK_EQ(a.ack, PISS + 8);                     // acknowledged, and dropped
  CHECK_EQ(recvs(c, buf, sizeof buf, 0), 0);
  CHECK_EQ(sock_shutdown(c, 7), -EINVAL);
  CHECK_EQ(sock_sendto(c, (uint)"out", 3, 0, 0), 3);   // the other way still works
  CHECK_EQ(sent(eth0).len, 3);
  sock_close(c);
  sock_close(ls);
}

// RFC 6298: each round-trip sample moves SRTT and RTTVAR (scaled by 8 and 4)
// and with them the RTO; a lost segment is sent again after the RTO, then
// after twice it; and its ACK gives no sample, as it was sent twice (Karn).
static void
test_rtt_samples_set_the_rto_and_a_segment_sent_twice_gives_none(void)
{
  struct hostnic *eth0 = boot_tcp("");
  struct socket *ls = listener(LPORT, 4);
  struct socket *c = passive_open(eth0, ls);
  struct tcpcb *tp = c->pcb;
  CHECK_EQ(tp->srtt, 8);                    // the handshake: 0 ticks, taken as 1
  CHECK_EQ(tp->rto, TCP_RTOMIN);
  CHECK_EQ(sock_sendto(c, (uint)"hello", 5, 0, 0), 5);
  CHECK_EQ(sent(eth0).len, 5);
  host_advance(15);
  inseg(eth0, PISS + 1, ISS + 6, TH_ACK, 8192, 0, 0);   // R = 15
  CHECK_EQ(tp->srtt, 22);                   // 8 + (15 - 1)
  CHECK_EQ(tp->rttvar, 16);                 // 2 + (14 - 0)
  CHECK_EQ(tp->rto, TCP_RTOMIN);            // 2 + 16, raised to the floor
  CHECK_EQ(sock_sendto(c, (uint)"again", 5, 0, 0), 5);
  CHECK_EQ(sent(eth0).len, 5);
  host_advance(19);
  inseg(eth0, PISS + 1, ISS + 11, TH_ACK, 8192, 0, 0);  // R = 19
  CHECK_EQ(tp->srtt, 39);                   // 22 + (19 - 2)
  CHECK_EQ(tp->rttvar, 29);                 // 16 + (17 - 4)
  CHECK_EQ(tp->rto, 33);                    // 4 + 29
  CHECK_EQ(sock_sendto(c, (uint)"world", 5, 0, 0), 5);
  CHECK_EQ(sent(eth0).len, 5);              // lost
  host_advance(32);
  CHECK_EQ(host_nsent(eth0), 0);
  host_advance(1);
  struct tseg d = sent(eth0);               // after the RTO
  CHECK_EQ(d.seq, ISS + 11);
  CHECK_MEM(d.data, "world", 5);
  host_advance(65);
  CHECK_EQ(host_nsent(eth0), 0);
  host_advance(1);
  CHECK_EQ(sent(eth0).seq, ISS + 11);       // after twice the RTO
  host_advance(50);
  inseg(eth0, PISS + 1, ISS + 16, TH_ACK, 8192, 0, 0);
  CHECK_EQ(tp->srtt, 39);                   // no sample: Karn
  CHECK_EQ(tp->rto, 33);
  CHECK_EQ(tp->rxtshift, 0);                // new data acknowledged: no more backoff
  CHECK_EQ(stats().tcp_retranssegs, 2);
  CHECK_EQ(host_nsent(eth0), 0);
  sock_close(c);
  sock_close(ls);
}

// The packet trace (nettrace=tcp) says what TCP decided at each step of an
// active open, and that a retransmission came from the timer; and a passive
// open says the listener made a connection.
static void
test_the_trace_follows_an_active_open_and_a_timeout(void)
{
  struct hostnic *eth0 = boot_tcp("nettrace=tcp");
  struct socket *s = 0;
  CHECK_EQ(sock_create(AF_INET, SOCK_STREAM, 0, &s), 0);
  s->nonblock = 1;
  struct sockaddr_in to = sin(PEER_IP, 5001);
  CHECK_EQ(sock_connect(s, (struct sockaddr *)&to, sizeof to), -EINPROGRESS);
  struct tseg y = sent(eth0);
  inseg_opts(eth0, 5001, y.sport, PISS, ISS + 1, TH_SYN | TH_ACK, 1000, 0, 0, 0, 0);
  CHECK_EQ(sent(eth0).flags, TH_ACK);
  CHECK_EQ(sock_sendto(s, (uint)"hi", 2, 0, 0), 2);
  CHECK_EQ(sent(eth0).len, 2);
  host_advance(TCP_RTOMIN);                        // no ACK: the timer sends it again
  CHECK_EQ(sent(eth0).len, 2);
  char want[5][160];
  snprintf(want[0], 160, "tcp_output: port %d [S] seq %u ack 0, 0 bytes", y.sport, ISS);
  snprintf(want[1], 160, "tcp_input: port %d [S.] seq %u ack %u, 0 bytes", y.sport, PISS,
           ISS + 1);
  snprintf(want[2], 160, "tcp_input: state SYN_SENT -> ESTABLISHED");
  snprintf(want[3], 160, "tcp_timer: port %d, retransmission timer expired (rto %d ticks, "
           "backoff 0) -> send again from seq %u", y.sport, TCP_RTOMIN, ISS + 1);
  snprintf(want[4], 160, "tcp_output: port %d [.] seq %u ack %u, 2 bytes", y.sport, ISS + 1,
           PISS + 1);
  struct nettrace_rec r[64];
  uint lost, found = 0;
  int n = nettrace_take(r, 64, &lost);
  for (int i = 0; i < n && found < NELEM(want); i++) {   // in this order, others between
    char line[160];
    const uint *a = r[i].arg;
    snprintf(line, sizeof line, r[i].fmt, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]);
    if (strcmp(line, want[found]) == 0)
      found++;
  }
  CHECK_EQ(found, NELEM(want));
  CHECK_EQ(lost, 0);
  sock_close(s);
  host_sent_clear(eth0);   // our FIN

  struct socket *ls = listener(LPORT, 4);
  struct socket *c = passive_open(eth0, ls);
  n = nettrace_take(r, 64, &lost);
  char line[160], want_listen[160];
  snprintf(want_listen, sizeof want_listen, "tcp_input: LISTEN on port %d: a SYN -> new "
           "connection in SYN_RECV, SYN-ACK sent", LPORT);
  found = 0;
  for (int i = 0; i < n; i++) {
    const uint *a = r[i].arg;
    snprintf(line, sizeof line, r[i].fmt, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]);
    found += strcmp(line, want_listen) == 0;
  }
  CHECK_EQ(found, 1);
  nettrace_set(0);
  sock_close(c);
  sock_close(ls);
}

static int
setttl(struct socket *s, int ttl)
{
  return sock_setopt(s, IPPROTO_IP, SOCK_IP_TTL, &ttl, sizeof ttl);
}

static int
getttl(struct socket *s)
{
  int v = 0, len = sizeof v;
  CHECK_EQ(sock_getopt(s, IPPROTO_IP, SOCK_IP_TTL, &v, &len), 0);
  return v;
}

// IP_TTL on a TCP socket sets the TTL of every segment it sends (SYN, data,
// FIN, even after close); a listener's TTL goes to its children from the
// SYN-ACK on, and accept() hands it to the new socket, as Linux does.
static void
test_ip_ttl_marks_every_segment_and_children_inherit_it(void)
{
  struct hostnic *eth0 = boot_tcp("");
  struct socket *s = 0;
  CHECK_EQ(sock_create(AF_INET, SOCK_STREAM, 0, &s), 0);
  s->nonblock = 1;
  CHECK_EQ(getttl(s), 64);
  CHECK_EQ(setttl(s, 0), -EINVAL);
  CHECK_EQ(setttl(s, 256), -EINVAL);
  CHECK_EQ(setttl(s, 7), 0);
  CHECK_EQ(getttl(s), 7);
  struct sockaddr_in to = sin(PEER_IP, 5001);
  CHECK_EQ(sock_connect(s, (struct sockaddr *)&to, sizeof to), -EINPROGRESS);
  struct tseg y = sent(eth0);
  CHECK_EQ(y.flags, TH_SYN);
  CHECK_EQ(y.ttl, 7);
  inseg_opts(eth0, 5001, y.sport, PISS, ISS + 1, TH_SYN | TH_ACK, 8192, mss1460, 4, 0, 0);
  CHECK_EQ(sent(eth0).ttl, 7);                   // the handshake's ACK
  CHECK_EQ(setttl(s, 200), 0);                   // changed while connected
  CHECK_EQ(sock_sendto(s, (uint)"hello", 5, 0, 0), 5);
  struct tseg d = sent(eth0);
  CHECK_EQ(d.len, 5);
  CHECK_EQ(d.ttl, 200);
  CHECK_EQ(setttl(s, -1), 0);                    // back to the default
  CHECK_EQ(getttl(s), 64);
  CHECK_EQ(setttl(s, 33), 0);
  sock_close(s);                                 // an orphan now: its FIN keeps the TTL
  struct tseg f = sent(eth0);
  CHECK(f.flags & TH_FIN);
  CHECK_EQ(f.ttl, 33);

  struct socket *ls = listener(LPORT, 4);
  CHECK_EQ(setttl(ls, 9), 0);
  inseg_opts(eth0, PPORT, LPORT, PISS, 0, TH_SYN, 8192, mss1460, 4, 0, 0);
  struct tseg sa = sent(eth0);
  CHECK_EQ(sa.flags, TH_SYN | TH_ACK);
  CHECK_EQ(sa.ttl, 9);
  inseg(eth0, PISS + 1, ISS + 1, TH_ACK, 8192, 0, 0);
  struct socket *c = 0;
  CHECK_EQ(sock_accept(ls, &c, 0, 0), 0);
  CHECK(c != 0);
  if (c == 0)
    return;
  c->nonblock = 1;
  CHECK_EQ(getttl(c), 9);
  CHECK_EQ(sock_sendto(c, (uint)"hi", 2, 0, 0), 2);
  CHECK_EQ(sent(eth0).ttl, 9);
  sock_close(c);
  CHECK_EQ(sent(eth0).ttl, 9);                   // its FIN
  sock_close(ls);
}

// net.ipv4.tcp_rmem_default and tcp_wmem_default give new connections their
// buffers (whole pages), at boot or later; the window scale is for the most
// the receive buffer may grow to, or, without autotuning, for the buffer;
// what is out of bounds is refused.
static void
test_buffer_defaults_come_from_the_sysctls(void)
{
  struct hostnic *eth0 = boot_tcp("sysctl.net.ipv4.tcp_rmem_default=262144 "
                                  "sysctl.net.ipv4.tcp_wmem_default=200000");
  CHECK_EQ(sysctl_set("net.ipv4.tcp_moderate_rcvbuf", 0), 0);
  struct socket *s = 0;
  CHECK_EQ(sock_create(AF_INET, SOCK_STREAM, 0, &s), 0);
  struct tcpcb *tp = s->pcb;
  CHECK_EQ(tp->rcv.size, 262144);
  CHECK_EQ(tp->snd.size, 200704);   // 49 pages
  s->nonblock = 1;
  struct sockaddr_in to = sin(PEER_IP, 5001);
  CHECK_EQ(sock_connect(s, (struct sockaddr *)&to, sizeof to), -EINPROGRESS);
  struct tseg y = sent(eth0);
  CHECK_EQ(y.flags, TH_SYN);
  static const uchar want[12] = { 2, 4, 0x05, 0xB4, 1, 3, 3, 3, 1, 1, 4, 2 };   // 256 KiB: 3
  CHECK_EQ(y.optlen, 12);
  CHECK_MEM(y.opts, want, 12);
  sock_close(s);
  CHECK_EQ(sysctl_set("net.ipv4.tcp_moderate_rcvbuf", 1), 0);   // 1 MiB: 5
  CHECK_EQ(sock_create(AF_INET, SOCK_STREAM, 0, &s), 0);
  s->nonblock = 1;
  to.sin_port = htons(5002);
  CHECK_EQ(sock_connect(s, (struct sockaddr *)&to, sizeof to), -EINPROGRESS);
  y = sent(eth0);
  CHECK_EQ(y.opts[7], 5);
  sock_close(s);
  while (host_nsent(eth0))
    next_sent(eth0);

  int v = 0;
  CHECK_EQ(sysctl_set("net.ipv4.tcp_rmem_default", 4096), 0);
  CHECK_EQ(sysctl_set("net.ipv4.tcp_wmem_default", TCP_BUFMAX + 1), -EINVAL);
  CHECK_EQ(sysctl_set("net.ipv4.tcp_wmem_default", TCP_BUFMIN - 1), -EINVAL);
  CHECK_EQ(sysctl_get("net.ipv4.tcp_wmem_default", &v), 0);
  CHECK_EQ(v, 200000);
  CHECK_EQ(sock_create(AF_INET, SOCK_STREAM, 0, &s), 0);
  tp = s->pcb;
  CHECK_EQ(tp->rcv.size, 4096);
  CHECK_EQ(tp->snd.size, 200704);
  sock_close(s);
}

// ---- receive-buffer autotuning ----

// The peer (port pport, window scale 7) connects to ls; the accepted
// socket. Our SYN-ACK asks scale `scale`.
static struct socket *
scaled_open(struct hostnic *eth0, struct socket *ls, ushort pport, int scale)
{
  static const uchar synopts[8] = { 2, 4, 0x05, 0xB4, 1, 3, 3, 7 };
  while (host_nsent(eth0))
    next_sent(eth0);
  inseg_opts(eth0, pport, LPORT, PISS, 0, TH_SYN, 8192, synopts, 8, 0, 0);
  struct tseg s = sent(eth0);
  CHECK_EQ(s.flags, TH_SYN | TH_ACK);
  CHECK_EQ(s.opts[7], scale);
  inseg_opts(eth0, pport, LPORT, PISS + 1, ISS + 1, TH_ACK, 8192, 0, 0, 0, 0);
  struct socket *c = 0;
  CHECK_EQ(sock_accept(ls, &c, 0, 0), 0);
  if (c)
    c->nonblock = 1;
  return c;
}

// The peer sends, from seq, all the window it was last offered, in full
// segments; what we sent meanwhile is dropped. Returns the next seq.
static uint
fillwindow(struct hostnic *eth0, struct socket *c, ushort pport, uint seq)
{
  static char data[1460];
  uint edge = ((struct tcpcb *)c->pcb)->rcv_adv;
  while (SEQ_LT(seq, edge)) {
    uint n = MIN(sizeof data, edge - seq);
    inseg_opts(eth0, pport, LPORT, seq, ISS + 1, TH_ACK, 8192, 0, 0, data, n);
    seq += n;
  }
  while (host_nsent(eth0))
    next_sent(eth0);
  return seq;
}

// Read up to most bytes (all there is: 0), in reads as large as the most
// a buffer holds; returns how many.
static uint
readsome(struct socket *c, uint most)
{
  static char buf[TCP_BUFMAX];
  uint got = 0;
  int n;
  while ((most == 0 || got < most) &&
         (n = recvs(c, buf, most ? MIN(sizeof buf, most - got) : sizeof buf, 0)) > 0)
    got += n;
  return got;
}

// Rounds of the peer filling the window and the program reading it all;
// returns the next seq.
static uint
keepup(struct hostnic *eth0, struct socket *c, ushort pport, uint seq, int rounds)
{
  for (int i = 0; i < rounds; i++) {
    seq = fillwindow(eth0, c, pport, seq);
    readsome(c, 0);
  }
  return seq;
}

// The last segment we sent, the others dropped.
static struct tseg
lastsent(struct hostnic *eth0)
{
  while (host_nsent(eth0) > 1)
    next_sent(eth0);
  return sent(eth0);
}

// The peer sends up to the window's edge and the program reads it all:
// the window holds the flow back, so the buffer doubles at each such read,
// to TCP_BUFMAX, and the window update after the read offers it whole.
// The first window is the SYN-ACK's, 65,535 bytes, unscaled.
static void
test_a_reader_that_keeps_up_grows_its_buffer_to_the_most(void)
{
  struct hostnic *eth0 = boot_tcp("");
  struct socket *ls = listener(LPORT, 4);
  struct socket *c = scaled_open(eth0, ls, PPORT, 5);
  struct tcpcb *tp = c->pcb;
  CHECK_EQ(tp->rcv.size, 131072);
  uint seq = fillwindow(eth0, c, PPORT, PISS + 1);
  CHECK_EQ(seq, PISS + 1 + 65535);
  CHECK_EQ(readsome(c, 0), 65535);
  for (uint size = 262144; size <= TCP_BUFMAX; size *= 2) {
    CHECK_EQ(tp->rcv.size, size);
    struct tseg u = lastsent(eth0);                // the update after the read
    CHECK_EQ(u.ack, seq);
    CHECK_EQ((uint)u.win << 5, size);
    CHECK_EQ(tp->rcv_adv - tp->rcv_nxt, size);     // offered whole
    seq = fillwindow(eth0, c, PPORT, seq);
    CHECK(tp->flags & TF_RCVEDGE);
    CHECK_EQ(readsome(c, 0), size);
  }
  CHECK_EQ(tp->rcv.size, TCP_BUFMAX);              // the most: no more
  CHECK_EQ(stats().tcp_rcvbufgrown, 3);
  CHECK_EQ(tp->rcv.grown, TCP_BUFMAX - 131072);
  sock_close(c);
  sock_close(ls);
}

// A reader that falls behind (more than half the buffer still full after
// each read, as data keeps coming) keeps its buffer: a larger one would only
// fill. So does a socket whose SO_RCVBUF was set, and every socket with
// net.ipv4.tcp_moderate_rcvbuf at 0.
static void
test_a_slow_reader_a_set_rcvbuf_and_the_sysctl_keep_the_buffer(void)
{
  struct hostnic *eth0 = boot_tcp("sysctl.net.ipv4.tcp_rmem_default=65536");
  struct socket *ls = listener(LPORT, 4);
  struct socket *c = scaled_open(eth0, ls, PPORT, 5);
  struct tcpcb *tp = c->pcb;
  uint seq = fillwindow(eth0, c, PPORT, PISS + 1);   // the SYN-ACK's window: the buffer
  for (int i = 0; i < 8; i++) {
    CHECK_EQ(tp->rcv.len, 65536 - 1);
    CHECK_EQ(readsome(c, 16384), 16384);          // three quarters stay
    seq = fillwindow(eth0, c, PPORT, seq);        // up to the edge again
  }
  CHECK_EQ(tp->rcv.size, 65536);
  CHECK_EQ(stats().tcp_rcvbufgrown, 0);
  int sz = 98304;                                 // doubled: 192 KiB, locked
  CHECK_EQ(sock_setopt(c, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz), -EBUSY);   // holds data
  readsome(c, 0);                                 // caught up: that makes it grow
  CHECK_EQ(stats().tcp_rcvbufgrown, 1);
  CHECK_EQ(tp->rcv.size, 131072);
  CHECK_EQ(sock_setopt(c, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz), 0);
  CHECK_EQ(tp->rcv.grown, 0);
  keepup(eth0, c, PPORT, seq, 3);
  CHECK_EQ(tp->rcv.size, 196608);
  CHECK_EQ(stats().tcp_rcvbufgrown, 1);
  sock_close(c);

  CHECK_EQ(sysctl_set("net.ipv4.tcp_moderate_rcvbuf", 0), 0);
  c = scaled_open(eth0, ls, PPORT + 1, 1);        // for 64 KiB
  tp = c->pcb;
  keepup(eth0, c, PPORT + 1, PISS + 1, 3);
  CHECK_EQ(tp->rcv.size, 65536);
  CHECK_EQ(stats().tcp_rcvbufgrown, 1);
  sock_close(c);
  sock_close(ls);
}

// What all connections may grow by together is bounded (TCP_GROWTOTAL):
// a fifth reader that keeps up gets what the first four left, and what a
// connection had comes back when its socket closes.
static void
test_autotuning_is_bounded_for_all_connections_together(void)
{
  struct hostnic *eth0 = boot_tcp("");
  struct socket *ls = listener(LPORT, 8);
  struct socket *c[5];
  uint seq[5];
  for (int i = 0; i < 5; i++) {
    c[i] = scaled_open(eth0, ls, PPORT + i, 5);
    seq[i] = keepup(eth0, c[i], PPORT + i, PISS + 1, 4);
  }
  uint grown = TCP_BUFMAX - 131072;   // 896 KiB each: four fit in 4 MiB
  for (int i = 0; i < 4; i++)
    CHECK_EQ(((struct tcpcb *)c[i]->pcb)->rcv.size, TCP_BUFMAX);
  struct tcpcb *last = c[4]->pcb;
  CHECK_EQ(last->rcv.grown, TCP_GROWTOTAL - 4 * grown);
  CHECK_EQ(last->rcv.size, 131072 + TCP_GROWTOTAL - 4 * grown);
  sock_close(c[0]);                   // its 896 KiB come back
  keepup(eth0, c[4], PPORT + 4, seq[4], 2);
  CHECK_EQ(last->rcv.size, TCP_BUFMAX);
  for (int i = 1; i < 5; i++)
    sock_close(c[i]);
  sock_close(ls);
}

// A ring grows with its bytes in order: unwrapped, wrapped by whole pages,
// and wrapped into the page where it starts (that page is copied).
static void
test_a_ring_grows_with_its_bytes_in_order(void)
{
  boot_tcp("");
  static uchar in[3 * 4096], out[3 * 4096];
  for (uint i = 0; i < sizeof in; i++)
    in[i] = i % 251;
  // head, bytes dropped from the front, then bytes appended: the ring of
  // 8 KiB ends up holding `len` bytes from offset head.
  static const struct { uint drop, len; } cases[] = {
    { 1000, 5000 },   // not wrapped
    { 4096, 8192 },   // wrapped by one whole page
    { 6000, 8192 },   // full, wrapped into the page where it starts
    { 6000, 3000 },   // wrapped, the page where it starts not reached
  };
  for (uint k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    struct tcpbuf b;
    memset(&b, 0, sizeof b);
    b.size = 8192;
    CHECK_EQ(tcpbuf_put(&b, in, cases[k].drop, 0), (int)cases[k].drop);
    tcpbuf_drop(&b, cases[k].drop);
    CHECK_EQ(tcpbuf_put(&b, in, cases[k].len, 0), (int)cases[k].len);
    CHECK_EQ(tcpbuf_grow(&b, 16384), 1);
    CHECK_EQ(b.size, 16384);
    memset(out, 0, sizeof out);
    tcpbuf_get(&b, 0, out, cases[k].len);
    CHECK_MEM(out, in, cases[k].len);
    // and it goes on as a ring of the new size
    CHECK_EQ(tcpbuf_put(&b, in + cases[k].len, 16384 - cases[k].len > 4096 ? 4096 : 16384 - cases[k].len, 0),
             (int)(16384 - cases[k].len > 4096 ? 4096 : 16384 - cases[k].len));
    tcpbuf_get(&b, 0, out, b.ringlen);
    CHECK_MEM(out, in, b.ringlen);
    tcpbuf_free(&b);
  }
}

// The writer waits for room while every byte of its buffer is in flight and
// both windows would let more fly: the buffer doubles, to TCP_BUFMAX. What
// goes on the wire stays the byte stream it wrote.
static void
test_a_writer_held_back_by_its_buffer_grows_it(void)
{
  struct hostnic *eth0 = boot_tcp("");
  struct socket *ls = listener(LPORT, 4);
  struct socket *c = scaled_open(eth0, ls, PPORT, 5);   // the peer offers 1 MiB
  struct tcpcb *tp = c->pcb;
  static uchar data[65536];
  uint written = 0, checked = 0, bad = 0;
  for (int round = 0; round < 400 && tp->snd.size < TCP_BUFMAX; round++) {
    for (;;) {
      for (uint i = 0; i < sizeof data; i++)
        data[i] = (written + i) % 251;
      int n = sock_sendto(c, (uint)data, sizeof data, 0, 0);
      if (n <= 0)
        break;
      written += n;
    }
    while (host_nsent(eth0)) {   // each segment acknowledged alone: slow start
      struct tseg s = sent(eth0);
      if (s.len == 0)
        continue;
      CHECK_EQ(s.seq, ISS + 1 + checked);
      for (uint i = 0; i < s.len; i++)
        bad += s.data[i] != (checked + i) % 251;
      checked += s.len;
      inseg(eth0, PISS + 1, s.seq + s.len, TH_ACK, 8192, 0, 0);
    }
  }
  CHECK_EQ(bad, 0);
  CHECK_EQ(tp->snd.size, TCP_BUFMAX);
  CHECK_EQ(stats().tcp_sndbufgrown, 3);
  CHECK_EQ(tp->snd.grown, TCP_BUFMAX - 131072);
  int sz = 65536;   // all acknowledged: SO_SNDBUF sets it, and gives the growth back
  CHECK_EQ(sock_setopt(c, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz), 0);
  CHECK_EQ(tp->snd.size, 131072);
  CHECK_EQ(tp->snd.grown, 0);
  sock_close(c);
  sock_close(ls);
}

static const struct test tests[] = {
  TEST(test_passive_open_is_exact_and_accept_gives_the_peer),
  TEST(test_an_uncut_segment_in_several_buffers_arrives_whole),
  TEST(test_an_uncut_segment_behind_a_hole_is_held_segment_by_segment),
  TEST(test_a_train_no_longer_for_us_is_split_and_each_frame_dropped),
  TEST(test_active_open_sends_mss_window_scale_and_sack_permitted),
  TEST(test_a_syn_to_a_closed_port_is_reset_and_a_rst_never_is),
  TEST(test_data_both_ways_across_the_wraparound),
  TEST(test_data_and_fin_before_accept_wait_for_the_program),
  TEST(test_full_segments_are_kept_in_their_buffers_until_read),
  TEST(test_ring_and_kept_buffers_read_in_order),
  TEST(test_with_the_pool_short_segments_are_copied_and_kept_ones_moved),
  TEST(test_every_second_full_segment_is_acked_at_once),
  TEST(test_a_batch_of_segments_gets_one_ack_at_its_end),
  TEST(test_a_batch_of_acks_gets_one_burst_at_its_end),
  TEST(test_a_card_that_segments_gets_64_kib_then_16_without_tso_buffers),
  TEST(test_an_uncut_segment_in_page_buffers_is_kept_until_read),
  TEST(test_a_batch_goes_up_in_trains_and_a_bad_frame_alone),
  TEST(test_out_of_order_segments_in_a_batch_are_each_acked),
  TEST(test_a_window_update_only_when_the_offered_window_is_small),
  TEST(test_an_ack_left_to_the_reader_goes_at_the_delayed_ack_timer),
  TEST(test_out_of_order_segments_are_held_and_filled_in),
  TEST(test_a_whole_window_is_held_out_of_order),
  TEST(test_sack_blocks_report_what_is_held),
  TEST(test_a_passive_close_goes_through_close_wait_and_last_ack),
  TEST(test_an_active_close_waits_in_time_wait_and_acks_a_repeated_fin),
  TEST(test_simultaneous_close_goes_through_closing),
  TEST(test_simultaneous_open_goes_through_syn_received),
  TEST(test_rst_in_window_is_challenged_exact_resets_outside_is_dropped),
  TEST(test_a_syn_on_an_established_connection_is_challenged),
  TEST(test_retransmission_backs_off_until_etimedout),
  TEST(test_an_unanswered_syn_fails_with_etimedout),
  TEST(test_a_rst_to_our_syn_refuses_the_connection),
  TEST(test_three_duplicate_acks_retransmit_and_recover),
  TEST(test_a_zero_window_is_probed_with_backoff_and_reopened),
  TEST(test_our_window_closes_when_full_and_reading_reopens_it),
  TEST(test_a_syn_flood_turns_over_the_backlog_and_leaves_room),
  TEST(test_close_with_linger_zero_and_with_unread_data_resets),
  TEST(test_close_after_shutdown_with_unread_data_resets_and_frees),
  TEST(test_malformed_options_are_dropped_not_looped),
  TEST(test_bad_user_pointers_fault),
  TEST(test_keepalive_probes_an_idle_peer_then_gives_up),
  TEST(test_reuseaddr_binds_over_time_wait_only),
  TEST(test_time_wait_blocks_are_recycled_when_the_table_is_full),
  TEST(test_poll_reports_accept_data_fin_and_room),
  TEST(test_shutdown_read_drops_what_comes),
  TEST(test_rtt_samples_set_the_rto_and_a_segment_sent_twice_gives_none),
  TEST(test_the_trace_follows_an_active_open_and_a_timeout),
  TEST(test_ip_ttl_marks_every_segment_and_children_inherit_it),
  TEST(test_buffer_defaults_come_from_the_sysctls),
  TEST(test_a_reader_that_keeps_up_grows_its_buffer_to_the_most),
  TEST(test_a_slow_reader_a_set_rcvbuf_and_the_sysctl_keep_the_buffer),
  TEST(test_autotuning_is_bounded_for_all_connections_together),
  TEST(test_a_ring_grows_with_its_bytes_in_order),
  TEST(test_a_writer_held_back_by_its_buffer_grows_it),
};

int
main(void)
{
  return run_tests(tests, NELEM(tests), 1);
}
