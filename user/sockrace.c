// sockrace [-n ROUNDS]: close a UDP socket while a datagram for it is being
// delivered, open another in its place, and check that the datagram does
// not land on the new one. Each round: socket A bound to 127.0.0.1:PORT_A,
// a datagram to it from socket T, A closed, socket B bound to PORT_B, and a
// short wait for anything on B. Prints
//   sockrace: N rounds, M misdelivered
// and exits 1 if anything reached B.
//
// The window is the few instructions between netrx finding A and queueing
// to it; a kernel booted with selftest=sockrace keeps yielding there for
// three ticks (kernel/net/udp.c). The sender waits for the next tick after
// sending, by when netrx has found A, then closes A within the window.
#include "kernel/types.h"
#include "user/user.h"
#include "user/net.h"

#define PORT_A 6001
#define PORT_B 6002

static int
bound(ushort port)
{
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in me = { AF_INET, htons(port), INADDR_LOOPBACK, { 0 } };
  if (fd < 0 || bind(fd, (struct sockaddr *)&me, sizeof me) < 0) {
    perror("sockrace: bind");
    exit(2);
  }
  return fd;
}

// One round; 1 if the datagram for A reached B.
static int
round1(int n)
{
  struct sockaddr_in to = { AF_INET, htons(PORT_A), INADDR_LOOPBACK, { 0 } };
  char msg[32], got[64];
  int a = bound(PORT_A);
  int t = socket(AF_INET, SOCK_DGRAM, 0);
  int len = snprintf(msg, sizeof msg, "for A, round %d", n);
  if (t < 0 || sendto(t, msg, len, 0, (struct sockaddr *)&to, sizeof to) != len) {
    perror("sockrace: sendto");
    exit(2);
  }
  for (int tick = uptime(); uptime() == tick;)   // runnable all along: netrx runs at the tick
    ;
  close(a);
  int b = bound(PORT_B);
  setrcvtimeo(b, 100);
  int r = recv(b, got, sizeof got - 1);
  if (r >= 0) {
    got[r] = 0;
    printf("sockrace: round %d: socket B (port %d) got \"%s\"\n", n, PORT_B, got);
  }
  close(b);
  close(t);
  return r >= 0;
}

int
main(int argc, char **argv)
{
  int rounds = 20, bad = 0;
  argsinit("sockrace", "usage: sockrace [-n ROUNDS]\n"
           "  race a socket's close against a datagram's delivery, ROUNDS times (20)\n");
  while (getopt(argc, argv, "n:") != -1)
    rounds = argnum("-n", "rounds", optarg, 1, 100000);
  if (optind < argc)
    argextra(argv[optind]);
  for (int n = 0; n < rounds; n++)
    bad += round1(n);
  printf("sockrace: %d rounds, %d misdelivered\n", rounds, bad);
  return bad ? 1 : 0;
}
