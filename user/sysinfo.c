// sysinfo: what the kernel has in use (sysinfo(2), kernel/sysinfo.h), one
// "name value" line each; uartdropped is the console characters the UART
// gave up on since boot, uartwaitmax its longest wait for the transmitter
// (kernel/uart.c); clock the time since boot (clock(2)'s) and idle the time the CPUs
// sat halted with nothing to run (summed over cpus), both in microseconds:
// two readings give the share of a stretch the system was idle.
#include "kernel/types.h"
#include "kernel/sysinfo.h"
#include "user/user.h"

static const char usage[] =
  "usage: sysinfo\n"
  "  the kernel's resources in use and the console's dropped characters\n";

int
main(int argc, char *argv[])
{
  struct sysinfo s;

  argsinit("sysinfo", usage);
  while (getopt(argc, argv, "") != -1)
    ;
  if (optind < argc)
    argextra(argv[optind]);
  if (sysinfo(&s) < 0) {
    perror("sysinfo");
    return 1;
  }
  printf("uptime %u\nfreepages %u\nkstackpages %u\nprocs %u\nfiles %u\nsockets %u\n"
         "pbufs %u/%u\nbigpbufs %u/%u\nshortpbufs %u/%u\nuartdropped %u\nuartwaitmax %u us\n",
         s.uptime, s.freepages, s.kstackpages, s.procs, s.files, s.sockets, s.pbuf_free,
         s.pbuf_total, s.bigpbuf_free, s.bigpbuf_total, s.shortpbuf_free, s.shortpbuf_total,
         s.uartdropped, s.uartwaitmax);
  printf("cpus %u\nclock %llu us\nidle %llu us\n", s.ncpu, s.clockus, s.idleus);
  return 0;
}
