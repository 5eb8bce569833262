// TCP (RFC 9293) inside the stack: the connection block, sequence
// arithmetic, and what the input, output, timer and socket files share.
// One lock (tcp.lock) guards every connection: a teaching stack on one or
// two CPUs gains nothing from finer locks, and one lock makes the state
// machine easy to reason about. Blocked callers sleep on their tcpcb.

#ifndef XV6NET_TCP_H
#define XV6NET_TCP_H
#include "kernel/types.h"
#include "kernel/spinlock.h"
#include "kernel/net/pbuf.h"

struct ip_info;
struct netstat_info;

// ---- sequence numbers: modulo 2^32, compared by signed difference
// (RFC 9293 3.4). Every comparison in tcp*.c goes through these. ----
#define SEQ_LT(a, b)  ((int)((uint)(a) - (uint)(b)) < 0)
#define SEQ_LEQ(a, b) ((int)((uint)(a) - (uint)(b)) <= 0)
#define SEQ_GT(a, b)  ((int)((uint)(a) - (uint)(b)) > 0)
#define SEQ_GEQ(a, b) ((int)((uint)(a) - (uint)(b)) >= 0)
#define SEQ_MAX(a, b) (SEQ_GT(a, b) ? (a) : (b))
#define SEQ_MIN(a, b) (SEQ_LT(a, b) ? (a) : (b))

// ---- the header ----
#define TCP_HLEN 20
struct tcp_hdr {
  ushort sport, dport;
  uint seq, ack;
  uchar off;          // data offset in words, high nibble
  uchar flags;
  ushort win, sum, urp;
} __attribute__((packed));

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PSH 0x08
#define TH_ACK 0x10
#define TH_URG 0x20

#define TCPOPT_EOL    0
#define TCPOPT_NOP    1
#define TCPOPT_MSS    2
#define TCPOPT_WSCALE 3
#define TCPOPT_SACKOK 4   // RFC 2018: SACK permitted (SYN only)
#define TCPOPT_SACK   5
#define TCP_SACKBLOCKS 4   // in an ACK without timestamps: 2 + 4 * 8 bytes, NOP-aligned
#define TCP_MAXWSCALE 14   // RFC 7323 2.3

// What tcp_parseopts found in a segment's options.
struct tcpopts {
  int hasmss, haswscale, sackok;
  ushort mss;
  uchar wscale;
};
int tcp_parseopts(const uchar *p, uint len, struct tcpopts *o);   // 0, or -1 if malformed

// ---- states (RFC 9293 3.3.2), in the order Linux's netstat prints them ----
enum {
  TCPS_CLOSED, TCPS_LISTEN, TCPS_SYN_SENT, TCPS_SYN_RCVD, TCPS_ESTABLISHED,
  TCPS_FIN_WAIT_1, TCPS_FIN_WAIT_2, TCPS_CLOSE_WAIT, TCPS_CLOSING, TCPS_LAST_ACK,
  TCPS_TIME_WAIT,
};
#define TCPS_HAVERCVDSYN(s) ((s) >= TCPS_SYN_RCVD)
#define TCPS_SYNCHRONIZED(s) ((s) >= TCPS_ESTABLISHED)

// ---- limits and times (ticks at HZ) ----
#define NTCB           128         // connections, listeners and orphans together
#define TCP_BUFMAX     (1024 * 1024) // most SO_SNDBUF/SO_RCVBUF may be; autotuning's most
// What autotuning may add to all connections' buffers together, both ways
// (tcp_usr.c, bufgrow): their pages come from kalloc when data waits in
// them, so the growth has one bound for the whole machine.
#define TCP_GROWTOTAL  (4 * 1024 * 1024)
#define TCP_BUFPAGES   (TCP_BUFMAX / NET_PAGESIZE)
#define TCP_BUFDEFAULT (128 * 1024)
#define TCP_BUFMIN     4096
// Segments held out of order, per connection: one per TCP_OOOBYTES of the
// receive buffer (so a window of full segments always fits: a peer without
// SACK cannot tell which were dropped, and pays a timeout for each), and
// never fewer than TCP_OOOMIN. Tiny segments cannot take more pbufs than that.
#define TCP_OOOBYTES   1024
#define TCP_OOOMIN     16
#define TCP_BACKLOGMAX 32          // ceiling on listen()'s backlog
#define TCP_RTOMIN     (HZ / 5)    // 200 ms, as Linux
#define TCP_RTOMAX     (60 * HZ)
#define TCP_RTOINIT    (1 * HZ)    // RFC 6298 2.1
#define TCP_MAXRXT     10          // retransmissions of data before ETIMEDOUT
#define TCP_SYNRXT     5           // of a SYN (1+2+4+8+16+32 s, as Linux's 6 retries)
#define TCP_DELACK     (HZ / 25)   // 40 ms, as Linux's minimum
#define TCP_PERSMIN    (HZ / 2)
#define TCP_PERSMAX    (60 * HZ)
#define TCP_KEEPIDLE   (7200 * HZ) // RFC 1122 4.2.3.6: two hours
#define TCP_KEEPINTVL  (75 * HZ)
#define TCP_KEEPCNT    9
#define TCP_MSLDEFAULT (HZ * 2)    // short: 2*MSL = 4 s (tcp.msl= in ms on the command line)
#define TCP_FINTIMEOUT (60 * HZ)   // an orphan in FIN_WAIT_2 (Linux's tcp_fin_timeout)
#define TCP_DEFMSS     536         // RFC 9293 3.7.1: without the option
// Most data one segmentation-offload send carries (NETDEV_TSO): what fits
// a TSO buffer behind the headers and an IPv4 datagram's 65,535 bytes
// (TCP_TSOMAX), or, when no TSO buffer is free, a large one (TCP_TSOBIG).
#define TCP_TSOMAX     (PBUF_TSOSIZE - PBUF_HEADROOM - TCP_HLEN - 64)
_Static_assert(TCP_TSOMAX + 20 + 2 * TCP_HLEN + 40 <= 0xFFFF, "a TSO segment is one IPv4 datagram");
#define TCP_TSOBIG     (PBUF_BIGSIZE - PBUF_HEADROOM - TCP_HLEN - 64)

