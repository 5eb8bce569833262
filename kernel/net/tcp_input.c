// TCP input: a segment arrives (RFC 9293 3.10.7), with RFC 5961's
// challenge ACKs against blind resets and SYNs, RFC 5681/6582 congestion
// control on ACKs, and a bounded out-of-order queue. The steps below follow
// the RFC's order: find the connection; LISTEN and SYN-SENT apart; then for
// synchronized states check RST, acceptability, SYN, ACK, data, FIN.

#include "kernel/net/netos.h"
#include "kernel/net/pbuf.h"
#include "kernel/net/netdev.h"
#include "kernel/net/ip.h"
#include "kernel/net/sock.h"
#include "kernel/net/tcp.h"
#include "kernel/net/nettrace.h"

// What a segment says, in host order, once checked.
struct seg {
  uint seq, ack, len;      // len: data bytes
  uint wnd;                // unscaled
  int flags;
  struct tcpopts opts;
  uchar *data;
  uint laddr, raddr;
  ushort lport, rport;
  uchar traced;            // the packet trace follows it (nettrace.h)
};

// For the packet trace: the names netstat shows.
static const char *const statenames[] = {
  "CLOSED", "LISTEN", "SYN_SENT", "SYN_RECV", "ESTABLISHED", "FIN_WAIT1", "FIN_WAIT2",
  "CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT",
};

#define SEGTRACE(sg, ...) \
  do { if (NETTRACE_ON && (sg)->traced) nettrace_log(__VA_ARGS__); } while (0)

#define SEGLEN(sg) ((sg)->len + !!((sg)->flags & TH_SYN) + !!((sg)->flags & TH_FIN))

// ---- options (RFC 9293 3.2; RFC 7323) ----

// Every option has a kind and, past NOP and EOL, a length of at least 2
// that stays inside the header; anything else makes the segment malformed.
int
tcp_parseopts(const uchar *p, uint len, struct tcpopts *o)
{
  memset(o, 0, sizeof *o);
  uint i = 0;
  while (i < len) {
    uchar kind = p[i];
    if (kind == TCPOPT_EOL)
      break;
    if (kind == TCPOPT_NOP) {
      i++;
      continue;
    }
    if (i + 1 >= len || p[i + 1] < 2 || i + p[i + 1] > len)
      return -1;
    uchar olen = p[i + 1];
    if (kind == TCPOPT_MSS && olen == 4) {
      o->hasmss = 1;
      o->mss = p[i + 2] << 8 | p[i + 3];
    } else if (kind == TCPOPT_WSCALE && olen == 3) {
      o->haswscale = 1;
      o->wscale = MIN(p[i + 2], TCP_MAXWSCALE);   // RFC 7323 2.3: larger is taken as 14
    } else if (kind == TCPOPT_SACKOK && olen == 2) {
      o->sackok = 1;
    }
    i += olen;
  }
  return 0;
}

// ---- finding the connection ----

static struct tcpcb *
lookup(struct seg *sg)
{
  struct tcpcb *listener = 0;
  for (struct tcpcb *tp = tcbs; tp < tcbend; tp++) {
    if (!tp->used || tp->lport != sg->lport)
      continue;
    if (tp->state == TCPS_LISTEN) {
      if (tp->laddr == 0 || tp->laddr == sg->laddr)
        listener = tp;
      continue;
    }
    if (tp->rport == sg->rport && tp->raddr == sg->raddr && tp->laddr == sg->laddr &&
        tp->state != TCPS_CLOSED)
      return tp;
  }
  return listener;
}

// A RST for a segment no connection takes (RFC 9293 3.10.7.1); never for a RST.
static void
resetfor(struct seg *sg)
{
  if (sg->flags & TH_RST)
    return;
  if (sg->flags & TH_ACK)
    tcp_respond(sg->laddr, sg->raddr, sg->lport, sg->rport, sg->ack, 0, TH_RST);
  else
    tcp_respond(sg->laddr, sg->raddr, sg->lport, sg->rport, 0, sg->seq + SEGLEN(sg),
                TH_RST | TH_ACK);
}

// RFC 5961 7: challenge ACKs are rate-limited, all connections together.
#define CHALLENGE_PER_SEC 100
static uint challengestart, challengecount;

static void
challengeack(struct tcpcb *tp)
{
  uint now = readticks();
  if ((int)(now - challengestart) >= HZ) {
    challengestart = now;
    challengecount = 0;
  }
  if (challengecount++ >= CHALLENGE_PER_SEC)
    return;
  TCPCOUNT(challengeacks);
  tcp_sendack(tp);
}

