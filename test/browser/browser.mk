# test/browser/browser.mk -- the real-browser tests (headless Chromium via
# playwright-core, the test WIC page in test/browser/wic/, Kamailio as the
# S-CSCF stand-in, a Node IMS UE on the core side); firefox.test.mjs adds
# Debian's Firefox ESR (puppeteer-core, WebDriver BiDi) calling with
# `make run`'s dev.conf in a network namespace of its own (needs root)
#
#   make browser-test                   registration, Origin policy, D-22,
#                                       calls and media (D-24..D-40),
#                                       transcoding to AMR-WB/AMR phones
#                                       (xcode.test.mjs: needs ffmpeg,
#                                       libvo-amrwbenc-dev and
#                                       libopencore-amrnb-dev)
#   make browser-test IMSEDGE_CALLS=    without the call tests
#
# Included from the top Makefile (after BIN is set). The page bundle and
# screenshots go to build/browser/.

IMSEDGE_CALLS ?= 1

.PHONY: browser-test
browser-test: $(BIN) build/www/.stamp
	IMSEDGE_BIN=$(BIN) IMSEDGE_CALLS=$(IMSEDGE_CALLS) \
		IMSEDGE_TRANSCODE=$(TRANSCODE) \
		$(NODE_TEST) test/browser/
