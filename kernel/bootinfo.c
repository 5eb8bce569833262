// What the multiboot loader tells us: memory size, the kernel command line
// and where the initramfs module lies. Everything is copied or noted before
// the page allocator may hand out the memory it lives in.

#include "kernel/types.h"
#include "kernel/defs.h"
#include "kernel/param.h"
#include "kernel/memlayout.h"
#include "kernel/mmu.h"
#include "kernel/multiboot.h"

extern char end[];

char kcmdline[CMDLINESZ];
uint memtop;
uint initrd_start, initrd_end;
static uint reserved_end;   // physical end of loader data we must keep

static void
reserve(uint pa_end)
{
  if (pa_end > reserved_end)
    reserved_end = pa_end;
}

// Only memory below 64 MiB is mapped yet (entrypgdir): so is all of the
// loader's data under QEMU; anything else is ignored with a message.
static int
early_mapped(uint pa, uint len)
{
  return pa < 0x4000000 && len <= 0x4000000 - pa;
}

void
bootinfoparse(uint magic, uint mbinfo_pa)
{
  reserved_end = V2P(end);
  memtop = 0x4000000;   // 64 MiB unless told
  if (magic != MULTIBOOT_BOOTLOADER_MAGIC || !early_mapped(mbinfo_pa, sizeof(struct mbinfo))) {
    cprintf("boot: not loaded by a multiboot loader (magic %x)\n", magic);
    return;
  }
  struct mbinfo *mbi = P2V(mbinfo_pa);
  reserve(mbinfo_pa + sizeof *mbi);

  if (mbi->flags & MBI_MEMORY)
    memtop = EXTMEM + mbi->mem_upper * 1024;
  if (memtop > MAXMEM)
    memtop = MAXMEM;
  memtop = PGROUNDDOWN(memtop);

  if ((mbi->flags & MBI_CMDLINE) && early_mapped(mbi->cmdline, 1)) {
    safestrcpy(kcmdline, P2V(mbi->cmdline), sizeof kcmdline);
    reserve(mbi->cmdline + strlen(kcmdline) + 1);
  }

  if ((mbi->flags & MBI_MODS) && mbi->mods_count > 0 &&
      early_mapped(mbi->mods_addr, sizeof(struct mbmodule))) {
    struct mbmodule *mod = P2V(mbi->mods_addr);
    reserve(mbi->mods_addr + mbi->mods_count * sizeof *mod);
    if (mod->end > mod->start && mod->end <= memtop) {
      initrd_start = mod->start;
      initrd_end = mod->end;
      reserve(mod->end);
    }
  }
}

// Free memory starts after the kernel and everything above.
uint
bootreserved(void)
{
  return PGROUNDUP(reserved_end);
}

// Find "key=value" on the kernel command line; copy value into val (up to
// max bytes with the NUL). Returns 1 if found. A bare "key" gives "".
int
cmdlineget(const char *key, char *val, int max)
{
  int klen = strlen(key);
  char *p = kcmdline;

  while (*p) {
    while (*p == ' ')
      p++;
    char *word = p;
    while (*p && *p != ' ')
      p++;
    if (strncmp(word, key, klen) == 0 && (word[klen] == '=' || word + klen == p)) {
      char *v = word[klen] == '=' ? word + klen + 1 : word + klen;
      int n = MIN(p - v, max - 1);
      if (max > 0) {
        memmove(val, v, n);
        val[n] = 0;
      }
      return 1;
    }
  }
  return 0;
}
