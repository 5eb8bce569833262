// Physical page allocator: a free list of 4 KiB pages threaded through the
// pages themselves, in front of a range of never-used pages [fresh, limit)
// that kalloc takes from when the list is empty. Boot does not walk all of
// memory: under emulation, the first write to each page costs a few
// microseconds, and threading 32,000 pages onto the list took 0.17 s.
// kinit1 runs before the full kernel page table exists and so covers only the
// memory entrypgdir maps; kinit2 adds the rest.

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
  uint nfree;              // pages on freelist
  char *fresh, *limit;     // never-used pages
} kmem;

static void freepage(char *v);

void
kinit1(void *vstart, void *vend)
{
  initlock(&kmem.lock, "kmem");
  kmem.use_lock = 0;
  kmem.fresh = (char *)PGROUNDUP((uint)vstart);
  kmem.limit = (char *)PGROUNDDOWN((uint)vend);
  if (kmem.limit < kmem.fresh)
    kmem.limit = kmem.fresh;
}

void
kinit2(void *vstart, void *vend)
{
  char *p = (char *)PGROUNDUP((uint)vstart);
  if (p == kmem.limit) {   // the usual case: right after kinit1's range
    if ((char *)PGROUNDDOWN((uint)vend) > kmem.limit)
      kmem.limit = (char *)PGROUNDDOWN((uint)vend);
  } else {
    for (; p + PGSIZE <= (char *)vend; p += PGSIZE)
      freepage(p);
  }
  kmem.use_lock = 1;
}

// Give back the page at v, which kalloc returned.
void
kfree(char *v)
{
  if ((uint)v % PGSIZE || v < end || V2P(v) >= memtop)
    panic("kfree %p", v);
  memset(v, 0x5a, PGSIZE);   // poison: catches use after free
  freepage(v);
}

static void
freepage(char *v)
{
  struct run *r;

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
  } else if (kmem.fresh < kmem.limit) {
    r = (struct run *)kmem.fresh;
    kmem.fresh += PGSIZE;
  }
  if (kmem.use_lock)
    release(&kmem.lock);
  if (r)
    memset(r, 0, PGSIZE);
  return (char *)r;
}

// n physically contiguous, zeroed pages (a device ring that spans pages, such
// as a legacy virtqueue), or 0. They come from the never-used range, which is
// contiguous by construction: the free list is not searched for runs. Meant
// for drivers at attach time, while that range is still large; such pages
// are never freed.
char *
kallocpages(int n)
{
  char *p = 0;

  if (n <= 0)
    return 0;
  if (kmem.use_lock)
    acquire(&kmem.lock);
  if (kmem.limit - kmem.fresh >= n * PGSIZE) {
    p = kmem.fresh;
    kmem.fresh += n * PGSIZE;
  }
  if (kmem.use_lock)
    release(&kmem.lock);
  if (p)
    memset(p, 0, n * PGSIZE);
  return p;
}

uint
kfreecount(void)
{
  return kmem.nfree + (kmem.limit - kmem.fresh) / PGSIZE;
}
