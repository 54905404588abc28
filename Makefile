# imsedge -- one Makefile for the host and every board.
#
#   make [BOARD=host|armhf|mipsel]   build build/$(BOARD)/imsedge
#   make run                         imsedge with a development config
#   make test                        every test (what .ci/run calls)
#   make lwip-test                   src/net/ and the AGW on lwIP
#   make check                       unit tests under ASan + UBSan
#   make DATACHANNEL=0 unit          unit tests of a build without usrsctp
#   make fuzz [FUZZ_SECONDS=60]      run every fuzz target for a while
#   make size                        footprint figures -> docs/footprint.md
#   make ipk | deb | dist            packages: OpenWrt .ipk, Debian .deb,
#                                    release tarball (packaging/, openwrt/)
#
# Honours CC CFLAGS LDFLAGS DESTDIR BOARD as OpenWrt's package build
# expects; no configure step and no run probes.

VERSION := 0.1.0
BOARD   ?= host

DEPS_BUILD := build/$(BOARD)
ifeq ($(SAN),1)
BUILD := build/$(BOARD)-san
else
BUILD := build/$(BOARD)
endif
# REL=1: a release variant of the board in build/$(BOARD)-rel with its own
# dependency build, libre built with RELEASE (no mem/mbuf debug bookkeeping:
# no mutex per allocation). For benchmarks (make REL=1 bench-media); the
# default build and every test keep the board's own setting.
ifeq ($(REL),1)
BUILD      := build/$(BOARD)-rel
DEPS_BUILD := build/$(BOARD)-rel
endif
# Data channels (src/dc on usrsctp; the AGW's data-channel endpoint, MSRP
# and T.140 interworking): board option DATACHANNEL=1 (the default; a
# board.mk or the command line may set 0). DATACHANNEL=0 links no usrsctp
# (it is still built with the other libraries): src/dc/none.c stands in,
# data-channel m-lines the AGW would terminate are rejected, relayed ones
# (core_datachannel relay, a core's offer) still pass. Objects go to
# build/$(BOARD)-nodc; the libraries are the board's own.
DATACHANNEL ?= 1
ifeq ($(DATACHANNEL),0)
BUILD := $(BUILD)-nodc
endif

ifeq ($(wildcard board/$(BOARD)/board.mk),)
$(error unknown BOARD '$(BOARD)': see board/)
endif

# TRANSCODE=0|1 other than the board's default (board.mk's TRANSCODE ?=):
# a variant of the board in build/$(BOARD)-tc$(TRANSCODE), with its own
# libraries, so that `make BOARD=mipsel TRANSCODE=1 unit` and `make size`
# leave the default build alone
ifneq ($(filter command line environment,$(origin TRANSCODE)),)
TRANSCODE_DEFAULT := $(shell sed -n 's/^TRANSCODE *?= *//p' board/$(BOARD)/board.mk)
ifneq ($(strip $(TRANSCODE)),$(strip $(TRANSCODE_DEFAULT)))
BUILD      := $(BUILD)-tc$(TRANSCODE)
DEPS_BUILD := $(DEPS_BUILD)-tc$(TRANSCODE)
endif
endif

.DEFAULT_GOAL := all

include board/$(BOARD)/board.mk
ifeq ($(REL),1)
# third_party/build reads board.mk in a make of its own: the environment
# carries the override there
override BOARD_RELEASE := yes
export BOARD_RELEASE
endif
include third_party/deps.mk

BOARDS_CROSS := armhf mipsel

# Default of the config key opus_complexity (0..10) on this board: board.mk
# sets it low where the CPU is weak (soft-float MIPS); 5 elsewhere
OPUS_COMPLEXITY ?= 5

WARN := -Wall -Wextra -Wno-unused-parameter -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wno-missing-field-initializers
IMS_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) -Werror $(BOARD_CFLAGS) \
	$(DEPS_CFLAGS) -DIMSEDGE_VERSION=\"$(VERSION)\" \
	-DIMSEDGE_OPUS_COMPLEXITY=$(OPUS_COMPLEXITY) -MMD -MP $(CFLAGS)
