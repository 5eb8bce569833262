// NE2000-compatible PCI card (Realtek RTL8029, QEMU's -device ne2k_pci): the
// National Semiconductor DP8390 register set behind one I/O BAR.
// Offsets and bits from the DP8390D NIC Core datasheet (section 10, "Register
// descriptions"; 11, "Buffer management") and the RTL8029AS datasheet (the
// PCI side, the data port and the reset port). Offsets are from BAR0.
#ifndef XV6NET_NE2K_HW_H
#define XV6NET_NE2K_HW_H

// The command register is on every page; the others depend on CR's page bits.
enum {
  NE_CR       = 0x00,   // command
  // page 0, written
  NE_PSTART   = 0x01,   // first page of the receive ring
  NE_PSTOP    = 0x02,   // one past its last page
  NE_BNRY     = 0x03,   // boundary: last ring page the host has read
  NE_TPSR     = 0x04,   // transmit page start
  NE_TBCR0    = 0x05,   // transmit byte count
  NE_TBCR1    = 0x06,
  NE_ISR      = 0x07,   // interrupt status; write 1s to clear (also read)
  NE_RSAR0    = 0x08,   // remote DMA start address
  NE_RSAR1    = 0x09,
  NE_RBCR0    = 0x0A,   // remote DMA byte count
  NE_RBCR1    = 0x0B,
  NE_RCR      = 0x0C,   // receive configuration
  NE_TCR      = 0x0D,   // transmit configuration
  NE_DCR      = 0x0E,   // data configuration
  NE_IMR      = 0x0F,   // interrupt mask
  // page 0, read
  NE_TSR      = 0x04,   // transmit status
  NE_RSR      = 0x0C,   // receive status of the last frame
  NE_CNTR0    = 0x0D,   // tally: frame alignment errors (clear on read)
  NE_CNTR1    = 0x0E,   // tally: CRC errors
  NE_CNTR2    = 0x0F,   // tally: frames missed (no room in the ring)
  // page 1
  NE_PAR0     = 0x01,   // physical address, six registers
  NE_CURR     = 0x07,   // current page: where the card writes the next frame
  NE_MAR0     = 0x08,   // multicast hash filter, eight registers
  // beyond the DP8390: the NE2000's data port and reset port
  NE_DATA     = 0x10,   // remote DMA data, 8/16/32 bits wide
  NE_RESET    = 0x1F,   // reading it resets the card
};

// CR
#define NE_CR_STP    0x01   // stop
#define NE_CR_STA    0x02   // start
#define NE_CR_TXP    0x04   // transmit the packet at TPSR (clears when done)
#define NE_CR_RREAD  0x08   // remote DMA read (card -> host)
#define NE_CR_RWRITE 0x10   // remote DMA write (host -> card)
#define NE_CR_NODMA  0x20   // abort / complete remote DMA
#define NE_CR_PAGE0  0x00
#define NE_CR_PAGE1  0x40

// ISR and IMR
#define NE_ISR_PRX   0x01   // packet received
#define NE_ISR_PTX   0x02   // packet transmitted
#define NE_ISR_RXE   0x04   // receive error
#define NE_ISR_TXE   0x08   // transmit error (aborted after 16 collisions, underrun)
#define NE_ISR_OVW   0x10   // ring overwrite warning: no room, receiving stopped
#define NE_ISR_CNT   0x20   // a tally counter's top bit is set
#define NE_ISR_RDC   0x40   // remote DMA complete
#define NE_ISR_RST   0x80   // reset state (stopped, or ring overflow); not in IMR

// RCR
#define NE_RCR_AB    0x04   // accept broadcast
#define NE_RCR_AM    0x08   // accept multicast (through the MAR hash)
#define NE_RCR_PRO   0x10   // promiscuous: every physical address

// TCR
#define NE_TCR_LB0   0x02   // internal loopback (mode 1): nothing leaves the card
#define NE_TCR_NORMAL 0x00

// DCR
#define NE_DCR_WTS   0x01   // word-wide remote DMA
#define NE_DCR_LS    0x08   // normal operation (not loopback select)
#define NE_DCR_FT1   0x40   // FIFO threshold: 8 bytes

// TSR
#define NE_TSR_PTX   0x01   // transmitted without error

// RSR, and the status byte of each frame's ring header
#define NE_RSR_PRX   0x01   // received intact
#define NE_RSR_CRC   0x02
#define NE_RSR_FAE   0x04
#define NE_RSR_FO    0x08   // FIFO overrun
#define NE_RSR_MPA   0x10   // missed packet

// Card memory: the station address PROM (each byte stored twice) at 0 and
// RAM from page 0x40: 16 KiB on an RTL8029 (to 0x7F), 32 KiB in QEMU's model
// (to 0xBF). Pages are 256 bytes.
#define NE_PAGE      256
#define NE_PROM      0x0000
#define NE_RAMSTART  0x40
#define NE_RAMSTOP   0x80     // one past the last page of 16 KiB
#define NE_RAMSTOP32 0xC0     // of 32 KiB

// Each frame in the receive ring begins with this header (11.1).
struct ne2k_rxhdr {
  uchar status;     // RSR for this frame
  uchar next;       // page of the next frame's header
  ushort count;     // the frame takes count - 4 bytes after the header (QEMU
                    // stores no CRC: count is the frame length + 4)
} __attribute__((packed));

#endif
