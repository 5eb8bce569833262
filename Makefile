# xv6net: build the kernel, the user programs and the initramfs; run, demo, test.
#
#   make          build/kernel.elf and build/initramfs.cpio
#   make qemu     boot one guest with its console on this terminal (Ctrl-A x quits)
#   make demo     install what is missing, build, run the scripted demo
#   make test     install what is missing, build, run the whole test suite
#   make bench    compare with a Linux guest on the same emulated card (root), for
#                 each of e1000, ne2k_pci and virtio-net-pci
#
# NIC_MODEL=ne2k_pci (or virtio-net-pci, e1000) picks the card for qemu and demo,
# and the card(s), comma-separated, for bench.

BUILD   := build
NIC_MODEL ?=
NICARG   = $(if $(NIC_MODEL),--nic-model $(NIC_MODEL))
PYTHON  ?= python3
VENV    := .venv
VPY     := $(VENV)/bin/python
TOOLPY  := PYTHONPATH=src $(PYTHON)

CC      := gcc
LD      := ld
KCFLAGS := -m32 -std=gnu11 -O2 -g -Wall -Werror -ffreestanding -fno-builtin \
           -fno-pic -fno-pie -fno-stack-protector -fno-omit-frame-pointer \
           -fno-strict-aliasing -mno-sse -mno-mmx -mno-80387 -nostdinc -I. -MD
KASFLAGS := -m32 -g -I. -MD -Wa,--noexecstack
LDFLAGS := -m elf_i386 -z noexecstack
# libgcc's 64-bit division helpers, for the kernel and user programs. Looked up
# when first used, not when make starts: `make test` installs gcc-multilib (the
# 32-bit libgcc.a) in its bootstrap step, after this file has been read.
LIBGCC   = $(eval LIBGCC := $(shell $(CC) -m32 -print-libgcc-file-name))$(LIBGCC)
UCFLAGS := $(KCFLAGS)

# --- kernel ------------------------------------------------------------------
KSRCS_C := $(wildcard kernel/*.c kernel/net/*.c kernel/drivers/*.c)
KSRCS_S := $(wildcard kernel/*.S)
KOBJS   := $(patsubst %.c,$(BUILD)/%.o,$(KSRCS_C)) $(patsubst %.S,$(BUILD)/%.o,$(KSRCS_S))
# entry.o must come first so that the multiboot header sits in the first 8 KiB.
KOBJS   := $(BUILD)/kernel/entry.o $(filter-out $(BUILD)/kernel/entry.o,$(KOBJS))

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(KCFLAGS) -c -o $@ $<

$(BUILD)/%.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(KASFLAGS) -c -o $@ $<

$(BUILD)/kernel.elf: $(KOBJS) kernel/kernel.ld
	$(LD) $(LDFLAGS) -T kernel/kernel.ld -o $@ $(KOBJS) $(LIBGCC)

# --- user programs -----------------------------------------------------------
ULIB_C  := $(wildcard user/lib/*.c)
ULIB_S  := $(wildcard user/lib/*.S)
ULIB    := $(patsubst %.c,$(BUILD)/%.o,$(ULIB_C)) $(patsubst %.S,$(BUILD)/%.o,$(ULIB_S))
# The library as an archive, so that a program links only the pieces it
# uses (the DHCP and DNS code stay out of cat); crt0 is always linked.
ULIBA   := $(BUILD)/user/lib/ulib.a
CRT0    := $(BUILD)/user/lib/crt0.o

$(ULIBA): $(filter-out $(CRT0),$(ULIB))
	rm -f $@
	ar rcs $@ $^
UPROGS  := $(basename $(notdir $(wildcard user/*.c)))
UBINS   := $(addprefix $(BUILD)/user/bin/,$(UPROGS))

$(BUILD)/user/bin/%: $(BUILD)/user/%.o $(CRT0) $(ULIBA) user/user.ld
	@mkdir -p $(dir $@)
	$(LD) $(LDFLAGS) -T user/user.ld -o $@ $(CRT0) $< $(ULIBA) $(LIBGCC)

# --- initramfs (built by the Python toolkit) ---------------------------------
# rootfs/PATH lands at /PATH (rootfs/etc/hosts is /etc/hosts).
ROOTFS  := $(shell find rootfs -type f 2>/dev/null)
$(BUILD)/initramfs.cpio: $(UBINS) $(wildcard src/xv6net/initramfs.py) $(ROOTFS)
	$(TOOLPY) -m xv6net.initramfs $@ $(foreach p,$(UPROGS),bin/$(p)=$(BUILD)/user/bin/$(p)) \
	    $(foreach f,$(ROOTFS),$(patsubst rootfs/%,%,$(f))=$(f))

all: $(BUILD)/kernel.elf $(BUILD)/initramfs.cpio
.DEFAULT_GOAL := all

# --- set-up: system packages and the Python virtual environment ----------------
bootstrap:
	@command -v $(PYTHON) >/dev/null 2>&1 || { apt-get update && apt-get install -y python3 python3-venv; }
	$(PYTHON) tools/bootstrap.py

# --- the README's commands -----------------------------------------------------
qemu: all
	$(TOOLPY) -m xv6net run $(NICARG)

demo: bootstrap
	$(MAKE) all
	$(VPY) -m xv6net demo $(NICARG)

test: bootstrap
	$(MAKE) all
	$(VPY) -m pytest

bench: bootstrap
	$(MAKE) all
	$(VPY) -m xv6net bench $(NICARG)

clean:
	rm -rf $(BUILD)

.PHONY: all bootstrap qemu demo test bench clean
.SECONDARY:
-include $(shell find $(BUILD) -type f -name '*.d' 2>/dev/null)
