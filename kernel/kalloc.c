// Physical page allocator: a free list of 4 KiB pages threaded through the
// pages themselves, in front of a range of never-used pages [fresh, limit)
// that kalloc takes from when the list is empty. Boot does not walk all of
// memory: under emulation, the first write to each page costs a few
// microseconds, and threading 32,000 pages onto the list took 0.17 s.
// kinit1 runs before the full kernel page table exists and so covers only the
// memory entrypgdir maps; kinit2 adds the rest.
//
// Each page in use also records who took it (the return address of the
// kalloc call), so that a leak names its allocation site: kprof(KPROF_PAGES)
// counts the pages in use by site, and sysfuzz shows what did not come back.
//
// A page may be mapped by several page tables (fork shares a program's
// read-only text, vm.c): kshare counts each extra mapping, and kfree of a
// shared page only takes one away. The page goes back to the free list, and
// is poisoned, when its last mapping goes.

#include "kernel/types.h"
#include "kernel/defs.h"
#include "kernel/param.h"
#include "kernel/memlayout.h"
#include "kernel/mmu.h"
#include "kernel/spinlock.h"
#include "kernel/prof.h"

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
  uint *owner;             // per physical page: who took it, 0 when free or unknown
  ushort *shares;          // per physical page: mappings beyond the first
  uint nowner;             // entries in owner[] and shares[]
} kmem;

static void freepage(char *v);
static int unshare(char *v);
static void ownersinit(void);
static void setowner(char *v, uint pc);

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
  ownersinit();
  kmem.use_lock = 1;
}

// The owner and share tables, taken from the top of the never-used range:
// six bytes per physical page up to memtop (192 KiB for 128 MiB).
static void
ownersinit(void)
{
  uint n = memtop / PGSIZE;
  uint bytes = PGROUNDUP(n * sizeof(uint)), sharebytes = PGROUNDUP(n * sizeof(ushort));
  if ((uint)(kmem.limit - kmem.fresh) < bytes + sharebytes + PGSIZE)
    return;   // no tables: no owners shown, and fork copies every page
  kmem.limit -= bytes;
  kmem.owner = (uint *)kmem.limit;
  memset(kmem.owner, 0, bytes);
  kmem.limit -= sharebytes;
  kmem.shares = (ushort *)kmem.limit;
  memset(kmem.shares, 0, sharebytes);
  kmem.nowner = n;
}

static void
setowner(char *v, uint pc)
{
  uint i = V2P(v) / PGSIZE;
  if (i < kmem.nowner)
    kmem.owner[i] = pc;
}

// Give back the page at v, which kalloc returned.
void
kfree(char *v)
{
  if ((uint)v % PGSIZE || v < end || V2P(v) >= memtop)
    panic("kfree %p", v);
  if (unshare(v))
    return;
  memset(v, 0x5a, PGSIZE);   // poison: catches use after free
  freepage(v);
}

// One more page table is to map the page at v (which kalloc returned): 0,
// or -1 if pages cannot be shared (no share table, or the count is full),
// and the caller copies the page instead.
int
kshare(char *v)
{
  uint i = V2P(v) / PGSIZE;
  if (i >= kmem.nowner)
    return -1;
  acquire(&kmem.lock);
  int ok = kmem.shares[i] < 0xFFFF;
  if (ok)
    kmem.shares[i]++;
  release(&kmem.lock);
  return ok ? 0 : -1;
}

// Drop one mapping of a shared page: 1 if others remain (the page stays),
// 0 if the caller held the last one and frees it. Without the lock first:
// a page nobody shares cannot become shared while its only holder frees it
// (sharing takes a mapping, which only that holder has), so a count of 0
// is final; a count above 0 is checked again under the lock, because the
// other holders may be freeing their mappings at the same moment.
static int
unshare(char *v)
{
  uint i = V2P(v) / PGSIZE;
  if (i >= kmem.nowner || *(volatile ushort *)&kmem.shares[i] == 0)
    return 0;
  acquire(&kmem.lock);
  int others = kmem.shares[i] > 0;
  if (others)
    kmem.shares[i]--;
  release(&kmem.lock);
  return others;
}

static void
freepage(char *v)
{
  struct run *r;

  if (kmem.use_lock)
    acquire(&kmem.lock);
  r = (struct run *)v;
  setowner(v, 0);
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
  if (r)
    setowner((char *)r, (uint)__builtin_return_address(0));
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
    for (int i = 0; i < n; i++)
      setowner(p + i * PGSIZE, (uint)__builtin_return_address(0));
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

// Count the pages in use by allocation site into out[0..max), sorted by
// site; returns how many sites there are, or -1 when there are more than
// max. Pages taken before the table existed (boot's own) are not counted.
int
kallocowners(struct kprof_pages *out, int max)
{
  int n = 0;
  if (kmem.use_lock)
    acquire(&kmem.lock);
  for (uint i = 0; i < kmem.nowner; i++) {
    uint pc = kmem.owner[i];
    if (pc == 0)
      continue;
    int lo = 0, hi = n;           // binary search among the sites seen so far
    while (lo < hi) {
      int mid = (lo + hi) / 2;
      if (out[mid].pc < pc)
        lo = mid + 1;
      else
        hi = mid;
    }
    if (lo < n && out[lo].pc == pc) {
      out[lo].pages++;
    } else if (n < max) {
      memmove(out + lo + 1, out + lo, (n - lo) * sizeof *out);
      out[lo].pc = pc;
      out[lo].pages = 1;
      n++;
    } else {
      n = -1;
      break;
    }
  }
  if (kmem.use_lock)
    release(&kmem.lock);
  return n;
}
