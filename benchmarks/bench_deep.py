"""Training throughput (images/s) of ``nets.deep_train`` against a plain torchvision loop.

Usage::

    PYTHONPATH=. python benchmarks/bench_deep.py [--quick] [--arch resnet34] [--width 16]

(``PYTHONPATH=.`` only when the package is not installed from this checkout.)

Both loops train the same model (``nets.deep_models.build_model``: torchvision blocks, CIFAR
stem) on the same random 3 x size x size images, in the same run:

* ``ours``: :func:`nets.deep_train.train_classifier` (per-epoch seeded permutation, finite
  loss check, cosine schedule; bfloat16 autocast and channels-last on CUDA);
* ``plain``: ``torch.utils.data.DataLoader(TensorDataset)`` + SGD + cross-entropy, float32,
  nothing else (what a minimal torchvision training script does).

Prints images/s of each and ``ours/plain`` (> 1: ours faster).  On CPU the two should be
close (the goal: ours/plain >= 0.9, i.e. the bookkeeping costs < 10%); on a GPU the mixed
precision and channels-last paths should make ours faster.  Runs on CUDA too when present.
Timings are the best of ``--repeat`` epochs after one warm-up epoch.
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
import torch
from torch import nn

from nets.deep_models import build_model
from nets.deep_train import TrainConfig, train_classifier


def _plain_epoch(model, loader, opt, device):
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    for xb, yb in loader:
        xb, yb = xb.to(device, non_blocking=True), yb.to(device, non_blocking=True)
        opt.zero_grad(set_to_none=True)
        loss_fn(model(xb), yb).backward()
        opt.step()
    if device.type == "cuda":
        torch.cuda.synchronize()


def bench(device: str, arch: str, width: int, size: int, n: int, batch: int, repeat: int):
    dev = torch.device(device)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 3, size, size)).astype(np.float32)
    y = rng.integers(0, 10, n)
    steps = n // batch
    # plain torchvision loop
    model = build_model(arch, 10, width=width, image_size=size, seed=0).to(dev)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)),
        batch_size=batch, shuffle=True, drop_last=True, pin_memory=dev.type == "cuda")
    _plain_epoch(model, loader, opt, dev)  # warm-up
    plain = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        _plain_epoch(model, loader, opt, dev)
        plain = min(plain, time.perf_counter() - t0)
    # ours: one epoch per call, checkpoint-free, so each call times one epoch
    model = build_model(arch, 10, width=width, image_size=size, seed=0)
    cfg = TrainConfig(epochs=1, batch_size=batch, lr=0.01, device=device, progress=False)
    train_classifier(model, x, y, cfg)  # warm-up
    ours = np.inf
    for _ in range(repeat):
        res = train_classifier(model, x, y, cfg)
        ours = min(ours, res.seconds)
    imgs = steps * batch
    return {"device": device, "arch": arch, "width": width, "size": size,
            "plain_img_s": imgs / plain, "ours_img_s": imgs / ours, "ratio": plain / ours}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small model and data (~1 min)")
    p.add_argument("--arch", default="resnet34")
    p.add_argument("--width", type=int, default=None)
    p.add_argument("--size", type=int, default=32)
    p.add_argument("--n", type=int, default=None, help="images per epoch")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--repeat", type=int, default=3)
    a = p.parse_args(argv)
    width = a.width or (8 if a.quick else 16)
    n = a.n or (256 if a.quick else 1024)
    print(f"torch {torch.__version__}, {platform.processor() or platform.machine()}, "
          f"{torch.get_num_threads()} threads")
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for dev in devices:
        w = width if dev == "cpu" else (a.width or 64)
        nn_ = n if dev == "cpu" else max(n, 8192)
        r = bench(dev, a.arch, w, a.size, nn_, a.batch if dev == "cpu" else 256, a.repeat)
        print(f"{r['device']:>5} {r['arch']} width {r['width']} {r['size']}x{r['size']}: "
              f"plain {r['plain_img_s']:8.0f} img/s, ours {r['ours_img_s']:8.0f} img/s, "
              f"ours/plain {r['ratio']:.2f}")
    if not torch.cuda.is_available():
        print("no CUDA device: GPU throughput not measured")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
