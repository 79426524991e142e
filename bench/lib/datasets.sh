# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Generated datasets, made once under $BENCH_DATA/<mode>/ and reused by later
# runs (never inside the repository). A stamp file per dataset records the
# parameters it was made with; a change of parameters remakes it.
#
#	$DATA_DIR/src/		the directory every configuration mounts (or is, for native)
#	  fio/read.dat		$FIO_SIZE of random bytes for the read jobs
#	  fio/write.dat		$FIO_SIZE laid out for the random-write job
#	  stat/dNNN/fNNNNN	$STAT_FILES small files, 1,000 per directory
#	  ls/eNNNNN		$LS_FILES empty files in one directory
#	  images/class_K/	$IMAGES 32x32 RGB PNGs in $IMAGE_CLASSES classes
#	  jpeg/cNNN/		$JPEG_IMAGES ImageNet-like JPEGs (~110 KB, 350-550 x 280-450
#				pixels) in $JPEG_CLASSES classes: hard links into $JPEG_CACHE
#	  scratch/		where write workloads create and remove files
#	$DATA_DIR/stat.list	the stat files' paths relative to src/
#	$DATA_DIR/jpeg.list	the JPEGs' paths relative to src/jpeg (the read loop's index)
#	$DATA_DIR/untar.tar	an uncompressed tarball, read from outside the mount
#	$DATA_DIR/untar.entries	its number of entries
#
#	$JPEG_CACHE/jpeg-N-C-v1/	the JPEG set itself, made once per machine (slow:
#				~10 ms of CPU per image) and kept across runs and modes;
#				default /var/cache/bpfuse/bench-data (BENCH_JPEG_CACHE)
#
# Needs: DATA_DIR FIO_SIZE STAT_FILES LS_FILES IMAGES IMAGE_CLASSES UNTAR_SOURCE
#	 JPEG_IMAGES JPEG_CLASSES
JPEG_CACHE=${BENCH_JPEG_CACHE:-/var/cache/bpfuse/bench-data}

_ds_stamp() { echo "$DATA_DIR/.stamp-$1"; }

# _ds_fresh NAME PARAMS: true if NAME was already made with PARAMS
_ds_fresh() { [ -f "$(_ds_stamp "$1")" ] && [ "$(cat "$(_ds_stamp "$1")")" = "$2" ]; }
_ds_done() { echo "$2" >"$(_ds_stamp "$1")"; }

ds_fio() {
	local p="size=$FIO_SIZE"
	_ds_fresh fio "$p" && return 0
	bench_log "dataset: fio files, $FIO_SIZE each"
	mkdir -p "$DATA_DIR/src/fio"
	rm -f "$DATA_DIR/src/fio/"*.dat
	fio --name=layout --filename="$DATA_DIR/src/fio/read.dat" --size="$FIO_SIZE" --rw=write \
		--bs=1M --refill_buffers --end_fsync=1 --output=/dev/null || return 1
	fio --name=layout --filename="$DATA_DIR/src/fio/write.dat" --size="$FIO_SIZE" --rw=write \
		--bs=1M --refill_buffers --end_fsync=1 --output=/dev/null || return 1
	_ds_done fio "$p"
}