// What both SYNs agree on: MSS and window scaling (RFC 7323 1.3: only if
// both sides offered it).
static void
synoptions(struct tcpcb *tp, struct seg *sg)
{
  uint peermss = sg->opts.hasmss ? sg->opts.mss : TCP_DEFMSS;
  tp->mss = MIN(peermss, tcp_ourmss(tp->raddr));
  if (tp->mss < 64)
    tp->mss = 64;   // a hostile MSS of 1 would make a segment per byte
  if (sg->opts.haswscale) {
    tp->flags |= TF_RCVDWS;
    tp->snd_wscale = sg->opts.wscale;
  } else {
    tp->snd_wscale = 0;
    tp->rcv_wscale = 0;
  }
  if (sg->opts.sackok)
    tp->flags |= TF_SACKOK;   // we offer it on every SYN; on a SYN-ACK only if offered
  tp->cwnd = MIN(4 * tp->mss, MAX(2 * tp->mss, 4380));   // RFC 5681 3.1 (RFC 3390)
  tp->ssthresh = 0x7FFFFFFF;
}

// ---- LISTEN ----

// Make room for a SYN under the backlog: when half-open connections fill
// it, the oldest is dropped (a SYN flood turns them over instead of locking
// out real clients); when accepted-to-be ones fill it, the SYN is dropped.
static int
backlogroom(struct tcpcb *lp)
{
  if (lp->qlen + lp->nsynrcvd < lp->backlog)
    return 1;
  struct tcpcb *oldest = 0;
  for (struct tcpcb *tp = tcbs; tp < tcbend; tp++)
    if (tp->used && tp->parent == lp && tp->state == TCPS_SYN_RCVD &&
        (oldest == 0 || (int)(tp->lastrecv - oldest->lastrecv) < 0))
      oldest = tp;
  if (oldest == 0)
    return 0;
  TCPCOUNT(synrcvddropped);
  tcp_free(oldest);
  return 1;
}

static void
listeninput(struct tcpcb *lp, struct seg *sg)
{
  // EXERCISE(tcp-handshake): LISTEN: a SYN makes a new connection in SYN-RECEIVED
  if (sg->flags & TH_RST)
    return;
  if (sg->flags & TH_ACK) {
    resetfor(sg);
    return;
  }
  if (!(sg->flags & TH_SYN))
    return;
  if (!backlogroom(lp)) {
    TCPCOUNT(dropbacklog);
    return;
  }
  struct tcpcb *tp = tcp_alloc();
  if (tp == 0) {
    TCPCOUNT(dropnotcb);
    return;
  }
  tp->parent = lp;
  tp->flags |= TF_OPENED;
  lp->nsynrcvd++;
  tp->state = TCPS_SYN_RCVD;
  tp->laddr = sg->laddr;
  tp->raddr = sg->raddr;
  tp->lport = sg->lport;
  tp->rport = sg->rport;
  tp->flags |= lp->flags & (TF_NODELAY | TF_KEEPALIVE | TF_RCVLOCKED | TF_SNDLOCKED);
  tp->ttl = lp->ttl;   // as Linux: the child's SYN-ACK already carries the listener's TTL
  tp->snd.size = lp->snd.size;
  tp->rcv.size = lp->rcv.size;
  tp->rcv_wscale = tcp_wscale(tp);
  synoptions(tp, sg);
  tp->irs = sg->seq;
  tp->rcv_nxt = sg->seq + 1;
  tp->rcv_adv = tp->rcv_nxt;
  tp->iss = tcp_iss(tp->laddr, tp->lport, tp->raddr, tp->rport);
  tp->snd_una = tp->snd_nxt = tp->snd_max = tp->recover = tp->iss;
  tp->snd_wnd = sg->wnd;   // a SYN's window is never scaled
  tp->max_sndwnd = tp->snd_wnd;
  tp->snd_wl1 = sg->seq;
  tp->snd_wl2 = tp->iss;
  tp->lastrecv = readticks();
  TCPCOUNT(passiveopens);
  tcp_sendsyn(tp);   // data on the SYN is not kept: the peer sends it again
  // END EXERCISE
}

// An ACK covering the segment being timed gives a round-trip sample
// (never one sent twice: Karn's rule clears TF_RTTIMING on retransmission).
static void
rttack(struct tcpcb *tp, uint ack)
{
  if ((tp->flags & TF_RTTIMING) && SEQ_GT(ack, tp->rtseq)) {
    tp->flags &= ~TF_RTTIMING;
    tcp_rttupdate(tp, readticks() - tp->rtstart);
  }
}

// ---- SYN-SENT ----

static void
established(struct tcpcb *tp, struct seg *sg)
{
  tp->state = TCPS_ESTABLISHED;
  tp->snd_wnd = sg->wnd << tp->snd_wscale;
  tp->max_sndwnd = MAX(tp->max_sndwnd, tp->snd_wnd);
  tp->snd_wl1 = sg->seq;
  tp->snd_wl2 = sg->ack;
  tp->rxtshift = 0;
  tp->t_rexmt = 0;
  if (tp->flags & TF_KEEPALIVE)
    tp->t_keep = tcp_deadline(TCP_KEEPIDLE);
  tcp_wake(tp);
}

