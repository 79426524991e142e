#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# dataloader.sh CACHE PHASE ROOT - PyTorch DataLoader over ROOT/images.
#   CACHE: cold (caches dropped inside dataloader.py, after importing torch)
#          warm (prepare reads every image once through ROOT)
#   PHASE: check | prepare ROOT | run ROOT
#   BENCH_PREPARE_NO_READ=1 (run.sh, on s3-cold): prepare reads nothing
# $DL_WORKERS worker processes, batches of $DL_BATCH.
set -euo pipefail
cache=$1 phase=$2 root=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
case $phase in
check)
	python3 -c 'import torch, torchvision' 2>/dev/null ||
		{ echo "python3-torch/python3-torchvision not installed" >&2; exit 77; }
	[ -d "$DATA_DIR/src/images" ] || { echo "no image dataset" >&2; exit 77; }
	;;
prepare) [ "$cache" = warm ] && [ "${BENCH_PREPARE_NO_READ:-0}" != 1 ] && find "$root/images" -type f -print0 | xargs -0 -r cat >/dev/null; exit 0 ;;
run) python3 "$here/dataloader.py" "$root/images" "$DL_WORKERS" "$DL_BATCH" "$cache" ;;
*) echo "dataloader.sh: unknown phase '$phase'" >&2; exit 2 ;;
esac
