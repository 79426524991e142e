# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# The VM tier's S3 server (sourced by tests/vm/run.sh): cases that say
#
#	# vm: needs s3
#
# in a line of their own get a real radosgw (scripts/s3-server.sh, memstore) on
# the host's 127.0.0.1 for the run, a bucket with a small seed tree, and a
# guest booted with --net, where 10.0.2.2:PORT is that radosgw.  The guest
# finds in /etc/bpfuse-s3 (a 0700 directory of the initramfs):
#
#	s3.env       S3_ENDPOINT=http://10.0.2.2:PORT S3_BUCKET=vm-cases AWS_REGION=us-east-1
#	credentials  the S3 user's keys as an AWS shared credentials file (0600;
#	             use AWS_SHARED_CREDENTIALS_FILE, never print it)
#	seed.sha256  "SHA256  seed/PATH" of every object of the seed tree (sha256sum -c)
#	skip         instead of the above when the host has no Ceph: the reason
#
# vm_s3_start DIR: DIR (a fresh private 0700 directory) gets rgw/ (the
# server's state), tree/ and guest/ (the directory above, for --file
# DIR/guest:/etc/bpfuse-s3).  Returns 0 with the server up and the tree
# uploaded, 77 when Ceph is missing (guest/skip says why), 1 on any other
# failure (a line on stderr; the guest gets no s3.env, so its cases fail).
# vm_s3_stop: stops the server and removes DIR; safe to call twice.

VM_S3_SERVER=$BPFUSE_ROOT/scripts/s3-server.sh
VM_S3TOOL=${S3TOOL:-$BPFUSE_ROOT/build/s3tool}
VM_S3_BUCKET=vm-cases
_vm_s3_dir=

# vm_s3_needed CASEFILE: the case declares that it needs S3
vm_s3_needed() { grep -q '^# vm: needs s3$' "$1"; }

# _vm_s3_port: a port for radosgw (scripts/s3-server.sh port)
_vm_s3_port() { "$VM_S3_SERVER" port; }

# _vm_s3_seed DIR: the seed tree in DIR/tree: sizes from 0 to 3 MiB + 1 (the
# largest spans four 1 MiB cache blocks and ends inside the last)
_vm_s3_seed() {
	local t=$1/tree
	mkdir -p "$t/seed/d/e"
	: > "$t/seed/empty"
	head -c 1024 /dev/urandom > "$t/seed/a.txt"
	head -c 100003 /dev/urandom > "$t/seed/d/b.bin"
	head -c $((1 << 20)) /dev/urandom > "$t/seed/d/e/block.bin"
	head -c $((3 * (1 << 20) + 1)) /dev/urandom > "$t/seed/d/e/c.bin"
}

vm_s3_start() {
	local dir=$1 rc=0 port f ak sk
	_vm_s3_dir=$dir
	mkdir -p "$dir/guest"
	chmod 0700 "$dir" "$dir/guest"
	if [ ! -x "$VM_S3TOOL" ]; then
		echo "vm: s3: no $VM_S3TOOL (run scripts/setup.sh)" >&2
		return 1
	fi
	port=$(_vm_s3_port) || { echo "vm: s3: no free port for radosgw" >&2; return 1; }
	echo "$port" > "$dir/port"
	# keys of this run only (not the script's well-known defaults); a small
	# memstore: the seed tree and what cases write are a few MiB
	ak=vm-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
	sk=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
	D=$dir/rgw PORT=$port AK=$ak SK=$sk MEMSTORE_BYTES=$((256 << 20)) \
		"$VM_S3_SERVER" start > "$dir/s3-server.log" 2>&1 || rc=$?
	if [ $rc = 77 ]; then
		tail -n 1 "$dir/s3-server.log" > "$dir/guest/skip"
		echo "vm: s3: no S3 test server, S3 cases skip: $(cat "$dir/guest/skip")" >&2
		return 77
	fi
	if [ $rc != 0 ]; then
		echo "vm: s3: s3-server.sh start exited $rc: $(grep -v SECRET "$dir/s3-server.log" | tail -n 3 | tr '\n' ' ')" >&2
		return 1
	fi
	# the keys stay in this subshell's environment and the 0600 file; never printed
	(
		eval "$(D=$dir/rgw PORT=$port AK=$ak SK=$sk "$VM_S3_SERVER" env)"
		export S3_ENDPOINT AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION
		export AWS_SHARED_CREDENTIALS_FILE=$dir/no-credentials AWS_CONFIG_FILE=$dir/no-config
		"$VM_S3TOOL" -e "$S3_ENDPOINT" mb "$VM_S3_BUCKET" > /dev/null ||
			{ echo "vm: s3: cannot create bucket '$VM_S3_BUCKET'" >&2; exit 1; }
		_vm_s3_seed "$dir"
		(cd "$dir/tree" && find seed -type f | sort) > "$dir/seed.list"
		while read -r f; do
			"$VM_S3TOOL" -e "$S3_ENDPOINT" put "$VM_S3_BUCKET" "$f" "$dir/tree/$f" > /dev/null ||
				{ echo "vm: s3: cannot upload '$f'" >&2; exit 1; }
		done < "$dir/seed.list"
		(cd "$dir/tree" && xargs sha256sum < "$dir/seed.list") > "$dir/guest/seed.sha256"
		(
			umask 077
			printf '[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n' \
				"$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" > "$dir/guest/credentials"
		)
		printf 'S3_ENDPOINT=http://10.0.2.2:%s\nS3_BUCKET=%s\nAWS_REGION=%s\n' \
			"$port" "$VM_S3_BUCKET" "$AWS_REGION" > "$dir/guest/s3.env"
	) || return 1
	echo "vm: s3: radosgw on 127.0.0.1:$port (10.0.2.2:$port in the guest), bucket '$VM_S3_BUCKET'," \
	     "$(wc -l < "$dir/seed.list") seed objects" >&2
}

vm_s3_stop() {
	[ -n "$_vm_s3_dir" ] || return 0
	if [ -d "$_vm_s3_dir/rgw" ]; then
		D=$_vm_s3_dir/rgw "$VM_S3_SERVER" stop > /dev/null 2>&1 ||
			echo "vm: s3: stopping radosgw failed (state in $_vm_s3_dir/rgw)" >&2
	fi
	[ -d "$_vm_s3_dir/rgw" ] || rm -rf "$_vm_s3_dir"
	_vm_s3_dir=
}
