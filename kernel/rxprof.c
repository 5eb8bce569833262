// The receive path's stage timer (KDEFS=-DRXPROF; netos.h lists the
// stages): each stage adds the TSC counts it took and one pass. `sysinfo`
// prints the table since the last print and clears it, so two prints
// around a transfer give its breakdown. Kept out of normal builds: rdtsc
// is a helper call under TCG, and the counts are shared by all CPUs
// without a lock (a lost update now and then is noise in a profile).

#include "kernel/types.h"
#include "kernel/defs.h"
#include "kernel/x86.h"
#include "kernel/net/netos.h"

#ifdef RXPROF
static struct {
  uint64 counts;
  uint passes;
} stages[RXP_NSTAGE];
static uint64 since, sinceus;

static const char *const names[RXP_NSTAGE] = {
  [RXP_INTR] = "e1000intr", [RXP_POLL] = "netrx poll", [RXP_TCPIN] = "tcp_input",
  [RXP_CSUM] = "tcp checksum", [RXP_COPYIN] = "copy to rcvbuf", [RXP_TCPOUT] = "tcp_output (rx)",
  [RXP_WAKE] = "tcp_wake", [RXP_RECV] = "tcp_recvfrom", [RXP_COPYOUT] = "copyout",
  [RXP_WINUPD] = "windowupdate", [RXP_RDT] = "RDT write", [RXP_IRQEN] = "irqenable",
  [RXP_XMIT] = "e1000 xmit", [RXP_SYSCALL] = "syscall", [RXP_SWITCH] = "switch to a proc",
  [RXP_ETHIN] = "ether_input", [RXP_IPHDR] = "ip checkhdr", [RXP_RAW] = "raw_deliver",
  [RXP_PKTTAP] = "packet_tap", [RXP_LOCK] = "acquire tcplock",
  [RXP_SEND] = "tcp_send (sleeps out)", [RXP_SNDCOPY] = "copy to sndbuf",
  [RXP_SNDOUT] = "tcp_output (send)", [RXP_SNDWAIT] = "writer sleeps",
  [RXP_SENDSEG] = "sendseg", [RXP_SEGCOPY] = "copy sndbuf to pbuf", [RXP_IPOUT] = "ip_output",
  [RXP_ACKIN] = "ackinput", [RXP_ACKWAKE] = "ackinput's tcp_wake",
  [RXP_BATCHOUT] = "tcp_output (batch end)",
  [RXP_UDPCSUM] = "udp checksum", [RXP_UDPLOOKUP] = "udp lookup",
  [RXP_UDPENQ] = "udp sock_enqueue", [RXP_IMS] = "IMS write",
};

unsigned long long
net_rxprof_begin(void)
{
  return rdtsc();
}

void
net_rxprof_end(int stage, unsigned long long start)
{
  stages[stage].counts += rdtsc() - start;
  stages[stage].passes++;
}

// One line per stage: passes, and microseconds in all (TSC counts scaled
// by the clock's microseconds over the same stretch).
void
rxprof_print(void)
{
  uint64 now = rdtsc(), nowus = clockus();
  uint64 dt = now - since, dus = nowus - sinceus;
  cprintf("rxprof: %d us\n", (int)dus);
  for (int i = 0; i < RXP_NSTAGE; i++) {
    uint64 ppm = dt ? stages[i].counts * 1000000 / dt : 0;   // no overflow for minutes
    cprintf("rxprof: %s passes %d us %d\n", names[i], stages[i].passes, (int)(ppm * dus / 1000000));
    stages[i].counts = 0;
    stages[i].passes = 0;
  }
  since = now;
  sinceus = nowus;
}
#else
void
rxprof_print(void)
{
}
#endif
