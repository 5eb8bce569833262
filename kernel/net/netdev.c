// The interface table: drivers register here and hand received frames up
// through netdev_input; the layers above send through netdev_xmit.

#include "kernel/net/netos.h"
#include "kernel/net/pbuf.h"
#include "kernel/net/netdev.h"
#include "kernel/net/sock.h"
#include "kernel/net/arp.h"
#include "kernel/net/wire.h"
#include "kernel/net/ip.h"
#include "kernel/net/tcp.h"
#include "kernel/net/nettrace.h"

static struct {
  struct spinlock lock;
  struct netdev *devs[NNETDEV];
  int n;
} table;

// Devices with received frames waiting, for the netrx thread.
static struct {
  struct spinlock lock;
  struct netdev *head, *tail;
} rxsched;

static int
hasprefix(const char *name, const char *prefix)
{
  for (; *prefix; prefix++, name++)
    if (*name != *prefix)
      return 0;
  return 1;
}

// prefix followed by unit in decimal (nothing for unit -1), as "eth0".
static void
devname(char *out, const char *prefix, int unit)
{
  char digits[12];
  int n = 0;
  safestrcpy(out, prefix, IFNAMSIZ);
  if (unit < 0)
    return;
  do {
    digits[n++] = '0' + unit % 10;
    unit /= 10;
  } while (unit);
  int len = 0;
  while (out[len])
    len++;
  while (n > 0 && len < IFNAMSIZ - 1)
    out[len++] = digits[--n];
  out[len] = 0;
}

// Name the device prefix0, prefix1, ... in registration order and give it
// the next index.
int
netdev_register(struct netdev *dev, const char *prefix)
{
  int unit = 0;

  acquire(&table.lock);
  if (table.n >= NNETDEV) {
    release(&table.lock);
    return -1;
  }
  for (int i = 0; i < table.n; i++)
    if (hasprefix(table.devs[i]->name, prefix))
      unit++;
  devname(dev->name, prefix, dev->type == ARPHRD_LOOPBACK ? -1 : unit);
  dev->index = table.n + 1;
  initlock(&dev->statlock, dev->name);
  table.devs[table.n] = dev;
  __sync_synchronize();   // the entry is in place before readers can see it
  table.n++;
  release(&table.lock);

  if (dev->ops->open && dev->ops->open(dev) < 0) {
    cprintf("%s: failed to open\n", dev->name);
    return -1;
  }
  dev->flags |= IFF_UP | IFF_RUNNING;
  return 0;
}

// Interfaces are only ever added, each entry before the count that covers
// it: lookups read the table without the lock (they run for every packet).
struct netdev *
netdev_byindex(int index)
{
  int n = *(volatile int *)&table.n;
  if (index >= 1 && index <= n)
    return table.devs[index - 1];
  return 0;
}

struct netdev *
netdev_byname(const char *name)
{
  int n = *(volatile int *)&table.n;
  for (int i = 0; i < n; i++)
    if (strncmp(table.devs[i]->name, name, IFNAMSIZ) == 0)
      return table.devs[i];
  return 0;
}

int
netdev_count(void)
{
  return *(volatile int *)&table.n;
}

// A driver received a whole frame (FCS stripped) into pb; pb is ours now.
void
netdev_input(struct netdev *dev, struct pbuf *pb)
{
  pb->next = 0;
  netdev_input_list(dev, pb, 0);
}

