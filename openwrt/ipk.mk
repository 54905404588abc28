# openwrt/ipk.mk -- OpenWrt packages of the static board binaries, made
# without the OpenWrt SDK (included by the top Makefile).
#
#   make ipk BOARD=armhf|mipsel        build/<board>/imsedge_<version>-1_<arch>.ipk
#   make ipk-check BOARD=armhf|mipsel  that .ipk through test/ipk-check
#   make ipk-test                      both, for every board below, and
#                                      the release tarball (dist-check)
#
# The binaries come from Debian's musl cross toolchains: armhf matches
# OpenWrt's arm_cortex-a7_neon-vfpv4; mipsel is HARD-float (see
# board/mipsel/board.mk) while OpenWrt's mipsel_24kc is soft-float, so that
# package is for QEMU and CI. Packages for a real OpenWrt build come from
# openwrt/imsedge/Makefile in the SDK or buildroot.

IPK_RELEASE     := 1
IPK_BOARDS      := armhf mipsel
IPK_ARCH_armhf  := arm_cortex-a7_neon-vfpv4
IPK_ARCH_mipsel := mipsel_24kc
IPK_ARCH        := $(IPK_ARCH_$(BOARD))
IPK_VERSION     := $(VERSION)-$(IPK_RELEASE)
IPK             := $(BUILD)/imsedge_$(IPK_VERSION)_$(IPK_ARCH).ipk
# Every member's mtime: SOURCE_DATE_EPOCH, else the last commit's time
IPK_EPOCH ?= $(or $(SOURCE_DATE_EPOCH),$(shell git log -1 --format=%ct \
	2>/dev/null),0)
IPK_INPUTS := openwrt/ipk.mk openwrt/mkipk openwrt/ipk/postinst \
	openwrt/ipk/prerm rootfs/etc/init.d/imsedge rootfs/etc/config/imsedge \
	rootfs/etc/capabilities/imsedge.json \
	rootfs/etc/capabilities/imsedge-bind.json \
	rootfs/etc/imsedge/imsedge.conf rootfs/lib/upgrade/keep.d/imsedge \
	LICENSE THIRD-PARTY-NOTICES

.PHONY: ipk ipk-check ipk-test

ifeq ($(IPK_ARCH),)
ipk ipk-check:
	@echo "ipk: BOARD=$(BOARD) has no OpenWrt package architecture here" \
		"(BOARD=armhf or mipsel; for an OpenWrt build use" \
		"openwrt/imsedge/Makefile)" >&2
	@exit 1
else
ipk: $(IPK)

$(IPK): $(BIN) $(IPK_INPUTS) $(WWW_DIR)/.stamp
	openwrt/mkipk $(BIN) $(STRIP) $(IPK_ARCH) $(IPK_VERSION) \
		$(IPK_EPOCH) $@

# The check, and a second build that must give the same bytes. The
# package is rebuilt first: its mtimes follow the last commit, which
# make's dependencies do not see.
ipk-check: $(BIN) $(IPK_INPUTS) $(WWW_DIR)/.stamp
	openwrt/mkipk $(BIN) $(STRIP) $(IPK_ARCH) $(IPK_VERSION) \
		$(IPK_EPOCH) $(IPK)
	test/ipk-check $(BOARD) $(IPK) $(IPK_VERSION)
	@openwrt/mkipk $(BIN) $(STRIP) $(IPK_ARCH) $(IPK_VERSION) \
		$(IPK_EPOCH) $(IPK).again >/dev/null
	@if cmp -s $(IPK) $(IPK).again; then \
		echo "ipk-check: $(IPK) is reproducible"; \
	else \
		echo "ipk-check: a second build of $(IPK) differs" >&2; \
		rm -f $(IPK).again; exit 1; \
	fi
	@rm -f $(IPK).again
endif

ipk-test:
	@v=$$(sed -n 's/^PKG_VERSION:=//p' openwrt/imsedge/Makefile); \
	if [ "$$v" != "$(VERSION)" ]; then \
		echo "ipk-test: openwrt/imsedge/Makefile has PKG_VERSION" \
			"'$$v', the Makefile VERSION $(VERSION)" >&2; \
		exit 1; \
	fi
	@for b in $(IPK_BOARDS); do \
		$(MAKE) --no-print-directory BOARD=$$b ipk-check || exit 1; \
	done
	@$(MAKE) --no-print-directory dist-check
