# nooelint: oelint.var.suggestedvar.BUGTRACKER, oelint.var.suggestedvar.CVE_PRODUCT, oelint.var.suggestedvar.SECTION
# (an image: no upstream project of its own, nothing for CVE checks, no package section)
SUMMARY = "initramfs that boots straight into a hiddencost benchmark"
DESCRIPTION = "hiddencost as /init: no shell, no login, no network. The benchmark comes from \
               the kernel command line (hiddencost.*=, see conf/hiddencost.conf). Needs the \
               PID-1 mode of hiddencost, see yocto-layer/README.md."
LICENSE = "MIT"

require conf/hiddencost.conf

IMAGE_FSTYPES = "${INITRAMFS_FSTYPES}"
# No kernel, modules, init system, shell or getty inside: hiddencost is PID 1.
PACKAGE_INSTALL = "hiddencost"
NO_RECOMMENDATIONS = "1"
PACKAGE_EXCLUDE = "kernel-image-*"
IMAGE_FEATURES = ""
IMAGE_LINGUAS = ""

inherit image

# /init for the kernel, and /dev/console so PID 1 has stdin, stdout and stderr before it mounts
# devtmpfs; mount points for what PID 1 mounts (the boot partition goes on /boot).
ROOTFS_POSTPROCESS_COMMAND += "hiddencost_init"
hiddencost_init[doc] = "Make hiddencost the initramfs /init, with /dev/console and mount points"
hiddencost_init() {
    ln -sf ${bindir}/hiddencost ${IMAGE_ROOTFS}/init
    install -d ${IMAGE_ROOTFS}/dev ${IMAGE_ROOTFS}/proc ${IMAGE_ROOTFS}/sys ${IMAGE_ROOTFS}/boot
    mknod -m 622 ${IMAGE_ROOTFS}/dev/console c 5 1
}

# qemuarm64: runqemu qemuarm64 hiddencost-image nographic (the initramfs is the whole system)
QB_DEFAULT_FSTYPE = "${INITRAMFS_FSTYPES}"
QB_MEM ?= "-m 2048"
QB_KERNEL_CMDLINE_APPEND:append = " rdinit=/init ${HIDDENCOST_CMDLINE}"