static void
synsentinput(struct tcpcb *tp, struct seg *sg)
{
  // EXERCISE(tcp-handshake): SYN-SENT: our SYN answered, refused, or crossed by theirs
  int ackok = 0;
  if (sg->flags & TH_ACK) {
    if (SEQ_LEQ(sg->ack, tp->iss) || SEQ_GT(sg->ack, tp->snd_max)) {
      resetfor(sg);
      return;
    }
    ackok = 1;
  }
  if (sg->flags & TH_RST) {
    if (ackok) {
      TCPCOUNT(attemptfails);
      tcp_drop(tp, -ECONNREFUSED);
    }
    return;
  }
  if (!(sg->flags & TH_SYN))
    return;
  tp->irs = sg->seq;
  tp->rcv_nxt = sg->seq + 1;
  tp->rcv_adv = tp->rcv_nxt;
  synoptions(tp, sg);
  if (ackok) {
    rttack(tp, sg->ack);
    tp->snd_una = sg->ack;
    established(tp, sg);
    tp->flags |= TF_ACKNOW;
    tcp_output(tp);
    return;
  }
  // Simultaneous open (RFC 9293 figure 8): SYN-RECEIVED, and our SYN again with an ACK.
  tp->state = TCPS_SYN_RCVD;
  tp->snd_wnd = sg->wnd;
  tp->snd_wl1 = sg->seq;
  tp->t_rexmt = 0;
  tcp_sendsyn(tp);
  // END EXERCISE
}

// ---- synchronized states ----

static uint
rcvwnd(struct tcpcb *tp)
{
  uint space = tp->rcv.size - tp->rcv.len;
  return MAX(space, tcp_offered(tp));
}

// RFC 9293 3.10.7.4, first: is any of the segment inside the window?
static int
acceptable(struct tcpcb *tp, struct seg *sg)
{
  uint wnd = rcvwnd(tp), len = SEGLEN(sg);
  uint nxt = tp->rcv_nxt;
  if (len == 0 && wnd == 0)
    return sg->seq == nxt;
  if (len == 0)
    return SEQ_LEQ(nxt, sg->seq) && SEQ_LT(sg->seq, nxt + wnd);
  if (wnd == 0)
    return 0;
  return (SEQ_LEQ(nxt, sg->seq) && SEQ_LT(sg->seq, nxt + wnd)) ||
         (SEQ_LEQ(nxt, sg->seq + len - 1) && SEQ_LT(sg->seq + len - 1, nxt + wnd));
}

// Cut what is before RCV.NXT or past the window off the segment.
static void
trim(struct tcpcb *tp, struct seg *sg)
{
  if (SEQ_LT(sg->seq, tp->rcv_nxt)) {
    uint cut = tp->rcv_nxt - sg->seq;
    if (sg->flags & TH_SYN) {
      sg->flags &= ~TH_SYN;
      sg->seq++;
      cut--;
    }
    cut = MIN(cut, sg->len);
    sg->data += cut;
    sg->len -= cut;
    sg->seq += cut;
    if (SEQ_LT(sg->seq, tp->rcv_nxt))
      sg->flags &= ~TH_FIN;   // the FIN too was old
  }
  uint wnd = rcvwnd(tp);
  if (SEQ_GT(sg->seq + sg->len, tp->rcv_nxt + wnd)) {
    uint keep = SEQ_GT(tp->rcv_nxt + wnd, sg->seq) ? tp->rcv_nxt + wnd - sg->seq : 0;
    sg->len = MIN(sg->len, keep);
    sg->flags &= ~TH_FIN;
  }
}

// RFC 5961 3.2: a RST at RCV.NXT resets; one elsewhere in the window earns
// a challenge ACK; outside the window it is dropped. Returns 1 if tp is gone.
static int
rstinput(struct tcpcb *tp, struct seg *sg)
{
  if (sg->seq != tp->rcv_nxt) {
    if (SEQ_GEQ(sg->seq, tp->rcv_nxt) && SEQ_LT(sg->seq, tp->rcv_nxt + MAX(rcvwnd(tp), 1)))
      challengeack(tp);
    else
      TCPCOUNT(rstignored);
    return 0;
  }
  if (tp->state == TCPS_SYN_RCVD && tp->parent) {
    tcp_free(tp);   // back to LISTEN: the listener never saw it
    return 1;
  }
  if (tp->state == TCPS_ESTABLISHED || tp->state == TCPS_CLOSE_WAIT)
    TCPCOUNT(estabresets);
  int err = tp->state == TCPS_SYN_RCVD ? -ECONNREFUSED : -ECONNRESET;
  if (tp->state >= TCPS_CLOSING)
    err = 0;   // closing anyway: no error to report
  tp->state = TCPS_CLOSED;
  tp->error = err;
  tcp_closed(tp);
  return 1;
}

// The child is established: onto its listener's accept queue.
static void
tochild(struct tcpcb *tp)
{
  struct tcpcb *lp = tp->parent;
  if (lp == 0)
    return;
  lp->nsynrcvd--;
  lp->qlen++;
  tp->qnext = 0;
  struct tcpcb **pp = &lp->acceptq;
  while (*pp)
    pp = &(*pp)->qnext;
  *pp = tp;
  tcp_wake(lp);
}

