// framegen IFACE GUESTMAC PEERMAC GUESTIP COUNT SEED [RATE]: COUNT malformed
// and random frames for the guest, RATE a second (0 or none: as fast as the
// interface takes them), from inside the test's network namespace
// (tests/e2e/test_wire_flood.py).
//
// Kinds, in turn at random: bytes with any ethertype; IPv4 headers with
// lying versions, lengths and checksums; IPv4 fragments that lie about
// their offsets and lengths, reusing a few ids so that they overlap; TCP
// segments with random flags, offsets and options (zero and oversize option
// lengths); UDP with lying lengths; ICMP of every type, errors quoting
// random headers; ARP with impossible sizes and opcodes; runts and frames
// of the largest size. Headers the frame would need to pass (IPv4 header
// checksum) are usually right, so that the layers behind them are reached.
//
// Sources are the peer's MAC or locally administered unicast ones, and IPv4
// addresses on the lab's own 10.0.0.0/24: nothing here claims to come from
// anywhere outside the lab. Prints "sent N frames in S s" at the end.

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <net/if.h>
#include <netpacket/packet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <errno.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define MAXFRAME 1514

static uint32_t rng;
static uint8_t guestmac[6], peermac[6];
static uint32_t guestip;      // network order

static uint32_t
rnd(void)
{
  rng ^= rng << 13;
  rng ^= rng >> 17;
  rng ^= rng << 5;
  return rng;
}

static void
randbytes(uint8_t *p, int n)
{
  for (int i = 0; i < n; i++)
    p[i] = rnd();
}

static uint16_t
cksum(const uint8_t *p, int len)
{
  uint32_t sum = 0;
  for (int i = 0; i + 1 < len; i += 2)
    sum += p[i] << 8 | p[i + 1];
  if (len & 1)
    sum += p[len - 1] << 8;
  while (sum >> 16)
    sum = (sum & 0xFFFF) + (sum >> 16);
  return ~sum;
}

static void
put16(uint8_t *p, uint16_t v)
{
  p[0] = v >> 8;
  p[1] = v;
}

static uint32_t
labaddr(void)          // a host of the lab's 10.0.0.0/24, network order
{
  uint8_t a[4] = { 10, 0, 0, 1 + rnd() % 254 };
  uint32_t v;
  memcpy(&v, a, 4);
  return rnd() % 4 ? v : guestip ^ htonl(1);   // mostly anyone, sometimes a neighbour
}

static int
ether(uint8_t *f, uint16_t type)
{
  static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
  memcpy(f, rnd() % 8 ? guestmac : bcast, 6);
  if (rnd() % 4) {
    memcpy(f + 6, peermac, 6);
  } else {
    randbytes(f + 6, 6);
    f[6] = (f[6] & 0xFC) | 0x02;     // locally administered unicast
  }
  put16(f + 12, type);
  return 14;
}

// An IPv4 header at p for a payload of plen bytes; returns its length.
static int
ipv4(uint8_t *p, uint8_t proto, int plen, int lie)
{
  int optlen = rnd() % 6 == 0 ? 4 * (rnd() % 11) : 0;
  int hlen = 20 + optlen;
  p[0] = 0x40 | hlen / 4;
  p[1] = rnd();
  put16(p + 2, hlen + plen);
  put16(p + 4, rnd() % 16);
  put16(p + 6, rnd() % 4 ? 0 : rnd() & 0x7FFF);
  p[8] = rnd() % 4 ? 64 : rnd() % 3;
  p[9] = proto;
  uint32_t src = labaddr();
  memcpy(p + 12, &src, 4);
  memcpy(p + 16, &guestip, 4);
  randbytes(p + 20, optlen);
  if (lie) {
    switch (rnd() % 4) {
    case 0: p[0] = rnd(); break;                         // version and header length
    case 1: put16(p + 2, rnd()); break;                  // total length
    case 2: put16(p + 2, hlen + plen + 1 + rnd() % 64); break;
    default: put16(p + 2, rnd() % hlen); break;
    }
  }
  put16(p + 10, 0);
  put16(p + 10, rnd() % 16 ? cksum(p, (p[0] & 15) * 4 > 20 ? (p[0] & 15) * 4 : 20) : rnd());
  return hlen;
}

