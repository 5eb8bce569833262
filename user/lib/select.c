// select() as a thin layer over poll(): the kernel has one way to wait on
// several files, and this only translates the bit sets.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/errno.h"
#include "kernel/socket.h"
#include "user/user.h"

#define SELIN  (POLLIN | POLLHUP | POLLERR)   // what makes a read not block
#define SELOUT (POLLOUT | POLLERR)
#define SELEX  POLLPRI

static int
isset(fd_set *s, int fd)
{
  return s && FD_ISSET(fd, s);
}

static int
bitcount(uint bits)
{
  int n = 0;
  for (; bits; bits &= bits - 1)
    n++;
  return n;
}

// Milliseconds for poll, rounded up; -1 for none (wait for ever).
static int
timeoutms(struct timeval *tv)
{
  if (tv == 0)
    return -1;
  if (tv->tv_sec < 0 || tv->tv_usec < 0 || tv->tv_usec >= 1000000)
    return -2;
  if (tv->tv_sec > 2000000)
    return 2000000000;
  return tv->tv_sec * 1000 + (tv->tv_usec + 999) / 1000;
}

int
select(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, struct timeval *timeout)
{
  struct pollfd fds[NOFILE];
  int n = 0, ms = timeoutms(timeout);

  if (nfds < 0 || nfds > FD_SETSIZE || ms == -2) {
    errno = EINVAL;
    return -1;
  }
  for (int fd = 0; fd < nfds; fd++) {
    short ev = (isset(rd, fd) ? POLLIN : 0) | (isset(wr, fd) ? POLLOUT : 0) |
               (isset(ex, fd) ? POLLPRI : 0);
    if (ev == 0)
      continue;
    if (n == NOFILE) {   // more than there can be open: one is not
      errno = EBADF;
      return -1;
    }
    fds[n].fd = fd;
    fds[n++].events = ev;
  }
  if (poll(fds, n, ms) < 0)
    return -1;
  for (int i = 0; i < n; i++) {
    if (fds[i].revents & POLLNVAL) {
      errno = EBADF;
      return -1;
    }
  }
  fd_set r = { 0 }, w = { 0 }, e = { 0 };
  for (int i = 0; i < n; i++) {
    int fd = fds[i].fd, ev = fds[i].events, re = fds[i].revents;
    if ((ev & POLLIN) && (re & SELIN))
      FD_SET(fd, &r);
    if ((ev & POLLOUT) && (re & SELOUT))
      FD_SET(fd, &w);
    if ((ev & POLLPRI) && (re & SELEX))
      FD_SET(fd, &e);
  }
  if (rd)
    *rd = r;
  if (wr)
    *wr = w;
  if (ex)
    *ex = e;
  return bitcount(r.bits) + bitcount(w.bits) + bitcount(e.bits);
}
