// Host-compiled unit tests for kernel/string.c's memmove (and memcpy): every
// length 0..80 at every source and destination alignment, forward and
// backward overlaps at every distance, against a byte-at-a-time reference.
// The kernel's names are renamed on the way in, so that the host C library
// keeps its own; defs.h is left out (string.c needs only types.h from it).
// 32-bit only, as the kernel: string.c casts pointers to uint.
//
//   gcc -m32 -Wall -Werror -I. -o build/cunit/test_string tests/cunit/test_string.c
//   build/cunit/test_string          # prints "N passed, M failed"; exit status 1 on failure

#include "kernel/types.h"
#define XV6NET_DEFS_H
#define memset kmemset
#define memcmp kmemcmp
#define memmove kmemmove
#define memcpy kmemcpy
#define strncmp kstrncmp
#define strncpy kstrncpy
#define safestrcpy ksafestrcpy
#define strlen kstrlen
#define atoi katoi
void *memset(void *, int, uint);
void *memmove(void *, const void *, uint);
void *memcpy(void *, const void *, uint);
int memcmp(const void *, const void *, uint);
int strncmp(const char *, const char *, uint);
char *strncpy(char *, const char *, int);
char *safestrcpy(char *, const char *, int);
int strlen(const char *);
int atoi(const char *);
#include "kernel/string.c"
#undef memset
#undef memcmp
#undef memmove
#undef memcpy
#undef strncmp
#undef strncpy
#undef safestrcpy
#undef strlen
#undef atoi

#include "tests/host/check.h"

#define AREA 256

static void
fill(uchar *p, uint n, uint seed)
{
  for (uint i = 0; i < n; i++)
    p[i] = (uchar)(i * 7 + seed * 13 + 1);
}

// What memmove must do: copy as if through a temporary buffer.
static void
reference(uchar *area, uint dst, uint src, uint n)
{
  uchar tmp[AREA];
  for (uint i = 0; i < n; i++)
    tmp[i] = area[src + i];
  for (uint i = 0; i < n; i++)
    area[dst + i] = tmp[i];
}

static int
one(uint dst, uint src, uint n)
{
  uchar got[AREA], want[AREA];
  fill(got, AREA, dst ^ src ^ n);
  fill(want, AREA, dst ^ src ^ n);
  void *r = kmemmove(got + dst, got + src, n);
  reference(want, dst, src, n);
  return r == got + dst && memcmp(got, want, AREA) == 0;
}

static void
test_memmove_every_length_and_alignment_apart(void)
{
  int bad = 0;
  for (uint n = 0; n <= 80; n++)
    for (uint s = 0; s < 8; s++)
      for (uint d = 0; d < 8; d++)
        bad += !one(128 + d, s, n);   // apart: never overlapping
  CHECK_EQ(bad, 0);
}

static void
test_memmove_overlaps_at_every_distance(void)
{
  int bad = 0;
  for (uint n = 0; n <= 80; n++)
    for (uint dist = 1; dist <= 40; dist++)
      for (uint base = 0; base < 4; base++) {
        bad += !one(40 + base + dist, 40 + base, n);   // dst above src: backward
        bad += !one(40 + base, 40 + base + dist, n);   // dst below src: forward
      }
  CHECK_EQ(bad, 0);
}

static void
test_memmove_onto_itself_and_memcpy(void)
{
  CHECK(one(16, 16, 100));
  uchar a[64], b[64];
  fill(a, sizeof a, 3);
  memset(b, 0, sizeof b);
  CHECK(kmemcpy(b + 1, a + 3, 50) == b + 1);
  CHECK_MEM(b + 1, a + 3, 50);
  CHECK_EQ(b[0], 0);
  CHECK_EQ(b[51], 0);
}

static const struct test tests[] = {
  TEST(test_memmove_every_length_and_alignment_apart),
  TEST(test_memmove_overlaps_at_every_distance),
  TEST(test_memmove_onto_itself_and_memcpy),
};

int
main(void)
{
  return run_tests(tests, sizeof tests / sizeof tests[0], 0);
}
