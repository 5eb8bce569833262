// sysinfo(struct sysinfo *): what the kernel has in use, so that a program
// (sysfuzz, tests) can see whether everything came back after its children
// exited. Not Linux's struct sysinfo: these are xv6net's own resources.
#ifndef XV6NET_SYSINFO_H
#define XV6NET_SYSINFO_H
#include "kernel/types.h"

struct sysinfo {
  uint uptime;          // ticks since boot
  uint freepages;       // physical pages free (4 KiB each)
  uint kstackpages;     // pages kept by process slots' kernel stacks (each slot keeps its
                        // stack once made: a high-water mark, not a leak)
  uint procs;           // process slots in use (zombies and kernel threads included)
  uint files;           // open file structures
  uint sockets;         // sockets in use
  uint pbuf_free, pbuf_total;         // the network stack's buffer pools
  uint bigpbuf_free, bigpbuf_total;
  uint shortpbuf_free, shortpbuf_total;
  uint uartdropped;     // console characters the UART gave up on (kernel/uart.c)
  uint uartwaitmax;     // its longest wait for the transmitter, microseconds
  uint ncpu;            // CPUs running
  uint64 clockus;       // microseconds since boot (clock(2)'s clock) when read
  uint64 idleus;        // microseconds the CPUs sat halted with nothing to run, summed
};

#endif
