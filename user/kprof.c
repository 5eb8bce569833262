// kprof start [HZ] | stop | dump | pages: drive the kernel's sampling
// profiler (kernel/prof.c), or count the kernel's pages in use by where they
// were allocated ("PAGES PC" lines, largest first; `addr2line -f -e
// build/kernel.elf PC` names the site). dump prints one line per sample for the toolkit
// (`xv6net prof`, src/xv6net/prof.py) to resolve against the kernel's
// symbols:
//
//   k PID EIP PC1 PC2 PC3 PC4     a kernel-mode sample and its callers (hex)
//   u PID EIP                     a user-mode sample
//
// and a last line "kprof: N samples".
#include "kernel/types.h"
#include "kernel/errno.h"
#include "kernel/prof.h"
#include "user/user.h"

#define MAXSAMPLES 16384

static const char usage[] =
  "usage: kprof start [HZ] | stop | dump | pages\n"
  "  start  forget old samples and sample HZ times a second, 2 to 8192 (default 1024)\n"
  "  stop   stop sampling\n"
  "  dump   print the samples for xv6net prof\n"
  "  pages  the kernel's pages in use by allocation site (PAGES PC)\n";

static int
dump(void)
{
  struct kprof_sample *s = malloc(MAXSAMPLES * sizeof *s);
  if (s == 0) {
    fprintf(2, "kprof: out of memory\n");
    return 1;
  }
  int n = kprof(KPROF_READ, (int)s, MAXSAMPLES);
  if (n < 0) {
    fprintf(2, "kprof: %s\n", errno == EBUSY ? "still sampling: kprof stop first" : "cannot read samples");
    return 1;
  }
  for (int i = 0; i < n; i++) {
    if (s[i].flags & KPROF_USER)
      printf("u %d %x\n", s[i].pid, s[i].eip);
    else
      printf("k %d %x %x %x %x %x\n", s[i].pid, s[i].eip,
             s[i].pcs[0], s[i].pcs[1], s[i].pcs[2], s[i].pcs[3]);
  }
  printf("kprof: %d samples\n", n);
  return 0;
}

static int
pages(void)
{
  struct kprof_pages *s = malloc(KPROF_MAXSITES * sizeof *s);
  if (s == 0) {
    fprintf(2, "kprof: out of memory\n");
    return 1;
  }
  int n = kprof(KPROF_PAGES, (int)s, KPROF_MAXSITES);
  if (n < 0) {
    fprintf(2, "kprof: cannot count pages: %s\n", strerror(errno));
    return 1;
  }
  uint total = 0;
  for (int i = 0; i < n; i++) {   // largest first: a selection sort is plenty here
    int big = i;
    for (int j = i + 1; j < n; j++)
      if (s[j].pages > s[big].pages)
        big = j;
    struct kprof_pages t = s[i];
    s[i] = s[big];
    s[big] = t;
    printf("%6u 0x%x\n", s[i].pages, s[i].pc);
    total += s[i].pages;
  }
  printf("kprof: %u pages in use from %d sites\n", total, n);
  free(s);
  return 0;
}

int
main(int argc, char **argv)
{
  argsinit("kprof", usage);
  arghelp(argc, argv);
  if (argc < 2)
    argmissing("command (start, stop, dump or pages)");
  int start = strcmp(argv[1], "start") == 0;
  if (argc > 2 + start)
    argextra(argv[2 + start]);
  if (start) {
    int hz = argc > 2 ? argnum(0, "rate", argv[2], 2, 8192) : 1024;
    if (kprof(KPROF_START, hz, 0) < 0) {
      fprintf(2, "kprof: cannot start at %d Hz: %s\n", hz, strerror(errno));
      return 1;
    }
    return 0;
  }
  if (strcmp(argv[1], "stop") == 0) {
    int n = kprof(KPROF_STOP, 0, 0);
    printf("kprof: stopped, %d samples\n", n);
    return 0;
  }
  if (strcmp(argv[1], "dump") == 0)
    return dump();
  if (strcmp(argv[1], "pages") == 0)
    return pages();
  usagefail("unknown command '%s' (start, stop, dump or pages)", argv[1]);
}