// A byte ring of up to TCP_BUFPAGES pages, taken when first written:
// an idle connection holds no memory. The receive side may also hold
// received segments' own buffers behind the ring's bytes (kept, not
// copied: tcpbuf_keep), while the pool has buffers to spare; the
// program's read takes the ring's bytes first, then the buffers'.
struct tcpbuf {
  uchar *pages[TCP_BUFPAGES];
  uint size;     // capacity in bytes (a multiple of the page size)
  uint head;     // offset of the ring's first byte
  uint len;      // bytes held: the ring's and the kept buffers'
  uint ringlen;  // of which in the ring
  uint grown;    // of size, what autotuning added (counted in TCP_GROWTOTAL)
  struct pbufq kept;   // the kept buffers (rp..wp: their bytes), in order;
                       // at most size / TCP_KEEPMIN of them (its max)
};
// A segment shorter than this is copied into the ring rather than kept,
// unless buffers are kept already (its bytes must come after theirs).
#define TCP_KEEPMIN 1024

// Flags in tcpcb.flags
#define TF_ACKNOW    0x001   // send an ACK at the next output
#define TF_DELACK    0x002   // an ACK is owed; the delayed-ACK timer runs
#define TF_FINQUEUED 0x004   // the user closed its sending side: FIN after the data
#define TF_NODELAY   0x008   // TCP_NODELAY: no Nagle
#define TF_KEEPALIVE 0x010   // SO_KEEPALIVE
#define TF_RCVDWS    0x020   // window scaling agreed
#define TF_RECOVERY  0x040   // in NewReno fast recovery
#define TF_RTTIMING  0x080   // a segment is being timed
#define TF_SHUTRD    0x100   // SHUT_RD: drop what comes
#define TF_LINGER0   0x200   // SO_LINGER with 0: close sends a RST
#define TF_REUSEADDR 0x400   // SO_REUSEADDR
#define TF_SENTFIN   0x800   // our FIN has been sent at least once
#define TF_FINACKED  0x1000  // and acknowledged: nothing more to send, ever
#define TF_OPENED    0x2000  // a connection was started (connect, or a SYN to a listener)
#define TF_SACKOK    0x4000  // both SYNs said SACK permitted: our ACKs carry SACK blocks
#define TF_ACKBATCH  0x8000  // an ACK is owed at the end of netrx's batch (tcp_batchend)
#define TF_WAKEBATCH 0x10000 // new data: wake the reader at the batch's end
#define TF_OUTBATCH  0x20000 // an ACK moved the windows: tcp_output at the batch's end
#define TF_READACK   0x40000 // the batch's ACK waits for the program's read (tcp_batchend)
#define TF_RCVEDGE   0x80000 // the peer sent up to the window we offered (rcvautotune)
#define TF_RCVLOCKED 0x100000 // SO_RCVBUF was set: the receive buffer keeps its size
#define TF_SNDLOCKED 0x200000 // SO_SNDBUF was set: the send buffer keeps its size

struct socket;

struct tcpcb {
  int used;
  int state;
  struct socket *so;           // 0 once the user closed it (an orphan) or before accept
  struct tcpcb *parent;        // the listener, until accepted
  struct tcpcb *qnext;         // in the parent's accept queue
  uint laddr, raddr;           // network order
  ushort lport, rport;         // host order
  uint flags;
  int error;                   // pending error for the user (negative errno)
  int ttl;                     // IP_TTL of our segments; 0 = IP_TTL's default. Kept here,
                               // not read from so: orphans and unaccepted children send too