// RFC 5681 3.1 growth, and NewReno's partial and full ACKs (RFC 6582 3.2).
static void
congestion(struct tcpcb *tp, struct seg *sg, uint acked)
{
  if (tp->flags & TF_RECOVERY) {
    if (SEQ_GEQ(sg->ack, tp->recover)) {
      uint flight = tp->snd_max - sg->ack;
      tp->cwnd = MIN(tp->ssthresh, MAX(flight, tp->mss) + tp->mss);
      tp->flags &= ~TF_RECOVERY;
    } else {
      tcp_rexmitone(tp);   // after snd_una moved: the next hole
      tp->cwnd = tp->cwnd > acked ? tp->cwnd - acked : 0;
      tp->cwnd += tp->mss;
      tcp_setrexmt(tp);
    }
    return;
  }
  if (tp->cwnd < tp->ssthresh)
    tp->cwnd += MIN(acked, tp->mss);   // slow start
  else
    tp->cwnd += MAX(1, tp->mss * tp->mss / tp->cwnd);   // congestion avoidance
  uint cap = TCP_BUFMAX * 4;
  if (tp->cwnd > cap)
    tp->cwnd = cap;
}

// Three duplicate ACKs: retransmit and enter fast recovery (RFC 6582 3.2).
static void
dupack(struct tcpcb *tp)
{
  tp->dupacks++;
  if (tp->flags & TF_RECOVERY) {
    tp->cwnd += tp->mss;
    tcp_output(tp);
    return;
  }
  if (tp->dupacks != 3)
    return;
  if (SEQ_LT(tp->snd_una, tp->recover))
    return;   // still inside the last recovery's window: not a new loss (RFC 6582 4.1)
  uint flight = tp->snd_max - tp->snd_una;
  tp->ssthresh = MAX(flight / 2, 2 * tp->mss);
  tp->recover = tp->snd_max;
  tp->flags |= TF_RECOVERY;
  TCPCOUNT(fastretrans);
  tcp_rexmitone(tp);
  tcp_setrexmt(tp);
  tp->cwnd = tp->ssthresh + 3 * tp->mss;
}

// Our FIN was acknowledged: on to the next state. Returns 1 if tp is gone.
static int
finacked(struct tcpcb *tp)
{
  switch (tp->state) {
  case TCPS_FIN_WAIT_1:
    tp->state = TCPS_FIN_WAIT_2;
    if (tp->so == 0)
      tp->t_2msl = tcp_deadline(TCP_FINTIMEOUT);   // an orphan waits so long, no longer
    tcp_wake(tp);
    return 0;
  case TCPS_CLOSING:
    tcp_settimewait(tp);
    return 0;
  case TCPS_LAST_ACK:
    tp->state = TCPS_CLOSED;
    tcp_closed(tp);
    return 1;
  }
  return 0;
}

static void wakeowed(struct tcpcb *tp);
static int leavetoreader(struct tcpcb *tp);

// Step five of RFC 9293 3.10.7.4. Returns -1 to drop the segment, 1 if tp
// is gone, 0 to go on.
static int
ackinput(struct tcpcb *tp, struct seg *sg)
{
  if (tp->state == TCPS_SYN_RCVD) {
    if (SEQ_LEQ(sg->ack, tp->snd_una) || SEQ_GT(sg->ack, tp->snd_max)) {
      resetfor(sg);
      return -1;
    }
    rttack(tp, sg->ack);
    tp->snd_una = tp->snd_nxt = sg->ack;
    established(tp, sg);
    tochild(tp);
  }
  // RFC 5961 5.2: an ACK for what we never sent, or far older than
  // anything in flight, is answered and dropped.
  if (SEQ_GT(sg->ack, tp->snd_max) ||
      SEQ_LT(sg->ack, tp->snd_una - MAX(tp->max_sndwnd, 1))) {
    tp->flags |= TF_ACKNOW;
    tcp_output(tp);
    return -1;
  }
  uint wnd = sg->wnd << tp->snd_wscale;
  if (sg->ack == tp->snd_una) {
    if (sg->len == 0 && !(sg->flags & (TH_SYN | TH_FIN)) && wnd == tp->snd_wnd &&
        tp->snd_max != tp->snd_una)
      dupack(tp);
    else
      tp->dupacks = 0;
  } else if (SEQ_GT(sg->ack, tp->snd_una)) {
    uint acked = sg->ack - tp->snd_una;
    rttack(tp, sg->ack);
    tp->rxtshift = 0;
    int ourfin = acked > tp->snd.len && (tp->flags & TF_SENTFIN);
    tcpbuf_drop(&tp->snd, MIN(acked, tp->snd.len));
    tp->snd_una = sg->ack;
    if (SEQ_LT(tp->snd_nxt, tp->snd_una))
      tp->snd_nxt = tp->snd_una;
    congestion(tp, sg, acked);
    tp->dupacks = 0;
    if (tp->snd_una == tp->snd_max)
      tp->t_rexmt = 0;
    else
      tcp_setrexmt(tp);
    RXPROF_BEGIN(tw);
    wakeowed(tp);   // room to write: the writer, once per batch
    RXPROF_END(RXP_ACKWAKE, tw);
    if (ourfin) {
      tp->flags |= TF_FINACKED;
      if (finacked(tp))
        return 1;
    }
  }
  // The send window (step five's window update, RFC 9293 3.10.7.4).
  if (SEQ_LT(tp->snd_wl1, sg->seq) ||
      (tp->snd_wl1 == sg->seq && SEQ_LEQ(tp->snd_wl2, sg->ack))) {
    tp->snd_wnd = wnd;
    tp->snd_wl1 = sg->seq;
    tp->snd_wl2 = sg->ack;
    tp->max_sndwnd = MAX(tp->max_sndwnd, wnd);
    if (wnd > 0)
      tp->t_persist = 0;
  }
  if (tp->state == TCPS_TIME_WAIT && (sg->flags & TH_FIN)) {
    tp->t_2msl = tcp_deadline(2 * tcp_msl);   // its FIN again: ACK it, wait anew
    tp->flags |= TF_ACKNOW;
  }
  return 0;
}

