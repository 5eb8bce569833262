// nc [-s SOURCE] [-p LOCALPORT] HOST PORT: a TCP connection; standard input
// goes to it and what comes from it to standard output, both as they come
// (poll() waits on the two). At end of input nc shuts its sending side
// down (the peer reads end of file) and goes on until the peer closes;
// when the peer closes first, nc still sends the rest of a piped input
// (of a terminal: what is already waiting).
// nc -l [-k] [-p] PORT: the same on the first connection to PORT (with -k,
// on each in turn).
// nc -u [-w SECONDS] [-p LOCALPORT] [-s SOURCE] HOST PORT: standard input to
// a UDP socket, a datagram a line, and datagrams from it to standard output,
// both as they come: poll() waits on the two at once. At end of input nc
// goes on printing replies for -w (or -q) seconds (default 1), then ends,
// as Linux's nc -u -q does. -s binds the socket to a local address first.
// nc -u -l [-p] PORT: print every datagram that arrives on PORT.
// ^C stops either, after a line on standard error that says how many
// datagrams went each way.
#include "kernel/types.h"
#include "kernel/errno.h"
#include "kernel/stat.h"
#include "user/user.h"
#include "user/net.h"
#include "user/resolv.h"

static const char usage[] =
  "usage: nc [-u] [-w|-q SECONDS] [-p LOCALPORT] [-s SOURCE] HOST PORT\n"
  "       nc -l [-k] [-u] [-p] PORT\n"
  "  -u           UDP (TCP without it)\n"
  "  -l           listen on PORT: TCP, serve one connection; UDP, print what arrives\n"
  "  -k           with -l (TCP): accept another connection when one ends\n"
  "  -p PORT      local port (with -l: the port to listen on)\n"
  "  -s SOURCE    local address to send from\n"
  "  -w SECONDS   wait this long for replies after end of input (default 1)\n"
  "  -q SECONDS   the same (Linux's name for it)\n";

static char buf[16384];
static volatile int interrupted;
static int sent, received, tcp;

static int
stopped(void)
{
  fprintf(2, "nc: interrupted: %d %s sent, %d received\n", sent, tcp ? "bytes" : "datagrams",
          received);
  return 130;
}

// nc may be waiting anywhere (in poll, in listen mode's recv with no
// timeout), and a ^C that came just before it started waiting would leave
// it there: so the handler itself reports and ends. Both are system calls.
static void
oninterrupt(int sig)
{
  (void)sig;
  interrupted = 1;
  exit(stopped());
}

// Print what the socket has; -1 on a socket error (a refusal, say).
static int
takereplies(int fd)
{
  for (;;) {
    int n = recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT, 0, 0);
    if (n < 0 && errno == EAGAIN)
      return 0;
    if (n < 0) {
      fprintf(2, "nc: %s\n", strerror(errno));
      return -1;
    }
    received++;
    writeall(1, buf, n);
  }
}

// Input waiting to be sent: whole lines go out one datagram each; a part
// line waits for the rest (or for end of input, or a full buffer).
static char line[1024];
static int linelen;

static int
sendbytes(int fd, const char *p, int n)
{
  if (write(fd, p, n) < 0) {
    fprintf(2, "nc: %s\n", strerror(errno));
    return -1;
  }
  sent++;
  return 0;
}

static char *
findnl(char *p, char *end)
{
  for (; p < end; p++)
    if (*p == '\n')
      return p;
  return 0;
}

// Read what standard input has: 1, or 0 at its end, -1 on an error.
static int
takeinput(int fd)
{
  int n = read(0, line + linelen, sizeof line - linelen);
  if (n < 0 && errno == EINTR)
    return 1;
  if (n < 0) {
    perror("nc: read");
    return -1;
  }
  if (n == 0)
    return linelen > 0 && sendbytes(fd, line, linelen) < 0 ? -1 : 0;
  linelen += n;
  char *start = line, *nl;
  while ((nl = findnl(start, line + linelen)) != 0) {
    if (sendbytes(fd, start, nl + 1 - start) < 0)
      return -1;
    start = nl + 1;
  }
  linelen -= start - line;
  memmove(line, start, linelen);
  if (linelen == (int)sizeof line) {   // a line longer than a datagram we keep
    linelen = 0;
    return sendbytes(fd, line, sizeof line) < 0 ? -1 : 1;
  }
  return 1;
}

