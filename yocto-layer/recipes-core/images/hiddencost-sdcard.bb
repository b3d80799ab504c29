# nooelint: oelint.var.suggestedvar.BUGTRACKER, oelint.var.suggestedvar.CVE_PRODUCT, oelint.var.suggestedvar.SECTION
# (an image: no upstream project of its own, nothing for CVE checks, no package section)
SUMMARY = "Raspberry Pi SD card: firmware, kernel and the hiddencost-image initramfs"
DESCRIPTION = "One FAT boot partition and no root filesystem (files/wic/hiddencost-sdcard.wks); \
               config.txt loads hiddencost-image as the initramfs (kas/raspberrypi4-64.yml)."
LICENSE = "MIT"

COMPATIBLE_MACHINE = "^rpi$"

IMAGE_FSTYPES = "wic.bz2 wic.bmap"
WKS_FILE = "hiddencost-sdcard.wks"
# Nothing of this image's own root filesystem reaches the card: the .wks has no rootfs partition.
PACKAGE_INSTALL = ""
IMAGE_FEATURES = ""
IMAGE_LINGUAS = ""

inherit image

# The initramfs is its own image: changing the benchmark rebuilds neither kernel nor firmware.
HIDDENCOST_INITRAMFS = "hiddencost-image-${MACHINE}.rootfs.${INITRAMFS_FSTYPES}"
IMAGE_BOOT_FILES:append = " ${HIDDENCOST_INITRAMFS};hiddencost.cpio.gz"
# (do_image_wic is a task of oe-core's image_types_wic.bbclass, unknown to oelint's word list)
# nooelint: oelint.vars.mispell.unknown
do_image_wic[depends] += "hiddencost-image:do_image_complete"
