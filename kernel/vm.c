// Virtual memory: segments, the kernel's page tables, per-process user page
// tables, and the only sanctioned ways of touching user memory from the
// kernel (copyin, copyout, copyinstr), which check every page they touch.
//
// The kernel half (PDEs 512..1023) is identical in every page directory: the
// direct map and the device window use 4 MiB pages and the kernel-stack
// region uses one page table shared by all, so a kernel stack mapped once is
// visible in every address space.

#include "kernel/types.h"
#include "kernel/defs.h"
#include "kernel/param.h"
#include "kernel/errno.h"
#include "kernel/x86.h"
#include "kernel/memlayout.h"
#include "kernel/mmu.h"
#include "kernel/proc.h"

#define BIGPAGE (1u << PDXSHIFT)   // 4 MiB

// The kernel-stack region holds a stack per process slot, then one per CPU.
_Static_assert((NPROC + NCPU) * (KSTACKSIZE + PGSIZE) <= KSTACKSEND - KSTACKS,
               "kernel stacks do not fit in KSTACKS");

static pde_t *kpgdir;        // the kernel-only page directory (scheduler, boot)
static pte_t *kstackpt;      // page table of the KSTACKS region

// The double-fault tasks, one per CPU: a fault while pushing onto a kernel
// stack (an overflow into its guard page) cannot be handled on that stack,
// so vector 8 is a task gate that switches to this CPU's TSS, with a stack
// of its own. Each CPU needs its own: two CPUs faulting at once would share
// one stack, and the TSS's busy bit lives in each CPU's GDT, so nothing
// would stop the second.
static struct taskstate dfts[NCPU];
static char dfstack[NCPU][PGSIZE] __attribute__((aligned(PGSIZE)));

static void
dblfault(void)
{
  struct cpu *c = mycpu();
  panic("double fault (kernel stack overflow?) eip %p esp %p ebp %p on cpu%d",
        c->ts.eip, c->ts.esp, c->ts.ebp, (int)(c - cpus));
}

static void
dftssinit(struct cpu *c)
{
  int i = c - cpus;
  struct taskstate *t = &dfts[i];
  memset(t, 0, sizeof *t);
  t->esp = t->esp0 = (uint)dfstack[i] + PGSIZE;
  t->ss = t->ss0 = SEG_KDATA << 3;
  t->ds = t->es = t->fs = t->gs = SEG_KDATA << 3;
  t->cs = SEG_KCODE << 3;
  t->eip = (uint)dblfault;
  t->eflags = 0x2;
  t->cr3 = V2P(kpgdir);
  t->iomb = sizeof *t;
  c->gdt[SEG_DFTSS] = SEG16(STS_T32A, t, sizeof *t - 1, 0);
  c->gdt[SEG_DFTSS].s = 0;
}

// System calls arrive by sysenter (user/lib/usys.S), which costs far less
// than int $T_SYSCALL under emulation. SYSENTER_CS names the kernel code
// segment; the CPU takes the kernel stack segment, and (for sysexit) the
// user code and data segments, from the next three GDT slots, which is how
// SEG_KCODE..SEG_UDATA are laid out. The stack pointer is set at each
// switch (settss). int $T_SYSCALL keeps working.
static void
sysenterinit(struct cpu *c)
{
  extern char sysenter_entry[];
  if (!(cpuid_edx(1) & CPUID_SEP))
    panic("this CPU has no SYSENTER (CPUID SEP)");
  wrmsr(MSR_SYSENTER_CS, SEG_KCODE << 3, 0);
  wrmsr(MSR_SYSENTER_EIP, (uint)sysenter_entry, 0);
  wrmsr(MSR_SYSENTER_ESP, 0, 0);
  c->sysenter_esp = 0;
}

static void settss(struct cpu *c, uint esp0);

// This CPU's GDT: flat kernel and user segments, the TSS slots.
void
seginit(void)
{
  struct cpu *c = &cpus[cpuid()];

  c->gdt[SEG_KCODE] = SEG(STA_X | STA_R, 0, 0xffffffff, 0);
  c->gdt[SEG_KDATA] = SEG(STA_W, 0, 0xffffffff, 0);
  c->gdt[SEG_UCODE] = SEG(STA_X | STA_R, 0, 0xffffffff, DPL_USER);
  c->gdt[SEG_UDATA] = SEG(STA_W, 0, 0xffffffff, DPL_USER);
  dftssinit(c);
  sysenterinit(c);
  lgdt(c->gdt, sizeof c->gdt);
  asm volatile(
    "ljmp %0, $1f\n"
    "1:\n"
    "movw %1, %%ax\n"
    "movw %%ax, %%ds\n"
    "movw %%ax, %%es\n"
    "movw %%ax, %%ss\n"
    "movw %%ax, %%fs\n"
    "movw %%ax, %%gs\n"
    : : "i"(SEG_KCODE << 3), "i"(SEG_KDATA << 3) : "eax", "memory");
  // A task register from the start, though no process has run here yet:
  // the double-fault task switch saves the faulting state into the current
  // TSS, and with none loaded the switch itself faults (a CPU that overflowed
  // its scheduler stack before its first process triple-faulted).
  settss(c, 0);
}

