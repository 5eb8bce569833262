// ethsend [-b BURST] IF DSTMAC ETHERTYPE COUNT [SIZE]: send COUNT Ethernet
// frames of the given ethertype (hex, e.g. 88b5) from interface IF to DSTMAC
// through a packet socket. Each payload starts with a 32-bit sequence number
// (network order); SIZE is the whole frame without FCS (default and minimum
// 60). With -b, pause for a clock tick after every BURST frames: a receiver
// whose ring holds few frames (an NE2000's 16 KiB) then keeps up.
#include "kernel/types.h"
#include "kernel/errno.h"
#include "user/user.h"
#include "user/net.h"

#define MAXFRAME 1514

static const char usage[] =
  "usage: ethsend [-b BURST] IF DSTMAC ETHERTYPE COUNT [SIZE]\n"
  "  -b BURST   pause a tick after every BURST frames (for a slow card)\n"
  "  IF         interface to send on (eth0)\n"
  "  DSTMAC     destination, like 52:54:00:12:34:56\n"
  "  ETHERTYPE  hex, 0600 to ffff (88b5: local experimental)\n"
  "  COUNT      frames to send, 1 or more\n"
  "  SIZE       bytes per frame without FCS, 60 to 1514 (default 60)\n";

static int
sendone(int fd, uchar *frame, int size)
{
  for (int tries = 0; tries < 100; tries++) {
    if (write(fd, frame, size) == size)
      return 0;
    if (errno != ENOBUFS)
      return -1;
    sleep(1);   // transmit ring full: let the card catch up
  }
  return -1;
}

int
main(int argc, char **argv)
{
  struct netif_info ifi;
  uchar frame[MAXFRAME], dst[6];
  static const char *const names[] = { "interface", "destination MAC", "ethertype", "count" };
  int burst = 0, c;

  argsinit("ethsend", usage);
  while ((c = getopt(argc, argv, "b:")) != -1)
    if (c == 'b')
      burst = argnum("-b", "burst", optarg, 1, 0x7fffffff);
  argv += optind;
  argc -= optind;
  if (argc < 4)
    argmissing(names[argc]);
  if (argc > 5)
    argextra(argv[5]);
  int ifindex = argiface(0, argv[0], &ifi);
  argmac(0, "destination MAC", argv[1], dst);
  uint type = argethertype(0, argv[2]);
  int count = argnum(0, "count", argv[3], 1, 0x7fffffff);
  int size = argc == 5 ? argnum(0, "frame size", argv[4], 60, MAXFRAME) : 60;

  int fd = packet_socket(ifindex, type);
  if (fd < 0) {
    perror("ethsend: packet socket");
    return 1;
  }
  memmove(frame, dst, 6);
  memmove(frame + 6, ifi.mac, 6);
  frame[12] = type >> 8;
  frame[13] = type;
  for (int i = 18; i < size; i++)
    frame[i] = i;
  int sent = 0;
  for (; sent < count; sent++) {
    uint seq = htonl(sent);
    memmove(frame + 14, &seq, 4);
    if (sendone(fd, frame, size) < 0) {
      perror("ethsend: write");
      break;
    }
    if (burst && (sent + 1) % burst == 0)
      sleep(1);
  }
  printf("ethsend: sent %d frames of %d bytes on %s\n", sent, size, ifi.name);
  close(fd);
  return sent == count ? 0 : 1;
}
