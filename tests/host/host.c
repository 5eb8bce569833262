// The host harness: fake cards, the clock, and frame builders
// (tests/host/host.h). The frame builders compute their checksums with
// their own code, not the stack's, so a checksum bug cannot cancel out.

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/net/netos.h"
#include "kernel/net/pbuf.h"
#include "kernel/net/netdev.h"
#include "tests/host/host.h"

#define NHOSTNIC 4

struct sentframe {
  struct sentframe *next;
  uint len;
  uint tsomss;               // the card was to cut it (pbuf tsomss; NETDEV_TSO)
  uchar data[];
};

struct hostnic {
  struct netdev dev;
  struct pbufq rxq;          // the card's receive ring
  struct sentframe *head, *tail;
  int nsent;
};

static struct hostnic nics[NHOSTNIC];
static int nnics;

// ---- the machine ----

void
host_boot(const char *cmdline)
{
  host_set_cmdline(cmdline);
  netinit();
  host_console_clear();
}

void
host_netrx(void)
{
  while (netrx_work() != 0)
    ;
  if (host_locks_held() != 0)
    panic("host_netrx: %d locks still held after the receive path", host_locks_held());
}

// Does the clock step through every tick (HOST_CLOCK=step: the kernel's
// way, slow) instead of jumping to the next tick at which a timer has work?
static int
stepping(void)
{
  static int mode = -1;
  if (mode < 0) {
    const char *v = getenv("HOST_CLOCK");
    mode = v && strcmp(v, "step") == 0;
  }
  return mode;
}

// The kernel runs nettimer at every tick; here the clock jumps straight to
// the next tick at which a timer has work (nettimer_next) and runs nettimer
// there and at the last tick, with the receive path after each: between
// those ticks nettimer would do nothing. The fuzz target "frames" advances
// up to a second per record, so stepping cost it ~100 scans of every table
// per record.
void
host_advance(uint nticks)
{
  while (nticks > 0) {
    uint step = stepping() ? 1 : MIN(nticks, nettimer_next(ticks));
    ticks += step;
    nticks -= step;
    nettimer(ticks);
    host_netrx();
  }
}

void
host_advance_ms(uint ms)
{
  host_advance((ms * HZ + 999) / 1000);
}

int
host_pool_full(void)
{
  static const uint sizes[] = { PBUF_SIZE, PBUF_BIGSIZE, PBUF_SHORTSIZE, PBUF_TSOSIZE,
                                 PBUF_PAGESIZE };
  for (uint i = 0; i < NELEM(sizes); i++)
    if (pbuf_free_count(sizes[i]) != pbuf_total_count(sizes[i]))
      return 0;
  return 1;
}

// ---- fake cards ----

// HOST_WIRELOG=FILE in the environment: every frame any card sends is
// appended to FILE too (host tests fork a process per test), a line each: the
// tick, the card, the frame in hex. Tests compare the log of HOST_CLOCK=step
// with that of the jumping clock.
static void
wirelog(struct netdev *dev, const uchar *data, uint len)
{
  static FILE *log;
  static int opened;
  if (!opened) {
    const char *path = getenv("HOST_WIRELOG");
    opened = 1;
    if (path && (log = fopen(path, "a")) == 0)
      panic("HOST_WIRELOG: cannot open %s", path);
  }
  if (log == 0)
    return;
  fprintf(log, "%u %s ", ticks, dev->name);
  for (uint i = 0; i < len; i++)
    fprintf(log, "%02x", data[i]);
  fprintf(log, "\n");
  fflush(log);
}

static int
nic_xmit(struct netdev *dev, struct pbuf *pb)
{
  struct hostnic *nic = dev->priv;
  uint len = pbuf_len(pb);
  wirelog(dev, pb->rp, len);
  struct sentframe *f = malloc(sizeof *f + len);
  if (f == 0)
    panic("nic_xmit: out of host memory");
  f->next = 0;
  f->len = len;
  f->tsomss = pb->tsomss;
  memmove(f->data, pb->rp, len);
  if (nic->tail)
    nic->tail->next = f;
  else
    nic->head = f;
  nic->tail = f;
  nic->nsent++;
  pbuf_free(pb);
  return 0;
}

static int
nic_poll(struct netdev *dev, int budget)
{
  struct hostnic *nic = dev->priv;
  int done = 0;
  struct pbuf *pb, *head = 0, **tail = &head;
  while (done < budget && (pb = pbufq_get(&nic->rxq)) != 0) {
    *tail = pb;   // a batch, as a card's poll hands it up
    tail = &pb->next;
    done++;
  }
  netdev_input_list(dev, head, 0);
  return done;
}

