# board/host/board.mk -- the build machine itself: x86_64, glibc, gcc.
# Used for development, unit tests and sanitizer runs. The four libraries are
# linked statically; the binary is dynamic against glibc only.
#
# Variables set with ?= (or only when make's built-in default is in force, for
# CC/AR) may be overridden from the command line or the environment.

BOARD_TRIPLET          := x86_64-linux-gnu
BOARD_LIBC             := glibc
CMAKE_SYSTEM_PROCESSOR := x86_64

# make defines CC=cc and AR=ar itself, so ?= would never take effect for them.
ifneq ($(filter default undefined,$(origin CC)),)
CC := gcc
endif
ifneq ($(filter default undefined,$(origin AR)),)
AR := ar
endif
RANLIB  ?= ranlib
STRIP   ?= strip

# Debian's hardening (what dpkg-buildflags gives a package on bookworm
# amd64): the host binary is also what `make deb` ships
BOARD_CFLAGS  ?= -O2 -g -fstack-protector-strong -fstack-clash-protection \
	-fcf-protection -D_FORTIFY_SOURCE=2 -Wformat -Werror=format-security
BOARD_LDFLAGS ?= -Wl,-z,relro -Wl,-z,now
BOARD_LIBS    ?=

# Directory holding the C library's headers (libre probes it for epoll.h etc.)
BOARD_LIBC_INCDIR ?= /usr/include
# Kernel uapi headers (linux/, asm/) for a libc that does not ship them; glibc
# finds them on its own.
BOARD_KHEADERS    ?=

# Run board binaries with this (empty: run natively).
QEMU :=

# Build the project with -fsanitize=address,undefined on this board.
BOARD_SANITIZE := yes
# Build libre with RELEASE (no mem/mbuf debugging); host keeps the debug
# bookkeeping (mem_debug(), magic checks) for tests.
BOARD_RELEASE ?=

# Crypto provider used when the config has no crypto_provider line
# (software | afalg; docs/crypto.md). tools/crypto.mk passes it on.
BOARD_CRYPTO ?= software

# Audio transcoding (src/codec, issue 11): 1 builds libopus, opencore-amr and
# vo-amrwbenc and the AGW's transcoding path; 0 leaves all of it out.
TRANSCODE ?= 1
