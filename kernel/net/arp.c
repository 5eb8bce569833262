// ARP for IPv4 over Ethernet (RFC 826) with a neighbour cache.
//
// Entries are INCOMPLETE (a request is out; packets wait in a bounded queue),
// REACHABLE (confirmed recently), STALE (not confirmed for a while, or never:
// learned from a request; still used, and removed when older still) or
// PERMANENT (arp -s). Requests are retried ARP_RETRIES times a second apart,
// then the entry fails: its queued packets are dropped and counted. The
// table is bounded, and what traffic from others can make it do is too: at
// most ARP_MAXINCOMPLETE resolutions at once (so at most that many requests
// a second), and a new entry only ever evicts a STALE one (see allocentry).

#include "kernel/net/netos.h"
#include "kernel/net/pbuf.h"
#include "kernel/net/netdev.h"
#include "kernel/net/arp.h"
#include "kernel/net/sysctl.h"
#include "kernel/net/wire.h"
#include "kernel/net/ip.h"
#include "kernel/net/nettrace.h"

#define NARP        64
// Packets waiting on one entry, in bytes of buffers: the fragments of the
// largest datagram we send (16 KiB: 12 fragments of 2 KiB buffers at MTU
// 1500, 30 at 576) fit, with room to spare.
#define ARP_MAXQBYTES (32 * PBUF_SIZE)
#define ARP_QLEN     (ARP_MAXQBYTES / PBUF_SIZE)   // so at most this many packets
#define ARP_RETRIES  3            // requests before giving up
#define ARP_RETRY_TICKS HZ        // one second apart
#define ARP_MAXINCOMPLETE 8       // resolutions in progress at once
#define DEFEND_TICKS (10 * HZ)    // RFC 5227's DEFEND_INTERVAL

#define ARPOP_REQUEST 1
#define ARPOP_REPLY   2

struct arpentry {
  int state;                // 0: free, else ARP_*
  struct netdev *dev;
  uint ip;                  // network order
  uchar mac[ETH_ALEN];
  uint confirmed;           // tick of the last packet heard from it
  int probes;               // requests sent while INCOMPLETE
  uint nextprobe;           // tick of the next retry
  uint heard;               // packets heard from it (arp_query waits on this)
  struct pbufq queue;       // packets waiting for resolution
  uint qbytes;              // the sizes of their buffers
};

static struct {
  struct spinlock lock;
  struct arpentry e[NARP];
  // One past the last entry in use: allocentry takes the first free one, so
  // entries gather at the start and scans (each packet's lookup, each tick's
  // timer) stop here.
  struct arpentry *end;
  uint reachable_ticks;     // REACHABLE -> STALE
  uint gc_ticks;            // STALE -> removed
} tab;

static struct {
  uint rx, rx_bad, rx_notforus, answered, replies_rx;
  uint requests_tx, failed, queue_drops, evictions, refused, conflicts, defences;
} cnt;

static struct {
  struct spinlock lock;
  uint last[NNETDEV + 1];   // tick of the last defence, by interface index
} defence;

static uint
now(void)
{
  return readticks();
}

// The timers in seconds, as sysctls (Linux's names; tests shorten them, by
// sysctl.NAME=SECONDS or the older arp.reachable= and arp.gc= keys).
static int reachable_secs = 30, stale_secs = 120;

static void
timerschanged(void)
{
  acquire(&tab.lock);
  tab.reachable_ticks = reachable_secs * HZ;
  tab.gc_ticks = stale_secs * HZ;
  release(&tab.lock);
}

static const struct sysctl reachable_time = {
  "net.ipv4.neigh.default.base_reachable_time", "arp.reachable", &reachable_secs, 0, 86400,
  timerschanged
};
static const struct sysctl gc_stale_time = {
  "net.ipv4.neigh.default.gc_stale_time", "arp.gc", &stale_secs, 0, 86400, timerschanged
};

