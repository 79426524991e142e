#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""dataloader.py ROOT WORKERS BATCH [DROP [CROP]] - one epoch of a PyTorch
DataLoader over torchvision's ImageFolder at ROOT (its default loader: PIL
open + convert("RGB"), so every image is decoded), shuffled, on the CPU.

Transform: ToTensor; with CROP (the JPEG set, whose images differ in size)
RandomResizedCrop(CROP) first, as an ImageNet training pipeline does.
Timed: the ImageFolder scan (scan_s) and one full epoch (epoch_s).
Primary metric: images per second over the epoch. With DROP=cold the page,
dentry and inode caches are dropped after torch is imported and before the
scan, so importing torch itself stays out of the cold state.
"""
import json
import os
import sys
import time

import torch
import torchvision
from torchvision import transforms


def main():
    root, workers, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    cache = sys.argv[4] if len(sys.argv) > 4 else "warm"
    crop = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    if cache == "cold":
        os.sync()
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
    torch.set_num_threads(1)
    torch.manual_seed(0)
    tf = transforms.ToTensor()
    if crop:
        tf = transforms.Compose([transforms.RandomResizedCrop(crop), tf])
    t0 = time.perf_counter()
    ds = torchvision.datasets.ImageFolder(root, transform=tf)
    t1 = time.perf_counter()
    dl = torch.utils.data.DataLoader(ds, batch_size=batch, shuffle=True, num_workers=workers)
    n = 0
    for x, _ in dl:
        n += x.shape[0]
    t2 = time.perf_counter()
    if n != len(ds):
        sys.exit("dataloader.py: saw %d of %d images" % (n, len(ds)))
    print(json.dumps({"primary": "images_per_s", "unit": "images/s", "higher_is_better": True,
                      "metrics": {"images_per_s": n / (t2 - t1), "epoch_s": t2 - t1,
                                  "scan_s": t1 - t0, "images": n, "files": n,
                                  "workers": workers}}))


if __name__ == "__main__":
    main()
