// The packet trace: a ring of one-line records of what each layer decided
// about a tagged frame (nettrace.h). Records keep the format and its
// arguments, not text: logging is a copy of a few words under a lock, and
// the formatting happens when user space reads them.

#include "kernel/net/netos.h"
#include "kernel/stdarg.h"
#include "kernel/net/pbuf.h"
#include "kernel/net/wire.h"
#include "kernel/net/nettrace.h"

int nettrace_mask;

static struct {
  struct spinlock lock;
  struct nettrace_rec rec[NETTRACE_NREC];
  uint next;   // sequence number of the next record
  uint read;   // of the oldest record not yet taken
} ring;

static const struct {
  const char *name;
  int mask;
} names[] = {
  { "arp", NT_ARP }, { "ip", NT_IP }, { "icmp", NT_ICMP }, { "udp", NT_UDP },
  { "tcp", NT_TCP }, { "all", NT_ALL },
};

void
nettrace_init(void)
{
  char v[48];
  initlock(&ring.lock, "nettrace");
  if (cmdlineget("nettrace", v, sizeof v)) {
    int m = v[0] ? nettrace_parse(v) : NT_ALL;   // a bare "nettrace": everything
    if (m < 0)
      cprintf("nettrace: bad filter '%s' (want all, arp, ip, icmp, udp, tcp, "
              "comma-separated); trace off\n", v);
    else
      nettrace_mask = m;
  }
}

int
nettrace_set(int mask)
{
  if (mask & ~NT_ALL)
    return -EINVAL;
  int old = nettrace_mask;
  nettrace_mask = mask;
  return old;
}

// "icmp,udp" -> NT_ICMP | NT_UDP; "off" -> 0.
int
nettrace_parse(const char *filter)
{
  int mask = 0;
  const char *p = filter;
  if (strncmp(filter, "off", 4) == 0)
    return 0;
  for (;;) {   // words, each followed by a comma or the end
    const char *e = p;
    while (*e && *e != ',')
      e++;
    uint n = e - p, i;
    for (i = 0; i < NELEM(names); i++)
      if (strncmp(p, names[i].name, n) == 0 && names[i].name[n] == 0)
        break;
    if (n == 0 || i == NELEM(names))
      return -EINVAL;
    mask |= names[i].mask;
    if (*e == 0)
      return mask;
    p = e + 1;
  }
}

// What kind of frame this is, for the filter: payload is what follows the
// Ethernet header.
int
nettrace_class(uint ethertype, const uchar *payload, uint len)
{
  if (ethertype == ETH_P_ARP)
    return NT_ARP;
  if (ethertype != ETH_P_IP)
    return 0;
  return len < 20 ? NT_IP : nettrace_ipclass(payload[9]);
}

int
nettrace_ipclass(uint proto)
{
  switch (proto) {
  case IPPROTO_ICMP:
    return NT_ICMP;
  case IPPROTO_UDP:
    return NT_UDP;
  case IPPROTO_TCP:
    return NT_TCP;
  }
  return NT_IP;
}

// How many arguments fmt takes: its conversions, but not "%%".
static int
nargs(const char *fmt)
{
  int n = 0;
  for (const char *p = fmt; *p; p++) {
    if (*p != '%')
      continue;
    if (p[1] == '%')
      p++;
    else
      n++;
  }
  return MIN(n, NETTRACE_NARGS);
}

void
nettrace_log(const char *fmt, ...)
{
  struct nettrace_rec r;
  va_list ap;

  if (nettrace_mask == 0)
    return;
  r.tick = readticks();
  r.cpu = net_cpu();
  r.fmt = fmt;
  memset(r.arg, 0, sizeof r.arg);
  va_start(ap, fmt);
  for (int i = 0, n = nargs(fmt); i < n; i++)
    r.arg[i] = va_arg(ap, uint);
  va_end(ap);
  acquire(&ring.lock);
  r.seq = ring.next++;
  ring.rec[r.seq % NETTRACE_NREC] = r;
  release(&ring.lock);
}

int
nettrace_take(struct nettrace_rec *out, int max, uint *lost)
{
  int n = 0;
  acquire(&ring.lock);
  *lost = 0;
  if (ring.next - ring.read > NETTRACE_NREC) {   // overwritten before they were read
    *lost = ring.next - ring.read - NETTRACE_NREC;
    ring.read = ring.next - NETTRACE_NREC;
  }
  while (n < max && ring.read != ring.next)
    out[n++] = ring.rec[ring.read++ % NETTRACE_NREC];
  release(&ring.lock);
  return n;
}
