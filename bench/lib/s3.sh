# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# The S3 configurations of bench/run.sh: bpfuse mounting s3://bench from a
# throwaway Ceph radosgw on 127.0.0.1 (scripts/s3-server.sh, memstore OSD:
# the objects live in RAM), with the same options as bpfuse-on.
#
#	s3-cold	every run: a fresh mount on an EMPTY cache directory, nothing read
#		through the mount before the timed phase (the prepare phase only
#		makes what a write workload works on), echo 3 > drop_caches right
#		before it. Every byte and every name comes from radosgw.
#	s3-warm	every run: a fresh mount on a cache directory kept for the whole
#		suite, and the workload's data read once through this mount just
#		before the workload's own prepare (s3_warmup). Complete objects then
#		open with FUSE passthrough on the cache file. The page cache is
#		then whatever the workload's cache state says (cold: drop 3).
#
#	s3fs-cold, s3fs-warm, rclone-cold, rclone-warm: the S3 clients users pick
#		instead (lib/configs.sh), on the same server and bucket, with the
#		same cold and warm states (their own cache directories).
#
# The suite starts the server once (s3_suite_start), uploads what the
# selected workloads read (s3_upload), and s3_suite_stop (from the EXIT trap)
# stops it. Which workload runs on which S3 configuration: s3_plan.
#
# Needs: BENCH_DIR REPO_ROOT BPFUSE (common.sh); mode, FIO_SIZE (run.sh)

S3_SERVER=$REPO_ROOT/scripts/s3-server.sh
S3TOOL=${S3TOOL:-$REPO_ROOT/build/s3tool}
S3_BUCKET=bench
_s3_work= _s3_up=0

cfg_is_s3() { case $1 in s3-*) return 0 ;; esac; return 1; }
# cfg_uses_s3 NAME: any configuration that reads the loopback S3 server
cfg_uses_s3() { case $1 in s3-* | s3fs-* | rclone-*) return 0 ;; esac; return 1; }
# cfg_s3_cold NAME: an S3 configuration whose runs start from nothing
cfg_s3_cold() { cfg_uses_s3 "$1" && [ "${1%-cold}" != "$1" ]; }

# s3_missing: print what is missing for the S3 configurations (nothing = all there)
s3_missing() {
	local b m=
	for b in ceph-mon ceph-osd radosgw radosgw-admin monmaptool ceph curl; do
		command -v "$b" >/dev/null 2>&1 || m="$m $b"
	done
	[ -x "$S3TOOL" ] || m="$m $S3TOOL"
	echo "${m# }"
}

# _s3_free_port: a port for radosgw (scripts/s3-server.sh port)
_s3_free_port() { "$S3_SERVER" port; }

# s3_suite_start WORK MEMSTORE_BYTES: radosgw up, bucket made, S3_* exported.
# Returns 77 when the ceph packages are missing.
s3_suite_start() {
	local rc=0
	_s3_work=$1
	export D=$_s3_work/rgw MEMSTORE_BYTES=$2 PORT
	PORT=$(_s3_free_port) || { bench_log "s3: no free port"; return 1; }
	S3_CACHE_COLD=$_s3_work/s3cache-cold
	S3_CACHE_WARM=$_s3_work/s3cache-warm
	_s3_up=1
	"$S3_SERVER" start >"$_s3_work/s3-server.log" 2>&1 || rc=$?
	if [ $rc != 0 ]; then
		_s3_up=0
		[ $rc = 77 ] && return 77
		bench_log "s3: s3-server.sh start exited $rc: $(tail -3 "$_s3_work/s3-server.log")"
		return 1
	fi
	eval "$("$S3_SERVER" env)"
	export S3_ENDPOINT AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION
	# neither the daemon nor s3tool may read the host's ~/.aws
	export AWS_SHARED_CREDENTIALS_FILE=$_s3_work/no-credentials AWS_CONFIG_FILE=$_s3_work/no-config
	# s3fs: the keys in a 0600 file (in the run's 0700 directory); rclone: in
	# its environment, with an empty config file of its own
	export S3_PASSWD_FILE=$_s3_work/s3fs.passwd
	(umask 077 && echo "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" >"$S3_PASSWD_FILE")
	(umask 077 && : >"$_s3_work/rclone.conf")
	export RCLONE_S3_PROVIDER=Ceph RCLONE_S3_ENDPOINT=$S3_ENDPOINT RCLONE_S3_FORCE_PATH_STYLE=true
	export RCLONE_S3_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID RCLONE_S3_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY
	export RCLONE_S3_ENV_AUTH=false
	"$S3TOOL" -e "$S3_ENDPOINT" mb "$S3_BUCKET" >/dev/null
}

