#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The Prometheus endpoint (-o metrics_port=N) and the stats socket against
# real and hostile clients: curl; a scrape with Prometheus's own request
# headers (longer than one small read); a request split across segments;
# clients that hang up mid-response; concurrent scrapes; clients that connect
# and send nothing (slowloris), which must not hold up the others; more idle
# clients than the connection cap; wrong methods and paths; socket modes, also
# while bind(2) makes the stats socket (held there by strace).
set -eu
. "$(dirname "$0")/../../lib/common.sh"
setup_case "$@"
need_bpfuse

# a port below the ephemeral range that nothing uses in any socket state
free_port() {
	local p i
	for i in $(seq 50); do
		p=$((20000 + RANDOM % 12000))
		ss -Htan "( sport = :$p )" 2>/dev/null | grep -q . || { echo "$p"; return 0; }
	done
	fail "no free port"
}

mkdir -p "$T/src" "$T/mnt" "$T/mnt2"
track_mount "$T/mnt2"
for i in $(seq 40); do echo "$i" >"$T/src/f$i"; done
port=$(free_port)
bpfuse_mount "$T/src" "$T/mnt" "entry_timeout=0,attr_timeout=0,metrics_port=$port"
# a few opcodes, so the exposition has some size
for i in $(seq 40); do cat "$T/mnt/f$i" >/dev/null; done
ls -l "$T/mnt" >/dev/null
URL=http://127.0.0.1:$port/metrics
PID=$(daemon_pids "$T/mnt")
[ -n "$PID" ] || fail "cannot find the daemon serving '$T/mnt'"

# the Python side of the hostile clients; prints one line per client
CLIENT_PY='
import os, socket, struct, sys, threading, time

port = int(sys.argv[1])
mode = sys.argv[2]
n = int(sys.argv[3]) if len(sys.argv) > 3 else 1

# what Prometheus 2.x sends on every scrape (scrape/scrape.go), with its
# default scrape timeout; 400+ bytes
PROM_REQ = (
    "GET /metrics HTTP/1.1\r\n"
    "Host: 127.0.0.1:%d\r\n"
    "User-Agent: Prometheus/2.53.1\r\n"
    "Accept: application/openmetrics-text;version=1.0.0;q=0.5,"
    "application/openmetrics-text;version=0.0.1;q=0.4,"
    "text/plain;version=0.0.4;q=0.3,*/*;q=0.2\r\n"
    "Accept-Encoding: gzip\r\n"
    "X-Prometheus-Scrape-Timeout-Seconds: 10\r\n"
    "Connection: keep-alive\r\n"
    "Traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n"
    "\r\n" % port).encode()

def connect():
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    return s

def read_all(s):
    data = b""
    while True:
        b = s.recv(65536)
        if not b:
            return data
        data += b

def check_response(data, what):
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        raise SystemExit("%s: no complete header in %d bytes: %r" % (what, len(data), data[:200]))
    lines = head.decode().split("\r\n")
    if not lines[0].startswith("HTTP/1.") or lines[0].split()[1] != "200":
        raise SystemExit("%s: status line %r" % (what, lines[0]))
    hdrs = {}
    for l in lines[1:]:
        k, _, v = l.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    if not hdrs.get("content-type", "").startswith("text/plain; version=0.0.4"):
        raise SystemExit("%s: content-type %r" % (what, hdrs.get("content-type")))
    if int(hdrs.get("content-length", -1)) != len(body):
        raise SystemExit("%s: content-length %s, body %d bytes" % (what, hdrs.get("content-length"), len(body)))
    if b"bpfuse_daemon_requests_total{" not in body:
        raise SystemExit("%s: body lacks bpfuse_daemon_requests_total" % what)
    return len(body)

def prom_scrape(what="prometheus scrape"):
    s = connect()
    s.sendall(PROM_REQ)
    try:
        data = read_all(s)
    except ConnectionResetError:
        raise SystemExit("%s: connection reset" % what)
    s.close()
    return check_response(data, what)

if mode == "prom":
    print("ok %d body bytes" % prom_scrape())
