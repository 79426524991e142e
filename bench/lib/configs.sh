# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# The configurations compared side by side. Each one exposes the same source
# directory at a root path the workloads use:
#
#	native		the source directory itself (ext4), no FUSE
#	plain-fuse	libfuse 3.18's passthrough_hp --nopassthrough: every request
#			reaches userspace except what the kernel caches by itself
#			(its default 86400 s entry/attr timeouts, kernel page cache)
#	bpfuse-off	bpfuse with all acceleration off: passthrough=off and every
#			timeout 0, so nearly every operation is a request to the daemon
#	bpfuse-on	bpfuse as it runs on the stock kernel: passthrough on, 60 s
#			entry/attr/negative timeouts
#	bpfuse-dataset	bpfuse -o profile=dataset (1-year timeouts, cached listings),
#			only when `bpfuse --help` lists the profile option
#	bpfuse-uring	bpfuse-on with io_uring=on: requests by FUSE-over-io_uring
#			instead of /dev/fuse reads; only when the kernel has the switch
#			/sys/module/fuse/parameters/enable_uring, which the mount turns
#			on and cfg_umount puts back (so the other rows stay on /dev/fuse)
#	s3-cold		bpfuse mounting s3://bench (the same tree uploaded to a loopback
#	s3-warm		radosgw) with bpfuse-on's options; cold = empty cache dir,
#			warm = cache dir filled (lib/s3.sh), only with the ceph packages
#
# cfg_mount NAME SRC MNT mounts; cfg_root NAME SRC MNT prints the path the
# workloads use; cfg_umount NAME MNT unmounts. Only one mount is live at a time
# (cfg_cleanup undoes it whatever state it is in: the EXIT trap calls it).
# CFG_UMOUNT_NOWAIT=1 unmounts bpfuse with umount(8) without waiting for the
# daemon to exit (quick mode; full runs wait, so no exiting daemon overlaps
# the next measurement).

CFG_BPFUSE_OFF_OPTS="passthrough=off,entry_timeout=0,attr_timeout=0,negative_timeout=0"
CFG_BPFUSE_ON_OPTS="passthrough=on,entry_timeout=60,attr_timeout=60,negative_timeout=60"
CFG_BPFUSE_DATASET_OPTS="profile=dataset"
CFG_BPFUSE_URING_OPTS="$CFG_BPFUSE_ON_OPTS,io_uring=on"
CFG_URING_SWITCH=/sys/module/fuse/parameters/enable_uring

_cfg_plain_pid=
_cfg_live_mnt=
_cfg_uring_prev= # the switch's value before a bpfuse-uring mount

# cfg_available: print the configurations this machine can run, one a line
cfg_available() {
	echo native
	if [ -x "$PLAIN_FUSE" ]; then echo plain-fuse
	else bench_log "$PLAIN_FUSE missing: plain-fuse skipped (scripts/setup.sh builds it)"; fi
	echo bpfuse-off
	echo bpfuse-on
	if "$BPFUSE" --help 2>&1 | grep -qE '^ *profile[ =].*dataset'; then echo bpfuse-dataset; fi
	if [ -e "$CFG_URING_SWITCH" ] && "$BPFUSE" --help 2>&1 | grep -qE '^ *io_uring='; then echo bpfuse-uring
	else bench_log "bpfuse-uring skipped: no $CFG_URING_SWITCH (kernel without FUSE-over-io_uring) or an older bpfuse"; fi
	if [ -z "$(s3_missing)" ]; then echo s3-cold; echo s3-warm
	else bench_log "s3-cold, s3-warm: skipped: no ceph (missing: $(s3_missing); see scripts/packages-s3.txt)"; fi
}

# cfg_describe NAME: one line of JSON describing the configuration and its options
cfg_describe() {
	case $1 in
	native) echo '{"kind":"native","fs":"ext4 (the source directory itself)","options":""}' ;;
	plain-fuse) echo '{"kind":"plain FUSE","binary":"libfuse 3.18 example/passthrough_hp","options":"--nopassthrough (defaults: entry/attr timeout 86400 s, kernel page cache kept, splice on)"}' ;;
	bpfuse-off) echo "{\"kind\":\"bpfuse\",\"options\":\"$CFG_BPFUSE_OFF_OPTS\"}" ;;
	bpfuse-on) echo "{\"kind\":\"bpfuse\",\"options\":\"$CFG_BPFUSE_ON_OPTS (defaults: keep_cache=on, cache_readdir=off, invalidate=on)\"}" ;;
	bpfuse-dataset) echo "{\"kind\":\"bpfuse\",\"options\":\"$CFG_BPFUSE_DATASET_OPTS (entry/attr/negative timeouts 1 year, keep_cache=on, cache_readdir=on, passthrough=on, invalidate=on)\"}" ;;
	bpfuse-uring) echo "{\"kind\":\"bpfuse\",\"options\":\"$CFG_BPFUSE_URING_OPTS (as bpfuse-on, requests by FUSE-over-io_uring; the kernel's enable_uring switch on for this mount only)\"}" ;;
	s3-cold) echo "{\"kind\":\"bpfuse s3:// (radosgw on 127.0.0.1, memstore), cold: empty cache dir, nothing read first, drop_caches 3 before each run\",\"options\":\"--endpoint http://127.0.0.1:PORT --cache-dir EMPTY_DIR -o $CFG_BPFUSE_ON_OPTS (S3 caps kernel timeouts at list_ttl=60)\"}" ;;
	s3-warm) echo "{\"kind\":\"bpfuse s3:// (radosgw on 127.0.0.1, memstore), warm: cache dir complete, data read once through the mount before each run\",\"options\":\"--endpoint http://127.0.0.1:PORT --cache-dir SUITE_DIR -o $CFG_BPFUSE_ON_OPTS (S3 caps kernel timeouts at list_ttl=60)\"}" ;;
	*) bench_die "unknown configuration '$1'" ;;
	esac
}

