# tools/dcbench/dcbench.mk -- the data-channel benchmark (make bench-dc)
#
# Included by the top Makefile (after LIB, IMS_CFLAGS, DEPS_LIBS are set).
#   make bench-dc [BOARD=armhf|mipsel] [DCB_ARGS="--msgs 20000 --assocs 50"]
# Two usrsctp associations in one process, their packets passed between
# them from the libre loop (no DTLS, no sockets): messages per second
# through one association, and memory per association; --msrp 1: MSRP
# SEND chunks decoded and re-encoded at the receiving end (CPU per MSRP
# message through the AGW's relay, without DTLS and TCP).

DCB_BIN  := $(BUILD)/dcbench
DCB_ARGS ?=

.PHONY: bench-dc

$(OBJ)/dcbench/dcbench.o: tools/dcbench/dcbench.c $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(IMS_CFLAGS) -Isrc -c $< -o $@

$(DCB_BIN): $(OBJ)/dcbench/dcbench.o $(LIB)
	$(CC) -o $@ $^ $(IMS_LDFLAGS) $(DEPS_LIBS) $(BOARD_LIBS)

bench-dc: $(DCB_BIN)
	timeout 600 $(QEMU) ./$(DCB_BIN) $(DCB_ARGS)
