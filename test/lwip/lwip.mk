# test/lwip/lwip.mk -- src/net/ on lwIP's sockets and stack (Debian's
# liblwip-dev, amd64, so BOARD=host only), with the eIMS-AGW on top.
#
#   make lwip-test    build build/host/lwiptest and run it
#
# src/net/udp.c and net.c are compiled again with -DNET_LWIP (net_sys.h
# maps their socket calls to lwip_*); they come before libimsedge.a on
# the link line, so the archive's kernel-socket net objects are never
# pulled in. Everything else (the AGW, DTLS/SRTP, libre) is the regular
# build. See test/lwip/main.c for what runs and what proves it is lwIP.

LWIP_OBJ   := $(OBJ)/lwip
LWIP_BIN   := $(BUILD)/lwiptest
LWIP_FLAGS := -DNET_LWIP -I/usr/include/lwip
LWIP_OBJS  := $(LWIP_OBJ)/main.o $(LWIP_OBJ)/stack.o $(LWIP_OBJ)/udp.o \
	$(LWIP_OBJ)/net.o

.PHONY: lwip-test

$(LWIP_OBJ)/udp.o $(LWIP_OBJ)/net.o: $(LWIP_OBJ)/%.o: src/net/%.c \
		$(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(IMS_CFLAGS) $(LWIP_FLAGS) -c $< -o $@

$(LWIP_OBJ)/main.o $(LWIP_OBJ)/stack.o: $(LWIP_OBJ)/%.o: test/lwip/%.c \
		$(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(IMS_CFLAGS) $(LWIP_FLAGS) -Isrc -c $< -o $@

$(LWIP_BIN): $(LWIP_OBJS) $(LIB)
	$(CC) -o $@ $^ $(IMS_LDFLAGS) $(DEPS_LIBS) $(BOARD_LIBS) -llwip

lwip-test:
	@test "$(BOARD)" = host || \
		{ echo "lwip-test: BOARD=host only (liblwip-dev)" >&2; exit 1; }
	@test -f /usr/include/lwip/lwipopts.h || \
		{ echo "lwip-test: needs liblwip-dev (make setup)" >&2; exit 1; }
	$(MAKE) --no-print-directory $(LWIP_BIN)
	timeout 120 ./$(LWIP_BIN)
