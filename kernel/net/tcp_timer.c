// TCP timers, run every tick from nettimer: retransmission (RFC 6298, with
// exponential backoff and a limit after which the connection fails with
// ETIMEDOUT), persist (zero-window probes, backed off), delayed ACK,
// keepalive (RFC 1122 4.2.3.6), TIME_WAIT (2*MSL) and the FIN_WAIT_2 limit
// on orphans. Each timer is a deadline in ticks in the tcpcb, 0 when off.

#include "kernel/net/netos.h"
#include "kernel/net/pbuf.h"
#include "kernel/net/netdev.h"
#include "kernel/net/ip.h"
#include "kernel/net/sock.h"
#include "kernel/net/tcp.h"
#include "kernel/net/nettrace.h"

// A deadline delay ticks from now; never 0, which means "off".
uint
tcp_deadline(uint delay)
{
  uint d = readticks() + MAX(delay, 1);
  return d ? d : 1;
}

static int
due(uint deadline, uint now)
{
  return deadline && (int)(now - deadline) >= 0;
}

// Arm the retransmission timer with the current RTO, backed off.
void
tcp_setrexmt(struct tcpcb *tp)
{
  // EXERCISE(tcp-rexmt): arm the retransmission timer: the RTO, backed off
  uint rto = tp->rto << MIN(tp->rxtshift, 10);
  tp->t_rexmt = tcp_deadline(MIN(rto, TCP_RTOMAX));
  // END EXERCISE
}

// A new round-trip sample in ticks (RFC 6298 2.2, 2.3; Jacobson's scaled
// integers: srtt holds 8*SRTT, rttvar 4*RTTVAR).
void
tcp_rttupdate(struct tcpcb *tp, int rtt)
{
  // EXERCISE(tcp-rexmt): a round-trip sample updates SRTT, RTTVAR and the RTO
  if (rtt < 1)
    rtt = 1;
  if (tp->srtt == 0) {
    tp->srtt = rtt << 3;
    tp->rttvar = rtt << 1;
  } else {
    int delta = rtt - (tp->srtt >> 3);
    tp->srtt += delta;                      // SRTT += (R' - SRTT) / 8
    if (delta < 0)
      delta = -delta;
    tp->rttvar += delta - (tp->rttvar >> 2);   // RTTVAR += (|delta| - RTTVAR) / 4
  }
  int rto = (tp->srtt >> 3) + MAX(1, tp->rttvar);
  tp->rto = MIN(MAX(rto, TCP_RTOMIN), TCP_RTOMAX);
  tp->rxtshift = 0;
  // END EXERCISE
}

void
tcp_settimewait(struct tcpcb *tp)
{
  tp->state = TCPS_TIME_WAIT;
  tp->t_rexmt = tp->t_persist = tp->t_delack = tp->t_keep = 0;
  tcpbuf_free(&tp->snd);     // all acknowledged: give the pages back now,
  if (tp->so == 0)           // not 2*MSL later
    tcpbuf_free(&tp->rcv);
  tp->t_2msl = tcp_deadline(2 * tcp_msl);
  tcp_wake(tp);
}

// No answer after RTO: back off, collapse the window (RFC 5681 3.1, eq. 4),
// and send again from SND.UNA; give up after the limit.
static void
rexmttimeout(struct tcpcb *tp)
{
  // EXERCISE(tcp-rexmt): the timer expired: back off, or give up; Karn; send again
  int limit = TCPS_SYNCHRONIZED(tp->state) ? TCP_MAXRXT : TCP_SYNRXT;
  tp->t_rexmt = 0;
  TCPCOUNT(timeouts);
  if (++tp->rxtshift > limit) {
    if (!TCPS_SYNCHRONIZED(tp->state))
      TCPCOUNT(attemptfails);
    tcp_drop(tp, tp->error ? tp->error : -ETIMEDOUT);
    return;
  }
  tp->flags &= ~(TF_RTTIMING | TF_RECOVERY);
  if (!TCPS_SYNCHRONIZED(tp->state)) {
    TCPCOUNT(retranssegs);
    tcp_sendsyn(tp);   // arms the timer, backed off
    return;
  }
  uint flight = tp->snd_max - tp->snd_una;
  tp->ssthresh = MAX(flight / 2, 2 * tp->mss);
  tp->cwnd = tp->mss;
  tp->dupacks = 0;
  tp->snd_nxt = tp->snd_una;
  tp->recover = tp->snd_max;
  tcp_setrexmt(tp);
  tcp_output(tp);
  // END EXERCISE
}

