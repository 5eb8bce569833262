// host [-v] [-W SECS] [-R TRIES] NAME [SERVER]: look NAME up in DNS (A
// records) and print the answer as Linux's host (BIND 9) does. The servers,
// search list and timeouts come from /etc/resolv.conf unless SERVER is
// given; -W and -R override the timeout and the number of tries. -v also
// shows every reply that was not taken (wrong server, wrong ID, malformed).
// Exit status 0 when NAME has an address, 1 otherwise.
#include "kernel/types.h"
#include "kernel/errno.h"
#include "user/user.h"
#include "user/net.h"
#include "user/resolv.h"

static const char usage[] =
  "usage: host [-v] [-W SECS] [-R TRIES] NAME [SERVER]\n"
  "  look NAME's address up in DNS (through SERVER, or /etc/resolv.conf's)\n"
  "  -v        also show the replies that were not taken\n"
  "  -W SECS   wait this long for each reply, 1 to 60\n"
  "  -R TRIES  rounds over the servers, 1 to 10\n";

static void
printanswer(const char *fqdn, const struct dns_reply *r)
{
  char ip[16];
  const char *owner = fqdn;
  if (r->cname[0]) {
    printf("%s is an alias for %s.\n", fqdn, r->cname);
    owner = r->cname;
  }
  for (int i = 0; i < r->naddrs; i++)
    printf("%s has address %s\n", owner, inet_ntoa(r->addrs[i], ip));
}

static void
stats(const struct res_stats *st)
{
  printf(";; %u queries, %u timed out, %u refused; ignored replies: %u wrong server, "
         "%u wrong ID, %u wrong question, %u malformed\n", st->sent, st->timeouts,
         st->refused, st->wrongserver, st->wrongid, st->wrongquestion, st->malformed);
}

int
main(int argc, char *argv[])
{
  struct resolv_conf rc;
  struct res_stats st;
  struct dns_reply r;
  char fqdn[DNS_NAMELEN];
  int verbose = 0, wait = 0, tries = 0, c;
  uint server;

  argsinit("host", usage);
  while ((c = getopt(argc, argv, "vW:R:")) != -1) {
    if (c == 'v')
      verbose = 1;
    else if (c == 'W')
      wait = argnum("-W", "wait", optarg, 1, 60);
    else
      tries = argnum("-R", "tries", optarg, 1, 10);
  }
  int i = optind;
  if (argc - i < 1)
    argmissing("name");
  if (argc - i > 2)
    argextra(argv[i + 2]);
  const char *name = argv[i];
  if (inet_aton(name, &server) == 0) {
    fprintf(2, "host: %s: reverse lookups (PTR) are not supported\n", name);
    return 1;
  }
  res_init(&rc);
  if (argc - i == 2) {
    if (inet_aton(argv[i + 1], &server) < 0 && hosts_lookup(argv[i + 1], &server) < 0)
      argbad(0, "server", argv[i + 1], "neither an address nor a name in /etc/hosts");
    rc.servers[0] = server;
    rc.nservers = 1;
    printf("Using domain server:\nName: %s\nAddress: %s#53\nAliases: \n\n", argv[i + 1],
           inet_ntoa(server, fqdn));
  }
  if (rc.nservers == 0) {
    fprintf(2, "host: no name server in /etc/resolv.conf\n");
    return 1;
  }
  if (wait)
    rc.timeout = wait;
  if (tries)
    rc.attempts = tries;
  memset(&st, 0, sizeof st);
  int outcome = res_search(&rc, name, &r, fqdn, &st, verbose);
  if (verbose)
    stats(&st);
  switch (outcome) {
  case RES_OK:
    printanswer(fqdn, &r);
    return 0;
  case HOST_NOT_FOUND:
    printf("Host %s not found: 3(NXDOMAIN)\n", name);
    return 1;
  case NO_DATA:
    printf("%s has no A record\n", name);
    return 1;
  case NO_RECOVERY:
    printf("Host %s not found: %d(%s)\n", name, r.rcode, dns_rcodename(r.rcode));
    return 1;
  default:
    if (st.timeouts == 0 && st.refused > 0)
      printf(";; communications error to %s#53: connection refused\n", inet_ntoa(rc.servers[0], fqdn));
    printf(";; connection timed out; no servers could be reached\n");
    return 1;
  }
}
