# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Helpers for the S3 cases (cases/s3/*.sh): a private Ceph RGW per case.
#
#	. "$IT_DIR/lib/s3.sh"
#	s3_start            # skip (77) without the ceph packages; sets S3_ENDPOINT and the
#	                    # AWS_* variables; the EXIT trap stops the server
#	s3tool mb bucket
#	s3_mount s3://bucket "$T/mnt" [OPTS]   # cache in $T/cache unless OPTS say otherwise
#	s3_stat "$T/mnt" get                   # a counter of the daemon's "s3" stats

S3_SERVER=$REPO_ROOT/scripts/s3-server.sh
S3TOOL=${S3TOOL:-$BUILD_DIR/s3tool}

# s3_free_port: a port for the S3 server (scripts/s3-server.sh port)
s3_free_port() {
	"$S3_SERVER" port || fail "no free port for the S3 server"
}

s3_start() {
	local rc=0 out
	[ -x "$S3TOOL" ] || skip "s3tool not built ($S3TOOL)"
	export D=$T/rgw PORT
	PORT=$(s3_free_port)
	at_cleanup "D='$D' PORT='$PORT' '$S3_SERVER' stop >/dev/null 2>&1"
	out=$("$S3_SERVER" start 2>&1) || rc=$?
	[ "$rc" -ne 77 ] || skip "no S3 test server: $(echo "$out" | tail -n 1)"
	[ "$rc" -eq 0 ] || fail "s3-server.sh start exited $rc: $(echo "$out" | tail -n 5)"
	eval "$("$S3_SERVER" env)"
	export S3_ENDPOINT AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION
	export AWS_ENDPOINT_URL=$S3_ENDPOINT
	# the daemon must not read the host's ~/.aws
	export AWS_SHARED_CREDENTIALS_FILE=$T/no-credentials AWS_CONFIG_FILE=$T/no-config
}

s3_stop() {
	"$S3_SERVER" stop >/dev/null 2>&1 || true
}

s3tool() {
	"$S3TOOL" -e "$S3_ENDPOINT" "$@"
}

# s3_mount SRC MNT [OPTS]
s3_mount() {
	local opts="cache_dir=$T/cache${3:+,$3}"
	bpfuse_mount "$1" "$2" "$opts"
}

# s3_stat MNT NAME: daemon.s3.NAME from bpfuse stats --json
s3_stat() {
	"$BPFUSE" stats "$1" --json |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["daemon"]["s3"][sys.argv[1]])' "$2"
}

# op_count MNT OP: requests of OP the daemon handled
op_count() {
	"$BPFUSE" stats "$1" --json |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["ops"].get(sys.argv[1], {}).get("daemon_requests", 0))' "$2"
}

# daemon_stat MNT NAME: daemon.NAME
daemon_stat() {
	"$BPFUSE" stats "$1" --json |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["daemon"][sys.argv[1]])' "$2"
}
