// Intel 8254x (82540EM, QEMU's "e1000") registers and descriptors.
// Offsets and bits from the PCI/PCI-X Family of Gigabit Ethernet Controllers
// Software Developer's Manual (317453), chapter 13 (registers) and 3.2/3.3
// (descriptors). Register offsets are in bytes from BAR0.
#ifndef XV6NET_E1000_HW_H
#define XV6NET_E1000_HW_H
#include "kernel/types.h"

enum {
  E1000_CTRL   = 0x00000,   // device control (13.4.1)
  E1000_STATUS = 0x00008,   // device status (13.4.2)
  E1000_EERD   = 0x00014,   // EEPROM read (13.4.4)
  E1000_ICR    = 0x000C0,   // interrupt cause read; reading clears (13.4.17)
  E1000_ITR    = 0x000C4,   // interrupt throttling (13.4.18)
  E1000_ICS    = 0x000C8,   // interrupt cause set (13.4.19)
  E1000_IMS    = 0x000D0,   // interrupt mask set (13.4.20)
  E1000_IMC    = 0x000D8,   // interrupt mask clear (13.4.21)
  E1000_RCTL   = 0x00100,   // receive control (13.4.22)
  E1000_TCTL   = 0x00400,   // transmit control (13.4.33)
  E1000_TIPG   = 0x00410,   // transmit inter-packet gap (13.4.34)
  E1000_RDBAL  = 0x02800,   // receive descriptor base, low 32 bits
  E1000_RDBAH  = 0x02804,
  E1000_RDLEN  = 0x02808,   // receive ring length in BYTES (multiple of 128)
  E1000_RDH    = 0x02810,   // receive head (the card's next slot)
  E1000_RDT    = 0x02818,   // receive tail (one past the last slot we gave)
  E1000_RDTR   = 0x02820,   // receive delay timer
  E1000_TDBAL  = 0x03800,   // transmit descriptor base
  E1000_TDBAH  = 0x03804,
  E1000_TDLEN  = 0x03808,   // transmit ring length in bytes
  E1000_TDH    = 0x03810,
  E1000_TDT    = 0x03818,
  E1000_MPC    = 0x04010,   // missed packets count (statistics, clear on read)
  E1000_RNBC   = 0x040A0,   // receive no buffers count
  E1000_MTA    = 0x05200,   // multicast table array, 128 words
  E1000_RAL0   = 0x05400,   // receive address low (first entry)
  E1000_RAH0   = 0x05404,   // receive address high
};

// CTRL
#define E1000_CTRL_ASDE    (1u << 5)    // auto-speed detection
#define E1000_CTRL_SLU     (1u << 6)    // set link up
#define E1000_CTRL_RST     (1u << 26)   // device reset (self-clearing)
#define E1000_CTRL_PHY_RST (1u << 31)

// STATUS
#define E1000_STATUS_LU    (1u << 1)    // link up

// EERD
#define E1000_EERD_START   (1u << 0)
#define E1000_EERD_DONE    (1u << 4)
#define E1000_EERD_ADDR_SHIFT 8
#define E1000_EERD_DATA_SHIFT 16

// Interrupt causes (ICR, IMS, IMC, ICS)
#define E1000_ICR_TXDW     (1u << 0)    // transmit descriptor written back
#define E1000_ICR_TXQE     (1u << 1)    // transmit queue empty
#define E1000_ICR_LSC      (1u << 2)    // link status change
#define E1000_ICR_RXDMT0   (1u << 4)    // receive descriptors at minimum threshold
#define E1000_ICR_RXO      (1u << 6)    // receiver overrun
#define E1000_ICR_RXT0     (1u << 7)    // receiver timer: a frame arrived

// RCTL
#define E1000_RCTL_EN      (1u << 1)
#define E1000_RCTL_SBP     (1u << 2)    // store bad packets
#define E1000_RCTL_UPE     (1u << 3)    // unicast promiscuous
#define E1000_RCTL_MPE     (1u << 4)    // multicast promiscuous
#define E1000_RCTL_LPE     (1u << 5)    // long packets
#define E1000_RCTL_RDMTS_HALF (0u << 8) // RXDMT0 when half the ring is free
#define E1000_RCTL_BAM     (1u << 15)   // accept broadcast
#define E1000_RCTL_BSIZE_2048 (0u << 16)
#define E1000_RCTL_SECRC   (1u << 26)   // strip the Ethernet CRC

