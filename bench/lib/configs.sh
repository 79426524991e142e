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
#	plain-fuse-pt	the same passthrough_hp with its FUSE passthrough on (its default)
#	bpfuse-off	bpfuse with all acceleration off: passthrough=off and every
#			timeout 0, so nearly every operation is a request to the daemon
#	bpfuse-default	bpfuse with no -o option at all: the default profile
#	bpfuse-on	bpfuse with passthrough on, 60 s entry/attr/negative timeouts
#	bpfuse-dataset	bpfuse -o profile=dataset (1-year timeouts, cached listings),
#			only when `bpfuse --help` lists the profile option
#	bpfuse-dataset-ro  the same, -o profile=dataset,ro (read workloads only)
#	bpfuse-uring	bpfuse -o io_uring=on (FUSE-over-io_uring; otherwise the
#			default profile), only when `bpfuse --help` lists io_uring
#	bpfuse-dataset-uring	-o profile=dataset,io_uring=on: the dataset profile
#			with what still reaches the daemon carried over io_uring
#	bpfuse-dataset-uring-ro	the same on a read-only mount (read workloads only)
#	s3-cold		bpfuse mounting s3://bench (the same tree uploaded to a loopback
#	s3-warm		radosgw) with bpfuse-on's options; cold = empty cache dir,
#			warm = cache dir filled (lib/s3.sh), only with the ceph packages
#	s3-dataset-cold	the same with -o profile=dataset: an empty cache dir and the
#			background prefetch of listed directories (only when `bpfuse
#			--help` lists the prefetch option)
#	s3fs-cold	s3fs-fuse (Debian s3fs) on the same bucket and server,
#	s3fs-warm	path-style, use_cache=DIR; cold/warm as s3-cold/s3-warm
#	rclone-cold	rclone mount (Debian rclone) of the same bucket,
#	rclone-warm	--vfs-cache-mode full; cold/warm as s3-cold/s3-warm
#
# The bpfuse variants are the CFG_BPFUSE table below: one line per
# configuration (name, -o options, what `bpfuse --help` must list for it to
# run); adding a variant is adding a line there.
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
CFG_BPFUSE_URING_OPTS=${BENCH_URING_OPTS:-io_uring=on}
CFG_S3_DATASET_OPTS="profile=dataset"
CFG_URING_SWITCH=/sys/module/fuse/parameters/enable_uring

# name | bpfuse -o options (empty: none) | `bpfuse --help` must match this
# extended regex, else the configuration is left out with a note | description
CFG_BPFUSE=(
	"bpfuse-off|$CFG_BPFUSE_OFF_OPTS||every acceleration off"
	"bpfuse-default|||the default profile: no -o option at all"
	"bpfuse-on|$CFG_BPFUSE_ON_OPTS||passthrough, 60 s kernel timeouts (defaults: keep_cache=on, cache_readdir=off, invalidate=on)"
	"bpfuse-dataset|$CFG_BPFUSE_DATASET_OPTS|^ *profile[ =].*dataset|the dataset profile (entry/attr/negative timeouts 1 year, keep_cache=on, cache_readdir=on, kernel_open=on so passthrough off, invalidate=on)"
	"bpfuse-dataset-ro|$CFG_BPFUSE_DATASET_OPTS,ro|^ *profile[ =].*dataset|the dataset profile on a read-only mount (-o ro: reads leave the kernel's cached atime valid, so a re-read sends no GETATTR; read workloads only)"
	"bpfuse-uring|$CFG_BPFUSE_URING_OPTS|^ *io_uring[ =]|FUSE-over-io_uring transport (kernel fuse.enable_uring: $(cat /sys/module/fuse/parameters/enable_uring 2>/dev/null || echo absent) at the start), otherwise the default profile"
	"bpfuse-dataset-uring|$CFG_BPFUSE_DATASET_OPTS,$CFG_BPFUSE_URING_OPTS|^ *io_uring[ =]|the dataset profile, and what still reaches the daemon over FUSE-over-io_uring"
	"bpfuse-dataset-uring-ro|$CFG_BPFUSE_DATASET_OPTS,$CFG_BPFUSE_URING_OPTS,ro|^ *io_uring[ =]|the dataset profile over FUSE-over-io_uring on a read-only mount (read workloads only)"
)

_cfg_plain_pid=
_cfg_live_mnt=
_cfg_uring_prev= # the switch's value before a bpfuse-uring mount

# _cfg_bpfuse NAME FIELD: field 2 (options), 3 (help regex) or 4 (description)
# of NAME's line in CFG_BPFUSE; non-zero if NAME is no line there
_cfg_bpfuse() {
	local l
	for l in "${CFG_BPFUSE[@]}"; do
		[ "${l%%|*}" = "$1" ] && { cut -d'|' -f"$2" <<<"$l"; return 0; }
	done
	return 1
}