static int
kind_random(uint8_t *f)
{
  int len = 14 + rnd() % (MAXFRAME - 13);
  ether(f, rnd());
  randbytes(f + 14, len - 14);
  return len;
}

static int
kind_ipv4(uint8_t *f)
{
  int plen = rnd() % 200;
  int n = ether(f, 0x0800);
  n += ipv4(f + n, rnd() % 8 ? rnd() % 20 : rnd(), plen, rnd() % 2);
  randbytes(f + n, plen);
  return n + plen;
}

static int
kind_fragment(uint8_t *f)
{
  int plen = 8 * (1 + rnd() % 180) + (rnd() % 4 ? 0 : rnd() % 8);
  int n = ether(f, 0x0800);
  int h = ipv4(f + n, rnd() % 2 ? 1 : 17, plen, rnd() % 8 == 0);
  uint8_t *ip = f + n;
  put16(ip + 4, 0x4000 + rnd() % 4);                      // a few ids, so pieces meet
  uint16_t off = rnd() % 3 ? rnd() % 2048 : rnd() & 0x1FFF;
  put16(ip + 6, (rnd() % 3 ? 0x2000 : 0) | off);
  put16(ip + 10, 0);
  put16(ip + 10, cksum(ip, h));
  randbytes(f + n + h, plen);
  return n + h + plen;
}

static int
kind_tcp(uint8_t *f)
{
  int olen = 4 * (rnd() % 11), dlen = rnd() % 300;
  int n = ether(f, 0x0800);
  n += ipv4(f + n, 6, 20 + olen + dlen, rnd() % 8 == 0);
  uint8_t *t = f + n;
  put16(t, 1024 + rnd() % 60000);
  put16(t + 2, rnd() % 4 ? 80 : rnd());
  randbytes(t + 4, 8);                                    // sequence and acknowledgement
  t[12] = (rnd() % 4 ? (20 + olen) / 4 : rnd() % 16) << 4;
  t[13] = rnd();                                          // every flag combination
  randbytes(t + 14, 6);
  for (int i = 0; i < olen;) {                            // options, lengths 0..40 and beyond
    uint8_t kind = rnd() % 3 ? 1 + rnd() % 8 : rnd();
    t[20 + i++] = kind;
    if (i < olen)
      t[20 + i++] = rnd() % 4 ? 2 + rnd() % 8 : rnd();
  }
  randbytes(t + 20 + olen, dlen);
  return n + 20 + olen + dlen;
}

static int
kind_udp(uint8_t *f)
{
  int dlen = rnd() % 300;
  int n = ether(f, 0x0800);
  n += ipv4(f + n, 17, 8 + dlen, rnd() % 8 == 0);
  uint8_t *u = f + n;
  put16(u, rnd());
  uint16_t ports[] = { 7, 9, 53, 67, 68, 7777, 9000 };
  put16(u + 2, rnd() % 2 ? ports[rnd() % 7] : rnd());
  put16(u + 4, rnd() % 3 ? 8 + dlen : rnd());
  put16(u + 6, rnd() % 2 ? 0 : rnd());
  randbytes(u + 8, dlen);
  return n + 8 + dlen;
}

static int
kind_icmp(uint8_t *f)
{
  int dlen = rnd() % 120;
  int n = ether(f, 0x0800);
  n += ipv4(f + n, 1, 8 + dlen, rnd() % 8 == 0);
  uint8_t *ic = f + n;
  ic[0] = rnd() % 3 ? rnd() % 20 : rnd();
  ic[1] = rnd() % 16;
  randbytes(ic + 4, 4 + dlen);
  if (dlen >= 28 && rnd() % 2) {                          // an error quoting "our" datagram
    uint8_t *q = ic + 8;
    q[0] = 0x40 | (5 + rnd() % 11);
    q[9] = rnd() % 2 ? 17 : 6;
    memcpy(q + 12, &guestip, 4);
  }
  put16(ic + 2, 0);
  put16(ic + 2, rnd() % 8 ? cksum(ic, 8 + dlen) : rnd());
  return n + 8 + dlen;
}

