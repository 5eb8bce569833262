// The multiboot v1 information structure (Multiboot Specification 0.6.96).
#ifndef XV6NET_MULTIBOOT_H
#define XV6NET_MULTIBOOT_H
#include "kernel/types.h"

#define MULTIBOOT_BOOTLOADER_MAGIC 0x2BADB002

#define MBI_MEMORY  (1 << 0)   // mem_lower / mem_upper valid
#define MBI_CMDLINE (1 << 2)
#define MBI_MODS    (1 << 3)
#define MBI_MMAP    (1 << 6)

struct mbinfo {
  uint flags;
  uint mem_lower;     // KiB below 1 MiB
  uint mem_upper;     // KiB above 1 MiB (up to the first hole)
  uint boot_device;
  uint cmdline;       // physical address of a C string
  uint mods_count;
  uint mods_addr;     // physical address of struct mbmodule[mods_count]
  uint syms[4];
  uint mmap_length;
  uint mmap_addr;
};

struct mbmodule {
  uint start;
  uint end;
  uint string;
  uint reserved;
};

#endif