void
arpinit(void)
{
  initlock(&tab.lock, "arp");
  tab.end = tab.e;
  sysctl_register(&reachable_time);
  sysctl_register(&gc_stale_time);
  for (int i = 0; i < NARP; i++)
    pbufq_init(&tab.e[i].queue, ARP_QLEN);
  initlock(&defence.lock, "arpdefence");
  for (int i = 0; i <= NNETDEV; i++)
    defence.last[i] = now() - DEFEND_TICKS;   // none yet: the first may go at once
  ether_register(ETH_P_ARP, arp_input);
}

// ---- building and sending -------------------------------------------------

static struct pbuf *
arpbuild(struct netdev *dev, int op, uint spa, const uchar *tha, uint tpa)
{
  struct wire_arp m;
  struct pbuf *pb = pbuf_alloc();
  if (pb == 0)
    return 0;
  m.op = op;
  memmove(m.sha, dev->mac, ETH_ALEN);
  m.spa = spa;
  if (tha)
    memmove(m.tha, tha, ETH_ALEN);
  else
    memset(m.tha, 0, ETH_ALEN);
  m.tpa = tpa;
  NETTRACE_TAG(pb, NT_ARP);
  uchar *p = pbuf_put(pb, WIRE_ARP_LEN);
  if (p == 0) {
    pbuf_free(pb);
    return 0;
  }
  wire_arp_fill(p, &m);
  return pb;
}

static void
sendrequest(struct netdev *dev, uint spa, uint tpa)
{
  struct pbuf *pb = arpbuild(dev, ARPOP_REQUEST, spa, 0, tpa);
  if (pb) {
    __sync_fetch_and_add(&cnt.requests_tx, 1);
    ether_output(dev, pb, ether_broadcast, ETH_P_ARP);
  }
}

void
arp_announce(struct netdev *dev)
{
  if (dev->type == ARPHRD_ETHER && dev->ipaddr)
    sendrequest(dev, dev->ipaddr, dev->ipaddr);
}

// ---- the table (tab.lock held) ---------------------------------------------

static struct arpentry *
lookup(struct netdev *dev, uint ip)
{
  for (struct arpentry *e = tab.e; e < tab.end; e++)
    if (e->state && e->ip == ip && (dev == 0 || e->dev == dev))
      return e;
  return 0;
}

// Drop an entry's queued packets (counted) and free it.
static void
freeentry(struct arpentry *e)
{
  cnt.queue_drops += e->queue.len;
  pbufq_flush(&e->queue);
  e->qbytes = 0;
  e->state = 0;
  e->dev = 0;
  while (tab.end > tab.e && tab.end[-1].state == 0)
    tab.end--;
}

// e's queued packets as a list (counted as dropped), its queue left empty.
static struct pbuf *
takequeue(struct arpentry *e)
{
  struct pbuf *head = 0, **tail = &head, *pb;
  cnt.queue_drops += e->queue.len;
  while ((pb = pbufq_get(&e->queue)) != 0) {
    *tail = pb;
    tail = &pb->next;
  }
  e->qbytes = 0;
  return head;
}

// May e make room for a new entry in state? arp -s may take the place of
// anything but a permanent entry; anything else only of a STALE one, so that
// traffic others send (echo requests from made-up neighbours, ARP requests
// from made-up senders) never pushes out a neighbour in use (REACHABLE) or
// being resolved (INCOMPLETE).
static int
evictable(struct arpentry *e, int state)
{
  if (e->state == ARP_PERMANENT)
    return 0;
  return state == ARP_PERMANENT || e->state == ARP_STALE;
}