static int
kind_arp(uint8_t *f)
{
  int n = ether(f, 0x0806);
  uint8_t *a = f + n;
  int len = rnd() % 3 ? 28 : rnd() % 64;
  randbytes(a, len);
  put16(a, rnd() % 4 ? 1 : rnd());
  put16(a + 2, rnd() % 4 ? 0x0800 : rnd());
  a[4] = rnd() % 3 ? 6 : rnd();
  a[5] = rnd() % 3 ? 4 : rnd();
  put16(a + 6, rnd() % 4 ? 1 + rnd() % 2 : rnd());
  if (len >= 28 && rnd() % 2)
    memcpy(a + 24, &guestip, 4);
  return n + len;
}

static int
kind_size(uint8_t *f)
{
  int len = rnd() % 2 ? rnd() % 14 : MAXFRAME;
  ether(f, rnd() % 2 ? 0x0800 : 0x0806);
  randbytes(f + 14, len > 14 ? len - 14 : 0);
  return len;
}

static int (*const kinds[])(uint8_t *) = {
  kind_random, kind_ipv4, kind_fragment, kind_tcp, kind_udp, kind_icmp, kind_arp, kind_size,
};

static double
now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
sleepuntil(double t)
{
  struct timespec ts = { (time_t)t, (long)((t - (time_t)t) * 1e9) };
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, 0) == EINTR)
    ;
}

static int
parsemac(const char *s, uint8_t *mac)
{
  unsigned v[6];
  if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
    return -1;
  for (int i = 0; i < 6; i++)
    mac[i] = v[i];
  return 0;
}

int
main(int argc, char **argv)
{
  if (argc < 7 || argc > 8 || parsemac(argv[2], guestmac) < 0 || parsemac(argv[3], peermac) < 0 ||
      inet_pton(AF_INET, argv[4], &guestip) != 1) {
    fprintf(stderr, "usage: framegen IFACE GUESTMAC PEERMAC GUESTIP COUNT SEED [RATE]\n");
    return 2;
  }
  long count = atol(argv[5]);
  double rate = argc == 8 ? atof(argv[7]) : 0;
  rng = strtoul(argv[6], 0, 0) | 1;
  int fd = socket(AF_PACKET, SOCK_RAW, 0);
  struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_ifindex = if_nametoindex(argv[1]),
                             .sll_halen = 6 };
  if (fd < 0 || sll.sll_ifindex == 0) {
    perror("framegen: socket or interface");
    return 1;
  }
  static uint8_t frames[BATCH][MAXFRAME + 64];
  struct iovec iov[BATCH];
  struct mmsghdr msgs[BATCH];
  double start = now();
  long sent = 0, errors = 0;
  while (sent < count) {
    int n = count - sent < BATCH ? count - sent : BATCH;
    if (rate > 0) {
      n = n < 8 ? n : 8;                 // small batches keep the pace even
      sleepuntil(start + sent / rate);
    }
    for (int i = 0; i < n; i++) {
      int len = kinds[rnd() % (sizeof kinds / sizeof kinds[0])](frames[i]);
      if (len < 14) {        // the packet socket refuses less than a header
        memset(frames[i] + len, 0, 14 - len);
        len = 14;
      }
      iov[i] = (struct iovec){ frames[i], len };
      msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_name = &sll, .msg_namelen = sizeof sll,
                                               .msg_iov = &iov[i], .msg_iovlen = 1 } };
    }
    int done = sendmmsg(fd, msgs, n, 0);
    if (done <= 0) {
      if (++errors > 1000) {
        perror("framegen: sendmmsg");
        return 1;
      }
      usleep(1000);
      continue;
    }
    sent += done;
  }
  printf("sent %ld frames in %.2f s\n", sent, now() - start);
  return 0;
}