// A driver's batch of whole frames, linked through next (0 ends it; a
// frame may pull a train of others: pbuf train), and what its poll
// dropped: counted under one acquisition of the statistics lock, then the
// frames handed up one by one.
void
netdev_input_list(struct netdev *dev, struct pbuf *head, const struct rxdrops *drops)
{
  uint packets = 0, bytes = 0;
  for (struct pbuf *pb = head; pb; pb = pb->next) {
    for (struct pbuf *car = pb; car; car = car->train) {
      packets++;
      bytes += pbuf_len(car);
      car->dev = dev;
    }
  }
  acquire(&dev->statlock);
  dev->stats.rx_packets += packets;
  dev->stats.rx_bytes += bytes;
  if (drops) {
    dev->stats.rx_errors += drops->errors;
    dev->stats.rx_nobuf += drops->nobuf;
    dev->stats.rx_ringfull += drops->ringfull;
  }
  release(&dev->statlock);
  gro_link(head);
  while (head) {
    struct pbuf *pb = head;
    head = pb->next;
    pb->next = 0;
    pb->dev = dev;
    if (!(dev->flags & IFF_UP)) {
      NETSTAT_ADD(dev, rx_dropped, 1);
      pbuf_free(pb);
      continue;
    }
    RXPROF_BEGIN(t);
    ether_input(dev, pb);
    RXPROF_END(RXP_ETHIN, t);
  }
}

// Send a whole frame; pb is consumed whatever happens.
// Bracket a burst of netdev_xmit calls (TCP's tcp_output): frames wait in
// the ring until the release, and the card is told once. Every hold has its
// release in the same function, so nothing waits past the burst.
void
netdev_txhold(struct netdev *dev)
{
  if (dev && dev->ops->txhold)
    dev->ops->txhold(dev, 1);
}

void
netdev_txrelease(struct netdev *dev)
{
  if (dev && dev->ops->txhold)
    dev->ops->txhold(dev, 0);
}

// For a driver whose card finishes checksums or cuts segments: where pb's
// partial checksum lies (pb->rp is the frame's first byte). Returns the
// transport header's offset in the frame, and in *thlen the TCP header's
// length for a segment to cut (0 otherwise); -1 if pb is not an IPv4
// frame laid out as the stack builds them (the driver then finishes the
// sum in software, pbuf_csumfinish).
int
netdev_csumlayout(struct pbuf *pb, uint *thlen)
{
  uchar *th = pb->base + pb->csumstart;
  struct ether_hdr *eh = (struct ether_hdr *)pb->rp;
  struct ip_hdr *ih = (struct ip_hdr *)(pb->rp + ETH_HLEN);

  *thlen = 0;
  if (pbuf_len(pb) < ETH_HLEN + IP_HLEN || eh->type != htons(ETH_P_IP) ||
      th < pb->rp + ETH_HLEN + IP_HLEN || th + pb->csumoff + 2 > pb->wp)
    return -1;
  if (pb->tsomss) {
    if (ih->proto != IPPROTO_TCP || pb->csumoff != offsetof(struct tcp_hdr, sum) ||
        th + TCP_HLEN > pb->wp || pb->tsomss < 64)
      return -1;
    *thlen = (((struct tcp_hdr *)th)->off >> 4) * 4;
    if (*thlen < TCP_HLEN || th + *thlen > pb->wp)
      return -1;
  }
  return th - pb->rp;
}

int
netdev_xmit(struct netdev *dev, struct pbuf *pb)
{
  uint len = pbuf_len(pb);

  if (!(dev->flags & IFF_UP)) {
    NETSTAT_ADD(dev, tx_dropped, 1);
    pbuf_free(pb);
    return -ENETDOWN;
  }
  if (pb->tsomss && !(dev->features & NETDEV_TSO)) {
    // TCP asks the route's card before it builds one: only a route that
    // changed in between gets here. Dropped; retransmission resends it.
    NETSTAT_ADD(dev, tx_dropped, 1);
    pbuf_free(pb);
    return -EOPNOTSUPP;
  }
  if (pb->csumpartial && !(dev->features & NETDEV_TXCSUM))
    pbuf_csumfinish(pb);
  packet_tap_out(dev, pb);
  int err = dev->ops->xmit(dev, pb);
  acquire(&dev->statlock);
  if (err < 0) {
    dev->stats.tx_dropped++;
  } else {
    dev->stats.tx_packets++;
    dev->stats.tx_bytes += len;
  }
  release(&dev->statlock);
  return err;
}