static void
persisttimeout(struct tcpcb *tp)
{
  TCPCOUNT(persistprobes);
  tcp_probe(tp);
  if (tp->persistshift < 12)
    tp->persistshift++;
  uint t = MAX(tp->rto, TCP_PERSMIN) << tp->persistshift;
  tp->t_persist = tcp_deadline(MIN(t, TCP_PERSMAX));
}

static void
keeptimeout(struct tcpcb *tp, uint now)
{
  if (!(tp->flags & TF_KEEPALIVE) || !TCPS_SYNCHRONIZED(tp->state) ||
      tp->state >= TCPS_CLOSE_WAIT) {
    tp->t_keep = 0;
    return;
  }
  if ((int)(now - tp->lastrecv) < TCP_KEEPIDLE) {
    tp->t_keep = tp->lastrecv + TCP_KEEPIDLE;   // heard from since: wait from then
    if (tp->t_keep == 0)
      tp->t_keep = 1;
    return;
  }
  if (tp->keepprobes >= TCP_KEEPCNT) {
    tcp_drop(tp, -ETIMEDOUT);
    return;
  }
  tp->keepprobes++;
  TCPCOUNT(keepaliveprobes);
  tcp_probe(tp);
  tp->t_keep = tcp_deadline(TCP_KEEPINTVL);
}

static void
timers(struct tcpcb *tp, uint now)
{
  if (due(tp->t_2msl, now)) {
    // TIME_WAIT over, or an orphan stuck in FIN_WAIT_2.
    tp->t_2msl = 0;
    tp->state = TCPS_CLOSED;
    tcp_closed(tp);
    return;
  }
  if (due(tp->t_delack, now)) {
    tp->t_delack = 0;
    tp->flags |= TF_ACKNOW;
    TCPCOUNT(delayedacks);
    tcp_output(tp);
  }
  if (tp->used && due(tp->t_rexmt, now)) {
    if (NETTRACE_ON & NT_TCP)   // no buffer to follow here: ask the filter
      nettrace_log("tcp_timer: port %d, retransmission timer expired (rto %d ticks, backoff "
                   "%d) -> send again from seq %u", tp->lport, tp->rto, tp->rxtshift,
                   tp->snd_una);
    rexmttimeout(tp);
  }
  if (tp->used && tp->state != TCPS_CLOSED && due(tp->t_persist, now))
    persisttimeout(tp);
  if (tp->used && tp->state != TCPS_CLOSED && due(tp->t_keep, now))
    keeptimeout(tp, now);
}

void
tcp_timer(uint now)
{
  acquire(&tcplock);
  for (struct tcpcb *tp = tcbs; tp < tcbend; tp++)
    if (tp->used && tp->state != TCPS_LISTEN)
      timers(tp, now);
  release(&tcplock);
}

// Ticks from now until tcp_timer next has work (at least 1), or
// NETTIMER_IDLE: the earliest armed deadline of any block timers() looks at.
// It may be early (a persist deadline of a closed block that timers() skips),
// never late.
uint
tcp_nexttimer(uint now)
{
  uint wait = NETTIMER_IDLE;
  acquire(&tcplock);
  for (struct tcpcb *tp = tcbs; tp < tcbend; tp++) {
    if (!tp->used || tp->state == TCPS_LISTEN)
      continue;
    uint armed[] = { tp->t_2msl, tp->t_delack, tp->t_rexmt, tp->t_persist, tp->t_keep };
    for (uint i = 0; i < NELEM(armed); i++)
      if (armed[i])
        wait = MIN(wait, nettimer_wait(now, armed[i]));
  }
  release(&tcplock);
  return wait;
}
