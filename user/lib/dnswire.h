// DNS messages (RFC 1035) as pure functions: the query a stub resolver sends
// and the parser of what comes back. No system calls, no library, no state;
// the resolver (user/lib/resolv.c), host unit tests and fuzzers use them.
//
// Names in replies are where small stacks shipped their worst bugs
// (AMNESIA:33, NAME:WRECK): every label length is checked against the end
// of the message, a compression pointer must point backwards (to a byte
// before itself) and at most DNS_MAXHOPS are followed per name, a name is at
// most 255 bytes on the wire, and any other label type is refused.
#ifndef XV6NET_DNSWIRE_H
#define XV6NET_DNSWIRE_H
#include "kernel/types.h"

#define DNS_PORT     53
#define DNS_HDRLEN   12
#define DNS_MAXMSG   512     // a reply over UDP without EDNS
#define DNS_NAMELEN  256     // a name as text, with the NUL (at most 253 characters)
#define DNS_MAXHOPS  32      // compression pointers followed in one name
#define DNS_MAXADDRS 8       // A records kept
#define DNS_MAXCNAME 8       // CNAMEs followed

#define DNS_TYPE_A     1
#define DNS_TYPE_CNAME 5
#define DNS_TYPE_AAAA  28
#define DNS_CLASS_IN   1

// Header flags
#define DNS_QR 0x8000
#define DNS_AA 0x0400
#define DNS_TC 0x0200
#define DNS_RD 0x0100
#define DNS_RA 0x0080

// Response codes
#define DNS_NOERROR  0
#define DNS_FORMERR  1
#define DNS_SERVFAIL 2
#define DNS_NXDOMAIN 3
#define DNS_NOTIMP   4
#define DNS_REFUSED  5

// Why a reply was refused. dns_reason() names them.
#define DNS_OK          0
#define DNS_ESHORT     -1   // shorter than the header
#define DNS_ENOTREPLY  -2   // QR not set, or not a standard query
#define DNS_ETRUNC     -3   // a name or record runs past the end
#define DNS_ELOOP      -4   // a compression pointer forwards, or too many of them
#define DNS_ENAME      -5   // a label or name too long, an unknown label type, odd bytes
#define DNS_EQDCOUNT   -6   // not exactly one question
#define DNS_ERDATA     -7   // an A record whose data is not 4 bytes, a CNAME that is not a name
#define DNS_EID        -8   // (dns_match) another query's ID
#define DNS_EQUESTION  -9   // (dns_match) another question
#define DNS_EBADQUERY -10   // (dns_query) a name that cannot be asked for
#define DNS_NREASONS   11

struct dns_reply {
  ushort id, flags;
  int rcode;
  char qname[DNS_NAMELEN];          // the question, as text without the final dot
  ushort qtype, qclass;
  uint addrs[DNS_MAXADDRS];         // network order: A records of qname or its CNAME
  int naddrs;
  uint ttl;                         // the least TTL among them
  char cname[DNS_NAMELEN];          // the canonical name, when a CNAME was followed ("" if not)
  int ancount;                      // answers in the message
};

// Writes a query for name (text, an optional final dot) into buf; returns its
// length or DNS_EBADQUERY.
int  dns_query(uchar *buf, uint max, ushort id, const char *name, ushort qtype);
int  dns_parse(const uchar *p, uint len, struct dns_reply *r);
// Is r the answer to query id for name/qtype? DNS_OK, DNS_EID or DNS_EQUESTION.
int  dns_match(const struct dns_reply *r, ushort id, const char *name, ushort qtype);
// Names equal as DNS compares them: ASCII case ignored, a final dot ignored.
int  dns_samename(const char *a, const char *b);
const char *dns_reason(int reason);
const char *dns_rcodename(int rcode);   // "NXDOMAIN", ...

#endif
