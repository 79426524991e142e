#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot the bpfuse test kernel under qemu (TCG) with a busybox initramfs and run
# one guest script; exit with that script's status.
#
# Usage: scripts/kernel/run-vm.sh [options] TEST_SCRIPT
#   --kernel DIR       directory with bzImage (default: the one build-kernel.sh
#                      would produce for the current inputs; it must exist)
#   --bin FILE         copy an executable to /bin, with the shared libraries ldd
#                      lists (repeatable)
#   --file SRC[:DST]   copy a file or directory into the initramfs at DST
#                      (default /SRC's basename) (repeatable)
#   --disk MB          attach a fresh sparse ext4 scratch disk (virtio-blk),
#                      mounted at /cache in the guest
#   --net              a virtio NIC on qemu's user network (slirp): the guest
#                      has lo and eth0 10.0.2.15/24 with default route
#                      10.0.2.2, and 10.0.2.2:PORT reaches the host's
#                      127.0.0.1:PORT (no DHCP, no DNS; IP addresses only)
#   --timeout SEC      whole-VM timeout (default 600)
#   --smp N            virtual CPUs (default 1; TCG runs them on host threads,
#                      MTTCG)
#   --mem MB           guest memory (default 1024; the KASAN debug kernel needs
#                      about twice that: its shadow takes an eighth, its
#                      quarantine and lockdep more)
#   --append ARGS      extra kernel command line
#   --log FILE         also write the console to FILE
#   --workdir DIR      where the initramfs and disk go (default: a temp dir,
#                      removed at exit)
#
# The guest /init mounts proc, sys, dev, tmp (and /cache), brings the network
# up with --net (a failure prints `init: network: ...` and the test still runs), runs
# `sh /test.sh`, prints `VM-EXIT-STATUS=<n>` and reboots (qemu runs with
# -no-reboot, so it exits).  Exit status: the guest's; 124 on timeout; 125 if
# the guest never reported (panic, bad init).
set -euo pipefail

# shellcheck source=scripts/kernel/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

kernel_dir=
bins=()
files=()
disk_mb=0
net=0
timeout_s=600
smp=1
mem_mb=1024
append=
log=
workdir=
test_script=

while [ $# -gt 0 ]; do
	case $1 in
	--kernel) kernel_dir=$2; shift 2 ;;
	--bin) bins+=("$2"); shift 2 ;;
	--file) files+=("$2"); shift 2 ;;
	--disk) disk_mb=$2; shift 2 ;;
	--net) net=1; shift ;;
	--timeout) timeout_s=$2; shift 2 ;;
	--smp) smp=$2; shift 2 ;;
	--mem) mem_mb=$2; shift 2 ;;
	--append) append=$2; shift 2 ;;
	--log) log=$2; shift 2 ;;
	--workdir) workdir=$2; shift 2 ;;
	-h|--help) sed -n '3,35p' "$0"; exit 0 ;;
	-*) kdie "unknown option '$1'" ;;
	*) test_script=$1; shift ;;
	esac
done
[ -n "$test_script" ] || kdie "usage: run-vm.sh [options] TEST_SCRIPT"
[ -f "$test_script" ] || kdie "no test script '$test_script'"
case $smp in ''|*[!0-9]*|0) kdie "--smp wants a CPU count, not '$smp'" ;; esac
case $mem_mb in ''|*[!0-9]*|0) kdie "--mem wants megabytes, not '$mem_mb'" ;; esac

ensure_pkgs busybox-static qemu-system-x86 cpio e2fsprogs ||
	kdie "cannot install VM dependencies"

if [ -z "$kernel_dir" ]; then
	kernel_dir=$("$BPFUSE_ROOT/scripts/kernel/build-kernel.sh" --print-dir) ||
		kdie "kernel not built; run scripts/kernel/build-kernel.sh"
fi
[ -f "$kernel_dir/bzImage" ] || kdie "no bzImage in '$kernel_dir'"

if [ -z "$workdir" ]; then
	workdir=$(mktemp -d /tmp/bpfuse-vm.XXXXXX)
	trap 'rm -rf "$workdir"' EXIT
fi
mkdir -p "$workdir"
root=$workdir/initramfs
rm -rf "$root"
mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,cache,etc,lib,lib64,usr/bin}

cp /bin/busybox "$root/bin/busybox"
mknod -m 600 "$root/dev/console" c 5 1
mknod -m 666 "$root/dev/null" c 1 3

