# tools/image/image.mk -- QEMU test image of a board (included by the Makefile)
#
#   make image BOARD=armhf        build/armhf/image/{vmlinuz,initrd.gz}
#   make image-test BOARD=armhf   boot it in qemu-system-arm, register through it
#   (BOARD=mipsel: linux-image-4kc-malta in qemu-system-mipsel -M malta)
#
# The image is a Debian kernel plus a busybox initramfs with the static
# imsedge; see tools/image/mkimage and tools/image/image-test.mjs.

IMAGE_BOARDS := armhf mipsel
IMAGE_DIR    := build/$(BOARD)/image

.PHONY: image image-test

image: $(BIN) $(CB_BIN) build/www/.stamp
	@case " $(IMAGE_BOARDS) " in *" $(BOARD) "*) ;; *) \
		echo "make image: BOARD=$(BOARD) has no image (one of:$(IMAGE_BOARDS))" >&2; \
		exit 1;; esac
	IMSEDGE_BIN=$(BIN) CRYPTOBENCH_BIN=$(CB_BIN) tools/image/mkimage $(BOARD) $(IMAGE_DIR)

image-test: image
	tools/image/image-test $(BOARD)
