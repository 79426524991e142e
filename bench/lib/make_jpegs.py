#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""make_jpegs.py ROOT N CLASSES [--procs P] [--info FILE] - an ImageNet-like JPEG set.

ROOT/cNNN/img_NNNNNN.jpg, N images in CLASSES classes.  Deterministic: image i comes
from its own seed (1000003 + i), whatever the number of generator processes.  Noise
over a smooth per-class pattern, so JPEG (quality 90) cannot squeeze it much: ~110 KB on
average, like ImageNet's training set.  Prints one summary line (also written to FILE
with --info).  Used by bench/lib/datasets.sh (ds_jpeg) and scripts/demo.sh.
"""
import argparse
import multiprocessing
import os

import numpy as np
from PIL import Image


def make(args):
    root, classes, i = args
    rng = np.random.default_rng(1000003 + i)
    c = i % classes
    w, h = int(rng.integers(350, 551)), int(rng.integers(280, 451))
    base = np.array([(c * 37) % 256, (c * 91) % 256, (c * 53) % 256], np.float32)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    img = base + 60 * np.sin(xx[..., None] / (20 + c % 17) + np.arange(3)) * np.cos(yy[..., None] / (15 + c % 13))
    img += rng.normal(0, rng.uniform(22, 66), (h, w, 3)).astype(np.float32)
    path = os.path.join(root, "c%03d" % c, "img_%06d.jpg" % i)
    Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB").save(path, "JPEG", quality=90)
    return os.path.getsize(path)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("root")
    p.add_argument("n", type=int)
    p.add_argument("classes", type=int)
    p.add_argument("--procs", type=int, default=os.cpu_count())
    p.add_argument("--info")
    a = p.parse_args()
    for c in range(a.classes):
        os.makedirs(os.path.join(a.root, "c%03d" % c), exist_ok=True)
    with multiprocessing.Pool(a.procs) as pool:
        sizes = pool.map(make, [(a.root, a.classes, i) for i in range(a.n)], chunksize=64)
    line = "%d JPEGs in %d classes, mean %.1f KB, total %.0f MiB" % (
        a.n, a.classes, sum(sizes) / a.n / 1024, sum(sizes) / 2**20)
    if a.info:
        with open(a.info, "w") as f:
            f.write(line + "\n")
    print(line)


if __name__ == "__main__":
    main()
