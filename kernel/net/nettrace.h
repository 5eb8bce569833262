// The packet trace (docs/network.md, "The packet trace"): when on, a frame
// whose protocol is in the filter is tagged where it enters the stack (the
// Ethernet layer on input, ip_output or ARP on output), and each layer it
// passes logs one line of what it decided into a bounded ring that user
// space reads (the nettrace program; system calls 130 and 131).
//
// Off, a trace point costs one load and one branch: NETTRACE tests the
// buffer's tag, which is only ever set while the trace is on.

#ifndef XV6NET_NETTRACE_H
#define XV6NET_NETTRACE_H

#include "kernel/nettrace.h"   // the filter's bits (NT_*): user ABI

#define NETTRACE_NARGS 8
#define NETTRACE_NREC  512   // the ring: older records are overwritten (and counted)

// One record: the format is a string literal with at most NETTRACE_NARGS
// conversions, all of them taking a uint or a string constant; it is
// formatted when read (by the kernel's snprintf, or libc's on the host).
struct nettrace_rec {
  uint seq;
  uint tick;
  uint cpu;
  const char *fmt;
  uint arg[NETTRACE_NARGS];
};

extern int nettrace_mask;   // 0: off

// What the trace points test first. A kernel built with
// -DNETTRACE_COMPILED_OUT has none at all: the bench compares it with the
// usual kernel, trace off (docs/bench.md, "The packet trace's cost").
#ifdef NETTRACE_COMPILED_OUT
#define NETTRACE_ON 0
#else
#define NETTRACE_ON nettrace_mask
#endif

void nettrace_init(void);   // the boot parameter nettrace=FILTER
int  nettrace_set(int mask);   // returns the old mask; -EINVAL if not a mask
int  nettrace_parse(const char *filter);   // "icmp,udp", "all", "off" -> mask; -EINVAL
int  nettrace_class(uint ethertype, const uchar *payload, uint len);   // NT_* of a frame
int  nettrace_ipclass(uint proto);   // NT_* of an IPv4 protocol
void nettrace_log(const char *fmt, ...);
// Take the oldest records not yet read, up to max; returns how many, and
// *lost the records overwritten before they were read (since the last take).
int  nettrace_take(struct nettrace_rec *out, int max, uint *lost);

#define NETTRACE(pb, ...) \
  do { if (NETTRACE_ON && (pb)->traced) nettrace_log(__VA_ARGS__); } while (0)

// An IPv4 address (network order) for "%d.%d.%d.%d".
#define NT_IP4(a) (ntohl(a) >> 24), (ntohl(a) >> 16 & 255), (ntohl(a) >> 8 & 255), (ntohl(a) & 255)

// Tag pb if its class is in the filter (where a packet enters the stack).
#define NETTRACE_TAG(pb, class) ((pb)->traced = (NETTRACE_ON & (class)) != 0)

#endif