// A free entry, else the least recently confirmed evictable one; 0 (counted)
// if there is none, or if state is INCOMPLETE and ARP_MAXINCOMPLETE
// resolutions are already under way.
static struct arpentry *
allocentry(struct netdev *dev, uint ip, int state)
{
  struct arpentry *free = 0, *victim = 0;
  int incomplete = 0;
  for (struct arpentry *e = tab.e; e < tab.e + NARP; e++) {
    incomplete += e->state == ARP_INCOMPLETE;
    if (e->state == 0 && free == 0)
      free = e;
    else if (e->state && evictable(e, state) &&
             (victim == 0 || (int)(e->confirmed - victim->confirmed) < 0))
      victim = e;
  }
  if (free)
    victim = free;
  if (victim == 0 || (state == ARP_INCOMPLETE && incomplete >= ARP_MAXINCOMPLETE)) {
    cnt.refused++;
    return 0;
  }
  if (victim->state) {
    cnt.evictions++;
    freeentry(victim);
  }
  victim->state = state;
  victim->dev = dev;
  if (victim >= tab.end)
    tab.end = victim + 1;
  victim->ip = ip;
  memset(victim->mac, 0, ETH_ALEN);
  victim->confirmed = now();
  victim->probes = 0;
  victim->nextprobe = 0;
  victim->heard = 0;
  return victim;
}

// Record that ip is at mac (from any ARP packet it sent); move waiting
// packets to *ready for the caller to send once the lock is dropped.
static void
learn(struct arpentry *e, const uchar *mac, struct pbufq *ready)
{
  if (e->state != ARP_PERMANENT) {
    memmove(e->mac, mac, ETH_ALEN);
    e->state = ARP_REACHABLE;
  }
  e->confirmed = now();
  e->heard++;
  // EXERCISE(arp-queue): hand the packets waiting on a resolved entry to *ready
  struct pbuf *pb;
  e->qbytes = 0;
  while ((pb = pbufq_get(&e->queue)) != 0) {
    pb->dev = e->dev;
    memmove(pb->lladdr, e->mac, ETH_ALEN);
    if (pbufq_put(ready, pb) < 0)
      pbuf_free(pb);
  }
  // END EXERCISE
}

static void
sendready(struct pbufq *ready)
{
  struct pbuf *pb;
  while ((pb = pbufq_get(ready)) != 0) {
    ether_output(pb->dev, pb, pb->lladdr, ETH_P_IP);
  }
}

// ---- input -------------------------------------------------------------------

// Someone else uses our address (RFC 5227 2.4): count and log it, and defend
// the address with an announcement, at most one per DEFEND_INTERVAL (RFC
// 5227's option (c): keep the address). The packet teaches us nothing.
static void
conflict(struct netdev *dev, const struct wire_arp *ah)
{
  if (memcmp(ah->sha, dev->mac, ETH_ALEN) == 0)
    return;   // our own announcement, come back
  __sync_fetch_and_add(&cnt.conflicts, 1);
  uint t = now();
  acquire(&defence.lock);
  int defend = (int)(t - defence.last[dev->index]) >= DEFEND_TICKS;
  if (defend)
    defence.last[dev->index] = t;
  release(&defence.lock);
  if (!defend)
    return;
  uint a = ntohl(dev->ipaddr);
  const uchar *m = ah->sha;
  cprintf("%s: address conflict: %d.%d.%d.%d is also claimed by "
          "%02x:%02x:%02x:%02x:%02x:%02x; defending it\n", dev->name,
          a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255, m[0], m[1], m[2], m[3], m[4], m[5]);
  __sync_fetch_and_add(&cnt.defences, 1);
  arp_announce(dev);
}

