# tools/xcodework/xcodework.mk -- the codec work of transcoded calls, for
# instruction counts (tools/xcode-estimate) and codec state sizes.
#
# Included by the top Makefile (after LIB, IMS_CFLAGS, DEPS_LIBS are set);
# only on a board with TRANSCODE=1.
#   make [BOARD=...] xcodework         build/$(BOARD)/xcodework
#   make xcode-estimate                instructions per call-second on
#                                      host, armhf and mipsel (TRANSCODE=1),
#                                      calls per core (docs/figures.md)

XW_BIN := $(BUILD)/xcodework

.PHONY: xcodework xcode-estimate

# the counter of qemu-user's log: a host tool, whatever BOARD is
QCOUNT := build/qcount
$(QCOUNT): tools/xcodework/qcount.c
	@mkdir -p $(dir $@)
	gcc -O2 -Wall -Wextra -o $@ $<

ifeq ($(TRANSCODE),1)
$(OBJ)/xcodework/xcodework.o: tools/xcodework/xcodework.c $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(IMS_CFLAGS) -Isrc -c $< -o $@

$(XW_BIN): $(OBJ)/xcodework/xcodework.o $(LIB)
	$(CC) -o $@ $^ $(IMS_LDFLAGS) $(DEPS_LIBS) $(BOARD_LIBS)

xcodework: $(XW_BIN)
else
xcodework:
	@echo "xcodework: BOARD=$(BOARD) is built without TRANSCODE=1" >&2
	@exit 1
endif

xcode-estimate: $(QCOUNT)
	$(MAKE) --no-print-directory BOARD=host xcodework
	$(MAKE) --no-print-directory BOARD=armhf xcodework
	$(MAKE) --no-print-directory BOARD=mipsel TRANSCODE=1 xcodework
	tools/xcode-estimate