// ---- ACKs per receive batch ----

// netrx hands up one poll's frames in a row (up to NETRX_BUDGET; 40-odd
// in a bulk transfer). The ACK that every second full-sized segment asks
// for is then owed, not sent: one ACK at the batch's end covers them all,
// as Linux's GRO answers a merged run of segments with one ACK. RFC 1122
// 4.2.3.2 and RFC 5681 4.2 ask for an ACK for at least every second full
// segment "without delay"; the batch's end is within the same netrx run,
// microseconds later. Each ACK saved is a frame built and a TDT write, in
// which QEMU transmits synchronously in the vCPU thread: 30 us of guest
// CPU per ACK (docs/bench.md, "Where a received segment's time goes").
// Only that rule waits for the batch: a segment out of order, one that
// fills a hole, a FIN, the window updates after a read, are ACKed at once.
// The reader, likewise, is woken once per batch, not once per segment
// (each wakeup scans the process table and wakes pollers: 2 us a segment).
// The segments' buffers are freed at the batch's end too, in one go.
// The sender's side likewise: the peer's ACKs (a dozen a batch when we
// send in bulk) each free room and open cwnd, and tcp_output after each
// sent the little each opened, one frame and one TDT write apiece; at the
// batch's end one tcp_output sends what all of them opened, in fewer and
// larger frames (with TSO), and the writer is woken once. What the rules
// want at once is not deferred: fast retransmit and NewReno's
// retransmissions (dupack, congestion), and anything that set TF_ACKNOW.
static int batches;   // batches in progress (netrx may run on several CPUs)
static int owed;      // some block has TF_ACKBATCH, TF_OUTBATCH or TF_WAKEBATCH, or spent holds
                      // buffers (under tcplock)
static struct pbuf *spent;   // buffers done with, to free at the batch's end

void
tcp_batchbegin(void)
{
  __sync_fetch_and_add(&batches, 1);   // seen under tcplock by ackowed and wakeowed
}

// Every owed ACK, including those of a batch still running on another CPU
// (it sends its later ones at its own end). The count goes down under
// tcplock: a segment that saw a batch open (under the lock) then owes to a
// batch that has not ended yet, whose end sees it; counted down outside the
// lock, the last batch could end between that look and the flag, and the
// ACK would wait for the next batch (a segment on another CPU, or loopback).
void
tcp_batchend(void)
{
  acquire(&tcplock);
  __sync_fetch_and_sub(&batches, 1);   // atomic: tcp_batchbegin adds without the lock
  if (owed == 0) {
    release(&tcplock);
    return;
  }
  owed = 0;
  struct pbuf *done = spent;
  spent = 0;
  for (struct tcpcb *tp = tcbs; tp < tcbend; tp++) {
    if (!tp->used)
      continue;
    if (tp->flags & (TF_ACKBATCH | TF_OUTBATCH)) {
      if ((tp->flags & TF_ACKBATCH) && !leavetoreader(tp))
        tp->flags |= TF_ACKNOW;
      tp->flags &= ~(TF_ACKBATCH | TF_OUTBATCH);
      RXPROF_BEGIN(t);
      tcp_output(tp);
      RXPROF_END(RXP_BATCHOUT, t);
    }
    if (tp->used && (tp->flags & TF_WAKEBATCH)) {
      tp->flags &= ~TF_WAKEBATCH;
      tcp_wake(tp);
    }
  }
  release(&tcplock);
  pbuf_free_list(done);
}

