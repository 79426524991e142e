#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# What the daemon cases (tests/vm/cases/2*.sh, 30-stress.sh) share, sourced in the guest
# as /lib/bpfuse-case.sh (tests/vm/run.sh copies it there): TAP-style results and the
# counters of `bpfuse stats --json`, parsed strictly: a stats call that fails or prints
# something other than that JSON fails the case, never reads 0; for the S3 cases the
# server's address and keys (s3_env) and the daemon's S3 counters (s3num).  The case sets
# W (its work dir; the mount is ${M:-$W/mnt}) before it calls any of these.
n=0
bad=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
notok() { n=$((n + 1)); bad=$((bad + 1)); echo "not ok $n - $*"; }
check() { what=$1; shift; if "$@"; then ok "$what"; else notok "$what"; fi; }
fail() { notok "$*"; grep -q " $W/mnt " /proc/mounts && umount -l $W/mnt; exit 1; }

statsj() {
	j=$(bpfuse stats ${M:-$W/mnt} --json) || { echo "bpfuse stats failed" >&2; return 1; }
	case $j in
	'{"mountpoint":'*'"ops":{'*'}}}') printf '%s\n' "$j" ;;
	*) echo "unparsable stats: $j" >&2; return 1 ;;
	esac
}
# opcount OP: the daemon's requests of OP (the JSON lists an op once it was seen)
opcount() {
	j=$(statsj) || return 1
	case $j in
	*"\"$1\":{"*)
		v=$(printf '%s\n' "$j" | sed -n "s/.*\"$1\":{\"daemon_requests\":\([0-9][0-9]*\)[,}].*/\1/p")
		[ -n "$v" ] || { echo "no daemon_requests for $1 in: $j" >&2; return 1; }
		echo "$v" ;;
	*) echo 0 ;;
	esac
}
# fpcount FIELD: a counter of the "fastpath" object (always present when attached)
fpcount() {
	j=$(statsj) || return 1
	v=$(printf '%s\n' "$j" | sed -n "s/.*\"fastpath\":{[^}]*\"$1\":\([0-9][0-9]*\)[,}].*/\1/p")
	[ -n "$v" ] || { echo "no fastpath.$1 in: $j" >&2; return 1; }
	echo "$v"
}
# get VAR FUNC ARG: VAR=$(FUNC ARG), or the case fails
get() { v=$($2 "$3") || fail "cannot read $3 ($2)"; eval "$1=\$v"; }
# fp FIELD: a fast-path counter (fpcount) for $(...) callers, which exit on failure
fp() { fpcount "$1" || { echo "cannot read fastpath.$1" >&2; return 1; }; }
# no_inode_leak: after the kernel forgot everything (drop_caches: FORGET of every
# inode it does not hold open), the daemon holds only the root and a few
no_inode_leak() {
	echo 3 > /proc/sys/vm/drop_caches
	sleep 1
	in=$(statsj | sed -n 's/.*"inodes":\([0-9][0-9]*\),.*/\1/p')
	check "after the kernel forgot everything the daemon holds ${in:-?} inodes (no leak; want < 5)" \
		[ "${in:-99}" -lt 5 ]
}
# stress SECONDS: fp_stress over $W/src and $W/mnt for SECONDS, its TAP lines
# shown and kept in $W/out; returns fp_stress's exit status
stress() { fp_stress $W/src $W/mnt "$1" > $W/out; _st=$?; cat $W/out; return $_st; }
# stress_hits H0 R0 [NOTE]: the fast path answered more than 100 LOOKUPs and
# 10 READs since its lookup_hit and read_hit counters were H0 and R0
stress_hits() {
	get h1 fpcount lookup_hit
	get r1 fpcount read_hit
	check "the fast path answered during the stress ($((h1 - $1)) LOOKUP, $((r1 - $2)) READ${3:+; $3})" \
		[ $((h1 - $1)) -gt 100 -a $((r1 - $2)) -gt 10 ]
}

