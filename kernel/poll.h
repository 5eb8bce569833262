// poll(2)'s user ABI, with Linux's values: plain data, shared by the
// kernel, the network stack (kernel/net/ may include it) and user programs.
#ifndef XV6NET_POLL_H
#define XV6NET_POLL_H

#define POLLIN   0x001   // data to read (or end of file: a read will not block)
#define POLLPRI  0x002   // urgent data (never set here)
#define POLLOUT  0x004   // a write will not block
#define POLLERR  0x008   // an error is pending (reported whether asked for or not)
#define POLLHUP  0x010   // the other end is gone (reported whether asked for or not)
#define POLLNVAL 0x020   // fd is not open (reported whether asked for or not)

#define POLL_MAXFDS 512  // most entries one poll() takes (EINVAL beyond): one page of them

struct pollfd {
  int fd;           // a negative fd is skipped (revents 0)
  short events;     // what to wait for
  short revents;    // what is so (filled in by poll)
};

#endif
