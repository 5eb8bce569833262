// malloc and free over sbrk.
//
// Every block, free or allocated, starts with a header giving its size in
// bytes (header included, a multiple of ALIGN). Free blocks are kept in a
// list sorted by address, so that free() can merge a block with its
// neighbours and memory does not fragment into ever smaller pieces.
// Allocation is first fit; a large enough free block is split and its
// tail handed out, which leaves the list links untouched.
#include "kernel/types.h"
#include "user/user.h"

#define ALIGN     8
#define MINGROW   (16 * 1024)   // ask sbrk for at least this much at a time

struct block {
  uint size;              // bytes, header included
  struct block *next;     // next free block by address (free blocks only)
};

#define HDR       ((uint)sizeof(struct block))
#define MINBLOCK  (HDR + ALIGN)   // smaller remainders are not worth a split

static struct block *freelist;    // lowest free block, or 0

static uint
roundup(uint n)
{
  return (n + ALIGN - 1) & ~(uint)(ALIGN - 1);
}

void
free(void *p)
{
  if (p == 0)
    return;
  struct block *b = (struct block *)((char *)p - HDR);
  struct block *prev = 0, *next = freelist;
  while (next && next < b) {
    prev = next;
    next = next->next;
  }
  b->next = next;
  if (next && (char *)b + b->size == (char *)next) {   // merge with the next
    b->size += next->size;
    b->next = next->next;
  }
  if (prev && (char *)prev + prev->size == (char *)b) { // merge with the previous
    prev->size += b->size;
    prev->next = b->next;
  } else if (prev) {
    prev->next = b;
  } else {
    freelist = b;
  }
}

// Adds at least need bytes from sbrk to the free list. Returns 0 on success,
// -1 (errno ENOMEM from sbrk) if the kernel has no more memory.
static int
morecore(uint need)
{
  uint n = need < MINGROW ? MINGROW : need;
  char *p = sbrk(n + ALIGN);   // room to align the start
  if (p == (char *)-1)
    return -1;
  struct block *b = (struct block *)roundup((uint)p);
  b->size = (n + ALIGN - ((char *)b - p)) & ~(uint)(ALIGN - 1);
  free((char *)b + HDR);
  return 0;
}

// Takes need bytes out of the first free block big enough, or returns 0.
static void *
takefree(uint need)
{
  struct block *prev = 0;
  for (struct block *b = freelist; b; prev = b, b = b->next) {
    if (b->size < need)
      continue;
    if (b->size - need >= MINBLOCK) {
      b->size -= need;
      b = (struct block *)((char *)b + b->size);
      b->size = need;
    } else if (prev) {
      prev->next = b->next;
    } else {
      freelist = b->next;
    }
    return (char *)b + HDR;
  }
  return 0;
}

void *
malloc(uint n)
{
  if (n > 0x7fff0000)   // the size computation below would overflow
    return 0;
  uint need = roundup(n + HDR);
  void *p = takefree(need);
  if (p == 0 && morecore(need) == 0)
    p = takefree(need);
  return p;
}

void *
calloc(uint count, uint size)
{
  if (size != 0 && count > 0xffffffffU / size)
    return 0;
  void *p = malloc(count * size);
  if (p)
    memset(p, 0, count * size);
  return p;
}

void *
realloc(void *p, uint n)
{
  if (p == 0)
    return malloc(n);
  struct block *b = (struct block *)((char *)p - HDR);
  uint have = b->size - HDR;
  if (n <= have)
    return p;
  void *q = malloc(n);
  if (q) {
    memmove(q, p, have);
    free(p);
  }
  return q;
}
