"""The network cards xv6net drives, as data: what QEMU calls each, what the
guest calls its driver, and the facts about QEMU 7.2's model of it that the
lab, the tests and the benchmark depend on.

    nics.model("ne2k_pci").driver       # "ne2k": what ifconfig and the boot log say
    NicSpec("tap", model="virtio-net-pci", ifname=...)

A model's `name` is QEMU's `-device` name, so it goes on the command line as
it is. Facts marked "QEMU" were read from QEMU 7.2's hw/net sources and
checked on this machine (see docs/nics.md).
"""

from __future__ import annotations

from dataclasses import dataclass

NE2K_ROOM = 1514 + 4    # QEMU's ne2000_buffer_full: MAX_ETH_FRAME_SIZE + 4


@dataclass(frozen=True)
class NicModel:
    name: str                  # QEMU's -device name, and the toolkit's model name
    driver: str                # the guest driver's name (ifconfig, boot log)
    pci_id: str                # vendor:device as the boot log prints it
    title: str                 # what the card is
    linux_modules: tuple[str, ...]   # what a Linux guest loads to drive it (deps follow)
    # QEMU: the longest frame (no FCS) the card passes to the driver; longer
    # ones are dropped by the card. None: no limit of its own.
    max_frame: int | None
    # QEMU: a frame that finds the receive ring full is lost (True) or held
    # back until the driver posts buffers (False).
    drops_when_full: bool
    # QEMU: a trace event printed once per frame lost to a full ring, if any.
    overrun_trace: str | None
    # QEMU: seconds after boot during which received frames are held back
    # (e1000: one second after the driver writes RCTL).
    rx_hold_s: float
    # The guest's receive ring: buffers of a frame each (e1000, virtio-net),
    # or 256-byte pages of the card's memory that frames share (ne2k).
    ring_slots: int | None
    ring_pages: int | None
    # QEMU: the shortest frame the card judges by its own bytes. ne2k and
    # virtio-net read the destination (virtio-net also the type) before they
    # look at the length, so a shorter frame is judged on whatever the
    # backend's buffer held before; and an empty frame stops both from
    # receiving anything ever again (their receive functions return 0 for
    # it, which QEMU's net layer takes as "try again later", and neither
    # card asks again). The e1000 pads first.
    shortest_safe_frame: int

    def ring_capacity(self, frame_len: int = 60) -> int:
        """How many back-to-back frames of frame_len bytes the guest's receive ring
        takes before the card finds it full. The ne2k's QEMU model refuses a frame
        once fewer than NE2K_ROOM bytes are free; each frame takes whole pages for
        itself, a 4-byte header and 4 bytes of CRC room."""
        if self.ring_pages is None:
            assert self.ring_slots is not None
            return self.ring_slots
        pages = -(-(frame_len + 8) // 256)
        free = (self.ring_pages - 1) * 256        # BNRY sits one page behind
        return (free - NE2K_ROOM) // (pages * 256) + 1

    @property
    def pads_runts(self) -> bool:
        """QEMU pads frames shorter than 60 bytes with zeros (e1000, ne2k); virtio-net
        hands them over as they are."""
        return self.name != "virtio-net-pci"


MODELS: dict[str, NicModel] = {
    m.name: m for m in (
        NicModel("e1000", "e1000", "8086:100e", "Intel 82540EM (E1000), descriptor rings, DMA",
                 ("e1000",), max_frame=1522, drops_when_full=True,
                 overrun_trace="e1000_receiver_overrun", rx_hold_s=1.0, ring_slots=255,
                 ring_pages=None, shortest_safe_frame=0),
        NicModel("ne2k_pci", "ne2k", "10ec:8029",
                 "Realtek RTL8029 (NE2000 PCI), ring in card memory, programmed I/O",
                 ("ne2k-pci",), max_frame=None, drops_when_full=True, overrun_trace=None,
                 rx_hold_s=0.0, ring_slots=None, ring_pages=116, shortest_safe_frame=6),
        NicModel("virtio-net-pci", "virtio-net", "1af4:1000",
                 "virtio-net (legacy transport), split virtqueues, DMA",
                 ("virtio_pci", "virtio_net"), max_frame=2038, drops_when_full=False,
                 overrun_trace=None, rx_hold_s=0.0, ring_slots=256, ring_pages=None,
                 shortest_safe_frame=14),
    )
}
DEFAULT = "e1000"
NAMES: tuple[str, ...] = tuple(MODELS)


def model(name: str) -> NicModel:
    """The model called name; ValueError naming the known ones otherwise."""
    try:
        return MODELS[name]
    except KeyError:
        raise ValueError(f"unknown NIC model {name!r}; one of {', '.join(NAMES)}") from None


def models_arg(text: str) -> tuple[str, ...]:
    """A comma-separated list of models ("all" for every one), checked."""
    if text.strip() == "all":
        return NAMES
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    if not names:
        raise ValueError("no NIC model given")
    for name in names:
        model(name)
    return names