IMS_LDFLAGS := $(BOARD_LDFLAGS) $(LDFLAGS)
ifeq ($(SAN),1)
IMS_CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
IMS_LDFLAGS += -fsanitize=address,undefined
endif

SRCS     := $(sort $(shell find src -name node_modules -prune -o -name '*.c' -print))
LIB_SRCS := $(filter-out src/main.c,$(SRCS))
# Audio transcoding (src/codec, src/agw/xcode*): board option TRANSCODE=1
ifneq ($(TRANSCODE),1)
LIB_SRCS := $(filter-out src/codec/% src/agw/xcode%,$(LIB_SRCS))
endif
ifeq ($(DATACHANNEL),0)
LIB_SRCS := $(filter-out src/dc/assoc.c src/dc/chan.c src/dc/sctp.c,\
	$(LIB_SRCS))
IMS_CFLAGS += -DIMSEDGE_NO_DATACHANNEL
DEPS_LIBS  := $(filter-out -lusrsctp,$(DEPS_LIBS))
else
LIB_SRCS := $(filter-out src/dc/none.c,$(LIB_SRCS))
endif
OBJ      := $(BUILD)/obj
LIB_OBJS := $(patsubst src/%.c,$(OBJ)/%.o,$(LIB_SRCS))
LIB      := $(BUILD)/libimsedge.a
BIN      := $(BUILD)/imsedge

