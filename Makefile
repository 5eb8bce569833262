# xv6net: build the kernel, the user programs and the initramfs; run, demo, test.
#
#   make          build/kernel.elf and build/initramfs.cpio
#   make qemu     boot one guest with its console on this terminal (Ctrl-A x quits);
#                 make qemu APPEND='...' MEM=256 SMP=2 NIC=none PCAP=f.pcap QEMUFLAGS='-d int'
#   make demo     install what is missing, build, run the scripted demo
#   make test     install what is missing, build, run the whole test suite
#   make bench    compare with a Linux guest on the same emulated card (root), for
#                 each of e1000, ne2k_pci and virtio-net-pci; make bench SMP=2 gives
#                 both guests two vCPUs, SMP=1,2 measures one then two (docs/bench.md)
#   make fuzz     run every libFuzzer target for FUZZ_SECONDS (default 60) each
#   make docs     boot guests, run the commands of docs' marked samples, update them
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
# KDEFS: more -D options for the kernel alone, e.g. the kernel without its
# packet trace that docs/bench.md compares against:
#   make BUILD=build/notrace KDEFS=-DNETTRACE_COMPILED_OUT
KCFLAGS += $(KDEFS)

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
# 1 MiB of seeded noise at /var/www/noise.bin: httpd's tests fetch it and
# compare its SHA-256 with this file's; make bench times its transfer.
WWWNOISE := $(BUILD)/www/noise.bin
$(WWWNOISE): Makefile
	@mkdir -p $(dir $@)
	$(PYTHON) -c 'import random, sys; sys.stdout.buffer.write(random.Random(14).randbytes(1 << 20))' > $@

$(BUILD)/initramfs.cpio: $(UBINS) $(wildcard src/xv6net/initramfs.py) $(ROOTFS) $(WWWNOISE)
	$(TOOLPY) -m xv6net.initramfs $@ $(foreach p,$(UPROGS),bin/$(p)=$(BUILD)/user/bin/$(p)) \
	    $(foreach f,$(ROOTFS),$(patsubst rootfs/%,%,$(f))=$(f)) var/www/noise.bin=$(WWWNOISE)

all: $(BUILD)/kernel.elf $(BUILD)/initramfs.cpio
.DEFAULT_GOAL := all

# --- the network stack on the host (docs/testing.md) ---------------------------
# kernel/net/*.c built for the host against tests/host/netos_host.c: unit
# tests with gcc and AddressSanitizer/UBSan, fuzz targets with clang and
# libFuzzer. -m32 like the kernel, so pointers, uint and size_t agree.
NETSRCS   := $(wildcard kernel/net/*.c)
HOSTSUPP  := tests/host/netos_host.c tests/host/host.c
HOSTFLAGS := -m32 -std=gnu11 -g -O1 -Wall -Werror -fno-omit-frame-pointer -fno-strict-aliasing \
             -fno-builtin -I. -MD -fsanitize=address,undefined -fno-sanitize-recover=all
HOSTTESTS := $(patsubst tests/host/%.c,$(BUILD)/host/%,$(wildcard tests/host/test_*.c))
HOSTOBJS  := $(patsubst %.c,$(BUILD)/host/obj/%.o,$(NETSRCS) $(HOSTSUPP))

$(BUILD)/host/obj/%.o: %.c
	@mkdir -p $(dir $@)
	gcc $(HOSTFLAGS) -c -o $@ $<

$(BUILD)/host/test_%: $(BUILD)/host/obj/tests/host/test_%.o $(HOSTOBJS)
	gcc $(HOSTFLAGS) -o $@ $^

host-tests: $(HOSTTESTS)

FUZZFLAGS := -m32 -std=gnu11 -g -O1 -fno-omit-frame-pointer -fno-strict-aliasing -fno-builtin \
             -I. -MD -Wall -Werror -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZERS   := $(patsubst tests/fuzz/fuzz_%.c,$(BUILD)/fuzz/fuzz_%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZOBJS  := $(patsubst %.c,$(BUILD)/fuzz/obj/%.o,$(NETSRCS) $(HOSTSUPP) \
                 user/lib/dhcpwire.c user/lib/dnswire.c user/lib/httpwire.c)
FUZZ_SECONDS ?= 60

$(BUILD)/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(FUZZFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(BUILD)/fuzz/fuzz_%: $(BUILD)/fuzz/obj/tests/fuzz/fuzz_%.o $(FUZZOBJS)
	clang $(FUZZFLAGS) -fsanitize=fuzzer -o $@ $^

fuzzers: $(FUZZERS)

# --- set-up: system packages and the Python virtual environment ----------------
bootstrap:
	@command -v $(PYTHON) >/dev/null 2>&1 || { apt-get update && apt-get install -y python3 python3-venv; }
	$(PYTHON) tools/bootstrap.py

# --- the README's commands -----------------------------------------------------
# make qemu's knobs. APPEND is the kernel command line; on the SLiRP NIC the
# guest also gets QEMU's user-network address (10.0.2.15/24, gateway
# 10.0.2.2) unless APPEND has an ip= of its own. QEMUFLAGS are more QEMU
# options, one word each (-d int, -trace e1000*); network ones are refused.
APPEND    ?=
MEM       ?= 128
# SMP (or CPUS): how many CPUs QEMU gives and the kernel starts; 2 by
# default, SMP=1 for one.
SMP       ?= 2
CPUS      ?= $(SMP)
# make bench measures one vCPU, then two (issue 17: the default run reports
# both, and the scaling); SMP=2 (or SMP=1) on the command line measures that
# count alone. `xv6net bench` by itself measures one.
BENCH_SMP := 1,2
SMPARG     = --smp $(if $(filter command line environment,$(origin SMP)),$(SMP),$(BENCH_SMP))
ACCEL     ?= tcg
NIC       ?= user
PCAP      ?=
QEMUFLAGS ?=

qemu: all
	$(TOOLPY) -m xv6net run --append '$(APPEND)' --mem '$(MEM)' --cpus '$(CPUS)' \
	    --accel '$(ACCEL)' --nic '$(NIC)' $(NICARG) $(if $(PCAP),--pcap '$(PCAP)') \
	    $(foreach a,$(QEMUFLAGS),'--qemu-arg=$(a)')

demo: bootstrap
	$(MAKE) all
	$(VPY) -m xv6net demo $(NICARG)

test: bootstrap
	$(MAKE) all host-tests fuzzers
	$(VPY) -m pytest

# The libFuzzer targets, then (as root) the million-frame garbage flood.
fuzz: bootstrap
	$(MAKE) all fuzzers
	$(VPY) -m xv6net fuzz run --seconds $(FUZZ_SECONDS)
	XV6NET_FLOOD_FRAMES=1000000 $(VPY) -m pytest -q -p no:cacheprovider tests/e2e/test_wire_flood.py

bench: bootstrap
	$(MAKE) all
	$(VPY) -m xv6net bench $(NICARG) $(SMPARG)
	$(VPY) -m xv6net bench-http $(NICARG)

docs: bootstrap
	$(MAKE) all
	$(VPY) -m xv6net docs

clean:
	rm -rf $(BUILD)

.PHONY: all bootstrap qemu demo test bench docs clean host-tests fuzzers fuzz
.SECONDARY:
-include $(shell find $(BUILD) -type f -name '*.d' 2>/dev/null)
