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

static void
usage(void)
{
  fprintf(2, "usage: ethsend [-b BURST] IF DSTMAC ETHERTYPE COUNT [SIZE]\n");
  exit(2);
}

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
  char *end;
  int burst = 0;

  if (argc > 2 && strcmp(argv[1], "-b") == 0) {
    if ((burst = atoi(argv[2])) <= 0)
      usage();
    argc -= 2;
    argv += 2;
  }
  if (argc < 5 || argc > 6)
    usage();
  int ifindex = if_nametoindex2(argv[1], &ifi);
  if (ifindex < 0) {
    fprintf(2, "ethsend: %s: no such interface\n", argv[1]);
    return 1;
  }
  uint type = strtoul(argv[3], &end, 16);
  int count = atoi(argv[4]);
  int size = argc == 6 ? atoi(argv[5]) : 60;
  if (ether_aton(argv[2], dst) < 0 || *end || type < 0x600 || type > 0xFFFF || count < 0 ||
      size < 60 || size > MAXFRAME)
    usage();

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
