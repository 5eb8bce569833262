// exec: replace the current process's memory with a program from the root
// file system. Layout of the new image, bottom up: the ELF segments, a guard
// page, the user stack (USTACKSIZE), then the heap that sbrk grows.

#include "kernel/types.h"
#include "kernel/defs.h"
#include "kernel/param.h"
#include "kernel/errno.h"
#include "kernel/stat.h"
#include "kernel/memlayout.h"
#include "kernel/mmu.h"
#include "kernel/proc.h"
#include "kernel/x86.h"
#include "kernel/elf.h"
#include "kernel/file.h"

// Read exactly n bytes at off into the kernel buffer dst.
static int
readat(struct inode *ip, void *dst, uint off, uint n)
{
  return ramfs_read(ip, 0, (uint)dst, &off, n) == (int)n ? 0 : -ENOEXEC;
}

// Check a program header against the file and the user address range.
static int
segmentok(uint size, struct proghdr *ph)
{
  return ph->memsz >= ph->filesz &&
         ph->vaddr % PGSIZE == 0 &&
         ph->vaddr + ph->memsz >= ph->vaddr &&
         ph->vaddr + ph->memsz <= KERNBASE - USTACKSIZE - 2 * PGSIZE &&
         ph->off <= size && ph->filesz <= size - ph->off;
}

// Copy a segment's file bytes into the new image, a page at a time through
// the kernel buffer page (a file's pages need not be contiguous).
static int
loadsegment(pde_t *pgdir, struct inode *ip, struct proghdr *ph, char *page)
{
  for (uint done = 0; done < ph->filesz; done += PGSIZE) {
    uint n = MIN(PGSIZE, ph->filesz - done);
    if (readat(ip, page, ph->off + done, n) < 0 || loaduvm(pgdir, ph->vaddr + done, page, n) < 0)
      return -ENOEXEC;
  }
  return 0;
}

// Load every PT_LOAD segment of ip into pgdir; returns the highest end, or
// a negative error.
static int
loadsegments(pde_t *pgdir, struct inode *ip, struct elfhdr *eh, char *page)
{
  uint sz = 0, size = ramfs_size(ip);

  if (eh->phentsize != sizeof(struct proghdr) || eh->phoff > size ||
      eh->phnum * sizeof(struct proghdr) > size - eh->phoff)
    return -ENOEXEC;
  for (int i = 0; i < eh->phnum; i++) {
    struct proghdr ph;
    if (readat(ip, &ph, eh->phoff + i * sizeof ph, sizeof ph) < 0)
      return -ENOEXEC;
    if (ph.type != ELF_PROG_LOAD || ph.memsz == 0)
      continue;
    if (!segmentok(size, &ph) || ph.vaddr < sz)
      return -ENOEXEC;
    // Leave the gap below the first segment unmapped (address 0 faults).
    if (sz == 0)
      sz = ph.vaddr;
    if (sz < ph.vaddr + ph.memsz &&
        (sz = allocuvm(pgdir, sz, ph.vaddr + ph.memsz, PTE_W | PTE_U)) == 0)
      return -ENOMEM;
    if (loadsegment(pgdir, ip, &ph, page) < 0)
      return -ENOEXEC;
    // Text and read-only data: no writes, and fork shares these pages.
    if (!(ph.flags & ELF_PROG_FLAG_WRITE))
      uvmreadonly(pgdir, ph.vaddr, ph.memsz);
  }
  return sz;
}

// Push argv's strings and the argument vector onto the new stack so that it
// looks like a call _start(argc, argv) with a fake return address.
static int
pushargs(pde_t *pgdir, uint *spp, char **argv)
{
  uint sp = *spp, ustack[3 + MAXARG + 1];
  int argc;

  for (argc = 0; argv[argc]; argc++) {
    if (argc >= MAXARG)
      return -E2BIG;
    int len = strlen(argv[argc]) + 1;
    sp = (sp - len) & ~3;
    if (copyout(pgdir, sp, argv[argc], len) < 0)
      return -E2BIG;
    ustack[3 + argc] = sp;
  }
  ustack[3 + argc] = 0;
  ustack[0] = 0xffffffff;       // fake return PC
  ustack[1] = argc;
  ustack[2] = sp - (argc + 1) * 4;   // argv pointer
  sp -= (3 + argc + 1) * 4;
  if (copyout(pgdir, sp, ustack, (3 + argc + 1) * 4) < 0)
    return -E2BIG;
  *spp = sp;
  return 0;
}

// The new image for the program at path; the caller's is freed only once
// the new one is complete.
static int
loadimage(struct inode *ip, pde_t **pgdirp, uint *szp, uint *entry)
{
  struct elfhdr eh;
  pde_t *pgdir;
  char *page;
  int err;

  if (ip->type == T_DIR)
    return -EISDIR;
  if (ip->type != T_FILE)
    return -EACCES;
  if (readat(ip, &eh, 0, sizeof eh) < 0)
    return -ENOEXEC;
  if (eh.magic != ELF_MAGIC || eh.machine != ELF_MACHINE_386 || eh.entry >= KERNBASE)
    return -ENOEXEC;
  if ((pgdir = setupkvm()) == 0)
    return -ENOMEM;
  if ((page = kalloc()) == 0) {
    freevm(pgdir);
    return -ENOMEM;
  }
  err = loadsegments(pgdir, ip, &eh, page);
  kfree(page);
  if (err < 0) {
    freevm(pgdir);
    return err;
  }
  *pgdirp = pgdir;
  *szp = PGROUNDUP((uint)err);
  *entry = eh.entry;
  return 0;
}

// path and argv are kernel memory (sys_exec copies them in).
int
exec(char *path, char **argv)
{
  struct proc *cur = myproc();
  struct inode *ip;
  pde_t *pgdir = 0;
  int err;
  uint sz, sp, entry;

  if ((err = ramfs_namei(path, cur->cwd, &ip)) < 0)
    return err;
  err = loadimage(ip, &pgdir, &sz, &entry);
  ramfs_put(ip);
  if (err < 0)
    return err;

  // A guard page, inaccessible to user code, then the stack.
  err = -ENOMEM;
  if ((sz = allocuvm(pgdir, sz, sz + PGSIZE + USTACKSIZE, PTE_W | PTE_U)) == 0)
    goto bad;
  clearpteu(pgdir, (char *)(sz - USTACKSIZE - PGSIZE));
  sp = sz;
  if ((err = pushargs(pgdir, &sp, argv)) < 0)
    goto bad;

  // Name the process after the program's last path component.
  char *last = path;
  for (char *s = path; *s; s++)
    if (*s == '/')
      last = s + 1;
  safestrcpy(cur->name, last, sizeof cur->name);
  sigexec(cur);

  pde_t *oldpgdir = cur->pgdir;
  cur->pgdir = pgdir;
  cur->sz = sz;
  cur->brkmin = sz;
  cur->tf->eip = entry;
  cur->tf->esp = sp;
  switchuvm(cur);
  freevm(oldpgdir);
  return 0;

bad:
  freevm(pgdir);
  return err;
}
