// The packet trace's user ABI (system calls nettrace and nettraceread,
// kernel/systrace.c): the filter is a mask of the protocols whose frames
// are traced; 0 is off.
#ifndef XV6NET_NETTRACE_ABI_H
#define XV6NET_NETTRACE_ABI_H

#define NT_ARP   0x01
#define NT_IP    0x02   // IPv4 with a protocol not below
#define NT_ICMP  0x04
#define NT_UDP   0x08
#define NT_TCP   0x10
#define NT_ALL   0x1F

#endif
