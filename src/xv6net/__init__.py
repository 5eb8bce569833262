"""xv6net toolkit: build initramfs images, boot xv6net under QEMU, drive its console."""

__version__ = "0.1.0"
