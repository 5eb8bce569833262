"""The cards as data (xv6net.nics)."""

import pytest

from xv6net import nics


def test_names_are_qemus_devices_and_e1000_is_the_default():
    assert nics.NAMES == ("e1000", "ne2k_pci", "virtio-net-pci")
    assert nics.DEFAULT == "e1000"
    assert [nics.model(n).driver for n in nics.NAMES] == ["e1000", "ne2k", "virtio-net"]
    with pytest.raises(ValueError, match="one of e1000, ne2k_pci, virtio-net-pci"):
        nics.model("rtl8139")


def test_models_arg():
    assert nics.models_arg("all") == nics.NAMES
    assert nics.models_arg("ne2k_pci, e1000") == ("ne2k_pci", "e1000")
    for bad in ("", ",", "e1000,pcnet"):
        with pytest.raises(ValueError):
            nics.models_arg(bad)


def test_ring_capacity():
    e1000, ne2k, virtio = (nics.model(n) for n in nics.NAMES)
    assert (e1000.ring_capacity(), virtio.ring_capacity(1514)) == (255, 256)
    # 115 free pages (BNRY one behind); a frame is refused below 1518 bytes free.
    assert ne2k.ring_capacity(60) == 110            # a page each
    assert ne2k.ring_capacity(1514) == 19           # six pages each
    assert ne2k.ring_capacity(248) == 110 and ne2k.ring_capacity(249) == 55   # 1 / 2 pages


def test_what_qemu_does_differs_by_card():
    e1000, ne2k, virtio = (nics.model(n) for n in nics.NAMES)
    assert e1000.pads_runts and ne2k.pads_runts and not virtio.pads_runts
    assert e1000.overrun_trace and not ne2k.overrun_trace and not virtio.drops_when_full
    assert e1000.rx_hold_s == 1.0 and ne2k.rx_hold_s == virtio.rx_hold_s == 0
