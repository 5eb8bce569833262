// Compile-time limits of the kernel.
#ifndef XV6NET_PARAM_H
#define XV6NET_PARAM_H

#define NCPU          8     // most CPUs we keep state for
#define NLOCKCLASS   64     // lock classes the checker and lockstat know (kernel/lockdep.c)
#define NLOCKHELD    16     // spinlocks one CPU holds at once that the checker tracks
#define NSLEEPHELD    4     // sleeplocks one process holds at once that it tracks
#define NPROC        64     // process table size
#define NOFILE       16     // open files per process
#define NFILE       128     // open files in the whole system
#define NINODE      256     // inodes in the in-memory root file system
#define NDEV          8     // device major numbers
#define MAXARG       32     // exec arguments
#define MAXPATH     128     // longest path accepted from user space
#define KSTACKSIZE 8192     // per-process kernel stack (a guard page sits below)
#define USTACKSIZE 16384    // user stack (a guard page sits below)
#define HZ          100     // timer interrupts per second
#define MAXMEM  0x38000000  // most physical memory we map (896 MiB)
#define CMDLINESZ   256     // longest kernel command line kept

#endif
