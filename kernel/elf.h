// The parts of the ELF format the program loader needs (32-bit).
#ifndef XV6NET_ELF_H
#define XV6NET_ELF_H
#include "kernel/types.h"

#define ELF_MAGIC 0x464C457FU   // "\x7FELF" little-endian

struct elfhdr {
  uint magic;
  uchar elf[12];
  ushort type;
  ushort machine;
  uint version;
  uint entry;
  uint phoff;
  uint shoff;
  uint flags;
  ushort ehsize;
  ushort phentsize;
  ushort phnum;
  ushort shentsize;
  ushort shnum;
  ushort shstrndx;
};

struct proghdr {
  uint type;
  uint off;
  uint vaddr;
  uint paddr;
  uint filesz;
  uint memsz;
  uint flags;
  uint align;
};

#define ELF_PROG_LOAD 1
#define ELF_PROG_FLAG_WRITE 2   // proghdr.flags: the segment is writable
#define ELF_MACHINE_386 3

#endif