// Will the program's next read send an ACK anyway? When the peer was
// offered at most half our window and the buffer holds what the read
// frees: that read announces the window (windowupdate), and an ACK sent
// now would carry the same small window a moment earlier, at the cost of
// a frame (an e1000 TDT write, 50 us of the vCPU's time: QEMU transmits in
// it and the host's stack takes the ACK). In a transfer the program cannot
// keep up with, that was every other ACK (docs/bench.md, "ACKs left to the
// reader").
static int
readerwillack(struct tcpcb *tp)
{
  return tp->so && tp->state == TCPS_ESTABLISHED && !(tp->flags & TF_SHUTRD) &&
         tp->rcv.len >= 2 * tp->mss && tcp_windowshort(tp);
}

// If so, the owed ACK goes with the read's window update, or when the
// delayed ACK's timer runs out if no read comes first (RFC 1122 4.2.3.2's
// bound); returns whether it was left to the reader.
static int
leavetoreader(struct tcpcb *tp)
{
  if (!readerwillack(tp))
    return 0;
  tp->flags |= TF_READACK | TF_DELACK;
  if (tp->t_delack == 0)
    tp->t_delack = tcp_deadline(TCP_DELACK);
  return 1;
}

// While a batch is open, flag tp with what its end owes (and return 1);
// outside one (loopback, a timer, a system call), 0: do it now.
static int
owebatch(struct tcpcb *tp, int flag)
{
  if (*(volatile int *)&batches == 0)
    return 0;
  tp->flags |= flag;
  owed = 1;
  return 1;
}

// The every-second-segment rule: an ACK now, or at the batch's end.
static void
ackowed(struct tcpcb *tp)
{
  if (!owebatch(tp, TF_ACKBATCH))
    tp->flags |= TF_ACKNOW;
}

// After a segment: tcp_output now, or once at the batch's end if nothing
// the segment asked for is urgent (an ACK owed now).
static void
outputowed(struct tcpcb *tp)
{
  if ((tp->flags & TF_ACKNOW) || !owebatch(tp, TF_OUTBATCH))
    tcp_output(tp);
}

// New data for the reader (or room for the writer): wake it now, or at the
// batch's end.
static void
wakeowed(struct tcpcb *tp)
{
  if (!owebatch(tp, TF_WAKEBATCH))
    tcp_wake(tp);
}

// ---- data and FIN ----

// In-order bytes, data..data+len in pb, to the receive buffer: pb itself
// kept there if it can be (*kept set: the buffer now belongs to it), else
// the bytes copied. Returns how many it took.
static uint
deliver(struct tcpcb *tp, struct pbuf *pb, const uchar *data, uint len, int *kept)
{
  if (tp->flags & TF_SHUTRD)
    return len;   // read side shut: accepted and dropped
  if (tcpbuf_keep(&tp->rcv, pb, data, len)) {
    *kept = 1;
    return len;
  }
  RXPROF_BEGIN(t);
  int n = tcpbuf_put(&tp->rcv, data, len, 0);
  RXPROF_END(RXP_COPYIN, t);
  if (n < (int)len)
    TCPCOUNT(dropnomem);
  return n < 0 ? 0 : n;
}

// Hold a segment beyond RCV.NXT, sorted by sequence. The pbuf keeps its
// sequence number in srcaddr and whether a FIN followed in srcport.
static int
oooinsert(struct tcpcb *tp, struct pbuf *pb, struct seg *sg)
{
  if (tp->nooo >= MAX(TCP_OOOMIN, tp->rcv.size / TCP_OOOBYTES) || !pbuf_canqueue(pb)) {
    TCPCOUNT(dropooofull);
    return -1;
  }
  pb->rp = sg->data;
  pb->wp = sg->data + sg->len;
  pb->srcaddr = sg->seq;
  pb->srcport = !!(sg->flags & TH_FIN);
  struct pbuf **pp = &tp->ooo;
  while (*pp && SEQ_LT((*pp)->srcaddr, sg->seq))
    pp = &(*pp)->next;
  if (*pp && (*pp)->srcaddr == sg->seq && pbuf_len(*pp) >= sg->len && !pb->srcport) {
    TCPCOUNT(ooosegs);
    return -1;   // a duplicate of what is held
  }
  pb->next = *pp;
  *pp = pb;
  tp->nooo++;
  tp->lastooo = sg->seq;
  TCPCOUNT(ooosegs);
  return 0;
}

// Move what the queue now makes contiguous; returns whether a FIN was reached.
static int
ooodrain(struct tcpcb *tp)
{
  int fin = 0;
  struct pbuf *pb;
  while ((pb = tp->ooo) != 0 && SEQ_LEQ(pb->srcaddr, tp->rcv_nxt)) {
    uint seq = pb->srcaddr, skip = tp->rcv_nxt - seq, len = pbuf_len(pb);
    int finheld = pb->srcport, kept = 0;
    tp->ooo = pb->next;   // off the queue first: the receive buffer may keep pb
    tp->nooo--;
    if (skip < len)
      tp->rcv_nxt += deliver(tp, pb, pb->rp + skip, len - skip, &kept);
    if (finheld && SEQ_GEQ(tp->rcv_nxt, seq + len))
      fin = 1;
    if (!kept)
      pbuf_free(pb);
    if (fin)
      break;
  }
  return fin;
}

