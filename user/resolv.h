// The stub resolver (user/lib/resolv.c): names to IPv4 addresses from
// /etc/hosts, then DNS (RFC 1035) through the servers of /etc/resolv.conf.
#ifndef XV6NET_USER_RESOLV_H
#define XV6NET_USER_RESOLV_H
#include "kernel/types.h"
#include "user/lib/dnswire.h"

#define MAXNS      3     // name servers kept from resolv.conf, as glibc
#define MAXDNSRCH  6     // search domains

// /etc/resolv.conf: nameserver, search (or domain), options timeout:N
// attempts:N ndots:N.
struct resolv_conf {
  uint servers[MAXNS];            // network order
  int nservers;
  char search[MAXDNSRCH][DNS_NAMELEN];
  int nsearch;
  int timeout;                    // seconds per query (5)
  int attempts;                   // rounds over the servers (2)
  int ndots;                      // names with this many dots are tried as they are first (1)
};

// What happened to the replies of one lookup: those not taken, and why.
struct res_stats {
  uint sent, timeouts, refused;   // queries; tries that timed out; ICMP port unreachable
  uint wrongserver;               // from another address or port
  uint malformed;                 // dns_parse refused it
  uint wrongid, wrongquestion;    // dns_match refused it
};

// Outcomes of res_query and res_search (and h_errno's values, as glibc's).
#define RES_OK          0
#define HOST_NOT_FOUND  1         // NXDOMAIN
#define TRY_AGAIN       2         // no server answered (or SERVFAIL)
#define NO_RECOVERY     3         // REFUSED, FORMERR, NOTIMP
#define NO_DATA         4         // the name exists, with no address

int  res_init(struct resolv_conf *rc);   // 0, or -1 if there is no resolv.conf (rc: defaults)
// One name (no search list) to one server: 0 with *r when a matching reply
// came (any rcode), else -ETIMEDOUT, -ECONNREFUSED or another -errno. With
// verbose, each reply not taken is reported on stdout (";; ...").
int  res_send(uint server, const char *name, ushort qtype, int timeout_ms,
              struct dns_reply *r, struct res_stats *st, int verbose);
// name through the search list, every server, every attempt; RES_OK with *r
// (addresses, the name that answered in *fqdn) or why not.
int  res_search(const struct resolv_conf *rc, const char *name, struct dns_reply *r,
                char fqdn[DNS_NAMELEN], struct res_stats *st, int verbose);

// An address for name in /etc/hosts: 0, or -1.
int  hosts_lookup(const char *name, uint *addr);

struct hostent {
  char *h_name;                   // the name that answered
  char **h_aliases;               // (none)
  int h_addrtype;                 // AF_INET
  int h_length;                   // 4
  char **h_addr_list;             // addresses in network order, 0-terminated
};
#define h_addr h_addr_list[0]

extern int h_errno;
// A dotted quad, /etc/hosts, then DNS, as glibc's "hosts: files dns".
struct hostent *gethostbyname(const char *name);
const char *hstrerror(int err);
// The first address of name (see gethostbyname): 0, or -1 with h_errno set.
int  resolve(const char *name, uint *addr);

#endif
