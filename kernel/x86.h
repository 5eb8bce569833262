// Inline wrappers for x86 instructions the kernel needs.
#ifndef XV6NET_X86_H
#define XV6NET_X86_H
#include "kernel/types.h"

static inline uchar inb(ushort port)
{ uchar v; asm volatile("inb %1, %0" : "=a"(v) : "d"(port)); return v; }
static inline ushort inw(ushort port)
{ ushort v; asm volatile("inw %1, %0" : "=a"(v) : "d"(port)); return v; }
static inline uint inl(ushort port)
{ uint v; asm volatile("inl %1, %0" : "=a"(v) : "d"(port)); return v; }
static inline void outb(ushort port, uchar v)
{ asm volatile("outb %0, %1" : : "a"(v), "d"(port)); }
static inline void outw(ushort port, ushort v)
{ asm volatile("outw %0, %1" : : "a"(v), "d"(port)); }
static inline void outl(ushort port, uint v)
{ asm volatile("outl %0, %1" : : "a"(v), "d"(port)); }
// String I/O: n 32-bit words between memory and one port (rep insl/outsl).
static inline void insl(ushort port, void *addr, int n)
{ asm volatile("cld; rep insl" : "+D"(addr), "+c"(n) : "d"(port) : "memory"); }
static inline void outsl(ushort port, const void *addr, int n)
{ asm volatile("cld; rep outsl" : "+S"(addr), "+c"(n) : "d"(port)); }

// The time-stamp counter (every CPU QEMU emulates has one).
static inline uint64 rdtsc(void)
{ uint64 v; asm volatile("rdtsc" : "=A"(v)); return v; }

struct segdesc;
struct gatedesc;

static inline void lgdt(struct segdesc *p, int size)
{
  volatile ushort pd[3];
  pd[0] = size - 1;
  pd[1] = (uint)p;
  pd[2] = (uint)p >> 16;
  asm volatile("lgdt (%0)" : : "r"(pd));
}

static inline void lidt(struct gatedesc *p, int size)
{
  volatile ushort pd[3];
  pd[0] = size - 1;
  pd[1] = (uint)p;
  pd[2] = (uint)p >> 16;
  asm volatile("lidt (%0)" : : "r"(pd));
}

static inline void ltr(ushort sel) { asm volatile("ltr %0" : : "r"(sel)); }
static inline uint readeflags(void)
{ uint f; asm volatile("pushfl; popl %0" : "=r"(f)); return f; }
static inline void loadgs(ushort v) { asm volatile("movw %0, %%gs" : : "r"(v)); }
static inline void cli(void) { asm volatile("cli"); }
static inline void sti(void) { asm volatile("sti"); }
static inline void hlt(void) { asm volatile("hlt"); }

// Atomic exchange; the "memory" clobber makes it a compiler barrier too.
static inline uint xchg(volatile uint *addr, uint newval)
{
  uint result;
  asm volatile("lock; xchgl %0, %1" : "+m"(*addr), "=a"(result) : "1"(newval) : "cc", "memory");
  return result;
}

static inline uint rcr2(void) { uint v; asm volatile("movl %%cr2, %0" : "=r"(v)); return v; }
static inline void lcr3(uint v) { asm volatile("movl %0, %%cr3" : : "r"(v) : "memory"); }
static inline void invlpg(void *va) { asm volatile("invlpg (%0)" : : "r"(va) : "memory"); }

#define MSR_SYSENTER_CS  0x174
#define MSR_SYSENTER_ESP 0x175
#define MSR_SYSENTER_EIP 0x176

static inline void wrmsr(uint msr, uint lo, uint hi)
{ asm volatile("wrmsr" : : "c"(msr), "a"(lo), "d"(hi)); }

// cpuid leaf: returns edx (the leaf's feature bits for leaf 1).
static inline uint cpuid_edx(uint leaf)
{
  uint a, b, c, d;
  asm volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(leaf), "c"(0));
  return d;
}
#define CPUID_SEP (1u << 11)   // leaf 1 edx: SYSENTER/SYSEXIT

static inline void rmb(void) { asm volatile("" : : : "memory"); }   // x86 keeps loads in order
// Full memory barrier: orders descriptor writes before a device doorbell.
static inline void mfence(void) { asm volatile("lock; addl $0, 0(%%esp)" : : : "memory"); }

// The layout that trapasm.S builds on the kernel stack for every trap.
struct trapframe {
  // pushal
  uint edi, esi, ebp, oesp, ebx, edx, ecx, eax;
  // segment registers
  ushort gs, pad1, fs, pad2, es, pad3, ds, pad4;
  uint trapno;
  // pushed by the CPU (err by the CPU or by the vector stub)
  uint err;
  uint eip;
  ushort cs, pad5;
  uint eflags;
  // only when crossing from user to kernel
  uint esp;
  ushort ss, pad6;
};

#endif
