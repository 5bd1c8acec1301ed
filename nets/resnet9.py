"""ResNet9 classifier as in Balestriero & LeCun's released code (``R9``).

``conv_block`` = 3x3 conv (padding 1) + BatchNorm + ReLU (+ 2x2 max-pool).  Layers:
64 -> 128 (pool) -> residual [128, 128] -> 256 (pool) -> 512 (pool) -> residual [512, 512] ->
1028 (pool; sic) -> residual [1028, 1028] -> global max-pool -> linear.  ``width`` scales all
channel counts (``width = 64`` is the original); pools use ``ceil_mode`` so small images (e.g.
8x8 digits) keep at least one pixel.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["ResNet9", "conv_block"]


MAX_WIDTH = 1024
"""Largest ``width`` of :class:`ResNet9` (8 x width channels in the widest block)."""


def conv_block(cin: int, cout: int, pool: bool = False) -> nn.Sequential:
    """Conv 3x3 + BatchNorm + ReLU (+ 2x2 max-pool); ``cin``, ``cout`` positive integers."""
    for name, v in (("cin", cin), ("cout", cout)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{name} = {v!r}: must be a positive integer")
    layers = [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]
    if pool:
        layers.append(nn.MaxPool2d(2, ceil_mode=True))
    return nn.Sequential(*layers)


class ResNet9(nn.Module):
    """ResNet9 for ``(N, C, H, W)`` images; ``width`` = channels of the first block (64)."""

    def __init__(self, in_channels: int, num_classes: int, width: int = 64):
        super().__init__()
        for name, v in (("in_channels", in_channels), ("num_classes", num_classes),
                        ("width", width)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} = {v!r}: must be a positive integer")
        if width > MAX_WIDTH:
            raise ValueError(f"width = {width}: must be <= {MAX_WIDTH}")
        w1, w2, w3, w4 = width, 2 * width, 4 * width, 8 * width
        w5 = max(1, round(1028 * width / 64))
        self.conv1 = conv_block(in_channels, w1)
        self.conv2 = conv_block(w1, w2, pool=True)
        self.res1 = nn.Sequential(conv_block(w2, w2), conv_block(w2, w2))
        self.conv3 = conv_block(w2, w3, pool=True)
        self.conv4 = conv_block(w3, w4, pool=True)
        self.res2 = nn.Sequential(conv_block(w4, w4), conv_block(w4, w4))
        self.conv5 = conv_block(w4, w5, pool=True)
        self.res3 = nn.Sequential(conv_block(w5, w5), conv_block(w5, w5))
        self.fc = nn.Linear(w5, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv2(self.conv1(x))
        out = self.res1(out) + out
        out = self.conv4(self.conv3(out))
        out = self.res2(out) + out
        out = self.conv5(out)
        out = self.res3(out) + out
        out = torch.amax(out, dim=(2, 3))
        return self.fc(out)
