# board/mipsel/board.mk -- MIPS32r2 24Kc little-endian (MT7621/MT7628-class
# routers), musl libc, fully static. Toolchain: Debian's mipsel-linux-gnu gcc
# driven by musl's specs wrapper /usr/bin/mipsel-linux-musl-gcc (musl-dev:mipsel).
#
# NOTE: Debian's mipsel port (and so this toolchain and its musl) is HARD-float
# (-mhard-float -mfpxx). OpenWrt's mipsel targets are SOFT-float; binaries from
# this board are for QEMU/CI, an OpenWrt build must override CC/AR/STRIP,
# BOARD_CFLAGS (add -msoft-float), BOARD_LIBC_INCDIR and BOARD_KHEADERS with its
# own toolchain. Big-endian MIPS has no Debian toolchain libraries at all.

BOARD_TRIPLET          := mipsel-linux-musl
BOARD_LIBC             := musl
CMAKE_SYSTEM_PROCESSOR := mips

# make defines CC=cc and AR=ar itself, so ?= would never take effect for them.
ifneq ($(filter default undefined,$(origin CC)),)
CC := mipsel-linux-musl-gcc
endif
ifneq ($(filter default undefined,$(origin AR)),)
AR := mipsel-linux-gnu-ar
endif
RANLIB  ?= mipsel-linux-gnu-ranlib
STRIP   ?= mipsel-linux-gnu-strip

# -ffunction-sections/-fdata-sections + --gc-sections: unused library code is
# dropped at link time (armhf probe: 712 KB -> 375 KB stripped).
BOARD_CFLAGS  ?= -Os -march=mips32r2 -mtune=24kc \
	-ffunction-sections -fdata-sections
BOARD_LDFLAGS ?= -static -Wl,--gc-sections
# 32-bit MIPS has no native 64-bit atomics: gcc emits __atomic_* calls.
BOARD_LIBS    ?= -latomic

BOARD_LIBC_INCDIR ?= /usr/include/mipsel-linux-musl
BOARD_KHEADERS    ?= /usr/mipsel-linux-gnu/include

QEMU := qemu-mipsel-static

BOARD_SANITIZE :=
BOARD_RELEASE  ?= yes

# Crypto provider used when the config has no crypto_provider line
# (software | afalg; docs/crypto.md). tools/crypto.mk passes it on.
BOARD_CRYPTO ?= software

# Audio transcoding (src/codec, issue 11): off by default here (soft-float
# OpenWrt MIPS has little CPU to spare); TRANSCODE=1 builds it, with Opus in
# fixed point.
TRANSCODE ?= 0
OPUS_FIXED_POINT ?= 1
# Default of the config key opus_complexity (0..10, the Makefile's 5
# elsewhere): low, for a soft-float 24Kc/1004Kc at 580-880 MHz
# (tools/xcode-estimate, docs/figures.md)
OPUS_COMPLEXITY ?= 2