elif mode == "hangstart":
    # hang up on every answer, from before the port listens until the file $DONE exists:
    # on the metrics port, and on the stats socket of the mount on $MNT (named by its
    # connection, which the mount table shows once mount(2) is done): a request and close
    # at once, so the answer goes to a closed unix socket (EPIPE)
    done, mnt, answered, uanswered, t0 = os.environ["DONE"], os.environ["MNT"], 0, 0, time.monotonic()
    sock = None
    while not os.path.exists(done) and time.monotonic() - t0 < 40:
        if sock is None:
            for l in open("/proc/self/mountinfo"):
                f = l.split()
                if f[4] == mnt:
                    sock = "/run/bpfuse/%s.sock" % f[2].split(":")[1]
        if sock is not None:
            u = socket.socket(socket.AF_UNIX)
            try:
                u.connect(sock)
                u.sendall(b"json\n")
                uanswered += 1
            except OSError:
                pass
            u.close()
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
        s.settimeout(2)
        try:
            s.connect(("127.0.0.1", port))
            s.sendall(PROM_REQ)
            if s.recv(64):
                answered += 1
        except OSError:
            time.sleep(0.01)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
    if not answered or not uanswered:
        raise SystemExit("no answer to hang up on (%d metrics, %d stats socket)" % (answered, uanswered))
    print("ok: hung up on %d metrics answers and %d stats socket requests while the daemon started"
          % (answered, uanswered))
elif mode == "split":
    # request line and some headers, a pause, then the rest: the server must
    # wait for the blank line before it answers
    s = connect()
    s.sendall(PROM_REQ[:60])
    s.settimeout(0.5)
    try:
        early = s.recv(100)
        raise SystemExit("answered (%r) before the request was complete" % early[:40])
    except socket.timeout:
        pass
    s.settimeout(10)
    s.sendall(PROM_REQ[60:])
    try:
        data = read_all(s)
    except ConnectionResetError:
        raise SystemExit("split request: connection reset")
    print("ok %d body bytes" % check_response(data, "split request"))
elif mode == "hangup":
    # read a little of the answer, then reset the connection, n times, with a
    # small receive window so the server is still sending when we go
    for i in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
        s.settimeout(10)
        s.connect(("127.0.0.1", port))
        s.sendall(PROM_REQ)
        s.recv(64)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
    # and one that hangs up before sending the whole request
    s = connect()
    s.sendall(PROM_REQ[:30])
    s.close()
    print("ok")
elif mode == "concurrent":
    errs, sizes = [], []
    def one(i):
        try:
            sizes.append(prom_scrape("concurrent scrape %d" % i))
        except BaseException as e:
            errs.append(str(e))
    ts = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    t0 = time.monotonic()
    for t in ts: t.start()
    for t in ts: t.join()
    if errs:
        raise SystemExit("; ".join(errs))
    print("ok %d scrapes in %.2f s" % (len(sizes), time.monotonic() - t0))
elif mode == "slowloris":
    # n clients that connect and send nothing (one sends a byte a second),
    # then a real scrape, which must be answered at once
    idle = [connect() for _ in range(n)]
    trickle = connect()
    stop = threading.Event()
    def drip():
        for b in PROM_REQ:
            if stop.wait(1.0):
                return
            try:
                trickle.send(bytes([b]))
            except OSError:
                return
    threading.Thread(target=drip, daemon=True).start()
    time.sleep(0.3)
    t0 = time.monotonic()
    prom_scrape("scrape beside %d idle clients" % n)
    took = time.monotonic() - t0
    if took > 2.0:
        raise SystemExit("a scrape beside %d idle clients took %.1f s" % (n, took))
    # the server gives up on the idle ones within its request deadline
    t0 = time.monotonic()
    for s in idle:
        s.settimeout(15)
        try:
            left = s.recv(100)
        except ConnectionResetError:
            left = b""
        except socket.timeout:
            raise SystemExit("an idle client was still connected after %.0f s" % (time.monotonic() - t0 + 0.3))
    closed_after = time.monotonic() - t0 + 0.3
    stop.set()
    print("ok scrape in %.2f s; idle clients closed after %.1f s" % (took, closed_after))
