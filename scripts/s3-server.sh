#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# s3-server.sh - a throwaway one-node Ceph RGW (a real S3 server) on loopback for tests.
#
# One ceph-mon + one memstore ceph-osd (data in RAM) + radosgw (beast frontend), no mgr,
# no cephx, every daemon bound to 127.0.0.1.  Starts in ~2-5 s.  Installs nothing: when the
# Ceph binaries are missing it says which packages to install (scripts/packages-s3.txt)
# and exits 77, the test suites' "skip".
#
# Usage: s3-server.sh start|stop|status|env|port
#   start   stop a previous instance in $D, start a fresh cluster, create the S3 user,
#           wait until the endpoint answers, print the `env` lines
#   stop    kill the daemons this script started in $D (by pid file) and wipe $D; idempotent
#   status  exit 0 when the endpoint answers, 1 otherwise
#   env     print shell exports: eval "$(scripts/s3-server.sh env)"
#   port    print a free S3 port P for PORT=: P and P - 4180 (the monitor) both unused on
#           127.0.0.1, both below the kernel's ephemeral range (32768-60999 by default: a
#           port in it can be taken by any outgoing connection between the check and the
#           bind); exit 1 if 50 random picks in 24180-32179 found none
# Environment:
#   D          state directory (wiped on start and stop)     [/tmp/bpfuse-rgw]
#   PORT       S3 port on 127.0.0.1                           [7480]
#   MON_PORT   mon msgr2 port on 127.0.0.1                    [PORT - 4180, so 3300]
#   MEMSTORE_BYTES  OSD capacity, held in RAM                 [2 GiB]
#   AK / SK    access / secret key of S3 user "bpfuse"        [bpfuse-test-key/bpfuse-test-secret]
# S3 notes: path-style URLs (http://127.0.0.1:7480/bucket/key); any region name is accepted;
# SigV4 requests must carry x-amz-content-sha256.
set -eu
D=${D:-/tmp/bpfuse-rgw}
PORT=${PORT:-7480}
MON_PORT=${MON_PORT:-$((PORT - 4180))}
MEMSTORE_BYTES=${MEMSTORE_BYTES:-2147483648}
AK=${AK:-bpfuse-test-key}
SK=${SK:-bpfuse-test-secret}
CONF=$D/ceph.conf
MARK=$D/.bpfuse-s3-server

say() { echo "s3-server: $*" >&2; }

case "$D" in
/ | "" | /tmp | /tmp/ | /root | /home) say "refusing state dir '$D'"; exit 2 ;;
esac

check_tools() {
	missing=
	for b in ceph-mon ceph-osd radosgw radosgw-admin monmaptool ceph curl; do
		command -v $b >/dev/null 2>&1 || missing="$missing $b"
	done
	if [ -n "$missing" ]; then
		say "missing:$missing (apt-get install --no-install-recommends radosgw ceph-mon ceph-osd curl)"
		exit 77
	fi
}

endpoint_up() {
	curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/"
}

# pid of daemon $1 (mon.a, osd.0, client.rgw) if it is alive and is the program we started
daemon_pid() {
	f=$D/run/$1.pid
	[ -f "$f" ] || return 1
	p=$(cat "$f" 2>/dev/null) || return 1
	[ -n "$p" ] && kill -0 "$p" 2>/dev/null || return 1
	# guard against a recycled pid: its command line must name our config file
	tr '\0' ' ' </proc/"$p"/cmdline 2>/dev/null | grep -qF -- "$CONF" || return 1
	echo "$p"
}

stop() {
	[ -d "$D" ] || return 0
	if [ ! -f "$MARK" ]; then
		say "'$D' exists but was not made by this script; not touching it"
		exit 1
	fi
	# all at once: the state is throwaway (memstore), so a slow clean shutdown buys nothing
	pids=
	for n in client.rgw osd.0 mon.a; do
		p=$(daemon_pid $n) && pids="$pids $p"
	done
	if [ -n "$pids" ]; then
		# shellcheck disable=SC2086 # a list of pids
		kill $pids 2>/dev/null || true
		i=0
		while [ $i -lt 20 ]; do
			alive=
			for p in $pids; do kill -0 "$p" 2>/dev/null && alive="$alive $p"; done
			[ -z "$alive" ] && break
			sleep 0.1
			i=$((i + 1))
		done
		for p in $pids; do kill -9 "$p" 2>/dev/null || true; done
	fi
	rm -rf "$D"
}