// A FIN in sequence (step eight). Returns 1 if tp is gone.
static void
fininput(struct tcpcb *tp)
{
  tp->rcv_nxt++;
  tp->flags |= TF_ACKNOW;
  switch (tp->state) {
  case TCPS_SYN_RCVD:
  case TCPS_ESTABLISHED:
    tp->state = TCPS_CLOSE_WAIT;
    break;
  case TCPS_FIN_WAIT_1:
    tp->state = TCPS_CLOSING;
    break;
  case TCPS_FIN_WAIT_2:
    tcp_settimewait(tp);
    break;
  }
  tcp_wake(tp);
}

// Steps seven and eight: data and FIN. pb is kept if queued out of order or
// kept by the receive buffer (returns 1), else the caller frees it; -1 or
// -2 if tp was dropped (-2: pb with it).
static int
datainput(struct tcpcb *tp, struct pbuf *pb, struct seg *sg)
{
  int kept = 0, fin = 0;
  if (tp->state > TCPS_FIN_WAIT_2 && tp->state != TCPS_CLOSE_WAIT)
    return 0;   // CLOSING, LAST_ACK, TIME_WAIT: the peer's FIN came already
  if (tp->state == TCPS_CLOSE_WAIT)
    return 0;
  if (sg->len == 0 && !(sg->flags & TH_FIN))
    return 0;
  if (sg->seq == tp->rcv_nxt) {
    uint n = deliver(tp, pb, sg->data, sg->len, &kept);
    tp->rcv_nxt += n;
    fin = (sg->flags & TH_FIN) && n == sg->len;
    if (tp->ooo) {
      fin |= ooodrain(tp);
      tp->flags |= TF_ACKNOW;   // a hole filled: say so now (RFC 5681 4.2)
    } else if (sg->len >= tp->mss && ++tp->unacked >= 2) {
      ackowed(tp);   // every second full segment
    } else if (sg->len && !(tp->flags & TF_ACKNOW)) {
      tp->flags |= TF_DELACK;
      if (tp->t_delack == 0)
        tp->t_delack = tcp_deadline(TCP_DELACK);
    }
    if (sg->len && SEQ_GEQ(tp->rcv_nxt, tp->rcv_adv))
      tp->flags |= TF_RCVEDGE;   // the peer used all the window it had (rcvautotune)
    if (sg->len && tp->so == 0 && tp->parent == 0 && !(tp->flags & TF_SHUTRD)) {
      // Data for a socket nobody holds any more: reset, as Linux does.
      tcp_drop(tp, 0);
      return kept ? -2 : -1;   // -2: pb went with the receive buffer
    }
    if (fin)
      fininput(tp);
    RXPROF_BEGIN(t);
    wakeowed(tp);
    RXPROF_END(RXP_WAKE, t);
  } else {
    kept = oooinsert(tp, pb, sg) == 0;
    tp->flags |= TF_ACKNOW;   // a duplicate ACK tells the sender about the hole
  }
  return kept;
}

// ---- the entry point ----

// Check the header and checksum and fill sg; -1 if the segment is bad.
static int
parse(struct pbuf *pb, struct ip_info *info, struct seg *sg)
{
  struct tcp_hdr *th = (struct tcp_hdr *)pb->rp;
  uint len = pbuf_len(pb);
  if (len < TCP_HLEN)
    return -1;
  uint off = (th->off >> 4) * 4;
  if (off < TCP_HLEN || off > len)
    return -1;
  RXPROF_BEGIN(t);
  uint sum = pb->csumok ? 0 : ip_pseudosum(info->src, info->dst, IPPROTO_TCP, len, pb->rp);
  RXPROF_END(RXP_CSUM, t);
  if (sum != 0) {
    TCPCOUNT(badsum);
    return -1;
  }
  if (tcp_parseopts(pb->rp + TCP_HLEN, off - TCP_HLEN, &sg->opts) < 0)
    return -1;
  sg->seq = ntohl(th->seq);
  sg->ack = ntohl(th->ack);
  sg->flags = th->flags & 0x3F;
  sg->wnd = ntohs(th->win);
  sg->data = pb->rp + off;
  sg->len = len - off;
  sg->laddr = info->dst;
  sg->raddr = info->src;
  sg->lport = ntohs(th->dport);
  sg->rport = ntohs(th->sport);
  sg->traced = pb->traced;
  return 0;
}