s3_suite_stop() {
	[ -n "$_s3_work" ] || return 0
	if [ $_s3_up = 1 ]; then
		D=$_s3_work/rgw "$S3_SERVER" stop >/dev/null 2>&1 || bench_log "s3: stopping radosgw failed"
		_s3_up=0
	fi
	# cache directories: never while something is mounted below the work dir
	if ! grep -q " $_s3_work/" /proc/mounts; then
		rm -rf "${S3_CACHE_COLD:?}" "${S3_CACHE_WARM:?}" "$_s3_work"/{s3fs,rclone}-{cold,warm}-cache
		rm -f "$_s3_work"/{no-credentials,no-config,s3-server.log,upload.list,upload.err,delete.list,s3fs.passwd,rclone.conf}
	fi
}

# s3_needs ID: the dataset paths (relative to src/) the workload reads
s3_needs() {
	case $1 in
	randread-* | seqread-*) echo fio/read.dat ;;
	randwrite-*) echo fio/write.dat ;;
	stat-*) echo stat ;;
	ls-*) echo ls ;;
	dataloader-*) echo images ;;
	jpeg-* | readloop-*) echo jpeg ;;
	esac
}

# s3_upload SRC PATH...: upload the files and trees to s3://$S3_BUCKET/ under
# the same names. Files of 16 MiB and more go one at a time with s3tool
# (multipart, 4 threads); small files through one curl process, 16 PUTs in
# flight on kept-alive connections (one process per file would take minutes
# for the 40,000 files of the full mode).
s3_upload() {
	local src=$1 p list rc cfgf=$_s3_work/upload.curlrc
	shift
	list=$_s3_work/upload.list
	: >"$list"
	for p in "$@"; do
		if [ -f "$src/$p" ] && [ "$(stat -c %s "$src/$p")" -ge $((16 << 20)) ]; then
			"$S3TOOL" -e "$S3_ENDPOINT" put "$S3_BUCKET" "$p" "$src/$p" >/dev/null || return 1
		else
			(cd "$src" && find "$p" -type f) >>"$list" || return 1
		fi
	done
	[ -s "$list" ] || return 0
	{
		echo 'fail'
		echo "aws-sigv4 = \"aws:amz:${AWS_REGION:-us-east-1}:s3\""
		echo "user = \"$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY\""
		echo 'header = "x-amz-content-sha256: UNSIGNED-PAYLOAD"'
		while read -r p; do
			printf 'upload-file = "%s"\nurl = "%s"\noutput = "/dev/null"\n' \
				"$src/$p" "$S3_ENDPOINT/$S3_BUCKET/$p"
		done <"$list"
	} >"$cfgf"
	curl -sS --parallel --parallel-max 16 -K "$cfgf" 2>"$_s3_work/upload.err"
	rc=$?
	rm -f "$cfgf"
	[ $rc = 0 ] || { bench_log "s3: upload failed: $(tail -1 "$_s3_work/upload.err")"; return 1; }
	wc -l <"$list"
}

# s3_delete_prefix PREFIX: delete every object under PREFIX (no mount involved)
s3_delete_prefix() {
	local cfgf=$_s3_work/delete.curlrc rc
	"$S3TOOL" -e "$S3_ENDPOINT" ls "$S3_BUCKET" "$1" 2>/dev/null | awk '$1 == "K" { print $2 }' >"$_s3_work/delete.list"
	[ -s "$_s3_work/delete.list" ] || return 0
	{
		echo 'fail'
		echo "aws-sigv4 = \"aws:amz:${AWS_REGION:-us-east-1}:s3\""
		echo "user = \"$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY\""
		echo 'header = "x-amz-content-sha256: UNSIGNED-PAYLOAD"'
		echo 'request = "DELETE"'
		# keys come from the bench's own generated names: no quoting needed
		sed "s|.*|url = \"$S3_ENDPOINT/$S3_BUCKET/&\"\\noutput = \"/dev/null\"|" "$_s3_work/delete.list"
	} >"$cfgf"
	curl -sS --parallel --parallel-max 16 -K "$cfgf"
	rc=$?
	rm -f "$cfgf"
	return $rc
}

