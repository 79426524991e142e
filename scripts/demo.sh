#!/usr/bin/env bash
# demo.sh - set everything up and run bpfuse's main job: a training data loader reading an
# image dataset from an S3 bucket.
#
#   ./scripts/demo.sh          S3 demo: starts the project's loopback S3 server (radosgw),
#                              uploads 2,000 JPEGs (~110 KB, 10 classes) and a 256 MiB file,
#                              mounts the bucket with `bpfuse mount s3://...`, runs a PyTorch
#                              DataLoader epoch cold and warm, shows `bpfuse stats`, runs fio
#                              4K random reads through bpfuse and through plain FUSE
#                              (libfuse's passthrough_hp) and leaves the mount up
#   ./scripts/demo.sh --stop   unmount the demo's mount and stop its S3 server
#   ./scripts/demo.sh --local  the local-directory demo: mount a directory, ls, cat, compare
#
# BPFUSE_DEMO_PORT=N picks the S3 server's port (N - 4180 is its monitor's); default: a free pair.
# State lives in $BPFUSE_DEMO_DIR [/tmp/bpfuse-demo]: data/ (the generated dataset, kept
# for the next run), mnt/ (the mount), cache/ (bpfuse's S3 cache), rgw/ (the S3 server).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
BPFUSE=$top/build/bpfuse
S3TOOL=$top/build/s3tool
S3_SERVER=$top/scripts/s3-server.sh
PLAIN_FUSE=$top/build/deps/libfuse/bin/passthrough_hp
PLAIN_FUSE_LIB=$top/build/deps/libfuse/lib/x86_64-linux-gnu
demo=${BPFUSE_DEMO_DIR:-/tmp/bpfuse-demo}
src=$demo/data mnt=$demo/mnt cache=$demo/cache plain=$demo/plain-mnt
BUCKET=demo
# the Debian python3, where python3-torch and python3-torchvision are installed
PY=/usr/bin/python3
IMAGES=2000 CLASSES=10 WORKERS=4 BATCH=64 FIO_SIZE=256M FIO_RUNTIME=10

die() { echo "demo: $*" >&2; exit 1; }
mounted() { grep -q " $1 fuse" /proc/mounts; }
t_start=$(date +%s.%N)
elapsed() { printf '%5.1f s' "$(echo "$(date +%s.%N) - $t_start" | bc)"; }
step() { echo; echo "== [$(elapsed)] $*"; }

plain_pid=
stop() {
	local rc=0
	# a passthrough_hp this run started and has not seen exit
	if [ -n "$plain_pid" ]; then kill "$plain_pid" 2>/dev/null || true; fi
	if mounted "$plain"; then umount "$plain" || rc=1; fi
	if mounted "$mnt"; then
		"$BPFUSE" umount "$mnt" || rc=1
	fi
	if [ -d "$demo/rgw" ]; then
		D=$demo/rgw "$S3_SERVER" stop || rc=1
	fi
	if ! mounted "$mnt" && ! mounted "$plain"; then
		rm -rf "${cache:?}"
		# the run's own files and mountpoints; the dataset in $src stays
		rm -f "$demo/fio.json" "$demo/fio.err" "$demo/plain-fuse.log"
		rmdir "$mnt" "$plain" 2>/dev/null || true
	fi
	rm -f "$demo/port"
	local kept=$src
	[ -d "$demo/local-data" ] && kept="$src and $demo/local-data"
	[ $rc = 0 ] && echo "demo: stopped (nothing of the demo is mounted or running; the data stays in $kept for the next run)"
	return $rc
}

local_demo() {
	local lsrc=$demo/local-data
	[ -d "$demo/rgw" ] && die "the S3 demo is running; stop it first with: $0 --stop"
	"$top/scripts/setup.sh"
	if grep -q " $mnt fuse.bpfuse " /proc/mounts; then
		"$BPFUSE" umount "$mnt"
	fi
	mkdir -p "$lsrc/images" "$mnt"
	for i in $(seq -w 1 100); do
		[ -e "$lsrc/images/img$i.bin" ] || head -c 16384 /dev/urandom >"$lsrc/images/img$i.bin"
	done
	echo "hello from bpfuse" >"$lsrc/README.txt"

	echo "+ bpfuse mount local:$lsrc $mnt -o entry_timeout=60,attr_timeout=60"
	"$BPFUSE" mount "local:$lsrc" "$mnt" -o entry_timeout=60,attr_timeout=60
	echo "+ grep $mnt /proc/mounts"; grep " $mnt " /proc/mounts
	echo "+ ls -l $mnt"; ls -l "$mnt"
	echo "+ cat $mnt/README.txt"; cat "$mnt/README.txt"
	echo "+ sha256 of 100 files through the mount vs the directory"
	a=$(cd "$mnt/images" && cat img*.bin | sha256sum | cut -c1-16)
	b=$(cd "$lsrc/images" && cat img*.bin | sha256sum | cut -c1-16)
	echo "  mount $a  directory $b  $([ "$a" = "$b" ] && echo identical || echo DIFFERENT)"
	echo "+ echo written-through-bpfuse > $mnt/new.txt"; echo written-through-bpfuse >"$mnt/new.txt"
	echo "+ cat $lsrc/new.txt"; cat "$lsrc/new.txt"
	[ "$a" = "$b" ]
	echo
	echo "demo: $mnt is a bpfuse mount of $lsrc; unmount it (and clean up, as after the S3 demo) with:"
	echo "  $0 --stop"
}