static const struct netdev_ops nic_ops = {
  .xmit = nic_xmit,
  .poll = nic_poll,
};

struct hostnic *
host_nic(const uchar mac[6], uint ip, uint mask)
{
  if (nnics >= NHOSTNIC)
    panic("host_nic: at most %d cards", NHOSTNIC);
  struct hostnic *nic = &nics[nnics++];
  nic->dev.type = ARPHRD_ETHER;
  memmove(nic->dev.mac, mac, ETH_ALEN);
  nic->dev.mtu = 1500;
  nic->dev.flags = IFF_BROADCAST | IFF_MULTICAST;
  nic->dev.ops = &nic_ops;
  nic->dev.priv = nic;
  pbufq_init(&nic->rxq, 256);
  if (netdev_register(&nic->dev, "eth") < 0)
    panic("host_nic: netdev_register failed");
  if (ip)
    netdev_setaddr(&nic->dev, ip, mask);
  host_netrx();
  return nic;
}

uint
host_sent_tsomss(struct hostnic *nic)
{
  return nic->head ? nic->head->tsomss : 0;
}

struct netdev *
host_netdev(struct hostnic *nic)
{
  return &nic->dev;
}

int
host_enqueue(struct hostnic *nic, const uchar *frame, uint len)
{
  struct pbuf *pb;
  if (len > PBUF_SIZE || (pb = pbuf_alloc_rx()) == 0) {
    NETSTAT_ADD(&nic->dev, rx_dropped, 1);
    return -1;
  }
  memmove(pbuf_put(pb, len), frame, len);
  if (pbufq_put(&nic->rxq, pb) < 0) {
    pbuf_free(pb);
    NETSTAT_ADD(&nic->dev, rx_dropped, 1);
    return -1;
  }
  netdev_schedule(&nic->dev, 0);
  return 0;
}

int
host_receive_vouched(struct hostnic *nic, const uchar *frame, uint len, int how)
{
  if (host_enqueue(nic, frame, len) < 0)
    return -1;
  struct pbuf *pb = nic->rxq.tail;   // the frame just queued
  pb->csumok = 1;
  if (how == HOST_CSUM_PARTIAL) {
    uint start = 14 + (frame[14] & 15) * 4;   // the transport header, as virtio says it
    int proto = frame[14 + 9];
    pbuf_csumpartial(pb, pb->rp + start, proto == IPPROTO_TCP ? 16 : 6, proto);
  }
  host_netrx();
  return 0;
}

int
host_receive(struct hostnic *nic, const uchar *frame, uint len)
{
  if (host_enqueue(nic, frame, len) < 0)
    return -1;
  host_netrx();
  return 0;
}

int
host_nsent(struct hostnic *nic)
{
  return nic->nsent;
}

uint
host_sent(struct hostnic *nic, uchar *buf, uint max)
{
  struct sentframe *f = nic->head;
  if (f == 0)
    return 0;
  nic->head = f->next;
  if (nic->head == 0)
    nic->tail = 0;
  nic->nsent--;
  uint len = f->len;
  memmove(buf, f->data, len < max ? len : max);
  free(f);
  return len;
}

void
host_sent_clear(struct hostnic *nic)
{
  uchar scratch[64];
  while (host_sent(nic, scratch, sizeof scratch))
    ;
}

// ---- frames ----

uint
host_ip(int a, int b, int c, int d)
{
  uchar bytes[4] = { a, b, c, d };
  uint v;
  memmove(&v, bytes, 4);
  return v;
}

static void
put16(uchar *p, uint v)
{
  p[0] = v >> 8;
  p[1] = v;
}

// RFC 1071, written out plainly: a sum of 16-bit big-endian words, not
// folded (the tests' own reference, independent of kernel/net/wire.c).
uint
host_sum16(const uchar *p, uint len, uint sum)
{
  for (uint i = 0; i + 1 < len; i += 2)
    sum += p[i] << 8 | p[i + 1];
  if (len & 1)
    sum += p[len - 1] << 8;
  return sum;
}

// The carries folded in: 16 bits, not complemented.
uint
host_fold(uint sum)
{
  while (sum >> 16)
    sum = (sum & 0xFFFF) + (sum >> 16);
  return sum;
}

// The checksum field's value for a sum: folded and complemented.
static uint
fold(uint sum)
{
  return ~host_fold(sum) & 0xFFFF;
}

static uint
pseudo(const uchar *iph, uchar proto, uint len)
{
  uchar ph[12];
  memmove(ph, iph + 12, 8);
  ph[8] = 0;
  ph[9] = proto;
  put16(ph + 10, len);
  return host_sum16(ph, sizeof ph, 0);
}

