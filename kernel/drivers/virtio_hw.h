// virtio over PCI, legacy transport (QEMU's -device virtio-net-pci, 1af4:1000),
// and the network device. From the Virtual I/O Device (VIRTIO) 1.1
// specification: 2.6 (split virtqueues), 4.1.4.8 (the legacy PCI register
// layout), 5.1 (the network device), and its legacy notes (2.6.2, 5.1.6.1).
// Register offsets are from BAR0, an I/O range.
#ifndef XV6NET_VIRTIO_HW_H
#define XV6NET_VIRTIO_HW_H
#include "kernel/types.h"

enum {
  VIRTIO_PCI_HOST_FEATURES  = 0x00,   // 32 bits: what the device offers
  VIRTIO_PCI_GUEST_FEATURES = 0x04,   // 32 bits: what the driver takes
  VIRTIO_PCI_QUEUE_PFN      = 0x08,   // 32 bits: the selected queue's ring >> 12
  VIRTIO_PCI_QUEUE_NUM      = 0x0C,   // 16 bits: its size (the device's choice)
  VIRTIO_PCI_QUEUE_SEL      = 0x0E,   // 16 bits
  VIRTIO_PCI_QUEUE_NOTIFY   = 0x10,   // 16 bits: write a queue's number
  VIRTIO_PCI_STATUS         = 0x12,   // 8 bits
  VIRTIO_PCI_ISR            = 0x13,   // 8 bits: reading clears it and lowers INTx
  VIRTIO_PCI_CONFIG         = 0x14,   // the device's configuration (MSI-X off)
};

// Device status (2.1)
#define VIRTIO_STATUS_ACKNOWLEDGE 0x01
#define VIRTIO_STATUS_DRIVER      0x02
#define VIRTIO_STATUS_DRIVER_OK   0x04
#define VIRTIO_STATUS_FAILED      0x80

// ISR bits (4.1.4.5)
#define VIRTIO_ISR_QUEUE  0x01   // a queue has used buffers
#define VIRTIO_ISR_CONFIG 0x02   // the configuration changed (link status)

// Feature bits: the network device's (5.1.3) and the transport's
#define VIRTIO_NET_F_CSUM      (1u << 0)    // the device finishes partial checksums we send
#define VIRTIO_NET_F_GUEST_CSUM (1u << 1)   // it may hand us frames with partial or checked sums
#define VIRTIO_NET_F_MAC       (1u << 5)    // config holds a MAC address
#define VIRTIO_NET_F_GUEST_TSO4 (1u << 7)   // it may hand us TCP segments it did not cut
#define VIRTIO_NET_F_HOST_TSO4 (1u << 11)   // it cuts large TCP/IPv4 segments we send
#define VIRTIO_NET_F_MRG_RXBUF (1u << 15)   // a frame may fill several buffers (12-byte header)
#define VIRTIO_NET_F_STATUS    (1u << 16)   // config holds a link status
#define VIRTIO_NET_F_CTRL_VQ   (1u << 17)   // a control queue
#define VIRTIO_NET_F_CTRL_RX   (1u << 18)   //   that sets receive filters
#define VIRTIO_F_ANY_LAYOUT    (1u << 27)   // legacy: header and data may share a buffer

// Network device configuration (5.1.4)
#define VIRTIO_NET_CFG_MAC    0   // six bytes
#define VIRTIO_NET_CFG_STATUS 6   // 16 bits
#define VIRTIO_NET_S_LINK_UP  1

// Queue numbers (5.1.2), without multiqueue
#define VIRTIO_NET_RXQ   0
#define VIRTIO_NET_TXQ   1
#define VIRTIO_NET_CTRLQ 2

// Split virtqueue (2.6). Legacy queues have one layout in one physically
// contiguous area: descriptors, then the available ring, then, on the next
// 4096-byte boundary, the used ring.
#define VIRTIO_PCI_QUEUE_ALIGN 4096
#define VIRTIO_PCI_PFN_SHIFT   12

struct virtq_desc {
  uint64 addr;        // guest-physical
  uint32 len;
  uint16 flags;
  uint16 next;
} __attribute__((packed));

#define VIRTQ_DESC_F_NEXT  1   // chained to next
#define VIRTQ_DESC_F_WRITE 2   // the device writes it (receive)

struct virtq_avail {
  uint16 flags;
  uint16 idx;         // where the driver puts the next entry (free-running)
  uint16 ring[];
} __attribute__((packed));

#define VIRTQ_AVAIL_F_NO_INTERRUPT 1   // please do not interrupt for this queue

struct virtq_used_elem {
  uint32 id;          // head of the descriptor chain the device finished
  uint32 len;         // bytes it wrote into it
} __attribute__((packed));

struct virtq_used {
  uint16 flags;
  uint16 idx;
  struct virtq_used_elem ring[];
} __attribute__((packed));

#define VIRTQ_USED_F_NO_NOTIFY 1       // the device does not need notifying now

// The header before every frame (5.1.6), 10 bytes without MRG_RXBUF in the
// legacy interface. Zero means: no checksum offload, no segmentation.
// With CSUM and GUEST_CSUM (5.1.6.2): NEEDS_CSUM says the checksum is
// partial (the pseudo-header sum in the field csum_offset bytes after
// csum_start; the sum from csum_start to the end is still to be added);
// on receive, DATA_VALID says the device checked it. With HOST_TSO4,
// gso_type TCPV4 asks the device to cut the frame into segments of
// gso_size payload bytes behind hdr_len bytes of headers. All fields are
// little-endian (the guest's order, legacy) and offsets count from the
// frame's first byte.
struct virtio_net_hdr {
  uint8 flags;
  uint8 gso_type;
  uint16 hdr_len;
  uint16 gso_size;
  uint16 csum_start;
  uint16 csum_offset;
} __attribute__((packed));

// With MRG_RXBUF the header grows by num_buffers (5.1.6, legacy: for
// frames both ways): on receive, how many buffers the frame filled.
struct virtio_net_hdr_mrg {
  struct virtio_net_hdr h;
  uint16 num_buffers;
} __attribute__((packed));

#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1
#define VIRTIO_NET_HDR_F_DATA_VALID 2
#define VIRTIO_NET_HDR_GSO_NONE     0
#define VIRTIO_NET_HDR_GSO_TCPV4    1

// Control queue commands (5.1.6.5): class, command, data, then an ack
// byte the device writes.
#define VIRTIO_NET_CTRL_RX         0
#define VIRTIO_NET_CTRL_RX_PROMISC 0
#define VIRTIO_NET_OK              0

#endif