// TCTL
#define E1000_TCTL_EN      (1u << 1)
#define E1000_TCTL_PSP     (1u << 3)    // pad short packets
#define E1000_TCTL_CT_SHIFT   4         // collision threshold
#define E1000_TCTL_COLD_SHIFT 12        // collision distance

// TIPG: recommended values for 802.3 copper (13.4.34)
#define E1000_TIPG_DEFAULT (10 | (8 << 10) | (6 << 20))

// RAH
#define E1000_RAH_AV       (1u << 31)   // address valid

// Receive descriptor (3.2.3)
struct e1000_rx_desc {
  uint64 addr;      // physical address of the buffer
  uint16 length;    // bytes written (FCS stripped with SECRC)
  uint16 csum;
  uint8  status;
  uint8  errors;
  uint16 special;
} __attribute__((packed));

#define E1000_RXD_STAT_DD  (1u << 0)    // descriptor done
#define E1000_RXD_STAT_EOP (1u << 1)    // end of packet

// Transmit descriptor, legacy format (3.3.3)
struct e1000_tx_desc {
  uint64 addr;
  uint16 length;
  uint8  cso;
  uint8  cmd;
  uint8  status;
  uint8  css;
  uint16 special;
} __attribute__((packed));

#define E1000_TXD_CMD_EOP  (1u << 0)    // end of packet
#define E1000_TXD_CMD_IFCS (1u << 1)    // insert FCS
#define E1000_TXD_CMD_RS   (1u << 3)    // report status (sets DD, raises TXDW)
#define E1000_TXD_STAT_DD  (1u << 0)

// TCP/IP context descriptor (3.3.6): where the checksums of the frames that
// follow go, and how to cut them for segmentation. It sends nothing; the
// card keeps it until the next one. Offsets are from the frame's first
// byte; a checksum covers its start (CSS) to its end (CSE, inclusive; 0:
// the end of the frame) and is stored at CSO.
struct e1000_ctx_desc {
  uint8  ipcss, ipcso;      // IPv4 header checksum: start, where it goes
  uint16 ipcse;
  uint8  tucss, tucso;      // TCP/UDP checksum: start, where it goes
  uint16 tucse;
  uint32 cmdlen;            // PAYLEN (bits 0-19, segmentation only), DTYP 0, TUCMD
  uint8  status;
  uint8  hdrlen;            // segmentation: headers repeated in every segment
  uint16 mss;               // segmentation: payload bytes per segment
} __attribute__((packed));

// TCP/IP data descriptor (3.3.7): a buffer of a frame that a context
// descriptor describes.
struct e1000_data_desc {
  uint64 addr;
  uint32 cmdlen;            // DTALEN (bits 0-19), DTYP (20-23), DCMD (24-31)
  uint8  status;            // DD as in the legacy format
  uint8  popts;             // which checksums to insert
  uint16 special;
} __attribute__((packed));

#define E1000_TXD_LENMASK   0xFFFFFu
#define E1000_TXD_DTYP_D    (1u << 20)   // data descriptor (context: DTYP 0)
#define E1000_TXD_DCMD_EOP  (1u << 24)   // data: end of packet
#define E1000_TXD_DCMD_IFCS (1u << 25)   // data: insert FCS
#define E1000_TXD_TUCMD_TCP (1u << 24)   // context: TCP (UDP if clear)
#define E1000_TXD_TUCMD_IP  (1u << 25)   // context: IPv4 (IPv6 if clear)
#define E1000_TXD_XCMD_TSE  (1u << 26)   // both: TCP segmentation
#define E1000_TXD_XCMD_RS   (1u << 27)   // both: report status (DD)
#define E1000_TXD_XCMD_DEXT (1u << 29)   // both: extended (not legacy) format
#define E1000_TXD_POPTS_IXSM 0x01        // insert the IPv4 header checksum
#define E1000_TXD_POPTS_TXSM 0x02        // insert the TCP/UDP checksum

#endif