  // send sequence space (RFC 9293 3.3.1)
  uint iss, snd_una, snd_nxt, snd_max, snd_wl1, snd_wl2;
  uint snd_wnd;                // peer's window, scaled
  uint max_sndwnd;
  uint mss;                    // largest segment we send
  uchar snd_wscale, rcv_wscale;
  // receive sequence space
  uint irs, rcv_nxt, rcv_adv;  // rcv_adv: right edge we advertised
  // congestion control (RFC 5681, 6582)
  uint cwnd, ssthresh, recover;
  int dupacks;
  // round trip (RFC 6298), in ticks; srtt scaled by 8, rttvar by 4
  int srtt, rttvar, rto;
  uint rtseq, rtstart;
  int rxtshift;                // retransmissions in a row (backoff)
  uint lastsend, lastrecv;     // ticks, for idle restart and keepalive
  int keepprobes;
  int unacked;                 // full segments received since our last ACK

  // timers: deadlines in ticks, 0 when off
  uint t_rexmt, t_persist, t_delack, t_keep, t_2msl;
  int persistshift;

  struct tcpbuf snd, rcv;
  struct pbuf *ooo;            // out-of-order segments, by sequence; rp at the data
  int nooo;
  uint lastooo;                // sequence of the segment queued last (first SACK block)

  // a listener
  int backlog;
  int qlen, nsynrcvd;          // children accepted-to-be and half open
  struct tcpcb *acceptq;       // established children, oldest first
};

// ---- the shared state ----
struct tcpstat {
  uint activeopens, passiveopens, attemptfails, estabresets;
  uint insegs, outsegs, retranssegs, inerrs, outrsts, badsum;
  uint fastretrans, timeouts, persistprobes, keepaliveprobes, challengeacks;
  uint dropnolisten, dropbacklog, dropnotcb, dropoutofwindow, dropooofull, dropnomem;
  uint delayedacks, ooosegs, synrcvddropped, rstignored;
  uint twrecycled;             // TIME_WAIT orphans freed for a new block (tcp_alloc)
  uint trainsegs;              // segments that came in trains, after a train's first (pbuf train)
  uint rcvbufgrown, sndbufgrown;   // buffers grown by autotuning (rcvautotune, sndautotune)
};
extern struct tcpstat tcpstat;
extern struct spinlock tcplock;
extern struct tcpcb tcbs[NTCB];
extern struct tcpcb *tcbend;   // one past the last block in use: scans stop there
extern uint tcp_msl;
extern int tcp_tso;            // net.ipv4.tcp_tso: use segmentation offload where a card has it
#define TCPCOUNT(f) (tcpstat.f++)   // always under tcplock

// tcp_input.c
void tcp_input(struct pbuf *pb, struct ip_info *info);
void tcp_batchbegin(void);   // netrx: one poll's frames go up now...
void tcp_batchend(void);     // ...and are in: send the ACKs they owe
// tcp_output.c
void tcp_output(struct tcpcb *tp);
void tcp_sendsyn(struct tcpcb *tp);
void tcp_sendack(struct tcpcb *tp);
void tcp_sendrst(struct tcpcb *tp);
void tcp_respond(uint laddr, uint raddr, ushort lport, ushort rport, uint seq, uint ack, int flags);
void tcp_rexmitone(struct tcpcb *tp);
void tcp_probe(struct tcpcb *tp);
uint tcp_rcvwindow(struct tcpcb *tp);
uint tcp_offered(struct tcpcb *tp);       // what the peer may still send
int  tcp_windowshort(struct tcpcb *tp);   // the peer was offered at most half our most
uint tcp_ourmss(uint raddr);
// tcp_timer.c
void tcp_timer(uint now);
uint tcp_nexttimer(uint now);   // ticks until tcp_timer has work (netdev.h)
void tcp_setrexmt(struct tcpcb *tp);
void tcp_rttupdate(struct tcpcb *tp, int rtt);
void tcp_settimewait(struct tcpcb *tp);
uint tcp_deadline(uint delay);
// tcp_usr.c: connection blocks and buffers
struct tcpcb *tcp_alloc(void);
void tcp_free(struct tcpcb *tp);
void tcp_drop(struct tcpcb *tp, int err);      // abort: RST if synchronized, error to the user
void tcp_closed(struct tcpcb *tp);             // reached CLOSED: free an orphan, wake the user
void tcp_wake(struct tcpcb *tp);
uint tcp_iss(uint laddr, ushort lport, uint raddr, ushort rport);
uchar tcp_wscale(struct tcpcb *tp);      // the window scale a SYN of ours asks for
int  tcpbuf_put(struct tcpbuf *b, const uchar *src, uint n, int user);   // bytes taken or -EFAULT
void tcpbuf_get(struct tcpbuf *b, uint off, uchar *dst, uint n);          // peek at [off, off+n)
void tcpbuf_drop(struct tcpbuf *b, uint n);
uint tcpbuf_space(struct tcpbuf *b);
int  tcpbuf_grow(struct tcpbuf *b, uint size);   // 1: grown, the bytes where they were
void tcpbuf_free(struct tcpbuf *b);
int  tcpbuf_keep(struct tcpbuf *b, struct pbuf *pb, const uchar *data, uint n);   // 1: kept
void tcp_stats(struct netstat_info *out);
int  tcp_attach(struct socket *s);
struct tcpinfo;
int  tcp_list(int index, struct tcpinfo *out);
void tcpinit(void);

#endif