ds_stat() {
	local p="files=$STAT_FILES"
	_ds_fresh stat "$p" && return 0
	bench_log "dataset: $STAT_FILES files for stat"
	rm -rf "$DATA_DIR/src/stat"
	python3 - "$DATA_DIR/src" "$STAT_FILES" "$DATA_DIR/stat.list" <<'PY' || return 1
import os, sys
src, n, listfile = sys.argv[1], int(sys.argv[2]), sys.argv[3]
paths = []
for i in range(n):
    d = os.path.join("stat", "d%03d" % (i // 1000))
    if i % 1000 == 0:
        os.makedirs(os.path.join(src, d), exist_ok=True)
    rel = os.path.join(d, "f%05d" % i)
    with open(os.path.join(src, rel), "w") as f:
        f.write("%d\n" % i)
    paths.append(rel)
with open(listfile, "w") as f:
    f.write("\n".join(paths) + "\n")
PY
	_ds_done stat "$p"
}

ds_ls() {
	local p="files=$LS_FILES"
	_ds_fresh ls "$p" && return 0
	bench_log "dataset: $LS_FILES directory entries for ls -l"
	rm -rf "$DATA_DIR/src/ls"
	mkdir -p "$DATA_DIR/src/ls"
	(cd "$DATA_DIR/src/ls" && seq -f 'e%05g' 0 $((LS_FILES - 1)) | xargs touch) || return 1
	_ds_done ls "$p"
}

ds_images() {
	local p="images=$IMAGES,classes=$IMAGE_CLASSES,size=32x32,png"
	_ds_fresh images "$p" && return 0
	python3 -c 'import PIL' 2>/dev/null || { bench_log "dataset: python3-pil missing, no images"; return 1; }
	bench_log "dataset: $IMAGES 32x32 PNG images in $IMAGE_CLASSES classes"
	rm -rf "$DATA_DIR/src/images"
	python3 - "$DATA_DIR/src/images" "$IMAGES" "$IMAGE_CLASSES" <<'PY' || return 1
import os, random, sys
from PIL import Image
root, n, classes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(5)
for c in range(classes):
    os.makedirs(os.path.join(root, "class_%d" % c), exist_ok=True)
for i in range(n):
    c = i % classes
    # a noisy image tinted by class: PNG cannot squeeze it to nothing (~3 KB)
    base = (c * 25 % 256, c * 70 % 256, c * 110 % 256)
    px = bytes(min(255, base[k % 3] + rng.randrange(64)) for k in range(32 * 32 * 3))
    Image.frombytes("RGB", (32, 32), px).save(os.path.join(root, "class_%d" % c, "img_%05d.png" % i))
PY
	_ds_done images "$p"
}

# ds_jpeg: $DATA_DIR/src/jpeg, hard links to (or, on another file system, a
# copy of) the JPEG set in $JPEG_CACHE, generated there first if need be by
# lib/make_jpegs.py (deterministic, ~110 KB on average, like ImageNet's
# training set). $DATA_DIR/jpeg.info holds the count and the mean size.
ds_jpeg() {
	local p="jpeg=$JPEG_IMAGES,classes=$JPEG_CLASSES,v1" set
	set=$JPEG_CACHE/jpeg-$JPEG_IMAGES-$JPEG_CLASSES-v1
	_ds_fresh jpeg "$p" && [ -d "$DATA_DIR/src/jpeg" ] && [ -s "$DATA_DIR/jpeg.list" ] && return 0
	python3 -c 'import PIL, numpy' 2>/dev/null || { bench_log "dataset: python3-pil or python3-numpy missing, no JPEGs"; return 1; }
	if [ ! -f "$set/.complete" ]; then
		bench_log "dataset: $JPEG_IMAGES JPEGs in $JPEG_CLASSES classes into $set (once per machine; ~10 ms of CPU per image)"
		mkdir -p "$JPEG_CACHE" && rm -rf "$set.tmp" || return 1
		python3 "$here/lib/make_jpegs.py" "$set.tmp" "$JPEG_IMAGES" "$JPEG_CLASSES" \
			--info "$set.tmp/.info" >/dev/null || return 1
		mv "$set.tmp" "$set" && touch "$set/.complete" || return 1
	fi
	rm -rf "$DATA_DIR/src/jpeg"
	mkdir -p "$DATA_DIR/src/jpeg"
	# hard links: the set is made once and every mode's src/ shares it
	# (a copy if $JPEG_CACHE is on another file system)
	(cd "$set" && cp -al c[0-9]* "$DATA_DIR/src/jpeg/" 2>/dev/null) || {
		rm -rf "$DATA_DIR/src/jpeg" && mkdir "$DATA_DIR/src/jpeg" &&
			(cd "$set" && cp -a c[0-9]* "$DATA_DIR/src/jpeg/")
	} || return 1
	cp "$set/.info" "$DATA_DIR/jpeg.info"
	# the dataset's index for the read loop: paths relative to jpeg/, sorted
	(cd "$DATA_DIR/src/jpeg" && find . -type f -name '*.jpg' | sed 's|^\./||' | sort) >"$DATA_DIR/jpeg.list" || return 1
	_ds_done jpeg "$p"
}

# ds_untar: $DATA_DIR/untar.tar from $UNTAR_SOURCE ("linux" = the Debian
# linux-source tarball, decompressed once so the workload times the file
# system rather than xz; "small" = a generated tree). Returns 77 if absent.
ds_untar() {
	local p="source=$UNTAR_SOURCE" t
	# untar.entries: how many inodes the extracted tree has (run.sh's fd_plan)
	if _ds_fresh untar "$p"; then
		[ -s "$DATA_DIR/untar.entries" ] || tar -tf "$DATA_DIR/untar.tar" | wc -l >"$DATA_DIR/untar.entries"
		return 0
	fi
	rm -f "$DATA_DIR/untar.tar" "$DATA_DIR/untar.entries"
	case $UNTAR_SOURCE in
	linux)
		t=$(ls /usr/src/linux-source-*.tar.xz 2>/dev/null | sort -V | tail -1)
		[ -n "$t" ] || { bench_log "dataset: no /usr/src/linux-source-*.tar.xz (Debian linux-source-6.12)"; return 77; }
		bench_log "dataset: decompressing $t (once)"
		xz -dc "$t" >"$DATA_DIR/untar.tar.tmp" || return 1
		mv "$DATA_DIR/untar.tar.tmp" "$DATA_DIR/untar.tar"
		basename "$t" >"$DATA_DIR/untar.name"
		;;
	small)
		bench_log "dataset: small generated tarball"
		rm -rf "$DATA_DIR/small-tree"
		python3 - "$DATA_DIR/small-tree" <<'PY' || return 1
import os, random, sys
root = sys.argv[1]
rng = random.Random(7)
for i in range(600):
    d = os.path.join(root, "dir%02d" % (i % 20), "sub%d" % (i % 3))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "file%04d.c" % i), "wb") as f:
        f.write(os.urandom(rng.randrange(100, 20000)))
PY
		tar -cf "$DATA_DIR/untar.tar" -C "$DATA_DIR" small-tree || return 1
		rm -rf "$DATA_DIR/small-tree"
		echo "generated: 600 files, 20 directories" >"$DATA_DIR/untar.name"
		;;
	esac
	tar -tf "$DATA_DIR/untar.tar" | wc -l >"$DATA_DIR/untar.entries" || return 1
	_ds_done untar "$p"
}
