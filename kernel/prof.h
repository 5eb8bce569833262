// The sampling profiler's interface, shared by the kernel and user space
// (system call kprof; user/kprof.c; src/xv6net/prof.py reads its output).
#ifndef XV6NET_PROF_H
#define XV6NET_PROF_H

#define KPROF_STOP   0   // kprof(KPROF_STOP, 0, 0): stop sampling
#define KPROF_START  1   // kprof(KPROF_START, hz, 0): forget old samples, sample hz times a second
#define KPROF_READ   2   // kprof(KPROF_READ, buf, max): copy up to max samples; returns how many
#define KPROF_PAGES  3   // kprof(KPROF_PAGES, buf, max): pages in use by allocation site
                         // (struct kprof_pages, sorted by pc); returns how many sites
#define KPROF_MAXSITES 512   // KPROF_PAGES's limit; -ENOSPC past it

#define KPROF_DEPTH  4   // callers recorded per kernel sample
#define KPROF_USER   1   // flags: the CPU was in user mode (pcs[] unused)

struct kprof_sample {
  uint eip;                    // where the CPU was interrupted
  uint pcs[KPROF_DEPTH];       // return addresses up the kernel stack, 0 past the end
  int pid;                     // the running process, 0 when none (scheduler, idle)
  uint flags;                  // KPROF_*
};

// Pages in use taken by one call site of kalloc (its return address:
// `addr2line -f -e build/kernel.elf PC` names it).
struct kprof_pages {
  uint pc;
  uint pages;
};

#endif