write_conf() {
	cat >"$CONF" <<EOF
[global]
fsid = $FSID
mon_host = v2:127.0.0.1:$MON_PORT
public_addr = 127.0.0.1
cluster_addr = 127.0.0.1
ms_bind_ipv6 = false
# no cephx: throwaway box on loopback; S3 auth is RGW's own (access/secret keys)
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
run_dir = $D/run
admin_socket = $D/run/\$name.asok
pid_file = $D/run/\$name.pid
log_file = $D/log/\$name.log
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
osd_crush_chooseleaf_type = 0
mon_allow_pool_size_one = true
mon_allow_pool_delete = true
mon_max_pg_per_osd = 1000
mon_warn_on_pool_no_redundancy = false
mon_data_avail_warn = 1
mon_data_avail_crit = 0
[mon]
mon_data = $D/mon.\$id
# commit map changes at once: the default 1 s batching costs ~2 s per RGW pool creation
paxos_propose_interval = 0.05
paxos_min_wait = 0.01
[osd]
osd_data = $D/osd.\$id
osd_objectstore = memstore
memstore_device_bytes = $MEMSTORE_BYTES
osd_memory_target = 939524096
[client.rgw]
# tcp_nodelay: without it every small response on a kept-alive connection waits ~40 ms
# (Nagle on the server, delayed ACK on the client), which made each small GET cost 42 ms
rgw_frontends = beast endpoint=127.0.0.1:$PORT tcp_nodelay=1
# virtual-hosted addressing: http://BUCKET.localhost:PORT/ (curl resolves *.localhost itself)
rgw_dns_name = localhost
rgw_data = $D/rgw
rgw_thread_pool_size = 64
# radosgw's built-in defaults force cephx and secure mon mode; undo for auth none
auth_client_required = none
ms_mon_client_mode = crc
EOF
}

start() {
	check_tools
	stop
	if endpoint_up; then
		say "something else already answers on 127.0.0.1:$PORT; choose another PORT"
		exit 1
	fi
	mkdir -p "$D"
	chmod 0700 "$D"
	: >"$MARK"
	mkdir -p "$D/mon.a" "$D/osd.0" "$D/run" "$D/log" "$D/rgw"
	FSID=$(cat /proc/sys/kernel/random/uuid)
	write_conf
	monmaptool --create --fsid "$FSID" --addv a "[v2:127.0.0.1:$MON_PORT]" "$D/monmap" \
		>/dev/null
	ceph-mon -c "$CONF" -i a --mkfs --monmap "$D/monmap"
	ceph-mon -c "$CONF" -i a # daemonizes, writes run/mon.a.pid
	UUID=$(cat /proc/sys/kernel/random/uuid)
	ID=$(ceph -c "$CONF" --connect-timeout 20 osd new "$UUID")
	ceph-osd -c "$CONF" -i "$ID" --mkfs --osd-uuid "$UUID" >"$D/log/osd-mkfs.log" 2>&1
	ceph-osd -c "$CONF" -i "$ID" >>"$D/log/osd-start.log" 2>&1 # daemonizes
	radosgw -c "$CONF" -n client.rgw # daemonizes and creates its pools
	i=0
	until endpoint_up; do
		i=$((i + 1))
		if [ $i -gt 600 ]; then
			say "radosgw did not answer within 60 s; logs in $D/log"
			exit 1
		fi
		sleep 0.1
	done
	radosgw-admin -c "$CONF" user create --uid=bpfuse --display-name=bpfuse \
		--access-key="$AK" --secret-key="$SK" >/dev/null
	env_lines
}

env_lines() {
	echo "export S3_ENDPOINT=http://127.0.0.1:$PORT"
	echo "export AWS_ACCESS_KEY_ID=$AK"
	echo "export AWS_SECRET_ACCESS_KEY=$SK"
	echo "export AWS_REGION=us-east-1"
}

status() {
	for n in mon.a osd.0 client.rgw; do
		if p=$(daemon_pid $n); then echo "$n: running (pid $p)"; else echo "$n: not running"; fi
	done
	if endpoint_up; then
		echo "endpoint http://127.0.0.1:$PORT: up"
	else
		echo "endpoint http://127.0.0.1:$PORT: down"
		return 1
	fi
}

free_port() {
	i=0
	while [ $i -lt 50 ]; do
		p=$((24180 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 8000))
		if ! ss -Htan "( sport = :$p or sport = :$((p - 4180)) )" 2>/dev/null | grep -q .; then
			echo "$p"
			return 0
		fi
		i=$((i + 1))
	done
	say "no free port pair on 127.0.0.1 in 24180-32179"
	return 1
}

case "${1:-}" in
port) free_port ;;
start) start ;;
stop) stop ;;
status) status ;;
env) env_lines ;;
*)
	echo "usage: $0 start|stop|status|env|port" >&2
	exit 2
	;;
esac