elif mode == "badreq":
    def ask(req):
        s = connect()
        s.sendall(req)
        try:
            data = read_all(s)
        except ConnectionResetError:
            raise SystemExit("%r: connection reset" % req[:30])
        return data.split(b"\r\n", 1)[0].decode()
    got = {
        "POST": ask(b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"),
        "path": ask(b"GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n"),
        "junk": ask(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n"),
        "huge": ask(b"GET /metrics HTTP/1.1\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n"),
        "HEAD": ask(b"HEAD /metrics HTTP/1.0\r\n\r\n"),
        "query": ask(b"GET /metrics?x=1 HTTP/1.0\r\n\r\n"),
    }
    want = {"POST": "405", "path": "404", "junk": "400", "huge": "431", "HEAD": "200", "query": "200"}
    bad = ["%s: %r" % (k, got[k]) for k in want if got[k].split(" ")[1:2] != [want[k]]]
    if bad:
        raise SystemExit("wrong answers: " + "; ".join(bad))
    print("ok")
'
client() {
	timeout 60 python3 -c "$CLIENT_PY" "$port" "$@"
}

still_serving() {
	kill -0 "$PID" 2>/dev/null || fail "the daemon (pid $PID) died"
	assert_eq 7 "$(cat "$T/mnt/f7")" "read through the mount"
	# the whole answer first: grep -q stopping early would make curl fail writing it
	curl -fsS --max-time 5 -o "$T/still" "$URL" && grep -q '^bpfuse_daemon_requests_total{' "$T/still" ||
		fail "the endpoint stopped serving"
}

t_curl() {
	curl -fsS --max-time 5 -D "$T/hdr" -o "$T/body" "$URL" || fail "curl $URL failed"
	grep -qi '^content-type: text/plain; version=0.0.4' "$T/hdr" || fail "content type: $(cat "$T/hdr")"
	grep -q '^bpfuse_daemon_requests_total{mount="'"$T/mnt"'",opcode="OPEN"} ' "$T/body" ||
		fail "no OPEN count in $(head -c 300 "$T/body")"
	curl -fsS --max-time 5 --http1.0 -o "$T/body10" "http://127.0.0.1:$port/" &&
		grep -q '^bpfuse_' "$T/body10" || fail "HTTP/1.0 request to / not served"
}
check "curl scrapes /metrics" t_curl

t_prom() {
	local i
	for i in $(seq 20); do
		client prom >/dev/null || fail "scrape $i with Prometheus's headers failed"
	done
}
check "20 scrapes with Prometheus's request headers, no reset" t_prom

t_split() {
	client split >/dev/null
}
check "a request split across segments is answered once complete" t_split

t_hangup() {
	client hangup 30 >/dev/null
	still_serving
}
check "clients that hang up mid-response leave the daemon serving" t_hangup

t_concurrent() {
	client concurrent 16
}
check "16 concurrent scrapes" t_concurrent

t_slowloris() {
	client slowloris 8
	still_serving
}
check "8 idle clients and one that trickles do not hold up a scrape" t_slowloris

t_flood() {
	# more idle connections than the server takes at once: new scrapes are
	# still answered (the longest-waiting idle client makes room)
	timeout 60 python3 - "$port" <<'PY' || fail "scrapes beside 200 idle connections failed"
import socket, sys, time
port = int(sys.argv[1])
idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(200)]
time.sleep(0.2)
t0 = time.monotonic()
for i in range(3):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
    data = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
    if not data.startswith(b"HTTP/1.1 200 "):
        raise SystemExit("scrape %d beside 200 idle connections: %r" % (i, data[:40]))
took = time.monotonic() - t0
if took > 3:
    raise SystemExit("3 scrapes beside 200 idle connections took %.1f s" % took)
PY
	still_serving
}
check "200 idle connections do not lock scrapes out" t_flood

t_badreq() {
	client badreq
	still_serving
}
check "bad methods, paths, non-HTTP and huge requests get one clear status" t_badreq

t_socket_modes() {
	local conn sock
	conn=$(awk -v m="$T/mnt" '$5 == m { split($3, d, ":"); print d[2] }' /proc/self/mountinfo)
	sock=/run/bpfuse/$conn.sock
	[ -S "$sock" ] || fail "no stats socket at '$sock'"
	assert_eq 600 "$(stat -c %a "$sock")" "mode of '$sock'"
	# and the mount's other runtime files (pid, options, ...): 0600 in the 0700 directory
	for f in /run/bpfuse/"$conn".*; do
		assert_eq 600 "$(stat -c %a "$f")" "mode of '$f'"
	done
	assert_eq 700 "$(stat -c %a /run/bpfuse)" "mode of /run/bpfuse"
	assert_eq 0 "$(stat -c %u /run/bpfuse)" "owner of /run/bpfuse"
	# the unix socket survives an idle client and one that hangs up too
	timeout 20 python3 - "$sock" <<'PY'
import socket, sys
idle = socket.socket(socket.AF_UNIX)
idle.connect(sys.argv[1])
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"json\n")
s.recv(10)
s.close()
PY
	timeout 5 "$BPFUSE" stats "$T/mnt" --json | grep -q '"mountpoint"' ||
		fail "bpfuse stats beside hostile unix clients"
}
check "stats socket 0600 in a root-only 0700 dir, and robust" t_socket_modes

