# board/openwrt/board.mk -- a build inside OpenWrt's buildroot or SDK,
# driven by openwrt/imsedge/Makefile. Nothing about the target is assumed
# here: OpenWrt passes its toolchain and target on the command line (or in
# the environment):
#
#   CC AR RANLIB STRIP   $(TARGET_CC) $(TARGET_AR) $(TARGET_RANLIB) ...
#   OPENWRT_ARCH         $(ARCH): mipsel, mips, arm, aarch64, x86_64, ...
#   OPENWRT_TRIPLET      $(REAL_GNU_TARGET_NAME), e.g. mipsel-openwrt-linux-musl
#   OPENWRT_LIBC         musl or glibc ($(CONFIG_LIBC))
#   OPENWRT_CFLAGS       $(TARGET_CFLAGS) (-Os, -march/-mtune, -msoft-float
#                        on soft-float targets, hardening flags)
#   OPENWRT_LDFLAGS      $(TARGET_LDFLAGS)
#   OPENWRT_INCDIR       $(TOOLCHAIN_DIR)/include: the C library's headers,
#                        kernel headers included (libre probes it)
#   OPENWRT_TRANSCODE    1 with CONFIG_IMSEDGE_TRANSCODE (audio transcoding)
#
# The four libraries are built with these flags and linked in statically;
# the binary is dynamic against the target's C library only (OpenWrt ships
# it). Not TARGET_CPPFLAGS: its -I$(STAGING_DIR)/usr/include could put
# OpenWrt's own mbedtls headers before the pinned 3.6 ones.

ifeq ($(OPENWRT_ARCH),)
$(error BOARD=openwrt needs OPENWRT_ARCH and the toolchain from OpenWrt: \
	build it with openwrt/imsedge/Makefile)
endif
ifneq ($(filter default undefined,$(origin CC)),)
$(error BOARD=openwrt needs CC=$$(TARGET_CC) from OpenWrt)
endif

BOARD_TRIPLET := $(OPENWRT_TRIPLET)
BOARD_LIBC    := $(if $(OPENWRT_LIBC),$(OPENWRT_LIBC),musl)

# cmake's name of the processor (libsrtp2, usrsctp), from OpenWrt's ARCH
CMAKE_SYSTEM_PROCESSOR := $(strip \
	$(if $(filter mips64%,$(OPENWRT_ARCH)),mips64, \
	$(if $(filter mips%,$(OPENWRT_ARCH)),mips, \
	$(if $(filter aarch64%,$(OPENWRT_ARCH)),aarch64, \
	$(if $(filter arm%,$(OPENWRT_ARCH)),arm, \
	$(if $(filter i386 i486 i586 i686,$(OPENWRT_ARCH)),i686, \
	$(if $(filter powerpc64%,$(OPENWRT_ARCH)),ppc64, \
	$(if $(filter powerpc%,$(OPENWRT_ARCH)),ppc, \
	$(OPENWRT_ARCH)))))))))

ifneq ($(filter default undefined,$(origin AR)),)
AR := $(OPENWRT_TRIPLET)-ar
endif
RANLIB ?= $(OPENWRT_TRIPLET)-ranlib
STRIP  ?= $(OPENWRT_TRIPLET)-strip

# -ffunction-sections/-fdata-sections + --gc-sections as on the other boards
BOARD_CFLAGS  ?= $(OPENWRT_CFLAGS) -ffunction-sections -fdata-sections
BOARD_LDFLAGS ?= $(OPENWRT_LDFLAGS) -Wl,--gc-sections
# 32-bit MIPS and PowerPC have no native 64-bit atomics: gcc's libatomic,
# linked in statically so the package needs no libatomic
ifneq ($(filter mips mipsel powerpc,$(OPENWRT_ARCH)),)
BOARD_LIBS    ?= -Wl,-Bstatic -latomic -Wl,-Bdynamic
else
BOARD_LIBS    ?=
endif

BOARD_LIBC_INCDIR ?= $(OPENWRT_INCDIR)
# OpenWrt's toolchain headers include the kernel's uapi headers already
BOARD_KHEADERS    ?=

# How to run target binaries on the build machine (make unit BOARD=openwrt
# with qemu-user installed). Non-empty also tells third_party/build that
# this is a cross build (cmake's CMAKE_SYSTEM_NAME).
QEMU_ARCH_mipsel  := mipsel
QEMU_ARCH_mips    := mips
QEMU_ARCH_arm     := arm
QEMU_ARCH_armeb   := armeb
QEMU_ARCH_aarch64 := aarch64
QEMU_ARCH_i386    := i386
QEMU_ARCH_powerpc := ppc
QEMU_ARCH_riscv64 := riscv64
QEMU := $(if $(QEMU_ARCH_$(OPENWRT_ARCH)),qemu-$(QEMU_ARCH_$(OPENWRT_ARCH))-static)

BOARD_SANITIZE :=
BOARD_RELEASE  ?= yes

# Crypto provider used when the config has no crypto_provider line
# (software | afalg; docs/crypto.md). tools/crypto.mk passes it on.
BOARD_CRYPTO ?= software

# Audio transcoding (src/codec, issue 11): the package's menuconfig option
# CONFIG_IMSEDGE_TRANSCODE (openwrt/imsedge/Makefile passes OPENWRT_TRANSCODE
# and fetches the codec tarballs); off by default. Opus in fixed point on
# soft-float targets; opus_complexity's default low on MIPS.
TRANSCODE ?= $(if $(filter 1,$(OPENWRT_TRANSCODE)),1,0)
OPUS_FIXED_POINT ?= $(if $(filter -msoft-float,$(OPENWRT_CFLAGS)),1)
OPUS_COMPLEXITY ?= $(if $(filter mips%,$(OPENWRT_ARCH)),2,5)