void
arp_input(struct netdev *dev, struct pbuf *pb)
{
  struct wire_arp ah;
  struct pbufq ready;
  int merged = 0;

  __sync_fetch_and_add(&cnt.rx, 1);
  if (wire_arp_parse(pb->rp, pbuf_len(pb), &ah) != WIRE_ARP_OK)
    goto bad;
  if (dev->ipaddr && ah.spa == dev->ipaddr) {
    conflict(dev, &ah);
    pbuf_free(pb);
    return;
  }
  if (ah.op == ARPOP_REPLY)
    __sync_fetch_and_add(&cnt.replies_rx, 1);

  pbufq_init(&ready, NARP * ARP_QLEN);
  acquire(&tab.lock);
  struct arpentry *e = ah.spa ? lookup(dev, ah.spa) : 0;
  if (e) {                       // RFC 826: merge what we already track
    learn(e, ah.sha, &ready);
    merged = 1;
  }
  int forus = dev->ipaddr && ah.tpa == dev->ipaddr;
  if (forus && !merged && ah.spa && (e = allocentry(dev, ah.spa, ARP_STALE)) != 0) {
    // RFC 826: add the sender. STALE, as Linux does: nothing confirms it is
    // there (anyone can send a request), so it is the first to make room.
    memmove(e->mac, ah.sha, ETH_ALEN);
    e->heard++;
  }
  release(&tab.lock);
  if (merged || forus)
    wakeup(&tab);
  sendready(&ready);

  NETTRACE(pb, "arp_input: %s from %d.%d.%d.%d%s -> %s", ah.op == ARPOP_REQUEST ? "request" :
           ah.op == ARPOP_REPLY ? "reply" : "op?", NT_IP4(ah.spa), merged ? ", learned" : "",
           !forus ? "not for us" : ah.op == ARPOP_REQUEST ? "reply" : "done");
  if (!forus) {
    __sync_fetch_and_add(&cnt.rx_notforus, 1);
  } else if (ah.op == ARPOP_REQUEST) {
    // EXERCISE(arp-reply): answer an ARP request for our address
    struct pbuf *reply = arpbuild(dev, ARPOP_REPLY, dev->ipaddr, ah.sha, ah.spa);
    if (reply) {
      __sync_fetch_and_add(&cnt.answered, 1);
      ether_output(dev, reply, ah.sha, ETH_P_ARP);
    }
    // END EXERCISE
  }
  pbuf_free(pb);
  return;

bad:
  __sync_fetch_and_add(&cnt.rx_bad, 1);
  pbuf_free(pb);
}

// ---- output --------------------------------------------------------------------

// Does IPv4 packet pb continue a datagram (a fragment other than the first)?
static int
continues(struct pbuf *pb)
{
  return pbuf_len(pb) >= 8 && ((pb->rp[6] << 8 | pb->rp[7]) & 0x1FFF) != 0;
}

static void
dropoldest(struct arpentry *e)
{
  struct pbuf *pb = pbufq_get(&e->queue);
  e->qbytes -= pb->size;
  cnt.queue_drops++;
  pbuf_free(pb);
}

// Queue pb on e; when the queue is full, the oldest packets make room, and
// with a datagram's first fragment go the rest of it, which could never be
// reassembled: what waits is whole datagrams (a datagram cut short used to
// go out as 8 of its 9 fragments). tab.lock held.
static void
enqueue(struct arpentry *e, struct pbuf *pb)
{
  // EXERCISE(arp-queue): queue a packet on an entry being resolved, within its bounds
  while (e->queue.len && (e->qbytes + pb->size > ARP_MAXQBYTES || e->queue.len == ARP_QLEN)) {
    dropoldest(e);
    while (e->queue.head && continues(e->queue.head))
      dropoldest(e);
  }
  pbufq_put(&e->queue, pb);   // room made above (one 16 KiB buffer always fits)
  e->qbytes += pb->size;
  // END EXERCISE
}

// Is ip a broadcast on dev's link: the limited broadcast, or the directed
// broadcast of dev's network? A /31 (RFC 3021) or /32 network has none:
// every address in it is a host (with /32, (ip | mask) is always all ones).
static int
isbroadcast(struct netdev *dev, uint ip)
{
  uint mask = dev->netmask;
  if (ip == 0xFFFFFFFF)
    return 1;
  return ~ntohl(mask) > 1 && (ip | mask) == 0xFFFFFFFF && (ip & mask) == (dev->ipaddr & mask);
}

