#!/bin/bash
# PID 1 of the test-bed guest, running from the host's root file system
# (read-only 9p + tmpfs overlay).  Prepares what daemons expect (/run,
# /dev/pts, loopback), mounts the job directory the host shares read-write,
# runs the job there and reports its exit code on the console, then powers
# the guest off.  The host's `poweroff` is systemd's and needs a running
# systemd, so busybox's is used.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8

finish() {
    dmesg > /job/dmesg.txt 2>/dev/null
    sync
    echo "RANSDN-GUEST-EXIT $1"
    exec busybox poweroff -f
}

mount -t tmpfs -o mode=0755 run /run
mkdir -p /dev/pts /dev/shm /job
mount -t devpts -o gid=5,mode=620 devpts /dev/pts
mount -t tmpfs -o mode=1777 shm /dev/shm
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 job /job || finish 124
ip link set lo up
echo ransdn-guest > /proc/sys/kernel/hostname

if [ -x /job/run ]; then
    /job/run
    rc=$?
else
    echo "stage2: no /job/run"
    rc=126
fi
finish "$rc"