// The PTE for user address va, making a page table if alloc is set.
static pte_t *
walkpgdir(pde_t *pgdir, uint va, int alloc)
{
  pde_t *pde = &pgdir[PDX(va)];
  pte_t *pgtab;

  if (va >= KERNBASE)
    return 0;
  if (*pde & PTE_P) {
    pgtab = (pte_t *)P2V(PTE_ADDR(*pde));
  } else {
    if (!alloc || (pgtab = (pte_t *)kalloc()) == 0)
      return 0;
    *pde = V2P(pgtab) | PTE_P | PTE_W | PTE_U;
  }
  return &pgtab[PTX(va)];
}

static int
mappage(pde_t *pgdir, uint va, uint pa, int perm)
{
  pte_t *pte = walkpgdir(pgdir, va, 1);
  if (pte == 0)
    return -ENOMEM;
  if (*pte & PTE_P)
    panic("mappage: remap %p", va);
  *pte = pa | perm | PTE_P;
  return 0;
}

static pde_t *
makekpgdir(void)
{
  pde_t *pd = (pde_t *)kalloc();
  if (pd == 0 || (kstackpt = (pte_t *)kalloc()) == 0)
    panic("makekpgdir: out of memory");
  for (uint pa = 0; pa < memtop; pa += BIGPAGE)
    pd[PDX(KERNBASE + pa)] = pa | PTE_P | PTE_W | PTE_PS;
  pd[PDX(KSTACKS)] = V2P(kstackpt) | PTE_P | PTE_W;
  for (uint va = DEVSPACE; va >= DEVSPACE; va += BIGPAGE)
    pd[PDX(va)] = va | PTE_P | PTE_W | PTE_PS | PTE_PCD | PTE_PWT;
  return pd;
}

void
kvmalloc(void)
{
  kpgdir = makekpgdir();
  switchkvm();
}

// A new page directory with the kernel half filled in and no user memory.
pde_t *
setupkvm(void)
{
  pde_t *pd = (pde_t *)kalloc();
  if (pd == 0)
    return 0;
  memmove(&pd[PDX(KERNBASE)], &kpgdir[PDX(KERNBASE)],
          (NPDENTRIES - PDX(KERNBASE)) * sizeof(pde_t));
  return pd;
}

// An application processor's first step (main.c's mpenter): the kernel
// page table, before anything reads the LAPIC (mycpu does), which the boot
// page directory it came up with does not map.
void
kvmenter(void)
{
  lcr3(V2P(kpgdir));
}

void
switchkvm(void)
{
  pushcli();
  mycpu()->curpgdir = kpgdir;
  lcr3(V2P(kpgdir));
  popcli();
}

// Traps from user mode land on the kernel stack that ends at esp0 (a
// process's). The descriptor is made afresh because ltr marks it busy.
static void
settss(struct cpu *c, uint esp0)
{
  c->gdt[SEG_TSS] = SEG16(STS_T32A, &c->ts, sizeof c->ts - 1, 0);
  c->gdt[SEG_TSS].s = 0;
  c->ts.ss0 = SEG_KDATA << 3;
  c->ts.esp0 = esp0;
  if (c->sysenter_esp != c->ts.esp0) {   // sysenter's stack: the same one
    c->sysenter_esp = c->ts.esp0;
    wrmsr(MSR_SYSENTER_ESP, c->sysenter_esp, 0);
  }
  c->ts.iomb = 0xFFFF;   // past the TSS limit: no I/O ports from user mode
  ltr(SEG_TSS << 3);
}

// Make p the process this CPU runs: its kernel stack for traps, and its
// address space in %cr3, loaded always when flush (a reload also flushes
// the TLB), otherwise only if another directory is loaded.
static void
loadproc(struct proc *p, int flush)
{
  if (p == 0 || p->kstack == 0 || p->pgdir == 0)
    panic("switching to an incomplete process");
  pushcli();
  struct cpu *c = mycpu();
  settss(c, (uint)p->kstack + KSTACKSIZE);
  pde_t *want = p->pgdir;
  if (p->kthread && !flush)
    want = ncpu > 1 ? kpgdir : c->curpgdir;
  if (flush || c->curpgdir != want) {
    c->curpgdir = want;
    lcr3(V2P(want));
  }
  popcli();
}

