// TCP output: building segments and deciding what to send. tcp_output
// sends what the windows allow (RFC 9293 3.8.6 sender's silly-window
// avoidance, Nagle per RFC 896 unless TCP_NODELAY, RFC 5681 congestion
// window); SYNs, ACKs, probes and resets have their own small functions.
// Everything here runs with tcplock held.

#include "kernel/net/netos.h"
#include "kernel/net/pbuf.h"
#include "kernel/net/netdev.h"
#include "kernel/net/ip.h"
#include "kernel/net/sock.h"
#include "kernel/net/tcp.h"
#include "kernel/net/nettrace.h"

// The MSS we announce: the outgoing interface's MTU less the headers
// (RFC 9293 3.7.1; 879 of RFC 6691).
uint
tcp_ourmss(uint raddr)
{
  uint nexthop;
  struct netdev *dev = ip_route(raddr, &nexthop);
  uint mtu = dev ? dev->mtu : 576;
  if (mtu > PBUF_SIZE - PBUF_HEADROOM - 14)   // a segment must fit one small buffer
    mtu = PBUF_SIZE - PBUF_HEADROOM - 14;
  return mtu > IP_HLEN + TCP_HLEN + 64 ? mtu - IP_HLEN - TCP_HLEN : 64;
}

// How much the peer may still send: what it was offered beyond RCV.NXT.
uint
tcp_offered(struct tcpcb *tp)
{
  return SEQ_GT(tp->rcv_adv, tp->rcv_nxt) ? tp->rcv_adv - tp->rcv_nxt : 0;
}

// Is that at most half the most we can offer? The peer may be short of
// window, and the program's next read announces more.
int
tcp_windowshort(struct tcpcb *tp)
{
  return tcp_offered(tp) <= MIN(tp->rcv.size, 65535u << tp->rcv_wscale) / 2;
}

// The window to advertise, unscaled. Receiver SWS avoidance (RFC 9293
// 3.8.6.2.2): open the window only by at least min(buffer/2, MSS) at a
// time; and never shrink what was already offered.
uint
tcp_rcvwindow(struct tcpcb *tp)
{
  uint space = tp->rcv.size - tp->rcv.len;
  uint offered = tcp_offered(tp);
  if (tp->flags & TF_SHUTRD)
    space = tp->rcv.size;   // whatever comes is dropped: keep the peer sending
  if (space > offered && space - offered < MIN(tp->rcv.size / 2, tp->mss))
    space = offered;
  uint max = 65535u << tp->rcv_wscale;
  return MIN(MAX(space, offered), max);
}

// The out-of-order queue as SACK blocks (RFC 2018 4): contiguous runs of
// held data, the run holding the segment queued last first, then the
// others from the lowest up, at most TCP_SACKBLOCKS. Returns how many.
static int
sackblocks(struct tcpcb *tp, uint left[], uint right[])
{
  int n = 0, first = -1;
  for (struct pbuf *pb = tp->ooo; pb; pb = pb->next) {
    uint start = pb->srcaddr, end = pb->srcaddr + pbuf_len(pb);
    if (n > 0 && SEQ_LEQ(start, right[n - 1])) {
      right[n - 1] = SEQ_MAX(right[n - 1], end);   // overlaps or touches the last run
    } else {
      if (n == TCP_SACKBLOCKS && first >= 0)
        break;   // full, and the newest run is in
      if (n == TCP_SACKBLOCKS)
        n--;     // keep looking for the newest run: it takes the last slot
      left[n] = start;
      right[n++] = end;
    }
    if (start == tp->lastooo)
      first = n - 1;
  }
  if (first > 0) {   // the newest run to the front
    uint l = left[first], r = right[first];
    for (int i = first; i > 0; i--) {
      left[i] = left[i - 1];
      right[i] = right[i - 1];
    }
    left[0] = l;
    right[0] = r;
  }
  return n;
}

