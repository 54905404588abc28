# test/fuzz/fuzz.mk -- libFuzzer targets for every parser of network input
#
#   make fuzz [FUZZ_SECONDS=60]  fuzz each target for a while; new inputs go
#                                to build/fuzz-corpus/<target>/
#   make fuzz-replay             run each target once over its seed corpus
#                                (part of make test)
#
# Built with clang (-fsanitize=fuzzer,address,undefined) for the host only.

FUZZ_TARGETS := ws_upgrade ws_frame sip_w2 pcscf trust conf dtls agw sdpx jwt waf_login wwsf dcep dc t140 \
	cdr reginfo msrp rtpq
# audio transcoding (board option TRANSCODE=1): RFC 4867, Opus TOCs, the
# jitter buffer's handling of RTP sequence numbers, G.722 payloads
ifeq ($(TRANSCODE),1)
FUZZ_TARGETS += amr_rtp opus_toc xcode_jb g722
endif
FUZZ_SECONDS ?= 60
FUZZ_BUILD   := build/host-fuzz
FUZZ_CC      ?= clang
FUZZ_CFLAGS  := -std=c11 -D_GNU_SOURCE -g -O1 -Isrc -DIMSEDGE_VERSION=\"$(VERSION)\" \
	-fsanitize=fuzzer-no-link,address,undefined \
	-fno-sanitize-recover=undefined $(DEPS_CFLAGS)
FUZZ_LIB_OBJS := $(patsubst src/%.c,$(FUZZ_BUILD)/obj/%.o,$(LIB_SRCS))
FUZZ_BINS    := $(addprefix $(FUZZ_BUILD)/fuzz_,$(FUZZ_TARGETS))

$(FUZZ_BUILD)/obj/%.o: src/%.c $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_BUILD)/fuzz_%: test/fuzz/fuzz_%.c $(FUZZ_LIB_OBJS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(DEPS_LIBS)

.PHONY: fuzz fuzz-replay fuzz-build
fuzz-build: $(FUZZ_BINS)

fuzz-replay: $(FUZZ_BINS)
	@for t in $(FUZZ_TARGETS); do \
		echo "fuzz-replay: $$t"; \
		timeout 300 $(FUZZ_BUILD)/fuzz_$$t -runs=0 \
			test/fuzz/corpus/$$t || exit 1; \
	done

fuzz: $(FUZZ_BINS)
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p build/fuzz-corpus/$$t; \
		timeout $$(( $(FUZZ_SECONDS) + 60 )) $(FUZZ_BUILD)/fuzz_$$t \
			-max_total_time=$(FUZZ_SECONDS) -max_len=16384 \
			build/fuzz-corpus/$$t test/fuzz/corpus/$$t || exit 1; \
	done
