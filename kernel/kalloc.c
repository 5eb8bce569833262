// Physical page allocator: a free list of 4 KiB pages threaded through the
// pages themselves. kinit1 runs before the full kernel page table exists and
// so covers only the memory entrypgdir maps; kinit2 adds the rest.

#include "kernel/types.h"
#include "kernel/defs.h"
#include "kernel/param.h"
#include "kernel/memlayout.h"
#include "kernel/mmu.h"
#include "kernel/spinlock.h"

extern char end[];   // first address after the kernel image (kernel.ld)

struct run {
  struct run *next;
};

static struct {
  struct spinlock lock;
  int use_lock;
  struct run *freelist;
  uint nfree;
} kmem;

static void freerange(void *vstart, void *vend);

void
kinit1(void *vstart, void *vend)
{
  initlock(&kmem.lock, "kmem");
  kmem.use_lock = 0;
  freerange(vstart, vend);
}

void
kinit2(void *vstart, void *vend)
{
  freerange(vstart, vend);
  kmem.use_lock = 1;
}

static void
freerange(void *vstart, void *vend)
{
  char *p = (char *)PGROUNDUP((uint)vstart);
  for (; p + PGSIZE <= (char *)vend; p += PGSIZE)
    kfree(p);
}

// Give back the page at v, which kalloc returned (or freerange found free).
void
kfree(char *v)
{
  struct run *r;

  if ((uint)v % PGSIZE || v < end || V2P(v) >= memtop)
    panic("kfree %p", v);
  memset(v, 0x5a, PGSIZE);   // poison: catches use after free
  if (kmem.use_lock)
    acquire(&kmem.lock);
  r = (struct run *)v;
  r->next = kmem.freelist;
  kmem.freelist = r;
  kmem.nfree++;
  if (kmem.use_lock)
    release(&kmem.lock);
}

// A zeroed 4 KiB page, or 0 when memory is exhausted.
char *
kalloc(void)
{
  struct run *r;

  if (kmem.use_lock)
    acquire(&kmem.lock);
  r = kmem.freelist;
  if (r) {
    kmem.freelist = r->next;
    kmem.nfree--;
  }
  if (kmem.use_lock)
    release(&kmem.lock);
  if (r)
    memset(r, 0, PGSIZE);
  return (char *)r;
}

uint
kfreecount(void)
{
  return kmem.nfree;
}
