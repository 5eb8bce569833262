// x86 memory management unit: segments, paging, gates, task state.
#ifndef XV6NET_MMU_H
#define XV6NET_MMU_H

// EFLAGS
#define FL_FIXED  0x00000002   // reserved, always 1
#define FL_TF     0x00000100   // trap flag (single step)
#define FL_IF     0x00000200   // interrupt enable

// CR0 and CR4
#define CR0_PE    0x00000001
#define CR0_WP    0x00010000   // kernel honours read-only pages
#define CR0_PG    0x80000000
#define CR4_PSE   0x00000010   // 4 MiB pages

// GDT slots
#define SEG_KCODE 1
#define SEG_KDATA 2
#define SEG_UCODE 3
#define SEG_UDATA 4
#define SEG_TSS   5   // this CPU's task state
#define SEG_DFTSS 6   // the double-fault task (runs on its own stack)
#define NSEGS     7

#define DPL_USER  3

// Segment type bits
#define STA_X 0x8
#define STA_W 0x2
#define STA_R 0x2
#define STS_T32A 0x9   // available 32-bit TSS
#define STS_TG   0x5   // task gate
#define STS_IG32 0xE   // 32-bit interrupt gate
#define STS_TG32 0xF   // 32-bit trap gate

// Paging
#define PGSIZE   4096
#define NPDENTRIES 1024
#define NPTENTRIES 1024
#define PDXSHIFT 22
#define PTXSHIFT 12
#define PDX(va)  (((uint)(va) >> PDXSHIFT) & 0x3FF)
#define PTX(va)  (((uint)(va) >> PTXSHIFT) & 0x3FF)
#define PGADDR(d, t, o) ((uint)((d) << PDXSHIFT | (t) << PTXSHIFT | (o)))
#define PGROUNDUP(sz)  (((sz) + PGSIZE - 1) & ~(PGSIZE - 1))
#define PGROUNDDOWN(a) (((a)) & ~(PGSIZE - 1))

#define PTE_P   0x001   // present
#define PTE_W   0x002   // writeable
#define PTE_U   0x004   // user
#define PTE_PWT 0x008   // write-through
#define PTE_PCD 0x010   // cache disable
#define PTE_PS  0x080   // 4 MiB page (in a PDE)
#define PTE_ADDR(pte) ((uint)(pte) & ~0xFFF)
#define PTE_FLAGS(pte) ((uint)(pte) & 0xFFF)

#ifndef __ASSEMBLER__
#include "kernel/types.h"

struct segdesc {
  uint lim_15_0 : 16;
  uint base_15_0 : 16;
  uint base_23_16 : 8;
  uint type : 4;
  uint s : 1;       // 1 = code/data, 0 = system
  uint dpl : 2;
  uint p : 1;
  uint lim_19_16 : 4;
  uint avl : 1;
  uint rsv1 : 1;
  uint db : 1;      // 32-bit
  uint g : 1;       // limit in 4 KiB units
  uint base_31_24 : 8;
};

// A flat 4 GiB code or data segment.
#define SEG(type, base, lim, dpl) (struct segdesc)                  \
{ ((lim) >> 12) & 0xffff, (uint)(base) & 0xffff,                   \
  ((uint)(base) >> 16) & 0xff, type, 1, dpl, 1,                    \
  (uint)(lim) >> 28, 0, 0, 1, 1, (uint)(base) >> 24 }
// A byte-granular system segment (TSS).
#define SEG16(type, base, lim, dpl) (struct segdesc)                \
{ (lim) & 0xffff, (uint)(base) & 0xffff,                           \
  ((uint)(base) >> 16) & 0xff, type, 0, dpl, 1,                    \
  (uint)(lim) >> 16, 0, 0, 1, 0, (uint)(base) >> 24 }

struct taskstate {
  uint link;
  uint esp0;
  ushort ss0, pad0;
  uint esp1;
  ushort ss1, pad1;
  uint esp2;
  ushort ss2, pad2;
  uint cr3;
  uint eip;
  uint eflags;
  uint eax, ecx, edx, ebx, esp, ebp, esi, edi;
  ushort es, pad3, cs, pad4, ss, pad5, ds, pad6, fs, pad7, gs, pad8, ldt, pad9;
  ushort t, iomb;
};

struct gatedesc {
  uint off_15_0 : 16;
  uint cs : 16;
  uint args : 5;
  uint rsv1 : 3;
  uint type : 4;
  uint s : 1;
  uint dpl : 2;
  uint p : 1;
  uint off_31_16 : 16;
};

static inline void
setgate(struct gatedesc *g, int type, uint sel, uint off, int dpl)
{
  g->off_15_0 = off & 0xffff;
  g->cs = sel;
  g->args = 0;
  g->rsv1 = 0;
  g->type = type;
  g->s = 0;
  g->dpl = dpl;
  g->p = 1;
  g->off_31_16 = off >> 16;
}
#endif

#endif
