#!/usr/bin/env bash
# demo.sh - set everything up, mount a local demo directory with bpfuse and show it working.
# The mount stays up for you to use; the last line says how to unmount it.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/setup.sh"
BPFUSE=$top/build/bpfuse
demo=${BPFUSE_DEMO_DIR:-/tmp/bpfuse-demo}
src=$demo/data mnt=$demo/mnt

if grep -q " $mnt fuse.bpfuse " /proc/mounts; then
	"$BPFUSE" umount "$mnt"
fi
mkdir -p "$src/images" "$mnt"
for i in $(seq -w 1 100); do
	[ -e "$src/images/img$i.bin" ] || head -c 16384 /dev/urandom >"$src/images/img$i.bin"
done
echo "hello from bpfuse" >"$src/README.txt"

echo "+ bpfuse mount local:$src $mnt -o entry_timeout=60,attr_timeout=60"
"$BPFUSE" mount "local:$src" "$mnt" -o entry_timeout=60,attr_timeout=60
echo "+ grep $mnt /proc/mounts"; grep " $mnt " /proc/mounts
echo "+ ls -l $mnt"; ls -l "$mnt"
echo "+ cat $mnt/README.txt"; cat "$mnt/README.txt"
echo "+ sha256 of 100 files through the mount vs the directory"
a=$(cd "$mnt/images" && cat img*.bin | sha256sum | cut -c1-16)
b=$(cd "$src/images" && cat img*.bin | sha256sum | cut -c1-16)
echo "  mount $a  directory $b  $([ "$a" = "$b" ] && echo identical || echo DIFFERENT)"
echo "+ echo written-through-bpfuse > $mnt/new.txt"; echo written-through-bpfuse >"$mnt/new.txt"
echo "+ cat $src/new.txt"; cat "$src/new.txt"
[ "$a" = "$b" ]
echo
echo "demo: $mnt is a bpfuse mount of $src; unmount it with:"
echo "  $BPFUSE umount $mnt"