UNIT_SRCS := $(sort $(wildcard test/unit/*.c))
UNIT_OBJS := $(patsubst test/unit/%.c,$(OBJ)/test/%.o,$(UNIT_SRCS))
UNIT      := $(BUILD)/unittest

.PHONY: all setup run test check unit unit-cross integration fuzz \
	fuzz-replay links-check size install clean distclean

all: $(BIN)

$(OBJ)/%.o: src/%.c $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(IMS_CFLAGS) -c $< -o $@

$(OBJ)/test/%.o: test/unit/%.c $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(IMS_CFLAGS) -Isrc -c $< -o $@

$(LIB): $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(BIN): $(OBJ)/main.o $(LIB)
	$(CC) -o $@ $^ $(IMS_LDFLAGS) $(DEPS_LIBS) $(BOARD_LIBS)

$(UNIT): $(UNIT_OBJS) $(LIB)
	$(CC) -o $@ $^ $(IMS_LDFLAGS) $(DEPS_LIBS) $(BOARD_LIBS)

-include $(shell find $(OBJ) -name '*.d' 2>/dev/null)

# --- setup: every Debian and npm package the build and tests need ---------
setup:
	tools/setup
	tools/npm-setup

# --- tests ----------------------------------------------------------------
# Unit tests on this board (natively or under qemu-user), leak-checked
unit: $(UNIT)
	IMSEDGE_TEST_DATA=test/data timeout 600 $(QEMU) ./$(UNIT)

# The same unit tests for every cross board, under qemu-user
unit-cross:
	@for b in $(BOARDS_CROSS); do \
		$(MAKE) --no-print-directory BOARD=$$b unit links-check \
			|| exit 1; \
	done
	@# mipsel's transcoding (off by default there): the codecs on a CPU
	@# that faults on unaligned words (it found an unaligned packet buffer)
	$(MAKE) --no-print-directory BOARD=mipsel TRANSCODE=1 unit

check:
	$(MAKE) --no-print-directory SAN=1 unit

# --test-force-exit: a test file whose tests are done ends even if a handle
# (a socket, a child, a timer) was left open; --test-timeout bounds every
# test and hook that sets no timeout of its own (node's default: none)
NODE_TEST := node --test --test-concurrency=1 --test-force-exit \
	--test-timeout=240000

integration: $(BIN)
	IMSEDGE_BIN=$(BIN) $(NODE_TEST) test/integration/


links-check: $(BIN)
	test/links-check $(BIN) $(if $(QEMU),static)
	@! test/links-check /usr/bin/curl >/dev/null 2>&1 || \
		{ echo "links-check does not catch libssl" >&2; exit 1; }

include test/fuzz/fuzz.mk
# test and tool fragments: optional, so that the OpenWrt package build
# (openwrt/imsedge/Makefile copies only what it builds) needs none of them
-include test/browser/browser.mk
-include test/lwip/lwip.mk
-include tools/mediabench/mediabench.mk
-include tools/dcbench/dcbench.mk
-include tools/xcodework/xcodework.mk
include src/wic/wic.mk
include openwrt/ipk.mk
include packaging/packaging.mk
-include tools/crypto.mk
-include tools/image/image.mk

# Each phase is timed and bounded by tools/phase (limits in seconds: a hang
# fails its phase with the processes still running, instead of using up
# CI's time); the figures end up in build/test-phases.log and are printed
# at the end. The limits are generous: a cold run on 2 cores takes about a
# third of their sum.
TEST_PHASES := \
	setup:2400:setup \
	unit:900:unit \
	unit-nodc:900:DATACHANNEL=0@unit \
	check:1200:check \
	links-check:300:links-check \
	unit-cross:2400:unit-cross \
	fuzz-replay:900:fuzz-replay \
	lwip-test:300:lwip-test \
	ipk-test:900:ipk-test \
	deb-test:600:deb-test \
	image-test-armhf:900:BOARD=armhf@image-test \
	image-test-mipsel:900:BOARD=mipsel@image-test \
	integration:1500:integration \
	browser-test:1800:browser-test

TEST_JOBS ?= $(shell nproc 2>/dev/null || echo 2)

test:
	@mkdir -p build; log=build/test-phases.log; rm -f $$log; \
	export PHASE_T0=$$(date +%s) PHASE_LOG=$$log; \
	for p in $(TEST_PHASES); do \
		name=$${p%%:*}; rest=$${p#*:}; limit=$${rest%%:*}; \
		args=$$(echo "$${rest#*:}" | tr @ ' '); \
		tools/phase $$name $$limit \
			$(MAKE) --no-print-directory -j$(TEST_JOBS) $$args || { \
			echo "make test: phase $$name failed" >&2; \
			cat $$log; exit 1; }; \
	done; \
	echo "make test: every phase passed (name, seconds, rc):"; cat $$log

# --- run: imsedge with a development config -------------------------------
run: setup
	$(MAKE) --no-print-directory BOARD=host all
	tools/run

# --- figures --------------------------------------------------------------
# docs/footprint.md (generated): sizes (each board with and without
# TRANSCODE), RSS idle/loaded on the host and in the QEMU images,
# boot-to-ready, SRTP ns/packet; see tools/footprint.mjs
size:
	@for b in host $(BOARDS_CROSS); do \
		$(MAKE) --no-print-directory BOARD=$$b all >/dev/null || exit 1; \
		d=$$(sed -n 's/^TRANSCODE *?= *//p' board/$$b/board.mk); \
		$(MAKE) --no-print-directory BOARD=$$b \
			TRANSCODE=$$((1 - $${d:-0})) all >/dev/null || exit 1; \
	done
	@$(MAKE) --no-print-directory BOARD=host build/host/cryptobench >/dev/null
	@for b in $(IMAGE_BOARDS); do \
		$(MAKE) --no-print-directory BOARD=$$b image >/dev/null || exit 1; \
	done
	@tools/size-report
	@[ -d test/node_modules/ws ] || tools/npm-setup
	timeout -k 5 420 node tools/footprint.mjs

install: $(BIN)
	install -d $(DESTDIR)/usr/sbin
	install -m 0755 $(BIN) $(DESTDIR)/usr/sbin/imsedge

clean:
	rm -rf $(OBJ) $(BIN) $(LIB) $(UNIT) $(BUILD)/fuzz

distclean:
	rm -rf build
