#!/bin/busybox sh
# /init of the test bed's initramfs: load the virtio/9p/overlay modules,
# mount the host's root read-only over 9p with a tmpfs overlay on top, and
# hand over to the stage-2 init named on the kernel command line
# (RANSDN_STAGE2=...; the kernel passes unknown key=value pairs to init's
# environment).
/bin/busybox --install -s /bin
export PATH=/bin

die() {
    echo "initramfs: $*"
    echo "RANSDN-GUEST-EXIT 125"
    poweroff -f
}

mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev

for m in $(cat /modules/order); do
    insmod "/modules/$m" || die "insmod $m failed"
done

mkdir -p /mnt/lower /mnt/rw /mnt/root
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=loose,ro host /mnt/lower \
    || die "cannot mount the host root over 9p"
mount -t tmpfs -o size=512m,mode=0755 rw /mnt/rw
mkdir -p /mnt/rw/upper /mnt/rw/work
mount -t overlay -o lowerdir=/mnt/lower,upperdir=/mnt/rw/upper,workdir=/mnt/rw/work overlay /mnt/root \
    || die "cannot mount the overlay"

for d in proc sys dev; do
    mount --move /$d /mnt/root/$d
done

[ -n "$RANSDN_STAGE2" ] || die "no RANSDN_STAGE2 on the kernel command line"
exec switch_root /mnt/root /bin/bash "$RANSDN_STAGE2"
