#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# open(O_CREAT) of a name that is a directory fails with EISDIR on Linux,
# whatever the access mode. Through the mount the kernel answers that itself
# when it knows the directory; when the directory appeared behind the mount
# while the kernel still had the name as absent, CREATE reaches the daemon,
# which must answer the same.
set -eu
. "$(dirname "$0")/../../lib/common.sh"
setup_case "$@"
need_bpfuse

mkdir "$T/src" "$T/mnt" "$T/plain"
bpfuse_mount "$T/src" "$T/mnt" invalidate=off,negative_timeout=600
mkdir "$T/plain/d"
i=0
for fl in "O_RDONLY|O_CREAT" "O_WRONLY|O_CREAT" "O_RDWR|O_CREAT|O_TRUNC"; do
	i=$((i + 1))
	n=d$i
	[ ! -e "$T/mnt/$n" ] || fail "'$n' exists before it was made"
	mkdir "$T/src/$n" # behind the mount: the kernel keeps its negative entry
	assert_eq "$(errno_of open "$T/plain/d" "$fl")" "$(errno_of open "$T/mnt/$n" "$fl")" \
		"open($fl) of a directory that appeared behind the mount"
done
bpfuse_umount "$T/mnt"
finish
