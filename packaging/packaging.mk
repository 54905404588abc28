# packaging/packaging.mk -- the release tarball, the Debian package and
# the licence notices (included by the top Makefile; the .ipk is in
# openwrt/ipk.mk)
#
#   make dist           build/dist/imsedge-<version>.tar.gz: the source at
#                       HEAD plus the built page (builds without Node.js)
#   make dist-check     that tarball through test/dist-check
#   make deb            build/<board>/imsedge_<version>-1_<arch>.deb
#                       (BOARD=host: this machine's architecture)
#   make deb-check      that .deb through test/deb-check (lintian,
#                       systemd-analyze verify, an install and a start)
#   make deb-test       deb-check for the host, notices-check
#   make notices        THIRD-PARTY-NOTICES again (tools/notices)
#   make notices-check  THIRD-PARTY-NOTICES matches the pins and sources

DIST     := build/dist/imsedge-$(VERSION).tar.gz
DEB_RELEASE := 1
DEB_VERSION := $(VERSION)-$(DEB_RELEASE)
DEB_ARCH_host   := $(shell dpkg --print-architecture 2>/dev/null)
DEB_ARCH_armhf  := armhf
DEB_ARCH_mipsel := mipsel
DEB_ARCH := $(DEB_ARCH_$(BOARD))
DEB      := $(BUILD)/imsedge_$(DEB_VERSION)_$(DEB_ARCH).deb
# Every member's mtime: SOURCE_DATE_EPOCH, else the last commit's time
DEB_EPOCH ?= $(or $(SOURCE_DATE_EPOCH),$(shell git log -1 --format=%ct \
	2>/dev/null),0)
DEB_INPUTS := packaging/packaging.mk packaging/mkdeb \
	$(wildcard packaging/deb/*) rootfs/etc/imsedge/imsedge.conf \
	README.md THIRD-PARTY-NOTICES

.PHONY: dist dist-check deb deb-check deb-test notices notices-check

dist: $(WWW_DIR)/.stamp
	tools/mkdist $(VERSION) $(WWW_DIR) $(DIST)

dist-check: dist
	test/dist-check $(DIST) $(VERSION)

notices:
	tools/notices

notices-check:
	tools/notices --check

deb: $(DEB)

$(DEB): $(BIN) $(DEB_INPUTS) $(WWW_DIR)/.stamp
	packaging/mkdeb $(BIN) $(STRIP) $(DEB_ARCH) $(DEB_VERSION) \
		$(DEB_EPOCH) $@

# The check, and a second build that must give the same bytes (rebuilt
# first: the mtimes follow the last commit, which make does not see)
deb-check: $(BIN) $(DEB_INPUTS) $(WWW_DIR)/.stamp
	packaging/mkdeb $(BIN) $(STRIP) $(DEB_ARCH) $(DEB_VERSION) \
		$(DEB_EPOCH) $(DEB)
	test/deb-check $(DEB) $(DEB_VERSION)
	@packaging/mkdeb $(BIN) $(STRIP) $(DEB_ARCH) $(DEB_VERSION) \
		$(DEB_EPOCH) $(DEB).again >/dev/null
	@if cmp -s $(DEB) $(DEB).again; then \
		echo "deb-check: $(DEB) is reproducible"; \
	else \
		echo "deb-check: a second build of $(DEB) differs" >&2; \
		rm -f $(DEB).again; exit 1; \
	fi
	@rm -f $(DEB).again

deb-test:
	@$(MAKE) --no-print-directory notices-check
	@$(MAKE) --no-print-directory BOARD=host deb-check