// Use p's address space; always reloads %cr3 (growproc and exec rely on the
// TLB flush that comes with it).
void
switchuvm(struct proc *p)
{
  loadproc(p, 1);
}

// The scheduler's switch: %cr3 is reloaded only if p's page directory is not
// already there (the kernel half is the same in all of them, so the
// scheduler can run on any). Reloads cost a TLB flush, dear under emulation.
// Kernel threads run on whatever is loaded when there is one CPU. With more,
// another CPU may free the user directory this one still has loaded (its
// process moved there and exited), so kernel threads use kpgdir.
void
switchto(struct proc *p)
{
  loadproc(p, 0);
}

// Map the kernel stack of process-table slot `slot`, below which one page is
// left unmapped as a guard. Returns the stack's lowest address, or 0.
char *
kstackmap(int slot)
{
  uint base = KSTACKS + slot * (KSTACKSIZE + PGSIZE) + PGSIZE;
  int npages = KSTACKSIZE / PGSIZE;
  char *pages[KSTACKSIZE / PGSIZE];

  if (base + KSTACKSIZE > KSTACKSEND)
    panic("kstackmap: slot %d out of range", slot);
  for (int i = 0; i < npages; i++) {
    if ((pages[i] = kalloc()) == 0) {
      while (--i >= 0)
        kfree(pages[i]);
      return 0;
    }
  }
  for (int i = 0; i < npages; i++)
    kstackpt[PTX(base + i * PGSIZE)] = V2P(pages[i]) | PTE_P | PTE_W;
  return (char *)base;
}

// The scheduler stack of CPU c, which its interrupts while idle also use:
// a kernel-stack slot after the processes', so with a guard page below it.
// Returns the stack's top (it grows down), or 0 if memory ran out.
char *
cpustackmap(struct cpu *c)
{
  if (c->stack == 0)
    c->stack = kstackmap(NPROC + (c - cpus));
  return c->stack ? c->stack + KSTACKSIZE : 0;
}

// Grow user memory from oldsz to newsz with zeroed pages; returns newsz, or
// 0 (with nothing left allocated) when memory runs out.
int
allocuvm(pde_t *pgdir, uint oldsz, uint newsz, int perm)
{
  if (newsz > KERNBASE)
    return 0;
  if (newsz < oldsz)
    return oldsz;
  for (uint a = PGROUNDUP(oldsz); a < newsz; a += PGSIZE) {
    char *mem = kalloc();
    if (mem == 0 || mappage(pgdir, a, V2P(mem), perm) < 0) {
      if (mem)
        kfree(mem);
      deallocuvm(pgdir, a, oldsz);
      return 0;
    }
  }
  return newsz;
}

// Free user pages from newsz up to oldsz; returns newsz.
int
deallocuvm(pde_t *pgdir, uint oldsz, uint newsz)
{
  if (newsz >= oldsz)
    return oldsz;
  for (uint a = PGROUNDUP(newsz); a < oldsz && a < KERNBASE; a += PGSIZE) {
    if (!(pgdir[PDX(a)] & PTE_P)) {
      a = PGADDR(PDX(a) + 1, 0, 0) - PGSIZE;   // skip the whole missing table
      continue;
    }
    pte_t *pte = walkpgdir(pgdir, a, 0);
    if (*pte & PTE_P) {
      kfree(P2V(PTE_ADDR(*pte)));
      *pte = 0;
    }
  }
  return newsz;
}

// Free a page directory with all its user pages and page tables.
void
freevm(pde_t *pgdir)
{
  if (pgdir == 0)
    panic("freevm: no pgdir");
  pushcli();
  if (mycpu()->curpgdir == pgdir)   // never leave a freed directory in %cr3
    switchkvm();
  popcli();
  deallocuvm(pgdir, KERNBASE, 0);
  for (uint i = 0; i < PDX(KERNBASE); i++)
    if (pgdir[i] & PTE_P)
      kfree(P2V(PTE_ADDR(pgdir[i])));
  kfree((char *)pgdir);
}

// Make the page at uva inaccessible from user mode (a stack guard page).
void
clearpteu(pde_t *pgdir, char *uva)
{
  pte_t *pte = walkpgdir(pgdir, (uint)uva, 0);
  if (pte == 0)
    panic("clearpteu");
  *pte &= ~PTE_U;
}