uint
host_ether(uchar *f, const uchar dst[6], const uchar src[6], ushort type)
{
  memmove(f, dst, 6);
  memmove(f + 6, src, 6);
  put16(f + 12, type);
  return 14;
}

uint
host_ipv4(uchar *p, uint src, uint dst, uchar proto, uint payloadlen, ushort id, ushort off,
          uchar ttl)
{
  p[0] = 0x45;
  p[1] = 0;
  put16(p + 2, 20 + payloadlen);
  put16(p + 4, id);
  put16(p + 6, off);
  p[8] = ttl;
  p[9] = proto;
  put16(p + 10, 0);
  memmove(p + 12, &src, 4);
  memmove(p + 16, &dst, 4);
  put16(p + 10, fold(host_sum16(p, 20, 0)));
  return 20;
}

uint
host_udp_frame(uchar *f, const uchar dst[6], const uchar src[6], uint saddr, uint daddr,
               ushort sport, ushort dport, const void *data, uint len)
{
  uint n = host_ether(f, dst, src, ETH_P_IP);
  uchar *ip = f + n;
  n += host_ipv4(ip, saddr, daddr, IPPROTO_UDP, 8 + len, 1, 0, 64);
  uchar *u = f + n;
  put16(u, sport);
  put16(u + 2, dport);
  put16(u + 4, 8 + len);
  put16(u + 6, 0);
  memmove(u + 8, data, len);
  uint sum = fold(host_sum16(u, 8 + len, pseudo(ip, IPPROTO_UDP, 8 + len)));
  put16(u + 6, sum ? sum : 0xFFFF);
  return n + 8 + len;
}

uint
host_ping_frame(uchar *f, const uchar dst[6], const uchar src[6], uint saddr, uint daddr,
                ushort id, ushort seq, uint datalen)
{
  uint n = host_ether(f, dst, src, ETH_P_IP);
  n += host_ipv4(f + n, saddr, daddr, IPPROTO_ICMP, 8 + datalen, 2, 0, 64);
  uchar *ic = f + n;
  ic[0] = 8;
  ic[1] = 0;
  put16(ic + 2, 0);
  put16(ic + 4, id);
  put16(ic + 6, seq);
  for (uint i = 0; i < datalen; i++)
    ic[8 + i] = i;
  put16(ic + 2, fold(host_sum16(ic, 8 + datalen, 0)));
  return n + 8 + datalen;
}

uint
host_arp_frame(uchar *f, int op, const uchar sha[6], uint spa, const uchar tha[6], uint tpa,
               const uchar dst[6])
{
  uint n = host_ether(f, dst, sha, ETH_P_ARP);
  uchar *a = f + n;
  put16(a, 1);
  put16(a + 2, ETH_P_IP);
  a[4] = 6;
  a[5] = 4;
  put16(a + 6, op);
  memmove(a + 8, sha, 6);
  memmove(a + 14, &spa, 4);
  memmove(a + 18, tha, 6);
  memmove(a + 24, &tpa, 4);
  return n + 28;
}

void
host_fixsums(uchar *f, uint len)
{
  if (len < 14 + 20 || (f[12] << 8 | f[13]) != ETH_P_IP)
    return;
  uchar *ip = f + 14;
  uint avail = len - 14, hlen = (ip[0] & 15) * 4, total = ip[2] << 8 | ip[3];
  if ((ip[0] >> 4) != 4 || hlen < 20 || hlen > avail)
    return;
  put16(ip + 10, 0);
  put16(ip + 10, fold(host_sum16(ip, hlen, 0)));
  if (total > avail || total < hlen || ((ip[6] << 8 | ip[7]) & 0x3FFF) != 0)
    return;   // a fragment's transport checksum covers bytes not here
  uchar *l4 = ip + hlen;
  uint plen = total - hlen;
  if (ip[9] == IPPROTO_UDP && plen >= 8) {
    uint ulen = l4[4] << 8 | l4[5];
    if (ulen < 8 || ulen > plen)
      return;
    put16(l4 + 6, 0);
    uint sum = fold(host_sum16(l4, ulen, pseudo(ip, IPPROTO_UDP, ulen)));
    put16(l4 + 6, sum ? sum : 0xFFFF);
  } else if (ip[9] == IPPROTO_ICMP && plen >= 4) {
    put16(l4 + 2, 0);
    put16(l4 + 2, fold(host_sum16(l4, plen, 0)));
  } else if (ip[9] == IPPROTO_TCP && plen >= 20) {
    put16(l4 + 16, 0);
    put16(l4 + 16, fold(host_sum16(l4, plen, pseudo(ip, IPPROTO_TCP, plen))));
  }
}
