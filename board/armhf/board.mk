# board/armhf/board.mk -- ARMv7 Cortex-A7 (e.g. Allwinner/i.MX6UL class routers),
# musl libc, fully static. Toolchain: Debian's arm-linux-gnueabihf gcc driven by
# musl's specs wrapper /usr/bin/arm-linux-musleabihf-gcc (musl-dev:armhf).
#
# An OpenWrt package build overrides CC/AR/STRIP/BOARD_CFLAGS (command line or
# environment) and BOARD_LIBC_INCDIR/BOARD_KHEADERS (its staging dir).

BOARD_TRIPLET          := arm-linux-musleabihf
BOARD_LIBC             := musl
CMAKE_SYSTEM_PROCESSOR := arm

# make defines CC=cc and AR=ar itself, so ?= would never take effect for them.
ifneq ($(filter default undefined,$(origin CC)),)
CC := arm-linux-musleabihf-gcc
endif
ifneq ($(filter default undefined,$(origin AR)),)
AR := arm-linux-gnueabihf-ar
endif
RANLIB  ?= arm-linux-gnueabihf-ranlib
STRIP   ?= arm-linux-gnueabihf-strip

# -ffunction-sections/-fdata-sections + --gc-sections: unused library code is
# dropped at link time (armhf probe: 712 KB -> 375 KB stripped).
BOARD_CFLAGS  ?= -Os -march=armv7-a -mtune=cortex-a7 -mfpu=neon-vfpv4 -mfloat-abi=hard \
	-ffunction-sections -fdata-sections
BOARD_LDFLAGS ?= -static -Wl,--gc-sections
BOARD_LIBS    ?=

BOARD_LIBC_INCDIR ?= /usr/include/arm-linux-musleabihf
# musl-dev ships no kernel headers; borrow the uapi ones of the glibc cross
# toolchain (only linux/, asm/, asm-generic/ are exposed, see third_party/build).
BOARD_KHEADERS    ?= /usr/arm-linux-gnueabihf/include

QEMU := qemu-arm-static

BOARD_SANITIZE :=
BOARD_RELEASE  ?= yes

# Crypto provider used when the config has no crypto_provider line
# (software | afalg; docs/crypto.md). tools/crypto.mk passes it on.
BOARD_CRYPTO ?= software

# Audio transcoding (src/codec, issue 11): 1 builds libopus, opencore-amr and
# vo-amrwbenc and the AGW's transcoding path; 0 leaves all of it out.
# Opus in float: the Cortex-A7 has VFPv4 + NEON.
TRANSCODE ?= 1
