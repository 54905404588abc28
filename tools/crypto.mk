# tools/crypto.mk -- crypto providers: board default and the benchmark
#
# Included by the top Makefile (after LIB, IMS_CFLAGS, DEPS_LIBS are set):
#   include tools/crypto.mk
#   make bench-crypto [CB_ARGS="-n 500000"]      ns per SRTP protect
#
# BOARD_CRYPTO (board/*/board.mk, default software) becomes the provider
# used when the config has no crypto_provider line.

BOARD_CRYPTO ?= software
IMS_CFLAGS   += -DCRYPTO_BOARD_DEFAULT=\"$(BOARD_CRYPTO)\"

CB_BIN  := $(BUILD)/cryptobench
CB_ARGS ?=

.PHONY: bench-crypto

$(OBJ)/tools/cryptobench.o: tools/cryptobench.c $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(IMS_CFLAGS) -Isrc -c $< -o $@

$(CB_BIN): $(OBJ)/tools/cryptobench.o $(LIB)
	$(CC) -o $@ $^ $(IMS_LDFLAGS) $(DEPS_LIBS) $(BOARD_LIBS)

bench-crypto: $(CB_BIN)
	timeout 600 $(QEMU) ./$(CB_BIN) $(CB_ARGS)