# cfg_fd_limit: the RLIMIT_NOFILE a passthrough_hp started by cfg_mount gets
# (the hard limit, raised to fs.nr_open first where root may do that)
cfg_fd_limit() {
	bash -c 'ulimit -Hn "$(cat /proc/sys/fs/nr_open)" 2>/dev/null; ulimit -Hn'
}

# cfg_available: the configurations this machine can run, one a line; a
# configuration it cannot run is a line "-NAME REASON"
cfg_available() {
	local l name re help
	echo native
	if [ -x "$PLAIN_FUSE" ]; then echo plain-fuse; echo plain-fuse-pt
	else echo "-plain-fuse $PLAIN_FUSE missing (scripts/setup.sh builds it)"; echo "-plain-fuse-pt $PLAIN_FUSE missing"; fi
	help=$("$BPFUSE" --help 2>&1)
	for l in "${CFG_BPFUSE[@]}"; do
		name=${l%%|*}
		re=$(cut -d'|' -f3 <<<"$l")
		if [ -z "$re" ] || grep -qE -- "$re" <<<"$help"; then echo "$name"
		else echo "-$name this bpfuse offers no such option (\`bpfuse --help\` does not match '$re')"; fi
	done
	if [ -n "$(s3_missing)" ]; then
		for name in s3-cold s3-warm s3-dataset-cold s3fs-cold s3fs-warm rclone-cold rclone-warm; do
			echo "-$name no ceph for the loopback S3 server (missing: $(s3_missing); see scripts/packages-s3.txt)"
		done
		return 0
	fi
	echo s3-cold; echo s3-warm
	if grep -qE -- '^ *prefetch[ =]' <<<"$help"; then echo s3-dataset-cold
	else echo "-s3-dataset-cold this bpfuse offers no prefetch option"; fi
	for name in s3fs rclone; do
		if command -v $name >/dev/null; then echo $name-cold; echo $name-warm
		else
			echo "-$name-cold $name not installed (apt-get install $name; bench/packages.txt)"
			echo "-$name-warm $name not installed (apt-get install $name; bench/packages.txt)"
		fi
	done
}

# cfg_describe NAME: one line of JSON describing the configuration and its options
cfg_describe() {
	local o
	case $1 in
	native) echo '{"kind":"native","fs":"ext4 (the source directory itself)","options":""}' ;;
	plain-fuse) echo "{\"kind\":\"plain FUSE\",\"binary\":\"libfuse 3.18 example/passthrough_hp\",\"options\":\"--nopassthrough (defaults: entry/attr timeout 86400 s, kernel page cache kept, splice on; RLIMIT_NOFILE $(cfg_fd_limit))\"}" ;;
	plain-fuse-pt) echo "{\"kind\":\"plain FUSE with passthrough\",\"binary\":\"libfuse 3.18 example/passthrough_hp\",\"options\":\"(none: FUSE passthrough on; defaults: entry/attr timeout 86400 s; RLIMIT_NOFILE $(cfg_fd_limit))\"}" ;;
	bpfuse-*)
		o=$(_cfg_bpfuse "$1" 2) || bench_die "unknown configuration '$1'"
		echo "{\"kind\":\"bpfuse: $(_cfg_bpfuse "$1" 4)\",\"options\":\"${o:-(none)}\"}"
		;;
	s3-cold) echo "{\"kind\":\"bpfuse s3:// (radosgw on 127.0.0.1, memstore), cold: empty cache dir, nothing read first, drop_caches 3 before each run\",\"options\":\"--endpoint http://127.0.0.1:PORT --cache-dir EMPTY_DIR -o $CFG_BPFUSE_ON_OPTS (S3 caps kernel timeouts at list_ttl=60)\"}" ;;
	s3-warm) echo "{\"kind\":\"bpfuse s3:// (radosgw on 127.0.0.1, memstore), warm: cache dir complete, data read once through the mount before each run\",\"options\":\"--endpoint http://127.0.0.1:PORT --cache-dir SUITE_DIR -o $CFG_BPFUSE_ON_OPTS (S3 caps kernel timeouts at list_ttl=60)\"}" ;;
	s3-dataset-cold) echo "{\"kind\":\"bpfuse s3:// (radosgw on 127.0.0.1, memstore), the dataset profile, cold: empty cache dir, nothing read first, drop_caches 3 before each run; listings queue their files for the background prefetch\",\"options\":\"--endpoint http://127.0.0.1:PORT --cache-dir EMPTY_DIR -o $CFG_S3_DATASET_OPTS (prefetch=on, posix_meta=off; S3 caps kernel timeouts at list_ttl=60)\"}" ;;
	s3fs-cold | s3fs-warm) echo "{\"kind\":\"s3fs-fuse (the same bucket and radosgw), ${1#s3fs-}\",\"binary\":\"$(s3fs --version 2>/dev/null | head -1 | cut -c1-80)\",\"options\":\"-f -o url=http://127.0.0.1:PORT,use_path_request_style,passwd_file=FILE,use_cache=$([ "$1" = s3fs-cold ] && echo EMPTY_DIR || echo SUITE_DIR)\"}" ;;
	rclone-cold | rclone-warm) echo "{\"kind\":\"rclone mount (the same bucket and radosgw), ${1#rclone-}\",\"binary\":\"$(rclone version 2>/dev/null | head -1)\",\"options\":\":s3:bench (provider Ceph, path style, endpoint and keys from RCLONE_S3_* variables) --vfs-cache-mode full --cache-dir $([ "$1" = rclone-cold ] && echo EMPTY_DIR || echo SUITE_DIR)\"}" ;;
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