# free_port: a port for the S3 server (scripts/s3-server.sh port)
free_port() { "$S3_SERVER" port; }

# the dataset, made once into $src by the bench's generator (bench/lib/make_jpegs.py,
# deterministic), plus the fio file
make_data() {
	local stamp="jpeg=$IMAGES,classes=$CLASSES,v1 fio=$FIO_SIZE"
	[ -f "$src/.stamp" ] && [ "$(cat "$src/.stamp")" = "$stamp" ] && return 0
	rm -rf "$src" && mkdir -p "$src/jpeg" "$src/fio"
	local made
	made=$(nice "$PY" "$top/bench/lib/make_jpegs.py" "$src/jpeg" "$IMAGES" "$CLASSES" --procs 2) ||
		return 1
	echo "  $made"
	# random bytes: the same file every run is not needed, only its size
	head -c "$FIO_SIZE" /dev/urandom >"$src/fio/read.dat"
	echo "$stamp" >"$src/.stamp"
}

# fio_iops DIR: 4K random reads of DIR/fio/read.dat for $FIO_RUNTIME s, prints the IOPS
fio_iops() {
	nice fio --name=randread --filename="$1/fio/read.dat" --size="$FIO_SIZE" --rw=randread \
		--bs=4k --ioengine=psync --iodepth=1 --numjobs=1 --invalidate=1 --time_based \
		--runtime="$FIO_RUNTIME" --output-format=json >"$demo/fio.json" 2>"$demo/fio.err" || {
		echo "demo: fio on $1 failed: $(tail -n 1 "$demo/fio.err")" >&2
		return 1
	}
	"$PY" -c 'import json, sys; print("%.0f" % json.load(open(sys.argv[1]))["jobs"][0]["read"]["iops"])' \
		"$demo/fio.json"
}

stats_json() { "$BPFUSE" stats "$mnt" --json; }

