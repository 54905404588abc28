# test/browser/browser.mk -- the real-browser tests (headless Chromium via
# playwright-core, the test WIC page in test/browser/wic/, Kamailio as the
# S-CSCF stand-in, a Node IMS UE on the core side)
#
#   make browser-test                   registration, Origin policy, D-22,
#                                       calls and media (D-24..D-40)
#   make browser-test IMSEDGE_CALLS=    without the call tests
#
# Included from the top Makefile (after BIN is set). The page bundle and
# screenshots go to build/browser/.

IMSEDGE_CALLS ?= 1

.PHONY: browser-test
browser-test: $(BIN) build/www/.stamp
	IMSEDGE_BIN=$(BIN) IMSEDGE_CALLS=$(IMSEDGE_CALLS) \
		$(NODE_TEST) test/browser/