# Debug-kernel cases (*-debug.sh).  debug_kernel: the case fails unless this is the
# debug kernel (KASAN, lockdep) with 2 CPUs or more.  kernel_clean: checks that no user
# process is in D state and that the kernel log from boot on has no report (any stack
# dump counts), showing the log around the first one.
REPORTS='BUG:|WARNING:|KASAN|UBSAN|possible circular locking|possible recursive locking'
REPORTS="$REPORTS|inconsistent lock state|suspicious RCU usage|invalid context"
REPORTS="$REPORTS|locking correctness validator|Call Trace:|Oops|general protection"
REPORTS="$REPORTS|Kernel panic|corruption|blocked for more than|refcount_t"
# kernel_reports: the kernel log's lines that match a report; kernel_report_show R:
# the first 20 of such lines R, then the kernel log around the first of them
kernel_reports() { dmesg | grep -E "$REPORTS"; }
kernel_report_show() {
	echo "$1" | head -n 20
	echo "--- kernel log around the first report:"
	dmesg | grep -F -A 60 -- "$(echo "$1" | head -n 1)" | head -n 80
}
debug_kernel() {
	dmesg | grep -q 'KernelAddressSanitizer initialized' ||
		fail "not the debug kernel: no KASAN in the kernel log"
	[ -e /proc/lockdep ] || fail "not the debug kernel: no /proc/lockdep"
	ncpu=$(grep -c '^processor' /proc/cpuinfo)
	[ "$ncpu" -ge 2 ] || fail "the stress needs 2 CPUs, the guest has $ncpu"
	ok "the debug kernel (KASAN, lockdep) on $ncpu CPUs"
}
kernel_clean() {
	dstate=$(grep -l '^State:.*D (disk sleep)' /proc/[0-9]*/status 2> /dev/null |
		while read -r f; do d=${f%/status}; [ -s "$d/cmdline" ] && echo "${d#/proc/}"; done)
	check "no user process in D state${dstate:+ (pids $dstate)}" [ -z "$dstate" ]
	r=$(kernel_reports)
	if [ -z "$r" ]; then
		ok "the kernel log has no KASAN report, lockdep splat, RCU or atomic-sleep warning, WARNING or BUG"
	else
		notok "the kernel log has a report:"
		kernel_report_show "$r"
	fi
}

# S3 cases (a line `# vm: needs s3`; tests/vm/s3.sh): s3_env loads what the host put in
# /etc/bpfuse-s3: S3_ENDPOINT (http://10.0.2.2:PORT), S3_BUCKET, AWS_REGION, S3_SEED (the
# host's sha256 of the seed tree) and AWS_SHARED_CREDENTIALS_FILE (the keys stay in that
# 0600 file: never print it, never put a key on a command line); exits 77 when the host
# has no Ceph, fails the case when there is no server
s3_env() {
	_c=/etc/bpfuse-s3
	if [ -f $_c/skip ]; then
		echo "# skip: no S3 server on the host: $(cat $_c/skip)"
		exit 77
	fi
	[ -f $_c/s3.env ] || fail "no S3 server for this guest: no $_c/s3.env (tests/vm/run.sh starts radosgw for a case with a '# vm: needs s3' line; see its stderr)"
	. $_c/s3.env
	[ -f $_c/seed.sha256 ] || fail "no seed tree manifest $_c/seed.sha256"
	[ -f $_c/credentials ] || fail "no S3 credentials file $_c/credentials"
	S3_SEED=$_c/seed.sha256
	export AWS_SHARED_CREDENTIALS_FILE=$_c/credentials AWS_REGION
	unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_CONFIG_FILE AWS_PROFILE
}
# s3mount_ttl MNT CACHE OPTS: s3://$S3_BUCKET at MNT (cache CACHE, 64 MiB) with
# list_ttl=$TTL and the kernel's timeouts 0, plus OPTS; its stderr in $W/mount.err
s3mount_ttl() {
	bpfuse mount "s3://$S3_BUCKET" "$1" -o "endpoint=$S3_ENDPOINT,cache_dir=$2,cache_size=64M,list_ttl=$TTL,entry_timeout=0,attr_timeout=0,negative_timeout=0,$3" 2> $W/mount.err
}
# s3num FIELD: a counter of the daemon's "s3" object (strict, as fpcount)
s3num() {
	j=$(statsj) || return 1
	v=$(printf '%s\n' "$j" | sed -n "s/.*\"s3\":{[^}]*\"$1\":\([0-9][0-9]*\)[,}].*/\1/p")
	[ -n "$v" ] || { echo "no s3.$1 in: $j" >&2; return 1; }
	echo "$v"
}