// Build and send one segment: seq, flags, and len bytes of the send buffer
// from offset off. Options: MSS, window scale and SACK permitted on a SYN;
// SACK blocks on a pure ACK while data is held out of order (a data
// segment goes without, so that it never outgrows the MSS).
static int
sendseg(struct tcpcb *tp, uint seq, uint off, uint len, int flags)
{
  RXPROF_BEGIN(t);
  uint left[TCP_SACKBLOCKS], right[TCP_SACKBLOCKS];
  int nsack = 0;
  int sackok = (flags & TH_SYN) && (tp->state == TCPS_SYN_SENT || (tp->flags & TF_SACKOK));
  if (!(flags & (TH_SYN | TH_RST)) && len == 0 && (tp->flags & TF_SACKOK) && tp->ooo)
    nsack = sackblocks(tp, left, right);
  uint optlen = (flags & TH_SYN) ? 8 + (sackok ? 4 : 0) : nsack ? 4 + 8 * nsack : 0;
  struct pbuf *pb = pbuf_alloc_len(TCP_HLEN + optlen + len);
  struct tcp_hdr *th;

  if (pb == 0 || (th = (struct tcp_hdr *)pbuf_put(pb, TCP_HLEN + optlen + len)) == 0) {
    if (pb)
      pbuf_free(pb);
    TCPCOUNT(dropnomem);
    RXPROF_END(RXP_SENDSEG, t);
    return -ENOBUFS;
  }
  uchar *opt = (uchar *)(th + 1);
  if (flags & TH_SYN) {
    uint mss = tcp_ourmss(tp->raddr);
    opt[0] = TCPOPT_MSS; opt[1] = 4; opt[2] = mss >> 8; opt[3] = mss;
    opt[4] = TCPOPT_NOP; opt[5] = TCPOPT_WSCALE; opt[6] = 3; opt[7] = tp->rcv_wscale;
    if (tp->state == TCPS_SYN_RCVD && !(tp->flags & TF_RCVDWS))
      opt[4] = opt[5] = opt[6] = opt[7] = TCPOPT_NOP;   // the peer offered none: none back
    if (sackok) {
      opt[8] = opt[9] = TCPOPT_NOP;
      opt[10] = TCPOPT_SACKOK; opt[11] = 2;
    }
  } else if (nsack) {
    opt[0] = opt[1] = TCPOPT_NOP;
    opt[2] = TCPOPT_SACK; opt[3] = 2 + 8 * nsack;
    for (int i = 0; i < nsack; i++) {
      uchar *b = opt + 4 + 8 * i;
      b[0] = left[i] >> 24; b[1] = left[i] >> 16; b[2] = left[i] >> 8; b[3] = left[i];
      b[4] = right[i] >> 24; b[5] = right[i] >> 16; b[6] = right[i] >> 8; b[7] = right[i];
    }
  }
  if (len) {
    RXPROF_BEGIN(tc);
    tcpbuf_get(&tp->snd, off, opt + optlen, len);
    RXPROF_END(RXP_SEGCOPY, tc);
  }
  uint win = tcp_rcvwindow(tp);
  if (flags & TH_SYN)
    win = MIN(win, 65535);   // never scaled on a SYN (RFC 7323 2.2)
  else
    win >>= tp->rcv_wscale;
  if (SEQ_GT(tp->rcv_nxt + (win << ((flags & TH_SYN) ? 0 : tp->rcv_wscale)), tp->rcv_adv))
    tp->rcv_adv = tp->rcv_nxt + (win << ((flags & TH_SYN) ? 0 : tp->rcv_wscale));
  th->sport = htons(tp->lport);
  th->dport = htons(tp->rport);
  th->seq = htonl(seq);
  th->ack = (flags & TH_ACK) ? htonl(tp->rcv_nxt) : 0;
  th->off = ((TCP_HLEN + optlen) / 4) << 4;
  th->flags = flags;
  th->win = htons(win);
  th->urp = 0;
  // The card finishes the checksum if it can, netdev_xmit if it cannot.
  // More than an MSS of data is for a card that segments (tcp_output
  // asked): it adds each piece's length to the pseudo-header sum.
  uint nsegs = 1;
  if (len > tp->mss) {
    pb->tsomss = tp->mss;
    nsegs = (len + tp->mss - 1) / tp->mss;
  }
  th->sum = ip_pseudohdr(tp->laddr, tp->raddr, IPPROTO_TCP,
                         pb->tsomss ? 0 : TCP_HLEN + optlen + len);
  pbuf_csumpartial(pb, (uchar *)th, offsetof(struct tcp_hdr, sum), IPPROTO_TCP);
  if (flags & TH_ACK) {
    tp->flags &= ~(TF_ACKNOW | TF_DELACK | TF_ACKBATCH | TF_READACK);
    tp->t_delack = 0;
    tp->unacked = 0;
  }
  if (flags & TH_RST)
    TCPCOUNT(outrsts);
  tcpstat.outsegs += nsegs;   // as they go on the wire
  tp->lastsend = readticks();
  // Not yet a traced buffer (ip_output tags it): ask the filter.
  if ((NETTRACE_ON & NT_TCP) && nsegs > 1)
    nettrace_log("tcp_output: port %d [%s%s] seq %u ack %u, %d bytes, the card cuts %d segments",
                 tp->lport, flags & TH_FIN ? "F" : "", flags & TH_ACK ? "." : "", seq,
                 tp->rcv_nxt, len, nsegs);
  else if (NETTRACE_ON & NT_TCP)
    nettrace_log("tcp_output: port %d [%s%s%s%s] seq %u ack %u, %d bytes", tp->lport,
                 flags & TH_SYN ? "S" : "", flags & TH_FIN ? "F" : "",
                 flags & TH_RST ? "R" : "", flags & TH_ACK ? "." : "", seq,
                 (flags & TH_ACK) ? tp->rcv_nxt : 0, len);
  RXPROF_BEGIN(ti);
  int r = ip_output(pb, IPPROTO_TCP, tp->laddr, tp->raddr, tp->ttl ? tp->ttl : IP_TTL);
  RXPROF_END(RXP_IPOUT, ti);
  RXPROF_END(RXP_SENDSEG, t);
  return r;
}