t_socket_bind_mode() {
	# never wider than 0600, not only at the end: bind(2) of the stats socket is held for
	# 1 s by strace (its exit delayed, the socket file made) while a poller stats every
	# socket in /run/bpfuse, a tmpfs of this private mount namespace so that only this
	# daemon's is there; a chmod after bind would show 0777 (the daemon's umask is 0)
	command -v strace >/dev/null || { log "no strace(1): bind-time socket mode not checked"; return 77; }
	mkdir -p "$T/mnt3"
	track_mount "$T/mnt3"
	timeout 60 unshare -m --propagation private -- bash -c '
		set -eu
		mount -t tmpfs -o mode=0700 bpfuse-case /run/bpfuse
		trap "umount -l \"\$3\" 2>/dev/null || true" EXIT
		python3 -c "
import glob, os, stat, sys, time
end = time.time() + 20
with open(sys.argv[1], \"w\") as out:
    while time.time() < end and not os.path.exists(sys.argv[2]):
        for f in glob.glob(\"/run/bpfuse/*.sock\"):
            try:
                m = os.lstat(f).st_mode
            except FileNotFoundError:
                continue
            out.write(\"%.6f %o %s\\n\" % (time.time(), stat.S_IMODE(m), f))
        time.sleep(0.01)
" "$4/modes" "$4/done" &
		poller=$!
		# strace follows the daemon until it exits: in the background, until the unmount
		strace -f -qq -ttt -o "$4/strace" -e trace=bind -e inject=bind:delay_exit=1000000 \
			"$1" mount "$2" "$3" -o entry_timeout=0 >"$4/mount.out" 2>&1 &
		tracer=$!
		i=0
		until grep -q "^bpfuse: mounted " "$4/mount.out"; do
			i=$((i + 1))
			[ $i -lt 300 ] && kill -0 $tracer 2>/dev/null || { cat "$4/mount.out"; exit 1; }
			sleep 0.1
		done
		touch "$4/done"
		wait "$poller"
		"$1" umount "$3"
		wait $tracer
	' bind-mode "$BPFUSE" "$T/src" "$T/mnt3" "$T" || fail "the strace'd mount failed"
	assert_not_mounted "$T/mnt3"
	python3 - "$T/strace" "$T/modes" <<'PY'
import re, sys
log = open(sys.argv[1]).read()
# "PID TIME bind(FD, {... sun_path=...}, LEN) = 0 (DELAYED)", or split in two lines by
# another thread's call: "... LEN <unfinished ...>" and "PID TIME <... bind resumed>) = 0 (DELAYED)"
m = re.search(r"^(\d+) +(\d+\.\d+) bind\(\d+, \{sa_family=AF_UNIX, sun_path=\"/run/bpfuse/[^\n]*", log, re.M)
if not m:
    raise SystemExit("no bind of a /run/bpfuse socket in the strace log: %s" % log[-500:])
if "(DELAYED)" not in m.group(0) and not re.search(r"^%s +[0-9.]+ <\.\.\. bind resumed>.*\(DELAYED\)" % m.group(1), log, re.M):
    raise SystemExit("bind was not held by strace: %s" % log[-500:])
# the time bind(2) was entered; strace holds its return for 1 s (the call itself takes
# microseconds), during which the socket file exists with the mode bind gave it
start = float(m.group(2))
seen = [l.split() for l in open(sys.argv[2])]
held = [s for s in seen if start <= float(s[0]) <= start + 0.9]
if len(held) < 10:
    raise SystemExit("the socket was seen only %d times while bind was held" % len(held))
wide = sorted({s[1] for s in seen if s[1] != "600"})
if wide:
    raise SystemExit("the stats socket had mode %s (want only 600)" % ", ".join(wide))
print("ok: mode 600 in all %d looks, %d of them while bind(2) was held" % (len(seen), len(held)))
PY
}
check "the stats socket is 0600 from the moment bind(2) makes it" t_socket_bind_mode

t_hangup_at_start() {
	# clients that hang up mid-response while the daemon starts (on the metrics port and
	# on the stats socket): libfuse ignores SIGPIPE only once it serves, the stats server
	# runs before that. strace holds each rt_sigaction(2) of the starting daemon for
	# 0.3 s, so the clients meet the server in that window (a send without MSG_NOSIGNAL
	# there, with SIGPIPE not yet ignored, kills the daemon)
	command -v strace >/dev/null || { log "no strace(1): hangups at start not checked"; return 77; }
	local port2 tracer i
	port2=$(free_port)
	mkdir -p "$T/mnt4"
	track_mount "$T/mnt4"
	DONE=$T/started MNT=$T/mnt4 timeout 60 python3 -c "$CLIENT_PY" "$port2" hangstart >"$T/hangstart.out" 2>&1 &
	local clients=$!
	strace -f -qq -o "$T/strace4" -e trace=rt_sigaction -e inject=rt_sigaction:delay_enter=300000 \
		"$BPFUSE" mount "$T/src" "$T/mnt4" -f -o "metrics_port=$port2" >"$T/mount4.out" 2>&1 &
	tracer=$!
	i=0
	until grep -q "^bpfuse: mounted " "$T/mount4.out"; do
		i=$((i + 1))
		[ $i -lt 300 ] && kill -0 $tracer 2>/dev/null ||
			fail "the daemon died while clients hung up on it: $(tail -n 2 "$T/mount4.out"; tail -n 3 "$T/strace4")"
		sleep 0.1
	done
	touch "$T/started"
	wait "$clients" || fail "hangup clients: $(cat "$T/hangstart.out")"
	kill -0 $tracer 2>/dev/null || fail "the daemon died: $(tail -n 3 "$T/strace4")"
	curl -fsS --max-time 5 -o "$T/body4" "http://127.0.0.1:$port2/metrics" ||
		fail "the endpoint of the daemon clients hung up on at start does not serve"
	assert_eq 7 "$(cat "$T/mnt4/f7")" "read through the mount clients hung up on at start"
	bpfuse_umount "$T/mnt4"
	wait "$tracer" || fail "the daemon exited with an error: $(tail -n 2 "$T/mount4.out")"
	! grep -qE -- '--- SIGPIPE|killed by SIGPIPE' "$T/strace4" ||
		fail "the daemon got a SIGPIPE: $(grep -E -- '--- SIGPIPE|killed by SIGPIPE' "$T/strace4")"
	log "$(cat "$T/hangstart.out")"
}
check "clients that hang up on the metrics port while the daemon starts" t_hangup_at_start

t_port_in_use() {
	local rc=0 out
	out=$(timeout 60 "$BPFUSE" mount "$T/src" "$T/mnt2" -o "metrics_port=$port" 2>&1) || rc=$?
	[ "$rc" -ne 0 ] || fail "a second mount on metrics port $port succeeded"
	assert_eq 1 "$(echo "$out" | wc -l)" "lines printed for a port in use ($out)"
	echo "$out" | grep -q "cannot listen on 127.0.0.1:$port (metrics_port)" || fail "message: $out"
	assert_not_mounted "$T/mnt2"
	assert_no_daemon "$T/mnt2"
}
check "a metrics port in use fails the mount with one line, nothing mounted" t_port_in_use

bpfuse_umount "$T/mnt"
# a stopped daemon leaves no socket and no listener behind
if ss -Htln "( sport = :$port )" | grep -q .; then
	fail "port $port still listening after unmount"
fi
finish