// Milliseconds left until quitat, for poll (0 once it has passed).
static int
msuntil(uint64 quitat)
{
  uint64 now = usecs();
  return now >= quitat ? 0 : (int)((quitat - now + 999) / 1000);
}

static int
listenmode(int fd, int port)
{
  struct sockaddr_in me = { AF_INET, htons(port), INADDR_ANY, { 0 } };
  if (bind(fd, (struct sockaddr *)&me, sizeof me) < 0) {
    fprintf(2, "nc: port %d: %s\n", port, strerror(errno));
    return 1;
  }
  while (!interrupted) {
    int n = recv(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      break;
    if (n < 0) {
      perror("nc: recv");
      return 1;
    }
    received++;
    writeall(1, buf, n);
  }
  return stopped();
}

static int
sendmode(int fd, uint addr, int port, uint laddr, int lport, int wait)
{
  char ip[16];
  struct sockaddr_in me = { AF_INET, htons(lport), laddr, { 0 } };
  struct sockaddr_in peer = { AF_INET, htons(port), addr, { 0 } };
  if ((lport || laddr) && bind(fd, (struct sockaddr *)&me, sizeof me) < 0) {
    fprintf(2, "nc: local address %s port %d: %s\n", inet_ntoa(laddr, ip), lport,
            strerror(errno));
    return 1;
  }
  if (connect(fd, (struct sockaddr *)&peer, sizeof peer) < 0) {
    perror("nc: connect");
    return 1;
  }
  struct pollfd fds[2] = { { 0, POLLIN, 0 }, { fd, POLLIN, 0 } };
  uint64 quitat = 0;       // set at end of input
  while (!interrupted) {
    int timeout = quitat ? msuntil(quitat) : -1;
    if (quitat && timeout == 0)
      break;
    int n = poll(fds, 2, timeout);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      perror("nc: poll");
      return 1;
    }
    if (fds[1].revents && takereplies(fd) < 0)
      return 1;
    if (fds[0].revents) {
      int r = takeinput(fd);
      if (r < 0)
        return 1;
      if (r == 0) {
        fds[0].fd = -1;   // poll skips it from now on
        quitat = usecs() + (uint64)wait * 1000;
      }
    }
  }
  return interrupted ? stopped() : 0;
}

// ---- TCP ----

// Standard input comes to an end by itself: a pipe or a file, not a terminal.
static int
inputends(void)
{
  struct stat st;
  return fstat(0, &st) == 0 && (st.type == T_PIPE || st.type == T_FILE);
}

// The peer has closed its side: send the rest of standard input when it is
// a pipe or a file (`echo x | nc -l PORT` whose client sent and shut down
// before echo had even run), only what is already there when it is a
// terminal (it would never end); then end.
static int
sendready(int fd)
{
  int wait = inputends();
  struct pollfd in = { 0, POLLIN, 0 };
  while (wait || poll(&in, 1, 0) > 0) {
    int r = read(0, buf, sizeof buf);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    if (writeall(fd, buf, r) < 0)
      return 1;
    sent += r;
  }
  shutdown(fd, SHUT_WR);
  return 0;
}

// Copy standard input to the connection and the connection to standard
// output until the peer closes: 0, or 1 on an error.
static int
relay(int fd)
{
  struct pollfd fds[2] = { { 0, POLLIN, 0 }, { fd, POLLIN, 0 } };
  for (;;) {
    int n = poll(fds, 2, -1);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      perror("nc: poll");
      return 1;
    }
    if (fds[1].revents) {
      int r = read(fd, buf, sizeof buf);
      if (r == 0)
        return fds[0].fd < 0 ? 0 : sendready(fd);   // the peer is done
      if (r < 0 && errno != EINTR && errno != EAGAIN) {
        fprintf(2, "nc: %s\n", strerror(errno));
        return 1;
      }
      if (r > 0) {
        received += r;
        writeall(1, buf, r);
      }
    }
    if (fds[0].revents) {
      int r = read(0, buf, sizeof buf);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0) {
        perror("nc: read");
        return 1;
      }
      if (r == 0) {
        shutdown(fd, SHUT_WR);   // the peer reads end of file
        fds[0].fd = -1;
        continue;
      }
      if (writeall(fd, buf, r) < 0) {
        fprintf(2, "nc: %s\n", strerror(errno));
        return 1;
      }
      sent += r;
    }
  }
}