// A SYN (active open) or SYN-ACK (passive), first or again.
void
tcp_sendsyn(struct tcpcb *tp)
{
  int flags = TH_SYN | (tp->state == TCPS_SYN_RCVD ? TH_ACK : 0);
  if (tp->snd_max == tp->iss) {   // the first SYN: time it
    tp->flags |= TF_RTTIMING;
    tp->rtseq = tp->iss;
    tp->rtstart = readticks();
  } else {
    tp->flags &= ~TF_RTTIMING;    // Karn's rule
  }
  sendseg(tp, tp->iss, 0, 0, flags);
  tp->snd_nxt = tp->iss + 1;
  tp->snd_max = SEQ_MAX(tp->snd_max, tp->snd_nxt);
  if (tp->t_rexmt == 0)
    tcp_setrexmt(tp);
}

void
tcp_sendack(struct tcpcb *tp)
{
  sendseg(tp, tp->snd_nxt, 0, 0, TH_ACK);
}

// Abort: <SEQ=SND.NXT><CTL=RST> (RFC 9293 3.10.7.1, ABORT).
void
tcp_sendrst(struct tcpcb *tp)
{
  sendseg(tp, tp->snd_nxt, 0, 0, TH_RST | TH_ACK);
}

// A segment with no connection behind it: a RST for a segment that has
// none, or an ACK. No data, no options. The block it is built from is
// static, not on the receive path's stack (it is big for a kernel stack):
// tcplock is held, so there is one user at a time.
void
tcp_respond(uint laddr, uint raddr, ushort lport, ushort rport, uint seq, uint ack, int flags)
{
  static struct tcpcb t;
  if (!holding(&tcplock))
    panic("tcp_respond: tcplock not held");
  memset(&t, 0, sizeof t);
  t.laddr = laddr;
  t.raddr = raddr;
  t.lport = lport;
  t.rport = rport;
  t.rcv_nxt = ack;
  t.rcv_adv = ack;
  t.mss = TCP_DEFMSS;
  sendseg(&t, seq, 0, 0, flags);
}

// A zero-window probe (the persist timer) and a keepalive alike: an ACK
// one below SND.UNA, which the peer must answer with its current window
// (RFC 9293 3.8.6.1 allows a probe with no data; Linux sends these).
void
tcp_probe(struct tcpcb *tp)
{
  sendseg(tp, tp->snd_una - 1, 0, 0, TH_ACK);
}

// Send the first unacknowledged segment again (fast retransmit, and NewReno's
// partial ACKs), without moving SND.NXT.
void
tcp_rexmitone(struct tcpcb *tp)
{
  uint len = MIN(tp->snd.len, tp->mss);
  int fin = (tp->flags & TF_SENTFIN) && len == tp->snd.len;
  if (len == 0 && !fin)
    return;
  tp->flags &= ~TF_RTTIMING;   // Karn: no sample from a retransmitted segment
  TCPCOUNT(retranssegs);
  sendseg(tp, tp->snd_una, 0, len, TH_ACK | (fin ? TH_FIN : 0));
}

// Restart after idle (RFC 5681 4.1): after an RTO without sending, the
// congestion window is no more than the initial window.
static void
idlerestart(struct tcpcb *tp)
{
  uint iw = MIN(4 * tp->mss, MAX(2 * tp->mss, 4380));
  if (tp->snd_una == tp->snd_max && (int)(readticks() - tp->lastsend) > tp->rto)
    tp->cwnd = MIN(tp->cwnd, iw);
}

// How much one segment may carry: an MSS, or, where the route's card cuts
// segments itself (NETDEV_TSO), as many whole MSS as fit a TSO buffer (64
// KiB) while one is free, else a large buffer (16 KiB) while enough of
// those are free that reassembly and big datagrams keep theirs.
static uint
segmax(struct tcpcb *tp, struct netdev *dev)
{
  uint most = pbuf_free_count(PBUF_TSOSIZE) ? TCP_TSOMAX :
              pbuf_free_count(PBUF_BIGSIZE) > PBUF_BIGQUEUELOW ? TCP_TSOBIG : 0;
  if (!tcp_tso || dev == 0 || !(dev->features & NETDEV_TSO) || tp->mss > most / 2)
    return tp->mss;
  return most / tp->mss * tp->mss;
}