cfg_is_bpfuse() { case $1 in bpfuse-* | s3-*) return 0 ;; esac; return 1; }

_cfg_wait_mounted() {
	local _
	for _ in $(seq 200); do
		grep -q " $1 fuse" /proc/mounts && return 0
		sleep 0.05
	done
	return 1
}

# cfg_mount NAME SRC MNT: returns non-zero if the mount did not come up
cfg_mount() {
	local name=$1 src=$2 mnt=$3
	case $name in
	native) return 0 ;;
	plain-fuse)
		LD_LIBRARY_PATH=$PLAIN_FUSE_LIB "$PLAIN_FUSE" --nopassthrough "$src" "$mnt" \
			>>"$CFG_LOG" 2>&1 &
		_cfg_plain_pid=$!
		_cfg_live_mnt=$mnt
		_cfg_wait_mounted "$mnt" || { bench_log "passthrough_hp did not mount $mnt"; return 1; }
		;;
	bpfuse-off) _cfg_live_mnt=$mnt; "$BPFUSE" mount "$src" "$mnt" -o "$CFG_BPFUSE_OFF_OPTS" >>"$CFG_LOG" 2>&1 ;;
	bpfuse-on) _cfg_live_mnt=$mnt; "$BPFUSE" mount "$src" "$mnt" -o "$CFG_BPFUSE_ON_OPTS" >>"$CFG_LOG" 2>&1 ;;
	bpfuse-dataset) _cfg_live_mnt=$mnt; "$BPFUSE" mount "$src" "$mnt" -o "$CFG_BPFUSE_DATASET_OPTS" >>"$CFG_LOG" 2>&1 ;;
	bpfuse-uring)
		_cfg_uring_prev=$(cat "$CFG_URING_SWITCH")
		_cfg_live_mnt=$mnt
		"$BPFUSE" mount "$src" "$mnt" -o "$CFG_BPFUSE_URING_OPTS" >>"$CFG_LOG" 2>&1
		;;
	s3-cold | s3-warm)
		# s3-cold: a new, empty cache dir each time; s3-warm: the suite's own
		local cache=$S3_CACHE_WARM
		[ "$name" = s3-cold ] && { cache=$S3_CACHE_COLD; rm -rf "${cache:?}"; }
		_cfg_live_mnt=$mnt
		"$BPFUSE" mount "s3://$S3_BUCKET" "$mnt" --endpoint "$S3_ENDPOINT" --cache-dir "$cache" \
			-o "$CFG_BPFUSE_ON_OPTS" >>"$CFG_LOG" 2>&1
		;;
	*) bench_die "unknown configuration '$name'" ;;
	esac
}

# cfg_root NAME SRC MNT: the directory the workloads see
cfg_root() { if [ "$1" = native ]; then echo "$2"; else echo "$3"; fi; }

# cfg_umount NAME MNT: a clean unmount; non-zero if the mount is still there
cfg_umount() {
	local name=$1 mnt=$2
	case $name in
	native) return 0 ;;
	plain-fuse)
		umount "$mnt" || return 1
		wait "$_cfg_plain_pid" 2>/dev/null || true
		_cfg_plain_pid=
		;;
	*)
		if [ "${CFG_UMOUNT_NOWAIT:-0}" = 1 ]; then
			# quick mode: the mount goes at once; the daemon exits on its own
			# (bpfuse umount would wait ~1.5 s per mount for it)
			umount "$mnt" || return 1
		else
			"$BPFUSE" umount "$mnt" >/dev/null || return 1
		fi
		;;
	esac
	_cfg_live_mnt=
	_cfg_uring_restore
}

# _cfg_uring_restore: put the kernel's enable_uring back as bpfuse-uring found it
_cfg_uring_restore() {
	[ -n "$_cfg_uring_prev" ] || return 0
	echo "$_cfg_uring_prev" >"$CFG_URING_SWITCH" || true
	_cfg_uring_prev=
}

# cfg_cleanup: whatever is still mounted by us goes away, forcibly if need be
cfg_cleanup() {
	local mnt=$_cfg_live_mnt dev
	if [ -n "$mnt" ] && grep -q " $mnt fuse" /proc/mounts; then
		"$BPFUSE" umount "$mnt" >/dev/null 2>&1 || umount "$mnt" 2>/dev/null || {
			# a hung daemon: abort the connection, then detach the mount
			# (from mountinfo: stat(2) on a hung mount would hang too)
			dev=$(awk -v m="$mnt" '$5 == m { split($3, d, ":"); print d[2] }' /proc/self/mountinfo)
			[ -n "$dev" ] && [ -e "/sys/fs/fuse/connections/$dev/abort" ] &&
				echo 1 >"/sys/fs/fuse/connections/$dev/abort"
			umount -l "$mnt" 2>/dev/null || true
		}
	fi
	if [ -n "$_cfg_plain_pid" ]; then
		kill "$_cfg_plain_pid" 2>/dev/null || true
		wait "$_cfg_plain_pid" 2>/dev/null || true
	fi
	_cfg_plain_pid=
	_cfg_live_mnt=
	_cfg_uring_restore
}

# cfg_stats NAME MNT: the mount's per-opcode request counts as JSON ({} if none)
cfg_stats() {
	if cfg_is_bpfuse "$1"; then
		"$BPFUSE" stats "$2" --json 2>/dev/null || echo '{}'
	else
		echo '{}'
	fi
}
