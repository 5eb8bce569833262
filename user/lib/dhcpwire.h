// DHCP messages (RFC 2131, options RFC 2132) and the Ethernet/IPv4/UDP frame
// around them, as pure functions: no system calls, no library, no state. The
// client (user/dhclient.c) uses them; so do host unit tests and fuzzers.
//
// Everything from the wire is untrusted: every length is checked before a
// byte is read, and a message that does not parse cleanly is refused whole,
// with a reason (DHCP_E*) the client counts.
#ifndef XV6NET_DHCPWIRE_H
#define XV6NET_DHCPWIRE_H
#include "kernel/types.h"

#define DHCP_SERVER_PORT 67
#define DHCP_CLIENT_PORT 68
#define DHCP_FIXEDLEN   236      // op .. file, before the magic cookie
#define DHCP_MINLEN     240      // with the cookie
#define DHCP_BOOTPLEN   300      // what we send at least (BOOTP's size; some servers want it)
#define DHCP_MAXLEN     576      // what we send at most, and say we accept
#define DHCP_FRAMEHDR   42       // Ethernet (14) + IPv4 (20) + UDP (8)

#define BOOTREQUEST 1
#define BOOTREPLY   2
#define DHCP_FLAG_BROADCAST 0x8000

// Message types (option 53)
#define DHCPDISCOVER 1
#define DHCPOFFER    2
#define DHCPREQUEST  3
#define DHCPDECLINE  4
#define DHCPACK      5
#define DHCPNAK      6
#define DHCPRELEASE  7
#define DHCPINFORM   8

// Options
#define DHO_PAD         0
#define DHO_SUBNET_MASK 1
#define DHO_ROUTERS     3
#define DHO_DNS         6
#define DHO_HOSTNAME    12
#define DHO_DOMAIN      15
#define DHO_REQUESTED   50
#define DHO_LEASE       51
#define DHO_OVERLOAD    52
#define DHO_MSGTYPE     53
#define DHO_SERVERID    54
#define DHO_PARAMS      55
#define DHO_MESSAGE     56
#define DHO_MAXSIZE     57
#define DHO_T1          58
#define DHO_T2          59
#define DHO_CLIENTID    61
#define DHO_END         255

#define DHCP_MAXADDRS   4        // routers and name servers kept
#define DHCP_NAMELEN    254      // domain name and message, with the NUL

// Why a message was refused. dhcp_reason() names them.
#define DHCP_OK          0
#define DHCP_ESHORT     -1   // shorter than the fixed part and the cookie
#define DHCP_EFORMAT    -2   // not Ethernet (htype 1, hlen 6), or a bad op
#define DHCP_ECOOKIE    -3   // no magic cookie
#define DHCP_ETRUNC     -4   // an option runs past the end, or no END option
#define DHCP_EOPTLEN    -5   // a known option with an impossible length
#define DHCP_EOVERLOAD  -6   // bad option overload (value, or overload inside sname/file)
#define DHCP_EDUP       -7   // a single-valued option given twice
#define DHCP_EVALUE     -8   // a value that cannot be used (name with odd characters...)
#define DHCP_ENOTYPE    -9   // no message type, or an unknown one
// From dhcp_check (the message parses, but the client cannot take it):
#define DHCP_ENOTOURS  -10   // another transaction ID or hardware address
#define DHCP_ENOSERVER -11   // no server identifier
#define DHCP_EADDR     -12   // address 0, broadcast, multicast, loopback, or its subnet's edges
#define DHCP_EMASK     -13   // subnet mask 0 or not contiguous
#define DHCP_ELEASE    -14   // lease time 0
#define DHCP_NREASONS   15   // reasons, OK included: counters index by -reason

// A parsed message. Addresses in network order; times in seconds.
struct dhcp_msg {
  uchar op;
  uint xid;
  ushort flags;
  uint ciaddr, yiaddr, siaddr, giaddr;
  uchar chaddr[6];
  uchar type;                         // DHO_MSGTYPE
  uint have;                          // DHCP_HAVE_* for the options present
  uint mask, serverid, lease, t1, t2;
  uint routers[DHCP_MAXADDRS];
  int nrouters;
  uint dns[DHCP_MAXADDRS];
  int ndns;
  char domain[DHCP_NAMELEN];          // option 15, checked to be a domain name
  char message[DHCP_NAMELEN];         // option 56 (why a NAK), printable characters only
};

#define DHCP_HAVE_MASK     0x01
#define DHCP_HAVE_ROUTERS  0x02
#define DHCP_HAVE_DNS      0x04
#define DHCP_HAVE_DOMAIN   0x08
#define DHCP_HAVE_LEASE    0x10
#define DHCP_HAVE_SERVERID 0x20
#define DHCP_HAVE_T1       0x40
#define DHCP_HAVE_T2       0x80
#define DHCP_HAVE_MESSAGE  0x100
#define DHCP_HAVE_TYPE     0x200

// What the client sends.
struct dhcp_req {
  uchar type;                         // DHCPDISCOVER, DHCPREQUEST, DHCPDECLINE, DHCPRELEASE
  uint xid;
  ushort secs, flags;
  uint ciaddr;                        // our address when renewing, rebinding, releasing
  uint requested;                     // option 50, or 0
  uint serverid;                      // option 54, or 0
  uchar chaddr[6];
};

int  dhcp_parse(const uchar *p, uint len, struct dhcp_msg *m);
// Can a client with xid and chaddr use m (an OFFER, ACK or NAK)? DHCP_OK or why not.
int  dhcp_check(const struct dhcp_msg *m, uint xid, const uchar chaddr[6]);
// Writes the message into buf (at most max bytes); returns its length, or -1.
int  dhcp_build(uchar *buf, uint max, const struct dhcp_req *r);
const char *dhcp_reason(int reason);
const char *dhcp_typename(int type);
// Lease times the client uses: T1 and T2 from the message when they make
// sense (T1 < T2 < lease), else RFC 2131's defaults (1/2 and 7/8 of the lease).
void dhcp_times(const struct dhcp_msg *m, uint *t1, uint *t2);

// Ethernet + IPv4 + UDP around a payload, as the client sends before it has
// an address; returns the frame's length or -1. Ports are 68 -> 67.
int  dhcp_frame(uchar *frame, uint max, const uchar srcmac[6], const uchar dstmac[6],
                uint srcip, uint dstip, const uchar *payload, uint len);
// The UDP payload of a frame that is an IPv4/UDP datagram from port 67 to
// port 68 with good checksums; 0 (and *payload, *len, *srcip) or -1.
int  dhcp_unframe(const uchar *frame, uint flen, const uchar **payload, uint *len, uint *srcip);

#endif