// How much of what is ready may go now (0: wait), at most max bytes. off is
// SND.NXT's offset in the send buffer.
static uint
sendable(struct tcpcb *tp, uint off, uint *avail, uint max)
{
  *avail = tp->snd.len - off;
  uint wnd = MIN(tp->snd_wnd, tp->cwnd);
  uint usable = SEQ_GT(tp->snd_una + wnd, tp->snd_nxt) ? tp->snd_una + wnd - tp->snd_nxt : 0;
  uint len = MIN(MIN(*avail, max), usable);
  if (len > tp->mss)
    return len - len % tp->mss;   // whole segments; the rest by the rules below
  if (len == 0 || len == tp->mss)
    return len;
  // A short segment: all there is, and Nagle allows it (nothing in flight,
  // or TCP_NODELAY), or at least half the largest window the peer offered.
  int idle = tp->snd_nxt == tp->snd_una;
  if (len == *avail && (idle || (tp->flags & (TF_NODELAY | TF_FINQUEUED))))
    return len;
  if (tp->max_sndwnd && len >= tp->max_sndwnd / 2)
    return len;
  if (tp->snd_nxt != tp->snd_max)   // retransmitting after a timeout: send it
    return len;
  return 0;
}

void
tcp_output(struct tcpcb *tp)
{
  if (!TCPS_SYNCHRONIZED(tp->state) || tp->state == TCPS_TIME_WAIT) {
    if ((tp->flags & TF_ACKNOW) && tp->state == TCPS_TIME_WAIT)
      tcp_sendack(tp);
    return;
  }
  idlerestart(tp);
  uint max = 0, nexthop;
  struct netdev *dev = 0;
  for (;;) {
    uint off = tp->snd_nxt - tp->snd_una, avail;
    if (off > tp->snd.len || (tp->flags & TF_FINACKED))
      break;   // everything sent, FIN included
    if (off == tp->snd.len && !(tp->flags & TF_FINQUEUED))
      break;   // nothing queued: the common case of a receiver
    if (max == 0) {
      // A route lookup (a lock): only when there is something to send. The
      // card hears of the burst once, at its end (netdev_txhold).
      dev = ip_route(tp->raddr, &nexthop);
      max = segmax(tp, dev);
      netdev_txhold(dev);
    }
    uint len = sendable(tp, off, &avail, max);
    int fin = (tp->flags & TF_FINQUEUED) && len == avail;
    if (fin && len == 0 && SEQ_LT(tp->snd_nxt, tp->snd_una + tp->snd.len))
      fin = 0;
    if (len == 0 && !fin)
      break;
    if (tp->snd_nxt == tp->snd_max && !(tp->flags & TF_RTTIMING)) {
      tp->flags |= TF_RTTIMING;
      tp->rtseq = tp->snd_nxt;
      tp->rtstart = readticks();
    }
    if (SEQ_LT(tp->snd_nxt, tp->snd_max))
      tcpstat.retranssegs += (len + tp->mss - 1) / tp->mss + (len == 0);
    int flags = TH_ACK | (fin ? TH_FIN : 0) | (len && len == avail ? TH_PSH : 0);
    int err = sendseg(tp, tp->snd_nxt, off, len, flags);
    if (err == -ENOBUFS && len > tp->mss) {
      // No large buffer after all: one segment in a small one, and no
      // more of them this time.
      len = tp->mss;
      max = tp->mss;
      fin = 0;
      flags = TH_ACK;
      err = sendseg(tp, tp->snd_nxt, off, len, flags);
    }
    if (err == -ENOBUFS)
      break;   // the retransmission timer tries again
    if (fin)
      tp->flags |= TF_SENTFIN;
    tp->snd_nxt += len + fin;
    tp->snd_max = SEQ_MAX(tp->snd_max, tp->snd_nxt);
    if (tp->t_rexmt == 0) {
      tcp_setrexmt(tp);
      tp->t_persist = 0;
    }
  }
  if (tp->flags & TF_ACKNOW)
    tcp_sendack(tp);
  netdev_txrelease(dev);
  // Data waits behind a zero window with nothing in flight: probe it.
  if (tp->snd_wnd == 0 && tp->snd.len > tp->snd_nxt - tp->snd_una && tp->t_rexmt == 0 &&
      tp->t_persist == 0) {
    tp->persistshift = 0;
    tp->t_persist = tcp_deadline(MAX(tp->rto, TCP_PERSMIN));
  }
}
