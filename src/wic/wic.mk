# src/wic/wic.mk -- the browser phone imsedge's WWSF serves (src/wic/,
# JsSIP bundled by esbuild) built into build/www/
#
#   make www      build/www/: index.html, app.js, style.css,
#                 icon.svg, site.json and a .gz of each
#                 (tools/wic-build.mjs)
#
# Included from the top Makefile. Needs Node.js with npm; the packages
# (src/wic/package-lock.json) come from tools/npm-setup.

WWW_DIR  := build/www
WWW_SRCS := $(filter-out %.mk %.md,$(wildcard src/wic/*))

.PHONY: www
www: $(WWW_DIR)/.stamp

$(WWW_DIR)/.stamp: $(WWW_SRCS) tools/wic-build.mjs tools/npm-setup
	tools/npm-setup src/wic
	node tools/wic-build.mjs $(WWW_DIR)
	touch $@