int
arp_output(struct netdev *dev, uint nexthop, struct pbuf *pb)
{
  uchar mac[ETH_ALEN];
  int request = 0;

  if (dev->type == ARPHRD_LOOPBACK)
    return ether_output(dev, pb, dev->mac, ETH_P_IP);
  if (isbroadcast(dev, nexthop))
    return ether_output(dev, pb, ether_broadcast, ETH_P_IP);

  acquire(&tab.lock);
  struct arpentry *e = lookup(dev, nexthop);
  if (e && e->state != ARP_INCOMPLETE) {
    memmove(mac, e->mac, ETH_ALEN);
    release(&tab.lock);
    NETTRACE(pb, "arp_output: %d.%d.%d.%d is known -> ether", NT_IP4(nexthop));
    return ether_output(dev, pb, mac, ETH_P_IP);
  }
  if (e == 0) {
    if ((e = allocentry(dev, nexthop, ARP_INCOMPLETE)) == 0) {
      release(&tab.lock);
      pbuf_free(pb);
      return -ENOBUFS;
    }
    e->probes = 1;
    e->nextprobe = now() + ARP_RETRY_TICKS;
    request = 1;
  }
  NETTRACE(pb, "arp_output: %d.%d.%d.%d unresolved -> queued%s", NT_IP4(nexthop),
           request ? ", request sent" : "");
  enqueue(e, pb);
  release(&tab.lock);
  if (request)
    sendrequest(dev, dev->ipaddr, nexthop);
  return 0;
}

// When the timer next has work on e: *when is the tick, and 0 is returned if
// it never has (a free or permanent entry). arp_timer acts on an entry only
// once this tick has come, and arp_nexttimer reports the earliest of them,
// so the two cannot disagree.
static int
deadline(struct arpentry *e, uint *when)
{
  switch (e->state) {
  case ARP_INCOMPLETE:
    *when = e->nextprobe;                           // the next retry
    return 1;
  case ARP_REACHABLE:
    *when = e->confirmed + tab.reachable_ticks + 1; // unconfirmed too long: STALE
    return 1;
  case ARP_STALE:
    *when = e->confirmed + tab.gc_ticks + 1;        // unused longer still: removed
    return 1;
  }
  return 0;
}

// Once per tick from the timer: retry or fail INCOMPLETE entries, age the
// rest. Free and permanent entries are passed over at once.
void
arp_timer(uint t)
{
  struct { struct netdev *dev; uint spa, tpa; } retry[NARP];
  struct pbuf *unreachable[NARP];   // what waited on entries that failed
  int nretry = 0, failed = 0;
  uint when;

  acquire(&tab.lock);
  for (struct arpentry *e = tab.e; e < tab.end; e++) {
    if (!deadline(e, &when) || (int)(t - when) < 0)
      continue;
    if (e->state == ARP_REACHABLE) {
      e->state = ARP_STALE;
    } else if (e->state == ARP_STALE) {
      freeentry(e);
    } else if (e->probes >= ARP_RETRIES) {
      cnt.failed++;
      unreachable[failed++] = takequeue(e);
      freeentry(e);
    } else {
      e->probes++;
      e->nextprobe = t + ARP_RETRY_TICKS;
      retry[nretry].dev = e->dev;
      retry[nretry].spa = e->dev->ipaddr;
      retry[nretry++].tpa = e->ip;
    }
  }
  release(&tab.lock);
  for (int i = 0; i < nretry; i++)
    sendrequest(retry[i].dev, retry[i].spa, retry[i].tpa);
  // Their packets are dropped; a router tells the sources of those it
  // forwarded (ipfwd_linkfailed). After the lock: an ICMP error goes through here.
  for (int i = 0; i < failed; i++) {
    for (struct pbuf *pb = unreachable[i], *next; pb; pb = next) {
      next = pb->next;
      pb->next = 0;
      ipfwd_linkfailed(pb);
    }
  }
  if (failed)
    wakeup(&tab);
}

// Ticks from t until arp_timer next has work (at least 1), or NETTIMER_IDLE.
uint
arp_nexttimer(uint t)
{
  uint wait = NETTIMER_IDLE, when;
  acquire(&tab.lock);
  for (struct arpentry *e = tab.e; e < tab.end; e++)
    if (deadline(e, &when))
      wait = MIN(wait, nettimer_wait(t, when));
  release(&tab.lock);
  return wait;
}