# s3_plan ID CFG: "run", or "skip REASON" for pairs that would measure nothing new
s3_plan() {
	local id=$1 cfg=$2
	case $cfg:$id in
	*-cold:*-warm)
		echo "skip a -cold configuration reads nothing before the timed phase, so a warm workload would repeat the cold one; its -warm twin has the warm cache"
		;;
	s3fs-*:* | rclone-*:*)
		case $id in
		dataloader-* | jpeg-* | readloop-* | stat-* | ls-*) echo run ;;
		*) echo "skip the other S3 clients are compared on the read and metadata workloads (DataLoaders, read loop, stat, ls -l); fio, writes and untar run on bpfuse's S3 configurations only" ;;
		esac
		;;
	s3-cold:create | s3-cold:delete | s3-cold:untar)
		echo "skip write-only workload: nothing is fetched from S3, so s3-cold would repeat s3-warm"
		;;
	s3-*:create | s3-*:delete)
		if [ "$mode" = quick ]; then
			echo "skip quick mode: 1,000 PUTs or DELETEs, one per file, would take most of its time budget; untar covers per-file uploads here, the full mode runs create and delete"
		else echo run; fi
		;;
	s3-*:untar)
		if [ "$mode" = full ]; then
			echo "skip one PUT per extracted file (~90,000 for the Linux tree) plus cleanup makes one run far longer than the rest of the S3 runs; create measures the per-file upload cost, quick mode untars its small tarball"
		else echo run; fi
		;;
	*) echo run ;;
	esac
}

# s3_state ID CFG DESC: the cache state of this pair, as the report states it
s3_state() {
	local id=$1 cfg=$2 desc=$3
	case $cfg in
	*-cold) echo "fresh mount, empty cache dir, nothing read through the mount first, echo 3 > drop_caches" ;;
	*-warm)
		case $(s3_needs "$id") in
		'') echo "fresh mount on the suite's cache dir; then as the workload: $desc" ;;
		stat | ls) echo "fresh mount, the tree listed once (ls -lR) through it; then as the workload: $desc" ;;
		*) echo "fresh mount, cache dir complete, the data read once through this mount; then as the workload: $desc" ;;
		esac
		;;
	esac
}

# s3_warmup ID CFG ROOT: before the workload's prepare, on s3-warm: read the
# workload's data once through this mount (the first time ever this fetches it
# into the cache directory; after a remount it makes the daemon verify the
# cached objects, which it does once per mount, before passthrough opens)
s3_warmup() {
	local id=$1 cfg=$2 root=$3 p
	[ "${cfg%-warm}" != "$cfg" ] || return 0
	for p in $(s3_needs "$id"); do
		case $p in
		stat | ls) ls -lR "$root/$p" >/dev/null ;;
		# 8 readers: one cat over 10,000 uncached images costs minutes (a GET each)
		*) find "$root/$p" -type f -print0 | xargs -0 -r -P 8 -n 256 cat >/dev/null ;;
		esac || return 1
	done
}

# s3_cleanup ID: after the unmount: what a write workload left in the bucket
# goes (scratch/), and radosgw's garbage collector runs at once on overwritten
# and deleted objects (it would keep them in the memstore for hours)
s3_cleanup() {
	case $1 in
	create | delete | untar) s3_delete_prefix scratch/ || return 1 ;;
	randwrite-*) ;;
	*) return 0 ;;
	esac
	radosgw-admin -c "$_s3_work/rgw/ceph.conf" gc process --include-all >/dev/null 2>&1 || true
}

# s3_server_version: what answers, for meta.json
s3_server_version() { radosgw --version 2>/dev/null | head -1; }