# copy_with_libs FILE: FILE into /bin and its shared libraries at their paths
copy_with_libs() {
	local f=$1 lib
	[ -x "$f" ] || kdie "not an executable: '$f'"
	cp -L "$f" "$root/bin/"
	for lib in $(ldd "$f" 2>/dev/null | grep -o '/[^ ]*' || true); do
		[ -f "$lib" ] || continue
		mkdir -p "$root$(dirname "$lib")"
		cp -Ln "$lib" "$root$lib"
	done
}
for b in "${bins[@]}"; do
	copy_with_libs "$b"
done
for spec in "${files[@]}"; do
	src=${spec%%:*}
	dst=${spec#*:}
	[ "$dst" = "$spec" ] && dst=/$(basename "$src")
	mkdir -p "$root$(dirname "$dst")"
	cp -a "$src" "$root$dst"
done
cp "$test_script" "$root/test.sh"
# /init brings the network up when this file is there (--net)
[ "$net" = 1 ] && printf 'addr=10.0.2.15\nmask=255.255.255.0\ngw=10.0.2.2\n' > "$root/etc/bpfuse-net"

cat > "$root/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
if [ -b /dev/vda ]; then
	mount -t ext4 /dev/vda /cache || echo "init: cannot mount /dev/vda"
fi
if [ -f /etc/bpfuse-net ]; then
	. /etc/bpfuse-net
	# an IP endpoint needs no resolver, but libc looks here for localhost
	printf '127.0.0.1 localhost\n10.0.2.2 host\n' > /etc/hosts
	ifconfig lo 127.0.0.1 netmask 255.0.0.0 up || echo "init: network: cannot bring up lo"
	i=0
	while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	if [ ! -e /sys/class/net/eth0 ]; then
		echo "init: network: no eth0 (a kernel without CONFIG_VIRTIO_NET?)"
	elif ifconfig eth0 "$addr" netmask "$mask" up && route add default gw "$gw"; then
		echo "init: network: eth0 $addr, default route $gw"
	else
		echo "init: network: cannot configure eth0"
	fi
fi
echo "init: running /test.sh on $(uname -r)"
cd /
sh /test.sh
rc=$?
echo "VM-EXIT-STATUS=$rc"
sync
# tinyconfig has no ACPI, so poweroff would only halt; a reboot ends qemu
# because it runs with -no-reboot
reboot -f
EOF
chmod +x "$root/init"

(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet | gzip -1) > "$workdir/initramfs.gz"

accel=tcg
[ "$smp" -gt 1 ] && accel=tcg,thread=multi
qemu=(qemu-system-x86_64 -accel "$accel" -m "${mem_mb}M" -smp "$smp" -nographic -no-reboot
      -kernel "$kernel_dir/bzImage" -initrd "$workdir/initramfs.gz"
      -append "console=ttyS0 panic=-1 oops=panic loglevel=4 $append")
if [ "$disk_mb" -gt 0 ]; then
	rm -f "$workdir/disk.img"
	truncate -s "${disk_mb}M" "$workdir/disk.img"
	mkfs.ext4 -q -F "$workdir/disk.img"
	qemu+=(-drive "file=$workdir/disk.img,if=virtio,format=raw")
fi
if [ "$net" = 1 ]; then
	# user networking: no root, no host interface; the guest reaches the host's
	# loopback at 10.0.2.2 and nothing listens for it (no hostfwd); romfile=
	# leaves out the NIC's iPXE option ROM (direct kernel boot needs none)
	qemu+=(-netdev "user,id=net0,net=10.0.2.0/24,host=10.0.2.2,ipv6=off"
	       -device "virtio-net-pci,netdev=net0,romfile=")
fi

console=$workdir/console.log
set +e
timeout --foreground -k 10 "$timeout_s" "${qemu[@]}" < /dev/null 2>&1 | tr -d '\r' | tee "$console"
qrc=${PIPESTATUS[0]}
set -e
[ -n "$log" ] && cp "$console" "$log"

status=$(grep -a -o '^VM-EXIT-STATUS=[0-9]*' "$console" | tail -n 1 | cut -d= -f2 || true)
if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
	kmsg "timeout after ${timeout_s}s"
	exit 124
fi
if [ -z "$status" ]; then
	kmsg "guest did not report a status (qemu exit $qrc; panic or broken init?)"
	exit 125
fi
exit "$status"