// create_arp: send a request for ip on dev and wait for the answer.
int
arp_query(struct netdev *dev, uint ip, uchar *mac, uint timeout_ticks)
{
  if (dev->type != ARPHRD_ETHER)
    return -EOPNOTSUPP;
  acquire(&tab.lock);
  struct arpentry *e = lookup(dev, ip);
  if (e == 0 && (e = allocentry(dev, ip, ARP_INCOMPLETE)) == 0) {
    release(&tab.lock);
    return -ENOBUFS;
  }
  if (e->state == ARP_INCOMPLETE) {
    // This query does its own waiting: the timer fails the entry only after
    // our deadline, even if an earlier query or packet created it.
    e->probes = ARP_RETRIES;
    if ((int)(e->nextprobe - (now() + timeout_ticks + 1)) < 0)
      e->nextprobe = now() + timeout_ticks + 1;
  }
  uint heard = e->heard;
  struct arpentry *asked = e;
  uint deadline = now() + timeout_ticks;
  release(&tab.lock);
  sendrequest(dev, dev->ipaddr, ip);

  acquire(&tab.lock);
  for (;;) {
    e = lookup(dev, ip);
    if (e && e->state != ARP_INCOMPLETE && (e != asked || e->heard != heard)) {
      memmove(mac, e->mac, ETH_ALEN);
      release(&tab.lock);
      return 0;
    }
    if ((int)(now() - deadline) >= 0) {
      release(&tab.lock);
      return -ETIMEDOUT;
    }
    if (net_interrupted()) {
      release(&tab.lock);
      return -EINTR;
    }
    sleepdeadline(&tab, &tab.lock, deadline);
  }
}

int
arp_list(int index, struct arpreq *out)
{
  int n = 0;
  acquire(&tab.lock);
  for (struct arpentry *e = tab.e; e < tab.end; e++) {
    if (!e->state || n++ != index)
      continue;
    memset(out, 0, sizeof *out);
    out->ipaddr = e->ip;
    memmove(out->mac, e->mac, ETH_ALEN);
    out->state = e->state;
    safestrcpy(out->ifname, e->dev->name, sizeof out->ifname);
    out->age_ms = (now() - e->confirmed) * (1000 / HZ);
    out->queued = e->queue.len;
    release(&tab.lock);
    return 0;
  }
  release(&tab.lock);
  return -ENOENT;
}

int
arp_set(struct netdev *dev, uint ip, const uchar *mac)
{
  struct pbufq ready;
  pbufq_init(&ready, NARP * ARP_QLEN);
  acquire(&tab.lock);
  struct arpentry *e = lookup(dev, ip);
  if (e == 0 && (e = allocentry(dev, ip, ARP_PERMANENT)) == 0) {
    release(&tab.lock);
    return -ENOSPC;
  }
  e->state = ARP_PERMANENT;
  memmove(e->mac, mac, ETH_ALEN);
  learn(e, mac, &ready);
  release(&tab.lock);
  sendready(&ready);
  return 0;
}

int
arp_delete(struct netdev *dev, uint ip)
{
  acquire(&tab.lock);
  struct arpentry *e = lookup(dev, ip);
  if (e)
    freeentry(e);
  release(&tab.lock);
  return e ? 0 : -ENXIO;
}

void
arp_stats(struct netstat_info *out)
{
  out->arp_rx = cnt.rx;
  out->arp_rx_bad = cnt.rx_bad;
  out->arp_rx_notforus = cnt.rx_notforus;
  out->arp_requests_answered = cnt.answered;
  out->arp_replies_rx = cnt.replies_rx;
  out->arp_requests_tx = cnt.requests_tx;
  out->arp_failed = cnt.failed;
  out->arp_queue_drops = cnt.queue_drops;
  out->arp_evictions = cnt.evictions;
  out->arp_refused = cnt.refused;
  out->arp_conflicts = cnt.conflicts;
  out->arp_defences = cnt.defences;
  int n = 0;
  acquire(&tab.lock);
  for (struct arpentry *e = tab.e; e < tab.end; e++)
    n += e->state != 0;
  release(&tab.lock);
  out->arp_entries = n;
}