static int
tcpconnect(uint addr, int port, uint laddr, int lport)
{
  char ip[16];
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in me = { AF_INET, htons(lport), laddr, { 0 } };
  struct sockaddr_in peer = { AF_INET, htons(port), addr, { 0 } };
  if (fd < 0) {
    perror("nc: socket");
    return 1;
  }
  if ((lport || laddr) && bind(fd, (struct sockaddr *)&me, sizeof me) < 0) {
    fprintf(2, "nc: local address %s port %d: %s\n", inet_ntoa(laddr, ip), lport,
            strerror(errno));
    return 1;
  }
  if (connect(fd, (struct sockaddr *)&peer, sizeof peer) < 0) {
    fprintf(2, "nc: connect to %s port %d (tcp) failed: %s\n", inet_ntoa(addr, ip), port,
            strerror(errno));
    return 1;
  }
  int r = relay(fd);
  close(fd);
  return r;
}

static int
tcplisten(int port, int keep)
{
  char ip[16];
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    perror("nc: socket");
    return 1;
  }
  if (tcp_bindlisten(fd, port, 1) < 0) {
    fprintf(2, "nc: port %d: %s\n", port, strerror(errno));
    return 1;
  }
  int r = 0;
  do {
    struct sockaddr_in peer;
    int len = sizeof peer;
    int c = accept(fd, (struct sockaddr *)&peer, &len);
    if (c < 0 && errno == EINTR)
      continue;
    if (c < 0) {
      perror("nc: accept");
      return 1;
    }
    fprintf(2, "Connection received on %s %d\n", inet_ntoa(peer.sin_addr, ip),
            ntohs(peer.sin_port));
    r = relay(c);
    close(c);
  } while (keep && !interrupted);
  close(fd);
  return r;
}

int
main(int argc, char **argv)
{
  int udp = 0, listen = 0, keep = 0, wait = 1000, lport = 0, c;
  uint laddr = INADDR_ANY;

  argsinit("nc", usage);
  while ((c = getopt(argc, argv, "uklw:q:p:s:")) != -1) {
    if (c == 'u')
      udp = 1;
    else if (c == 'k')
      keep = 1;
    else if (c == 'l')
      listen = 1;
    else if (c == 'w' || c == 'q')
      wait = argsecs(c == 'w' ? "-w" : "-q", "wait", optarg, 1, 3600 * 1000);
    else if (c == 'p')
      lport = argport("-p", "local port", optarg);
    else if (c == 's')
      laddr = argaddr("-s", "source address", optarg);
  }
  int operands = argc - optind;
  if (listen && operands == 0 && lport == 0)
    argmissing("port to listen on");
  if (!listen && operands < 2)
    argmissing(operands == 0 ? "host and port" : "port");
  if (operands > (listen ? (lport ? 0 : 1) : 2))
    argextra(argv[optind + (listen ? (lport ? 0 : 1) : 2)]);
  int port = listen ? (lport ? lport : argport(0, "port", argv[optind]))
                    : argport(0, "port", argv[optind + 1]);
  uint addr = 0;
  if (!listen && arghost(0, "host", argv[optind], &addr) < 0) {   // /etc/hosts or DNS
    fprintf(2, "nc: getaddrinfo for host \"%s\" port %s: %s\n", argv[optind], argv[optind + 1],
            hstrerror(h_errno));
    return 1;
  }
  if (keep && !listen)
    usagefail("-k goes with -l");
  if (!udp) {
    tcp = 1;
    signal(SIGINT, oninterrupt);
    return listen ? tcplisten(port, keep) : tcpconnect(addr, port, laddr, lport);
  }

  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) {
    perror("nc: socket");
    return 1;
  }
  signal(SIGINT, oninterrupt);
  return listen ? listenmode(fd, port) : sendmode(fd, addr, port, laddr, lport, wait);
}
