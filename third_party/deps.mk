# third_party/deps.mk -- the four pinned libraries, built per board.
#
# Included by the top Makefile after board/$(BOARD)/board.mk, with BOARD and
# BUILD (build/$(BOARD)) already set; DEPS_BUILD (default $(BUILD)) lets
# variants of a board (the sanitizer build) share one dependency build. Provides:
#   DEPS_DIR     $(BUILD)/deps: include/ and lib/ of libre, mbedtls, libsrtp2, usrsctp
#   DEPS_STAMP   make every object that includes a dependency header depend on it
#   DEPS_CFLAGS  compile flags for code using those headers (the defines MUST
#                match the libraries' build: struct layouts depend on them)
#   DEPS_LIBS    link flags, in link order
#   targets: deps (build them), deps-probe (build + run third_party/probe.c),
#            deps-clean
# This file does not change the default goal of the including Makefile.

_deps_saved_goal := $(.DEFAULT_GOAL)

DEPS_BUILD ?= $(BUILD)
DEPS_DIR   := $(DEPS_BUILD)/deps
DEPS_STAMP := $(DEPS_DIR)/.stamp

# Everything third_party/build hashes into the stamp. Only a content change
# rebuilds: with newer files but the same hash, the script just touches the stamp.
DEPS_INPUTS := third_party/pins third_party/fetch third_party/build \
	third_party/print.mk third_party/mbedtls/imsedge_mbedtls_config.h \
	board/$(BOARD)/board.mk $(sort $(wildcard third_party/patches/*/*.patch))

# mbedtls: its config is default + imsedge_mbedtls_config.h (DTLS-SRTP on).
DEPS_MBEDTLS_CFLAGS := -DMBEDTLS_USER_CONFIG_FILE='"imsedge_mbedtls_config.h"'

# libre: the defines of its own build that change what its headers declare or
# how structs are laid out (re_types.h, re_sa.h, re_tls.h, re_mbuf.h).
DEPS_RE_CFLAGS := -DHAVE_INTTYPES_H -DHAVE_STDBOOL_H -DHAVE_INET6 -DUSE_TLS
ifeq ($(BOARD_LIBC),musl)
DEPS_RE_CFLAGS += -D_GNU_SOURCE
endif
ifneq ($(BOARD_RELEASE),)
DEPS_RE_CFLAGS += -DRELEASE
endif

DEPS_CFLAGS := -I$(DEPS_DIR)/include -I$(DEPS_DIR)/include/re \
	$(DEPS_MBEDTLS_CFLAGS) $(DEPS_RE_CFLAGS)

DEPS_LIBS := -L$(DEPS_DIR)/lib -lre -lsrtp2 -lusrsctp \
	-lmbedtls -lmbedx509 -lmbedcrypto -lpthread -lm

# Audio codecs for the AGW's transcoding path (board option TRANSCODE=1):
# libopus, opencore-amr, vo-amrwbenc, spandsp's G.722 (libg722.a).
# IMSEDGE_TRANSCODE tells the code.
ifeq ($(TRANSCODE),1)
DEPS_CFLAGS += -DIMSEDGE_TRANSCODE
DEPS_LIBS   := -L$(DEPS_DIR)/lib -lopus -lopencore-amrnb -lopencore-amrwb \
	-lvo-amrwbenc -lg722 $(DEPS_LIBS)
endif

# third_party/build reads board.mk through a make of its own; the caller's
# overrides (make CC=... or environment) reach it through MAKEFLAGS/environment.
$(DEPS_STAMP): $(DEPS_INPUTS)
	TRANSCODE=$(TRANSCODE) third_party/fetch && third_party/build $(BOARD) $(DEPS_BUILD)

.PHONY: deps deps-probe deps-clean
deps: $(DEPS_STAMP)

DEPS_PROBE := $(BUILD)/deps-probe/probe
$(DEPS_PROBE): third_party/probe.c $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(BOARD_CFLAGS) $(DEPS_CFLAGS) -o $@ $< \
		$(BOARD_LDFLAGS) $(DEPS_LIBS) $(BOARD_LIBS)

deps-probe: $(DEPS_PROBE)
	timeout 60 $(QEMU) $(abspath $(DEPS_PROBE))

deps-clean:
	rm -rf $(DEPS_BUILD)/src $(DEPS_DIR) $(BUILD)/deps-probe

.DEFAULT_GOAL := $(_deps_saved_goal)
