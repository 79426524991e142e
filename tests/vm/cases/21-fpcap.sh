#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The cap on files published for kernel-answered OPENs (src/fs/file.c,
# publish_open_locked()): each keeps its backing file open until the kernel
# forgets the inode, so at most RLIMIT_NOFILE/4 of them (at least 1024) are
# published; past the cap an open is refused publication (counted as
# opens_refused) and its later OPENs keep reaching the daemon, with the right
# bytes.  The daemon raises its soft limit to the hard one, so the hard limit
# of 4096 set here gives a cap of 1024.  Then FORGET gives the room back.
# Output: "ok N - ..." / "not ok N - ..." lines.
. /lib/bpfuse-case.sh

OBJ=/lib/bpfuse/fastpath.bpf.o
W=/tmp/bpfuse-vm-cap
command -v bpfuse > /dev/null || fail "no bpfuse daemon in this guest (tests/vm/run.sh copies build/bpfuse)"
[ -f $OBJ ] || fail "no fast-path object $OBJ in this guest"
mkdir -p /run $W/src/c $W/mnt

N=1100
CAP=1024
i=0
while [ $i -lt $N ]; do echo "capped file $i" > $W/src/c/f$i; i=$((i + 1)); done
# readall: every file once through the mount, its bytes checked
readall() {
	i=0
	while [ $i -lt $N ]; do
		[ "$(cat $W/mnt/c/f$i)" = "capped file $i" ] || { echo "f$i reads wrong" >&2; return 1; }
		i=$((i + 1))
	done
}
# cap 1024 = hard limit / 4, in a subshell so that the case's own limit stays
( ulimit -Hn 4096 && ulimit -Sn 4096 &&
  bpfuse mount $W/src $W/mnt -o entry_timeout=0,attr_timeout=0,negative_timeout=0,fastpath=on,fastpath_obj=$OBJ ) ||
	fail "bpfuse mounts with the fast path and a hard limit of 4096 descriptors"
ok "bpfuse mounts with the fast path and a hard limit of 4096 descriptors"
statsj | grep -q '"fastpath":{' || fail "the fast path is not attached"

check "$N files opened and read once, bytes right" readall
get op fpcount opens_published
get or fpcount opens_refused
check "$CAP of them published for kernel-answered OPENs ($op)" [ "$op" = $CAP ]
check "the other $((N - CAP)) refused publication, counted ($or)" [ "$or" = $((N - CAP)) ]

get o0 opcount OPEN
get oh0 fpcount open_hit
check "a second pass reads every file right" readall
get o1 opcount OPEN
get oh1 fpcount open_hit
check "in it the published files' OPENs were answered in the kernel ($((oh1 - oh0)) >= $CAP)" \
	[ $((oh1 - oh0)) -ge $CAP ]
# a refused file stays unpublished while the cap is reached, so its OPEN comes up
check "and the refused files' OPENs reached the daemon ($((o1 - o0)) >= $((N - CAP)))" \
	[ $((o1 - o0)) -ge $((N - CAP)) ]

# FORGET closes the published backing files: the room comes back
echo 3 > /proc/sys/vm/drop_caches
sleep 1
get op fpcount opens_published
check "after the kernel forgot the files none stays published ($op)" [ "$op" = 0 ]
j=0
while [ $j -lt $((N - CAP)) ]; do cat $W/mnt/c/f$((CAP + j)) > /dev/null; j=$((j + 1)); done
get op fpcount opens_published
check "and files refused before are published now ($op = $((N - CAP)))" [ "$op" = $((N - CAP)) ]
bpfuse umount $W/mnt || fail "unmount"
check "no fuse mount left" sh -c "! grep -q ' $W/mnt ' /proc/mounts"
[ "$bad" = 0 ]
