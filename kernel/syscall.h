// System call numbers: the ABI between user/usys.S and kernel/syscall.c.
// Calling convention: int $T_SYSCALL (64), number in %eax, arguments on the
// user stack as for a C call; the result comes back in %eax. A result in
// [-4095, -1] is a negated errno value (see errno.h); user stubs turn it into
// -1 with errno set.
#ifndef XV6NET_SYSCALL_H
#define XV6NET_SYSCALL_H

#define SYS_fork    1
#define SYS_exit    2
#define SYS_wait    3
#define SYS_pipe    4
#define SYS_read    5
#define SYS_kill    6
#define SYS_exec    7
#define SYS_fstat   8
#define SYS_chdir   9
#define SYS_dup    10
#define SYS_getpid 11
#define SYS_sbrk   12
#define SYS_sleep  13
#define SYS_uptime 14
#define SYS_open   15
#define SYS_write  16
#define SYS_close  17
#define SYS_getppid 18
#define SYS_socket   19
#define SYS_bind     20
#define SYS_sendto   21
#define SYS_recvfrom 22
#define SYS_setsockopt 23
#define SYS_netifget 24   // (index, struct netif_info *): -ENODEV past the last
#define SYS_netstat  25   // (struct netstat_info *)

#define SYS_netifset 26   // (ifname, struct netif_conf *)
#define SYS_create_arp 27 // (ifname, ipaddr (network order), uchar mac[6], timeout_ms)
#define SYS_arplist  28   // (index, struct arpreq *): -ENOENT past the last
#define SYS_arpset   29   // (struct arpreq *): a permanent entry
#define SYS_arpdel   30   // (ipaddr, ifname or 0)
#define SYS_clock    31   // (struct timeval *): time since boot, microsecond resolution

#define SYS_connect  32   // (fd, addr, len)
#define SYS_getsockname 33 // (fd, addr, int *len)
#define SYS_getsockopt 34 // (fd, level, opt, val, int *len)
#define SYS_routelist 35  // (index, struct rtentry *): -ENOENT past the last
#define SYS_routeadd 36   // (struct rtentry *)
#define SYS_routedel 37   // (struct rtentry *)
#define SYS_socklist 38   // (index, struct sockinfo *): -ENOENT past the last

#define SYS_kprof    39   // (KPROF_*, arg, max): the sampling profiler, kernel/prof.h

// Job control and signals (kernel/signal.h); kill (6) takes (pid, sig).
#define SYS_setpgid   40  // (pid, pgid)
#define SYS_getpgid   41  // (pid)
#define SYS_tcsetpgrp 42  // (fd, pgid): the console's foreground process group
#define SYS_tcgetpgrp 43  // (fd)
#define SYS_sigaction 44  // (sig, const struct sigaction *act, struct sigaction *old)
#define SYS_sigreturn 45  // (): from a handler, through the restorer, by int $64 only
#define SYS_waitpid   46  // (pid, int *status, options)

// The writable root file system (kernel/ramfs.c) and random bytes.
#define SYS_unlink   50   // (path)
#define SYS_mkdir    51   // (path, mode)
#define SYS_rmdir    52   // (path)
#define SYS_rename   53   // (from, to)
#define SYS_ftruncate 54  // (fd, length)
#define SYS_truncate 55   // (path, length)
#define SYS_lseek    56   // (fd, offset, whence)
#define SYS_statfs   57   // (path, struct statfs *)
#define SYS_getrandom 58  // (buf, len, flags)


#define SYS_sysinfo  80   // (struct sysinfo *): resources in use, kernel/sysinfo.h

// Stream sockets (TCP; kernel/syssock.c).
#define SYS_listen   90   // (fd, backlog)
#define SYS_accept   91   // (fd, addr or 0, int *len or 0): a new descriptor
#define SYS_shutdown 92   // (fd, SHUT_RD/SHUT_WR/SHUT_RDWR)
#define SYS_getpeername 93 // (fd, addr, int *len)
#define SYS_tcplist  94   // (index, struct tcpinfo *): -ENOENT past the last
// Kernel settings by Linux's sysctl names (kernel/net/sysctl.c).
#define SYS_sysctl   110  // (name, int *oldval or 0, const int *newval or 0)
#define SYS_sysctlname 111 // (index, char *buf, len): -ENOENT past the last

// Waiting on several files, and non-blocking I/O (kernel/poll.c, sysfile.c).
#define SYS_poll    120   // (struct pollfd *fds, nfds, timeout_ms): kernel/poll.h
#define SYS_fcntl   121   // (fd, F_GETFL or F_SETFL, flags): kernel/fcntl.h

// Lock statistics and order (kernel/syslock.c, kernel/lockstat.h).
#define SYS_lockstat  125  // (struct lockstat *, n): fills up to n classes; how many classes
#define SYS_lockorder 126  // (struct lockedge *, n): fills up to n edges; how many edges

// The packet trace (kernel/systrace.c, kernel/net/nettrace.h): 130-134.
#define SYS_nettrace     130   // (mask): NT_* of the frames to trace, 0 off; -1 only asks; old mask
#define SYS_nettraceread 131   // (buf, len): the oldest lines not yet read, whole lines; bytes

#define NSYSCALL   132   // one past the highest number in use

#endif