void
netdev_info(struct netdev *dev, struct netif_info *out)
{
  memset(out, 0, sizeof *out);
  out->index = dev->index;
  safestrcpy(out->name, dev->name, sizeof out->name);
  memmove(out->mac, dev->mac, ETH_ALEN);
  out->type = dev->type;
  out->mtu = dev->mtu;
  out->flags = dev->flags;
  out->ipaddr = dev->ipaddr;
  out->netmask = dev->netmask;
  out->features = dev->features;
  if (dev->driver)
    safestrcpy(out->driver, dev->driver, sizeof out->driver);
  acquire(&dev->statlock);
  out->stats = dev->stats;
  release(&dev->statlock);
}

static void
enqueue(struct netdev *dev)
{
  dev->nextsched = 0;
  if (rxsched.tail)
    rxsched.tail->nextsched = dev;
  else
    rxsched.head = dev;
  rxsched.tail = dev;
}

// Ask the netrx thread to poll dev, and say whether the interrupted process
// should give it the CPU now. Preempting a program on every receive
// interrupt starves the very program the frames are for, which then drops
// them at its full socket queue after the kernel has done all the work. So
// only the first interrupt of a clock tick preempts (a busy machine still
// answers at once, not at the next tick), and later ones only when the
// driver says its ring is filling (urgent).
void
netdev_schedule(struct netdev *dev, int urgent)
{
  static uint lastforced = ~0u;   // the tick of the last such preemption
  uint now = readticks();
  if (now != lastforced) {
    lastforced = now;
    urgent = 1;
  }
  acquire(&rxsched.lock);
  if (dev->scheduled) {
    dev->missed = 1;
  } else {
    dev->scheduled = 1;
    enqueue(dev);
    wakeup(&rxsched);
  }
  if (urgent)
    net_preempt();
  release(&rxsched.lock);
}

// Poll the first device waiting on the receive list, if any: protocol
// processing for its frames happens here. Returns 0 if none was waiting,
// 1 if it was polled and is done, 2 if it has more to do (it is back on the
// list). The receive thread runs this; host tests call it directly.
int
netrx_work(void)
{
  acquire(&rxsched.lock);
  struct netdev *dev = rxsched.head;
  if (dev == 0) {
    release(&rxsched.lock);
    return 0;
  }
  rxsched.head = dev->nextsched;
  if (rxsched.head == 0)
    rxsched.tail = 0;
  dev->missed = 0;
  release(&rxsched.lock);

  RXPROF_BEGIN(t);
  tcp_batchbegin();
  int done = dev->ops->poll(dev, NETRX_BUDGET);
  tcp_batchend();
  RXPROF_END(RXP_POLL, t);
  NET_LATMARK(6);

  acquire(&rxsched.lock);
  int again = done >= NETRX_BUDGET || dev->missed;
  if (again)
    enqueue(dev);
  else
    dev->scheduled = 0;
  release(&rxsched.lock);
  if (!again && dev->ops->irqenable)
    dev->ops->irqenable(dev);
  return again ? 2 : 1;
}

// A device interrupt that found its CPU halted in the scheduler's idle loop
// (trap.c): no process runs there and no lock is held, so the frames can
// be handled here, on the interrupt's way out, instead of returning to the
// scheduler and switching to netrx (about 22 us of a ping's 250 under TCG,
// docs/bench.md). One poll of one device, at most NETRX_BUDGET frames; what
// is left stays on the list for netrx, which the interrupt has woken (it
// finds the list empty and sleeps again if this poll was all). Under load
// the CPU is not idle and nothing changes: frames wait for netrx's turn.
//
// With several CPUs, netrx may run on another CPU meanwhile: woken by this
// interrupt, it found the list empty (this poll had taken the device) and
// slept again. A device this poll puts back on the list then needs its own
// wakeup, or it stays there with its interrupts masked and receiving stops
// (tcp_linux's tests on -smp 2). On one CPU netrx cannot have run yet.
void
netrx_idle(void)
{
  if (netrx_work() == 2) {
    acquire(&rxsched.lock);
    wakeup(&rxsched);
    release(&rxsched.lock);
  }
}

