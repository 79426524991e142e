#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# dataloader.sh SET CACHE PHASE ROOT - PyTorch DataLoader over one image set.
#   SET:   png  (ROOT/images: $IMAGES 32x32 PNGs; $DL_WORKERS workers, batch $DL_BATCH)
#          jpeg (ROOT/jpeg: $JPEG_IMAGES ~110 KB JPEGs; $JPEG_WORKERS workers,
#                batch $JPEG_BATCH, RandomResizedCrop(224) + ToTensor)
#   CACHE: cold (caches dropped inside dataloader.py, after importing torch)
#          warm (prepare reads every image once through ROOT)
#   PHASE: check | prepare ROOT | run ROOT
#   BENCH_PREPARE_NO_READ=1 (run.sh, on the cold S3 configurations): prepare reads nothing
set -euo pipefail
set=$1 cache=$2 phase=$3 root=${4:-}
here=$(cd "$(dirname "$0")" && pwd)
case $set in
png) dir=images workers=$DL_WORKERS batch=$DL_BATCH crop= ;;
jpeg) dir=jpeg workers=$JPEG_WORKERS batch=$JPEG_BATCH crop=224 ;;
*) echo "dataloader.sh: unknown set '$set'" >&2; exit 2 ;;
esac
case $phase in
check)
	python3 -c 'import torch, torchvision' 2>/dev/null ||
		{ echo "python3-torch/python3-torchvision not installed" >&2; exit 77; }
	[ -d "$DATA_DIR/src/$dir" ] || { echo "no $set image dataset" >&2; exit 77; }
	;;
prepare) [ "$cache" = warm ] && [ "${BENCH_PREPARE_NO_READ:-0}" != 1 ] && find "$root/$dir" -type f -print0 | xargs -0 -r cat >/dev/null; exit 0 ;;
run) python3 "$here/dataloader.py" "$root/$dir" "$workers" "$batch" "$cache" $crop ;;
cleanup) ;;
*) echo "dataloader.sh: unknown phase '$phase'" >&2; exit 2 ;;
esac
