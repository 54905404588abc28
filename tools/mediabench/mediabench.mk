# tools/mediabench/mediabench.mk -- the media benchmark (make bench-media)
#
# Included by the top Makefile (after LIB, IMS_CFLAGS, DEPS_LIBS are set).
#   make bench-media [MB_ARGS="--calls 200 --seconds 20"]
# Needs rtpengine-daemon (tools/setup installs it).

MB_SRCS := $(sort $(wildcard tools/mediabench/*.c))
MB_OBJS := $(patsubst tools/mediabench/%.c,$(OBJ)/mediabench/%.o,$(MB_SRCS))
MB_BIN  := $(BUILD)/mediabench
MB_ARGS ?=

.PHONY: bench-media

$(OBJ)/mediabench/%.o: tools/mediabench/%.c $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(IMS_CFLAGS) -Isrc -c $< -o $@

$(MB_BIN): $(MB_OBJS) $(LIB)
	$(CC) -o $@ $^ $(IMS_LDFLAGS) $(DEPS_LIBS) $(BOARD_LIBS)

bench-media: $(MB_BIN)
	tools/setup
	IMSEDGE_TEST_DATA=test/data ./$(MB_BIN) --log $(BUILD)/mediabench-rtpengine.log $(MB_ARGS)