s3_demo() {
	local port rc=0 out
	# bad states first, before anything is built or started
	[ "$(id -u)" = 0 ] || die "must run as root (mounts FUSE, starts the S3 server)"
	if mounted "$mnt" || [ -d "$demo/rgw" ]; then
		die "already running (mount $mnt, S3 server in $demo/rgw); stop it first with: $0 --stop"
	fi
	if [ -n "${BPFUSE_DEMO_PORT:-}" ]; then
		port=$BPFUSE_DEMO_PORT
		if ss -Htan "( sport = :$port or sport = :$((port - 4180)) )" 2>/dev/null | grep -q .; then
			die "port $port or $((port - 4180)) (the S3 server and its monitor) is in use on 127.0.0.1; choose another BPFUSE_DEMO_PORT or leave it unset"
		fi
	fi

	# a run that fails half-way leaves nothing mounted or running
	trap 'rc=$?; if [ $rc != 0 ]; then echo "demo: failed; stopping what it started" >&2; stop >/dev/null || true; fi' EXIT

	step "setup: packages, libfuse, build (scripts/setup.sh)"
	"$top/scripts/setup.sh"
	"$PY" -c 'import torch, torchvision, PIL, numpy' 2>/dev/null ||
		die "python3-torch, python3-torchvision, python3-pil and python3-numpy are needed (scripts/setup.sh installs them)"
	mkdir -p "$demo" && chmod 0700 "$demo"

	step "dataset: $IMAGES JPEGs in $CLASSES classes and a $FIO_SIZE file in $src (made once)"
	make_data
	du -sh "$src/jpeg" "$src/fio/read.dat" | sed 's/^/  /'

	if [ -z "${port:-}" ]; then
		port=$(free_port) || die "no free port pair for the S3 server on 127.0.0.1 (24180-32179)"
	fi
	step "S3 server: one-node radosgw on 127.0.0.1:$port (scripts/s3-server.sh, state in $demo/rgw)"
	out=$(D=$demo/rgw PORT=$port MEMSTORE_BYTES=$((1 << 30)) "$S3_SERVER" start 2>&1) || rc=$?
	if [ $rc != 0 ]; then
		D=$demo/rgw "$S3_SERVER" stop >/dev/null 2>&1 || true
		die "the S3 server did not start (s3-server.sh exited $rc): $(echo "$out" | tail -n 1)"
	fi
	echo "$port" >"$demo/port"
	eval "$(D=$demo/rgw PORT=$port "$S3_SERVER" env)"
	export S3_ENDPOINT AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION
	# neither the daemon nor s3tool reads the host's ~/.aws
	export AWS_SHARED_CREDENTIALS_FILE=$demo/no-credentials AWS_CONFIG_FILE=$demo/no-config
	echo "  endpoint $S3_ENDPOINT"

	step "upload: s3://$BUCKET (build/s3tool, 8 uploads at a time)"
	"$S3TOOL" -e "$S3_ENDPOINT" mb "$BUCKET" >/dev/null
	"$S3TOOL" -e "$S3_ENDPOINT" put "$BUCKET" fio/read.dat "$src/fio/read.dat" >/dev/null
	# shellcheck disable=SC2016 # the inner sh expands them
	(cd "$src" && find jpeg -type f -name '*.jpg' -print0 |
		xargs -0 -P 8 -n 25 sh -c 'b=$1; shift; for k; do "$0" -e "$S3_ENDPOINT" put "$b" "$k" "$k" >/dev/null || exit 255; done' \
			"$S3TOOL" "$BUCKET") ||
		die "upload to s3://$BUCKET failed"
	echo "  $("$S3TOOL" -e "$S3_ENDPOINT" ls "$BUCKET" 2>/dev/null | grep -c '^K') objects in s3://$BUCKET"

	step "mount: bpfuse mount s3://$BUCKET $mnt --endpoint $S3_ENDPOINT --cache-dir $cache -o profile=dataset"
	mkdir -p "$mnt"
	"$BPFUSE" mount "s3://$BUCKET" "$mnt" --endpoint "$S3_ENDPOINT" --cache-dir "$cache" -o profile=dataset
	echo "  $mnt: $(cd "$mnt" && echo *)  $mnt/jpeg: $(cd "$mnt/jpeg" && echo *)"

	step "DataLoader: torchvision ImageFolder over $mnt/jpeg, $WORKERS workers, batch $BATCH, RandomResizedCrop(224)"
	echo "  cold: empty bpfuse cache, kernel caches dropped: every image comes from S3"
	local cold warm s0 s1 s2
	s0=$(stats_json)
	cold=$(nice "$PY" -W ignore::UserWarning "$top/bench/workloads/dataloader.py" "$mnt/jpeg" $WORKERS $BATCH cold 224)
	s1=$(stats_json)
	echo "  warm: the same epoch again (the images in bpfuse's cache files, and those in the page cache)"
	warm=$(nice "$PY" -W ignore::UserWarning "$top/bench/workloads/dataloader.py" "$mnt/jpeg" $WORKERS $BATCH warm 224)
	s2=$(stats_json)
	"$PY" - "$cold" "$warm" <<'PY'
import json, os, sys
c, w = (json.loads(a)["metrics"] for a in sys.argv[1:3])
for name, m in (("cold", c), ("warm", w)):
    print("  %s epoch: %5.0f images/s  (%d images in %.1f s, scan %.2f s)"
          % (name, m["images_per_s"], m["images"], m["epoch_s"], m["scan_s"]))
print("  warm/cold: %.1fx (the warm epoch is bounded by decoding and cropping every image on this"
      " machine's %d CPUs, the cold one also by fetching from the S3 server, which shares them)"
      % (w["images_per_s"] / c["images_per_s"], os.cpu_count()))
PY

	step "bpfuse stats $mnt"
	"$BPFUSE" stats "$mnt"
	"$PY" - "$s0" "$s1" "$s2" "$IMAGES" <<'PY'
import json, sys
s = [json.loads(a) for a in sys.argv[1:4]]
n = int(sys.argv[4])


def ups(a, b):
    d = {}
    for op, v in b.get("ops", {}).items():
        k = v.get("requests", 0) - a.get("ops", {}).get(op, {}).get("requests", 0)
        if k:
            d[op] = k
    return d


def fmt(d):
    return ", ".join("%s %d" % kv for kv in sorted(d.items(), key=lambda kv: -kv[1])) or "none"


cold, warm = ups(s[0], s[1]), ups(s[1], s[2])


def dd(i, k, sub=None):
    a, b = s[i]["daemon"], s[i + 1]["daemon"]
    for level in ([sub] if isinstance(sub, str) else sub or []):
        a, b = a[level], b[level]
    return b[k] - a[k]


pf = dd(0, "fetched", ["s3", "prefetch"]) if "prefetch" in s[0]["daemon"].get("s3", {}) else 0
print("  cold epoch: %d requests reached bpfuse (%s). Per image: an OPEN, its READs, a RELEASE, and an IOCTL"
      " (Python's isatty check, ENOTTY); the objects came into bpfuse's cache by %d S3 GETs (%.0f MiB), %s."
      % (sum(cold.values()), fmt(cold), dd(0, "get", "s3"), dd(0, "bytes_fetched", "s3") / 2**20,
         ("%d of them by the prefetcher the ImageFolder listing started (profile=dataset), the others at"
          " their OPEN" % pf) if pf else "each at its OPEN"))
lk = warm.get("LOOKUP", 0)
print("  warm epoch: %d requests reached bpfuse (%s), %d READs: %d of %d opens were FUSE passthrough, so the kernel"
      " read the images from bpfuse's cache files itself, and %s; %d S3 GETs."
      % (sum(warm.values()), fmt(warm), warm.get("READ", 0), dd(1, "passthrough_opens"),
         dd(1, "passthrough_opens") + dd(1, "plain_opens"),
         "answered every name lookup from its dentry cache" if lk == 0 else "sent %d of the name lookups on" % lk,
         dd(1, "get", "s3")))
PY

	step "fio: 4K random reads of the ${FIO_SIZE} file, psync QD1, 1 job, ${FIO_RUNTIME} s: bpfuse vs plain FUSE"
	echo "  the same file: s3://$BUCKET/fio/read.dat through bpfuse (read once, so it is in bpfuse's cache),"
	echo "  and its local copy $src/fio/read.dat through libfuse's passthrough_hp --nopassthrough;"
	echo "  fio invalidate=1 drops each mount's page cache of the file before it starts"
	# both files underneath in the page cache (the cold epoch dropped it), so that the two
	# differ only in how the reads get there
	cat "$mnt/fio/read.dat" "$src/fio/read.dat" >/dev/null
	local iops_b iops_p
	local f0 f1
	f0=$(stats_json)
	iops_b=$(fio_iops "$mnt")
	f1=$(stats_json)
	mkdir -p "$plain"
	# in the foreground, so that its pid is the server's: the demo waits for it to exit
	LD_LIBRARY_PATH=$PLAIN_FUSE_LIB "$PLAIN_FUSE" --foreground --nopassthrough "$src" "$plain" \
		>"$demo/plain-fuse.log" 2>&1 &
	plain_pid=$!
	local i=0
	while ! mounted "$plain"; do
		i=$((i + 1))
		if ! kill -0 "$plain_pid" 2>/dev/null || [ $i -ge 100 ]; then
			die "passthrough_hp did not mount $plain: $(tail -n 1 "$demo/plain-fuse.log")"
		fi
		sleep 0.1
	done
	iops_p=$(fio_iops "$plain") || rc=1
	umount "$plain"
	wait "$plain_pid" 2>/dev/null || true
	plain_pid=
	[ $rc = 0 ] || die "fio through plain FUSE failed"
	printf '  %-48s %9s IOPS\n' "bpfuse (s3://$BUCKET, -o profile=dataset)" "$iops_b" \
		"plain FUSE (passthrough_hp --nopassthrough)" "$iops_p"
	echo "  bpfuse / plain FUSE: $(echo "scale=1; $iops_b / $iops_p" | bc)x"
	"$PY" - "$f0" "$f1" <<'PY'
import json, sys
a, b = (json.loads(x) for x in sys.argv[1:3])
n = sum(v.get("requests", 0) for v in b["ops"].values()) - sum(v.get("requests", 0) for v in a["ops"].values())
r = b["ops"].get("READ", {}).get("requests", 0) - a["ops"].get("READ", {}).get("requests", 0)
print("  why: bpfuse opened the file with FUSE passthrough, so the kernel read bpfuse's cache file itself"
      " (%d requests, %d READs, reached bpfuse during its fio run); plain FUSE without passthrough sends"
      " every read that misses its page cache to its daemon. Both files underneath were in the page"
      " cache: the difference is the trip through the daemon" % (n, r))
PY

	step "done in $(elapsed)"
	echo "demo: $mnt is a bpfuse mount of s3://$BUCKET on $S3_ENDPOINT; unmount it and stop the S3 server with:"
	echo "  $0 --stop"
}

case ${1:-} in
"") s3_demo ;;
--stop) stop ;;
--local) local_demo ;;
-h | --help) sed -n '2,15s/^# \{0,1\}//p' "$0" ;;
*) die "unknown argument '$1' (use --local, --stop or --help)" ;;
esac