// The receive thread: frames are processed in process context, taking turns
// with user processes, so that a flood of frames cannot starve the rest of
// the system (no receive livelock).
static void
netrx(void *arg)
{
  (void)arg;
  for (;;) {
    acquire(&rxsched.lock);
    while (rxsched.head == 0)
      sleepdeadline(&rxsched, &rxsched.lock, 0);
    release(&rxsched.lock);
    if (!net_intrson())   // holds no lock here: so interrupts must be on
      panic("netrx: running with interrupts off");
    NET_LATMARK(2);
    if (netrx_work() == 2)
      net_yield();   // more to do: let others run first
  }
}

void
netinit(void)
{
  initlock(&table.lock, "netdev");
  initlock(&rxsched.lock, "netrx");
  nettrace_init();
  pbufinit();
  etherinit();
  socketinit();
  arpinit();
  loopbackinit();
}

void
netstart(void)
{
  net_thread("netrx", netrx, 0);
}

// Every counter of the stack, for netstat.
void
net_stats(struct netstat_info *out)
{
  memset(out, 0, sizeof *out);
  out->pbuf_free = pbuf_free_count(PBUF_SIZE);
  out->pbuf_total = pbuf_total_count(PBUF_SIZE);
  out->bigpbuf_free = pbuf_free_count(PBUF_BIGSIZE);
  out->bigpbuf_total = pbuf_total_count(PBUF_BIGSIZE);
  out->shortpbuf_free = pbuf_free_count(PBUF_SHORTSIZE);
  out->shortpbuf_total = pbuf_total_count(PBUF_SHORTSIZE);
  out->tsopbuf_free = pbuf_free_count(PBUF_TSOSIZE);
  out->tsopbuf_total = pbuf_total_count(PBUF_TSOSIZE);
  out->pagepbuf_free = pbuf_free_count(PBUF_PAGESIZE);
  out->pagepbuf_total = pbuf_total_count(PBUF_PAGESIZE);
  ether_stats(out);
  arp_stats(out);
  ip_stats(out);
  ipfwd_stats(out);
  icmp_stats(out);
  udp_stats(out);
  tcp_stats(out);
}

// Each interface's tick operation, if it has one.
static void
netdev_tick(void)
{
  int n = netdev_count();
  for (int i = 0; i < n; i++) {
    struct netdev *dev = netdev_byindex(i + 1);
    if (dev && dev->ops->tick)
      dev->ops->tick(dev);
  }
}

void
nettimer(uint now)
{
  netdev_tick();
  arp_timer(now);
  ip_timer(now);
  tcp_timer(now);
}

// The kernel calls nettimer every tick. Something that drives the clock
// itself (the host's fake clock) may instead jump to the next tick at which
// one of nettimer's parts has work: same behaviour, far fewer calls.
uint
nettimer_next(uint now)
{
  return MIN(arp_nexttimer(now), MIN(ip_nexttimer(now), tcp_nexttimer(now)));
}

// Ticks from now until deadline, at least 1: a deadline already reached
// (armed after this tick's timers ran) is run at the next tick, as the
// kernel's next timer interrupt would.
uint
nettimer_wait(uint now, uint deadline)
{
  int d = (int)(deadline - now);
  return d > 0 ? (uint)d : 1;
}

// Set an interface's IPv4 address and announce it (gratuitous ARP).
int
netdev_setaddr(struct netdev *dev, uint ipaddr, uint netmask)
{
  dev->ipaddr = ipaddr;
  dev->netmask = netmask;
  if (dev->flags & IFF_UP)
    arp_announce(dev);
  return 0;
}

// Linux's ip=<client>:<server>:<gateway>:<netmask>:<host>:<device>:<autoconf>
// (fields may be empty). Only the address, netmask and device are used here;
// the gateway is kept for the IPv4 routing table.
static uint cmdline_gateway;

