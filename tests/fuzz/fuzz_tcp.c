// libFuzzer target "tcp": TCP segments from the peer 10.0.0.1 against a
// listener (port 80) and an established connection (peer port 40000 to 80,
// its ISN PEER_ISS, ours FUZZ_ISS: both just below 2^32), as records
//
//   [delay: 1 byte, in 4 ms steps][length: 1 byte][TCP header and data]
//
// each wrapped in an IPv4 header from the peer (checksums fixed), then the
// clock advanced by the delay so that retransmission, persist, delayed-ACK
// and TIME_WAIT timers run between segments. The connection has 3000 bytes
// of ours to send when the input starts and is reset after it, so that each
// input starts from the same state. The whole input is also given to the
// option parser, whose results must stay in range.

#include "tests/fuzz/fuzzstack.h"
#include "kernel/net/tcp.h"

#define PEER_ISS 4294966784u

int LLVMFuzzerTestOneInput(const uchar *data, uint len);

// One segment from the peer: an Ethernet and IPv4 header around seg.
static void
tcp_deliver(const uchar *seg, uint n)
{
  static uchar f[PBUF_SIZE];
  uint hl = host_ether(f, our_mac, peer_mac, ETH_P_IP);
  hl += host_ipv4(f + hl, PEER_IP, OUR_IP, IPPROTO_TCP, n, 1, 0, 64);
  memmove(f + hl, seg, n);
  host_fixsums(f, hl + n);
  host_receive(fuzz_eth0, f, hl + n);
}

static void
put32(uchar *p, uint v)
{
  p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v;
}

static uint
bare(uchar *s, uint seq, uint ack, int flags)
{
  memset(s, 0, 24);
  s[0] = 40000 >> 8; s[1] = 40000 & 255; s[2] = 0; s[3] = 80;
  put32(s + 4, seq);
  put32(s + 8, ack);
  s[12] = 6 << 4;
  s[13] = flags;
  s[14] = 0x20;   // window 8192
  s[20] = 2; s[21] = 4; s[22] = 0x05; s[23] = 0xB4;   // MSS 1460
  return 24;
}

// The handshake, then 3000 bytes queued to send.
static struct socket *
establish(void)
{
  uchar s[24];
  struct socket *c = 0;
  tcp_deliver(s, bare(s, PEER_ISS, 0, TH_SYN));
  tcp_deliver(s, bare(s, PEER_ISS + 1, FUZZ_ISS + 1, TH_ACK));
  if (sock_accept(fuzz_listener, &c, 0, 0) < 0)
    panic("fuzz_tcp: no connection");
  c->nonblock = 1;
  static char out[3000];
  if (sock_sendto(c, (uint)out, sizeof out, 0, 0) < 0)
    panic("fuzz_tcp: send");
  return c;
}

// Every connection the input left (half-open children, orphans) reset,
// so that the next input starts from the listener alone.
static void
resetall(void)
{
  acquire(&tcplock);
  for (struct tcpcb *tp = tcbs; tp < tcbs + NTCB; tp++)
    if (tp->used && tp->state != TCPS_LISTEN && tp->so == 0)
      tcp_drop(tp, 0);
  release(&tcplock);
}

static void
checkopts(const uchar *data, uint len)
{
  struct tcpopts o;
  if (tcp_parseopts(data, len > 40 ? 40 : len, &o) == 0 && o.haswscale &&
      o.wscale > TCP_MAXWSCALE)
    panic("fuzz_tcp: window scale %d", o.wscale);
}

int
LLVMFuzzerTestOneInput(const uchar *data, uint len)
{
  fuzz_boot();
  checkopts(data, len);
  struct socket *c = establish();
  while (len >= 2) {
    uint delay = data[0] * 4, n = data[1];
    data += 2;
    len -= 2;
    if (n > len)
      n = len;
    tcp_deliver(data, n);
    data += n;
    len -= n;
    host_advance_ms(delay);
    static char buf[4096];
    while (sock_recvfrom(c, (uint)buf, sizeof buf, MSG_DONTWAIT, 0, 0) > 0)
      ;
  }
  fuzz_tcpreset(c);
  fuzz_drain();
  resetall();
  fuzz_after_input();
  return 0;
}