// RFC 9293 3.10.7.4 for every synchronized state (and SYN-RECEIVED).
// Returns 1 if the pbuf was kept.
static int
syncinput(struct tcpcb *tp, struct pbuf *pb, struct seg *sg)
{
  if (sg->flags & TH_RST) {
    rstinput(tp, sg);
    return 0;
  }
  if (!acceptable(tp, sg)) {
    TCPCOUNT(dropoutofwindow);
    if (tp->state == TCPS_TIME_WAIT && (sg->flags & TH_FIN)) {
      tp->t_2msl = tcp_deadline(2 * tcp_msl);   // its FIN again: ACK it, wait anew
      tcp_sendack(tp);
      return 0;
    }
    challengeack(tp);   // RFC 9293: an unacceptable segment gets an ACK (rate-limited here)
    return 0;
  }
  if (sg->flags & TH_SYN) {
    if (tp->state == TCPS_SYN_RCVD && sg->seq == tp->irs) {
      tcp_sendsyn(tp);   // our SYN-ACK was lost: again
      return 0;
    }
    challengeack(tp);   // RFC 5961 4.2
    return 0;
  }
  tp->lastrecv = readticks();
  tp->keepprobes = 0;
  trim(tp, sg);
  if (!(sg->flags & TH_ACK))
    return 0;
  RXPROF_BEGIN(ta);
  int r = ackinput(tp, sg);
  RXPROF_END(RXP_ACKIN, ta);
  if (r != 0)
    return 0;
  int kept = datainput(tp, pb, sg);
  if (kept < 0)
    return kept == -2;
  RXPROF_BEGIN(t);
  outputowed(tp);
  RXPROF_END(RXP_TCPOUT, t);
  return kept;
}

// One segment, tcplock held. Returns pb if the caller is to free it, 0 if
// it was kept (queued out of order, or left for the batch's end).
static struct pbuf *
seginput(struct pbuf *pb, struct ip_info *info)
{
  struct seg sg;
  int kept = 0;

  RXPROF_BEGIN(t);
  TCPCOUNT(insegs);
  if (info->broadcast || info->linkbcast || parse(pb, info, &sg) < 0) {
    TCPCOUNT(inerrs);
    RXPROF_END(RXP_TCPIN, t);
    return pb;
  }
  struct tcpcb *tp = lookup(&sg);
  SEGTRACE(&sg, "tcp_input: port %d [%s%s%s%s] seq %u ack %u, %d bytes", sg.lport,
           sg.flags & TH_SYN ? "S" : "", sg.flags & TH_FIN ? "F" : "",
           sg.flags & TH_RST ? "R" : "", sg.flags & TH_ACK ? "." : "", sg.seq, sg.ack, sg.len);
  if (pb->csumok)
    SEGTRACE(&sg, "tcp_input: checksum not checked: the card vouched for it");
  if (tp == 0) {
    TCPCOUNT(dropnolisten);
    SEGTRACE(&sg, "tcp_input: no connection, no listener -> RST");
    resetfor(&sg);
  } else {
    int before = tp->state;   // tp stays in the table even if freed: its state is readable
    uint opened = tcpstat.passiveopens;
    if (tp->state == TCPS_LISTEN)
      listeninput(tp, &sg);
    else if (tp->state == TCPS_SYN_SENT)
      synsentinput(tp, &sg);
    else
      kept = syncinput(tp, pb, &sg);
    if (tcpstat.passiveopens != opened)
      SEGTRACE(&sg, "tcp_input: LISTEN on port %d: a SYN -> new connection in SYN_RECV, "
               "SYN-ACK sent", sg.lport);
    else if (tp->state != before)
      SEGTRACE(&sg, "tcp_input: state %s -> %s", statenames[before], statenames[tp->state]);
  }
  if (!kept && *(volatile int *)&batches > 0) {
    pb->next = spent;   // freed at the batch's end, with the others
    spent = pb;
    owed = 1;
    kept = 1;
  }
  RXPROF_END(RXP_TCPIN, t);
  return kept ? 0 : pb;
}

// The next car of a train (pbuf train) as a segment of its own: its TCP
// header at rp, info's IPv4 header its own. Its headers are the first
// segment's, which IPv4 checked, as gso_rxsplit rewrote them for it.
static struct pbuf *
nextcar(struct pbuf **train, struct ip_info *info)
{
  struct pbuf *car = *train;
  *train = car->train;
  car->train = 0;
  info->iph = car->rp + ETH_HLEN;
  if (pbuf_pull(car, ETH_HLEN + info->iphlen) == 0)
    return 0;   // cannot happen: gso_rxsplit wrote whole headers
  return car;
}

// A segment, or a train of them, all taken under one hold of tcplock (the
// buffers not kept are freed after it).
void
tcp_input(struct pbuf *pb, struct ip_info *info)
{
  struct pbuf *train = pb->train, *done = 0;

  pb->train = 0;
  RXPROF_BEGIN(tl);
  acquire(&tcplock);
  RXPROF_END(RXP_LOCK, tl);
  for (;;) {
    struct pbuf *freed = pb ? seginput(pb, info) : 0;
    if (freed) {
      freed->next = done;
      done = freed;
    }
    if (train == 0)
      break;
    struct pbuf *car = train;
    TCPCOUNT(trainsegs);
    if ((pb = nextcar(&train, info)) == 0) {
      TCPCOUNT(inerrs);
      car->next = done;
      done = car;
    }
  }
  release(&tcplock);
  pbuf_free_list(done);
}