static const char *
ipfield(const char *s, int n, char *out, int max)
{
  for (; n > 0 && *s; s++)
    if (*s == ':')
      n--;
  int i = 0;
  while (*s && *s != ':' && i < max - 1)
    out[i++] = *s++;
  out[i] = 0;
  return out;
}

static int
iskeyword(const char *s, const char *const *words)
{
  for (; *words; words++) {
    const char *a = s, *b = *words;
    while (*a && *a == *b)
      a++, b++;
    if (*a == *b)
      return 1;
  }
  return 0;
}

// Linux's words for "no configuration" and for its automatic protocols.
static const char *const ipoff[] = { "off", "none", 0 };
static const char *const ipauto[] = { "on", "any", "dhcp", "bootp", "rarp", "both", 0 };

// A netmask is a run of ones followed by zeros (host order m).
static int
contiguous(uint m)
{
  return (~m & (~m + 1)) == 0;
}

// Why the ip= value cannot be used as given, printed; -1. 0 when it can.
static int
iprefuse(const char *ip, const char *why, const char *field)
{
  cprintf("ip=%s: %s '%s'; no address set\n", ip, why, field);
  return -1;
}

// Parses ip= into address, netmask and device; the gateway goes to
// cmdline_gateway. Every field that is present must be right: a typo
// is reported rather than booting silently without an address.
static int
ipparse(const char *ip, uint *addr, uint *mask, char *devname)
{
  char f[32];

  if (wire_inet_aton(ipfield(ip, 0, f, sizeof f), addr) < 0)
    return iprefuse(ip, "bad client address", f);
  *mask = htonl(0xFFFFFF00);
  if (ipfield(ip, 3, f, sizeof f)[0] &&
      (wire_inet_aton(f, mask) < 0 || !contiguous(ntohl(*mask))))
    return iprefuse(ip, "bad netmask", f);
  if (*mask == 0)
    *mask = htonl(0xFFFFFF00);
  if (ipfield(ip, 2, f, sizeof f)[0] && wire_inet_aton(f, &cmdline_gateway) < 0)
    return iprefuse(ip, "bad gateway", f);
  if (ipfield(ip, 6, f, sizeof f)[0] && !iskeyword(f, ipoff) && !iskeyword(f, ipauto))
    return iprefuse(ip, "unknown autoconf keyword", f);
  safestrcpy(devname, ipfield(ip, 5, f, sizeof f)[0] ? f : "eth0", IFNAMSIZ);
  return 0;
}

void
netconfig(void)
{
  char ip[128], f[32], devname[IFNAMSIZ];
  uint addr, mask;
  struct netdev *dev;

  if (!cmdlineget("ip", ip, sizeof ip) || iskeyword(ip, ipoff))
    return;
  // DHCP is user space's job (user/dhclient.c, started by init).
  if (strncmp(ip, "dhcp", 5) == 0 || strncmp(ipfield(ip, 6, f, sizeof f), "dhcp", 5) == 0) {
    cprintf("ip=%s: configured by dhclient, which init runs\n", ip);
    return;
  }
  if (iskeyword(ip, ipauto)) {
    cprintf("ip=%s: automatic configuration other than DHCP is not supported; no address set\n",
            ip);
    return;
  }
  if (ipparse(ip, &addr, &mask, devname) < 0)
    return;
  dev = netdev_byname(devname);
  if (dev == 0) {
    cprintf("ip=: no interface %s\n", devname);
    return;
  }
  netdev_setaddr(dev, addr, mask);
  uint a = ntohl(addr);
  cprintf("%s: address %d.%d.%d.%d\n", dev->name, a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
  if (cmdline_gateway) {
    struct rtentry rt;
    memset(&rt, 0, sizeof rt);
    rt.gateway = cmdline_gateway;
    if (route_add(&rt) < 0)
      cprintf("ip=: gateway not on a connected network\n");
  }
}
