# third_party/print.mk -- print board variables as shell assignments.
#   make -s -f board/$(BOARD)/board.mk -f third_party/print.mk print-vars
# Used by third_party/build; overrides given to the calling make (command line,
# environment) are honoured because they reach this make the same way.

PRINT_VARS := BOARD_TRIPLET BOARD_LIBC CMAKE_SYSTEM_PROCESSOR CC AR RANLIB STRIP \
	BOARD_CFLAGS BOARD_LDFLAGS BOARD_LIBS BOARD_LIBC_INCDIR BOARD_KHEADERS \
	QEMU BOARD_SANITIZE BOARD_RELEASE
# audio transcoding (src/codec): whether and how the codecs are built
PRINT_VARS += TRANSCODE OPUS_FIXED_POINT

_sq = '$(subst ','"'"',$(1))'

.PHONY: print-vars
print-vars:
	@:$(foreach v,$(PRINT_VARS),$(info $(v)=$(call _sq,$(strip $($(v))))))

print-%:
	@:$(info $($*))
