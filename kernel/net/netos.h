// What the network stack needs from an operating system, and all it may use
// of one: the seam between kernel/net/ and the rest of the kernel (lwIP's
// sys_arch is the model).
//
// Every file in kernel/net/ includes this header and no other kernel header
// outside kernel/net/ except the plain-data ones below. Two implementations:
//   - the kernel: most names here are the kernel's own primitives (spinlocks,
//     sleep/wakeup, ticks, kalloc); the rest are in kernel/netos.c. Nothing is
//     wrapped on the hot path.
//   - the host: tests/host/netos_host.c, single-threaded, with a fake clock
//     the test advances, so the same .c files run in unit tests and under
//     libFuzzer with AddressSanitizer (docs/testing.md).
// Both are 32-bit (the host build uses -m32), so uint is the size of a
// pointer and of size_t, and user addresses are plain uints on both.

#ifndef XV6NET_NETOS_H
#define XV6NET_NETOS_H

#include "kernel/types.h"
#include "kernel/param.h"      // HZ
#include "kernel/errno.h"      // Linux's errno values
#include "kernel/spinlock.h"   // struct spinlock: data only
#include "kernel/socket.h"     // the user ABI: socket addresses, netstat structures

// ---- memory and strings (kernel/string.c; the C library on the host) ----
void *memset(void *dst, int c, uint n);
void *memmove(void *dst, const void *src, uint n);
int   memcmp(const void *a, const void *b, uint n);
int   strncmp(const char *p, const char *q, uint n);
char *safestrcpy(char *dst, const char *src, int n);
int   atoi(const char *s);
#ifndef MIN
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#endif
#ifndef NELEM
#define NELEM(x) (sizeof(x) / sizeof((x)[0]))
#endif

// ---- console ----
void cprintf(const char *fmt, ...);
void panic(const char *fmt, ...) __attribute__((noreturn));

// ---- locks: spinlocks (on the host, checked but never contended) ----
void initlock(struct spinlock *lk, char *name);
void acquire(struct spinlock *lk);
void release(struct spinlock *lk);
int  holding(struct spinlock *lk);

// ---- time: ticks at HZ since boot (the host's fake clock): readticks() ----
#include "kernel/ticks.h"

// ---- sleep and wakeup (xv6's): the caller holds lk, which is released
// while asleep and held again on return. A deadline in ticks ends the sleep
// too (0: none), and so does a signal: one pending when the sleep begins
// makes it return at once, for the caller to see net_interrupted(). On the
// host, a sleep advances the fake clock to the deadline and runs the
// timers, since nothing else could wake a single thread. ----
void sleepdeadline(void *chan, struct spinlock *lk, uint deadline);
void wakeup(void *chan);
void pollwakeup(void);        // a socket's readiness changed: wake poll() (s->lock held; sock.h)
int  net_interrupted(void);   // the calling process was killed: end blocking calls with -EINTR
int  net_pid(void);           // the calling process's id (for netstat)
int  net_cpu(void);           // the CPU we run on (for the packet trace; 0 on the host)

// ---- user memory: addresses in the calling process's address space;
// 0 or -EFAULT ----
int  net_copyin(void *dst, uint usrc, uint n);
int  net_copyout(uint udst, const void *src, uint n);
int  net_useraccessible(uint uva, uint n, int write);

// ---- memory for packet buffers: one 4 KiB page, physically contiguous
// (a card DMAs into it), or 0 ----
char *kalloc(void);
void  kfree(char *page);       // a page from kalloc (TCP's buffers come and go)

// ---- randomness: n bytes from the kernel's generator (TCP's ISN key) ----
void random_get(void *buf, uint n);
#define NET_PAGESIZE 4096

// ---- the receive thread ----
// Start fn(arg) as a kernel thread (never called on the host, where the
// test runs netrx_work itself).
void net_thread(const char *name, void (*fn)(void *), void *arg);
void net_preempt(void);       // from an interrupt: give the CPU to the receive thread soon
void net_yield(void);         // let other processes run before going on
// Timestamped marks for `xv6net pingtrace`, only in a kernel built with
// KDEFS=-DLATMARK (never in the host build).
#ifdef LATMARK
void net_latmark(int n);
#define NET_LATMARK(n) net_latmark(n)
#else
#define NET_LATMARK(n) do { } while (0)
#endif
int  net_intrson(void);       // interrupts enabled here (the receive thread checks it)
// Per-stage time of the receive path (docs/bench.md, "Where a received
// segment's time goes"), only in a kernel built with KDEFS=-DRXPROF: the
// TSC counts and the number of passes of each stage, printed and cleared
// by `sysinfo` (kernel/rxprof.c). Stages nest; each is inclusive. The
// send path's stages (RXP_SEND on: "Where a sent KiB's time goes") share it.
enum { RXP_INTR, RXP_POLL, RXP_TCPIN, RXP_CSUM, RXP_COPYIN, RXP_TCPOUT, RXP_WAKE,
       RXP_RECV, RXP_COPYOUT, RXP_WINUPD, RXP_RDT, RXP_IRQEN, RXP_XMIT, RXP_SYSCALL,
       RXP_SWITCH, RXP_ETHIN, RXP_IPHDR, RXP_RAW, RXP_PKTTAP, RXP_LOCK,
       RXP_SEND, RXP_SNDCOPY, RXP_SNDOUT, RXP_SNDWAIT, RXP_SENDSEG, RXP_SEGCOPY,
       RXP_IPOUT, RXP_ACKIN, RXP_ACKWAKE, RXP_BATCHOUT,
       RXP_UDPCSUM, RXP_UDPLOOKUP, RXP_UDPENQ, RXP_IMS, RXP_NSTAGE };
#ifdef RXPROF
unsigned long long net_rxprof_begin(void);
void net_rxprof_end(int stage, unsigned long long start);
#define RXPROF_BEGIN(v) unsigned long long v = net_rxprof_begin()
#define RXPROF_END(stage, v) net_rxprof_end(stage, v)
#else
#define RXPROF_BEGIN(v) do { } while (0)
#define RXPROF_END(stage, v) do { } while (0)
#endif

// ---- boot parameters: value of key=value on the kernel command line;
// 1 if the key is there ----
int  cmdlineget(const char *key, char *val, int max);

#endif