# _cfg_bg_start NAME MNT CMD...: start a FUSE server that stays in the
# foreground as a background job of ours (so its pid is known), wait for MNT
_cfg_bg_start() {
	local name=$1 mnt=$2
	shift 2
	"$@" >>"$CFG_LOG" 2>&1 &
	_cfg_plain_pid=$!
	_cfg_live_mnt=$mnt
	_cfg_wait_mounted "$mnt" || { bench_log "$name: the server did not mount $mnt (see mounts.log)"; return 1; }
}

# _cfg_plain_fuse ARG...: passthrough_hp with RLIMIT_NOFILE at the hard limit
# (raised to fs.nr_open first where root may): it keeps an O_PATH descriptor
# per inode the kernel knows (it raises the soft limit itself too)
_cfg_plain_fuse() {
	ulimit -Hn "$(cat /proc/sys/fs/nr_open)" 2>/dev/null
	ulimit -n "$(ulimit -Hn)"
	LD_LIBRARY_PATH=$PLAIN_FUSE_LIB exec "$PLAIN_FUSE" "$@"
}

# cfg_mount NAME SRC MNT: returns non-zero if the mount did not come up
cfg_mount() {
	local name=$1 src=$2 mnt=$3 cache o
	case $name in
	native) return 0 ;;
	plain-fuse) _cfg_bg_start "$name" "$mnt" _cfg_plain_fuse --nopassthrough "$src" "$mnt" ;;
	plain-fuse-pt) _cfg_bg_start "$name" "$mnt" _cfg_plain_fuse "$src" "$mnt" ;;
	bpfuse-*)
		o=$(_cfg_bpfuse "$name" 2) || bench_die "unknown configuration '$name'"
		# io_uring=on turns the kernel's switch on: cfg_umount puts it back
		case $o in
		*io_uring=on*) [ -e "$CFG_URING_SWITCH" ] && _cfg_uring_prev=$(cat "$CFG_URING_SWITCH") ;;
		esac
		_cfg_live_mnt=$mnt
		"$BPFUSE" mount "$src" "$mnt" ${o:+-o "$o"} >>"$CFG_LOG" 2>&1
		;;
	s3-cold | s3-warm)
		# s3-cold: a new, empty cache dir each time; s3-warm: the suite's own
		cache=$S3_CACHE_WARM
		[ "$name" = s3-cold ] && { cache=$S3_CACHE_COLD; rm -rf "${cache:?}"; }
		_cfg_live_mnt=$mnt
		"$BPFUSE" mount "s3://$S3_BUCKET" "$mnt" --endpoint "$S3_ENDPOINT" --cache-dir "$cache" \
			-o "$CFG_BPFUSE_ON_OPTS" >>"$CFG_LOG" 2>&1
		;;
	s3-dataset-cold)
		cache=$S3_CACHE_COLD
		rm -rf "${cache:?}"
		_cfg_live_mnt=$mnt
		"$BPFUSE" mount "s3://$S3_BUCKET" "$mnt" --endpoint "$S3_ENDPOINT" --cache-dir "$cache" \
			-o "$CFG_S3_DATASET_OPTS" >>"$CFG_LOG" 2>&1
		;;
	s3fs-* | rclone-*)
		# the same cache-dir scheme: cold = a new empty one, warm = the suite's
		cache=$_s3_work/$name-cache
		[ "${name%-warm}" = "$name" ] && rm -rf "${cache:?}"
		mkdir -p -m 0700 "$cache"
		case $name in
		s3fs-*)
			_cfg_bg_start "$name" "$mnt" s3fs "$S3_BUCKET" "$mnt" -f -o "url=$S3_ENDPOINT" \
				-o use_path_request_style -o "passwd_file=$S3_PASSWD_FILE" -o "use_cache=$cache"
			;;
		rclone-*)
			# the endpoint and the keys in RCLONE_S3_* (lib/s3.sh), not on the command line;
			# AWS_CA_BUNDLE (set on some machines) makes rclone 1.60's S3 backend fail
			# ("LoadCustomCABundleError ... unsupported transport") even over http
			_cfg_bg_start "$name" "$mnt" env -u AWS_CA_BUNDLE rclone mount ":s3:$S3_BUCKET" "$mnt" --config "$_s3_work/rclone.conf" \
				--vfs-cache-mode full --cache-dir "$cache"
			;;
		esac
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
	plain-fuse* | s3fs-* | rclone-*)
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