// Make the user pages of [va, va+len) read-only (exec, for text and
// read-only data): user writes fault, and copyout refuses them.
void
uvmreadonly(pde_t *pgdir, uint va, uint len)
{
  for (uint a = PGROUNDDOWN(va); a < va + len; a += PGSIZE) {
    pte_t *pte = walkpgdir(pgdir, a, 0);
    if (pte && (*pte & PTE_P))
      *pte &= ~PTE_W;
  }
}

// May parent and child map this page together? Read-only user pages: no one
// can write them (user writes fault, copyout and loaduvm's callers check
// PTE_W or write only a new image), so a copy would only cost the copy --
// and under TCG much more: a program's text at a new physical address is
// translated again, and the writes that poison and zero a freed text page
// invalidate its translations (docs/kernel.md, "Fork shares text").
static int
shareable(pte_t pte)
{
  return (pte & PTE_U) && !(pte & PTE_W);
}

// A copy of a parent's user memory for a child, sharing its read-only
// pages; 0 when memory runs out.
pde_t *
copyuvm(pde_t *pgdir, uint sz)
{
  pde_t *d = setupkvm();
  if (d == 0)
    return 0;
  for (uint a = 0; a < sz; a += PGSIZE) {
    pte_t *pte = walkpgdir(pgdir, a, 0);
    if (pte == 0 || !(*pte & PTE_P))
      continue;
    char *mem = P2V(PTE_ADDR(*pte));
    if (!shareable(*pte) || kshare(mem) < 0) {
      char *copy = kalloc();
      if (copy == 0)
        goto bad;
      memmove(copy, mem, PGSIZE);
      mem = copy;
    }
    if (mappage(d, a, V2P(mem), PTE_FLAGS(*pte) & ~PTE_P) < 0) {
      kfree(mem);
      goto bad;
    }
  }
  return d;
bad:
  freevm(d);
  return 0;
}

// The kernel address of user address va if its page has all of `need`
// (PTE_U always), else 0.
static char *
uva2ka(pde_t *pgdir, uint va, int need)
{
  pte_t *pte = walkpgdir(pgdir, va, 0);
  need |= PTE_P | PTE_U;
  if (pte == 0 || (*pte & need) != need)
    return 0;
  return (char *)P2V(PTE_ADDR(*pte)) + (va & (PGSIZE - 1));
}

// Copy between kernel memory and user memory at va, page by page; -EFAULT if
// any byte of the user range is not mapped for user access.
static int
copyuser(pde_t *pgdir, uint va, char *kbuf, uint len, int out, int need)
{
  while (len > 0) {
    char *ka = uva2ka(pgdir, va, need);
    if (ka == 0)
      return -EFAULT;
    uint n = MIN(PGSIZE - (va & (PGSIZE - 1)), len);
    if (out)
      memmove(ka, kbuf, n);
    else
      memmove(kbuf, ka, n);
    len -= n;
    kbuf += n;
    va += n;
  }
  return 0;
}

int
copyout(pde_t *pgdir, uint va, const void *src, uint len)
{
  return copyuser(pgdir, va, (char *)src, len, 1, PTE_W);
}

int
copyin(pde_t *pgdir, void *dst, uint va, uint len)
{
  return copyuser(pgdir, va, dst, len, 0, 0);
}

// Load program bytes into pages already allocated by allocuvm.
int
loaduvm(pde_t *pgdir, uint va, const char *src, uint n)
{
  return copyuser(pgdir, va, (char *)src, n, 1, 0);
}

// Copy a NUL-terminated string of at most max bytes (NUL included) from user
// space; returns its length, -EFAULT, or -ENAMETOOLONG.
int
copyinstr(pde_t *pgdir, char *dst, uint va, uint max)
{
  for (uint i = 0; i < max; i++) {
    char *ka = uva2ka(pgdir, va + i, 0);
    if (ka == 0)
      return -EFAULT;
    dst[i] = *ka;
    if (*ka == 0)
      return i;
  }
  return -ENAMETOOLONG;
}

// Is every byte of [va, va+len) mapped for user access (writeable if write)?
int
uvmaccessible(pde_t *pgdir, uint va, uint len, int write)
{
  if (va + len < va)
    return 0;
  for (uint a = PGROUNDDOWN(va); a < va + len; a += PGSIZE)
    if (uva2ka(pgdir, a, write ? PTE_W : 0) == 0)
      return 0;
  return 1;
}
