// System call stubs for the network calls (see usys.S for the convention).
#include "kernel/syscall.h"
#include "kernel/traps.h"
#include "kernel/errno.h"
#include "user/lib/systrap.h"

#define NETCALL(name)                 \
  .globl name;                        \
  .type name, @function;              \
name:                                 \
  movl $SYS_##name, %eax;             \
  SYSTRAP;                            \
  cmpl $-MAXERRNO, %eax;              \
  jae 1f;                             \
  ret;                                \
1:                                    \
  negl %eax;                          \
  movl %eax, errno;                   \
  movl $-1, %eax;                     \
  ret;                                \
  .size name, . - name

  .text
NETCALL(socket)
NETCALL(bind)
NETCALL(sendto)
NETCALL(recvfrom)
NETCALL(setsockopt)
NETCALL(netifget)
NETCALL(netstat)
NETCALL(netifset)
NETCALL(create_arp)
NETCALL(arplist)
NETCALL(arpset)
NETCALL(arpdel)
NETCALL(clock)
NETCALL(connect)
NETCALL(getsockname)
NETCALL(getsockopt)
NETCALL(routelist)
NETCALL(routeadd)
NETCALL(routedel)
NETCALL(socklist)
NETCALL(listen)
NETCALL(accept)
NETCALL(shutdown)
NETCALL(getpeername)
NETCALL(tcplist)
NETCALL(sysctl)
NETCALL(sysctlname)
