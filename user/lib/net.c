// Helpers for network programs.
#include "kernel/types.h"
#include "kernel/errno.h"
#include "user/user.h"
#include "user/net.h"
#include "kernel/sysinfo.h"

int
if_nametoindex2(const char *name, struct netif_info *info)
{
  for (int i = 1; netifget(i, info) == 0; i++)
    if (strcmp(info->name, name) == 0)
      return i;
  errno = ENODEV;
  return -1;
}

int
ether_aton(const char *s, uchar mac[6])
{
  for (int i = 0; i < 6; i++) {
    uint hi = digitval(s[0]), lo = s[0] ? digitval(s[1]) : 99;
    if (hi > 15 || lo > 15)
      return -1;
    mac[i] = hi << 4 | lo;
    s += 2;
    if (i < 5 && *s++ != ':')
      return -1;
  }
  return *s == 0 ? 0 : -1;
}

char *
ether_ntoa(const uchar mac[6], char buf[18])
{
  snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x",
           mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
  return buf;
}

int
setrcvtimeo(int fd, int ms)
{
  struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
  return setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

int
inet_aton(const char *s, uint *addr)
{
  uint a = 0;
  for (int i = 0; i < 4; i++) {
    if (!isdigit(*s))
      return -1;
    uint part = 0;
    for (int digits = 0; isdigit(*s); s++, digits++) {
      part = part * 10 + (*s - '0');
      if (digits >= 3 || part > 255)
        return -1;
    }
    a = a << 8 | part;
    if (i < 3 && *s++ != '.')
      return -1;
  }
  if (*s)
    return -1;
  *addr = htonl(a);
  return 0;
}

char *
inet_ntoa(uint addr, char buf[16])
{
  uint a = ntohl(addr);
  snprintf(buf, 16, "%d.%d.%d.%d", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
  return buf;
}

// An address and port as netstat prints them: "10.0.0.2:80", or
// "0.0.0.0:*" when the port is 0 (not bound, or any).
char *
inet_endpoint(char buf[24], uint addr, ushort port)
{
  char ip[16];
  if (port)
    snprintf(buf, 24, "%s:%d", inet_ntoa(addr, ip), port);
  else
    snprintf(buf, 24, "%s:*", inet_ntoa(addr, ip));
  return buf;
}

uint64
usecs(void)
{
  struct timeval tv;
  if (clock(&tv) < 0)
    return 0;
  return (uint64)tv.tv_sec * 1000000 + tv.tv_usec;
}

int
idlemark(struct idlemark *mark)
{
  struct sysinfo s;
  if (sysinfo(&s) < 0)
    return -1;
  mark->clockus = s.clockus;
  mark->idleus = s.idleus;
  mark->ncpu = s.ncpu;
  return 0;
}

int
idlesince(struct idlemark *mark, uint64 *idleus, uint64 *clockus)
{
  struct idlemark then = *mark;
  if (idlemark(mark) < 0)
    return -1;
  *idleus = mark->idleus - then.idleus;
  *clockus = (mark->clockus - then.clockus) * (mark->ncpu ? mark->ncpu : 1);
  return 0;
}

void
idleprint(const char *prog, struct idlemark *mark)
{
  uint64 idle, clock;
  if (idlesince(mark, &idle, &clock) < 0) {
    fprintf(2, "%s: sysinfo: %s\n", prog, strerror(errno));
    return;
  }
  uint permille = clock ? (uint)(idle * 1000 / clock) : 0;
  printf("%s: idle %llu us of %llu us (%u.%u%%)\n", prog, idle, clock, permille / 10,
         permille % 10);
}

int
packet_socket(int ifindex, uint ethertype)
{
  struct sockaddr_ll sll;
  int fd = socket(AF_PACKET, SOCK_RAW, htons(ethertype));
  if (fd < 0)
    return -1;
  memset(&sll, 0, sizeof sll);
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(ethertype);
  sll.sll_ifindex = ifindex;
  if (bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0) {
    int err = errno;
    close(fd);
    errno = err;
    return -1;
  }
  return fd;
}

int
tcp_bindlisten(int fd, int port, int backlog)
{
  int one = 1;
  struct sockaddr_in me = { AF_INET, htons(port), INADDR_ANY, { 0 } };
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(fd, (struct sockaddr *)&me, sizeof me) < 0)
    return -1;
  return listen(fd, backlog);
}
