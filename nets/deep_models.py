r"""Deep image classifiers for the real-data experiments of Yuan et al. (arXiv:2509.22056, §5).

ResNet-34/50/101 and VGG-11/13/16 are built from ``torchvision.models`` building blocks
(``BasicBlock``/``Bottleneck``, ``ResNet._make_layer``, ``vgg.cfgs``), so that at the default
width (64) the parameter names and shapes are exactly those of ``torchvision.models.resnet34``
etc. and torchvision checkpoints load unchanged.  Two options the paper leaves open are
exposed:

* ``stem="cifar"`` (default for images of side <= 64): 3x3 stride-1 first convolution and no
  initial max-pool (ResNet); ceil-mode max-pools and a global-average-pool + linear head (VGG),
  so that 32x32 (CIFAR) and 8x8 (bundled digits) inputs work.  ``stem="imagenet"``: the
  torchvision layout (7x7 stride-2 convolution + max-pool; VGG's 7x7 pool + 3 linear layers).
* ``width``: base channel count (64 = torchvision); stages have ``width * (1, 2, 4, 8)``
  channels.  Small widths give the CPU-sized models of the ``quick`` presets.

The transformers are ``torchvision.models.VisionTransformer`` (ViT/DeiT share the encoder;
DeiT-Base = ViT-B/16 without the distillation token): ``deit_tiny`` (192 wide, 3 heads),
``deit_small`` (384, 6), ``deit_base`` (768, 12), all with 12 blocks, so that the blocks 9-11
of the paper's Figure 4 exist.  ``width`` overrides the hidden size (MLP 4x, heads
``max(1, width // 64)`` unless given).

Pretrained weights are only read from a local file given by the user
(:func:`load_state_dict_file`); nothing is ever downloaded.  Initialisation is seeded
(:func:`build_model` draws with a private generator state; the global RNG is left as it was).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn
from torchvision.models import resnet as tv_resnet
from torchvision.models import vgg as tv_vgg
from torchvision.models.vision_transformer import VisionTransformer

__all__ = [
    "ARCHITECTURES",
    "build_model",
    "load_state_dict_file",
    "timm_vit_to_torchvision",
    "vit_block_prefix",
]

_RESNETS = {
    "resnet34": (tv_resnet.BasicBlock, (3, 4, 6, 3)),
    "resnet50": (tv_resnet.Bottleneck, (3, 4, 6, 3)),
    "resnet101": (tv_resnet.Bottleneck, (3, 4, 23, 3)),
}
_VGGS = {"vgg11": "A", "vgg13": "B", "vgg16": "D"}
_VITS = {"deit_tiny": (192, 3), "deit_small": (384, 6), "deit_base": (768, 12)}
ARCHITECTURES = tuple(_RESNETS) + tuple(_VGGS) + tuple(_VITS)


class CifarResNet(tv_resnet.ResNet):
    """torchvision ``ResNet`` with a base ``width`` and an optional CIFAR stem.

    Uses torchvision's ``_make_layer`` and blocks; module names are torchvision's.
    """

    def __init__(self, block, layers, num_classes: int, width: int = 64, stem: str = "cifar"):
        nn.Module.__init__(self)
        self._norm_layer = nn.BatchNorm2d
        self.inplanes = width
        self.dilation = 1
        self.groups = 1
        self.base_width = 64  # torchvision: Bottleneck inner width = planes * base_width / 64
        if stem == "cifar":
            self.conv1 = nn.Conv2d(3, width, kernel_size=3, stride=1, padding=1, bias=False)
            self.maxpool = nn.Identity()
        else:
            self.conv1 = nn.Conv2d(3, width, kernel_size=7, stride=2, padding=3, bias=False)
            self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = self._make_layer(block, width, layers[0])
        self.layer2 = self._make_layer(block, 2 * width, layers[1], stride=2)
        self.layer3 = self._make_layer(block, 4 * width, layers[2], stride=2)
        self.layer4 = self._make_layer(block, 8 * width, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(8 * width * block.expansion, num_classes)
        for m in self.modules():  # torchvision's initialisation
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)


def _vgg(cfg_key: str, num_classes: int, width: int, stem: str, batch_norm: bool) -> nn.Module:
    cfg = [v if v == "M" else v * width // 64 for v in tv_vgg.cfgs[cfg_key]]
    features = tv_vgg.make_layers(cfg, batch_norm=batch_norm)
    if stem == "imagenet":
        return tv_vgg.VGG(features, num_classes=num_classes, init_weights=True)
    for i, mod in enumerate(features):
        if isinstance(mod, nn.MaxPool2d):  # ceil mode: any input side >= 1 survives 5 pools
            features[i] = nn.MaxPool2d(kernel_size=2, stride=2, ceil_mode=True)
    return CifarVGG(features, 8 * width, num_classes)


class CifarVGG(nn.Module):
    """torchvision VGG features + global average pool + one linear layer (CIFAR head).

    Same ``features.<k>`` names and initialisation as ``torchvision.models.VGG`` (without
    allocating its 7x7x512x4096 ImageNet classifier).
    """

    def __init__(self, features: nn.Sequential, channels: int, num_classes: int):
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.classifier = nn.Linear(channels, num_classes)
        for m in self.modules():  # torchvision VGG's initialisation
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.constant_(m.bias, 0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


def _vit(arch: str, num_classes: int, width: int | None, image_size: int, patch_size: int | None,
         num_heads: int | None, num_layers: int) -> nn.Module:
    hidden, heads = _VITS[arch]
    if width is not None:
        hidden = width
        heads = max(1, width // 64)
    if num_heads is not None:
        heads = num_heads
    if hidden % heads:
        raise ValueError(f"width = {hidden}: must be divisible by num_heads = {heads}")
    if patch_size is None:
        patch_size = 16 if image_size >= 224 else max(1, image_size // 8)
    if image_size % patch_size:
        raise ValueError(f"patch_size = {patch_size}: must divide image_size = {image_size}")
    return VisionTransformer(image_size=image_size, patch_size=patch_size, num_layers=num_layers,
                             num_heads=heads, hidden_dim=hidden, mlp_dim=4 * hidden,
                             num_classes=num_classes)


def _check_int(name: str, value, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{name} = {value!r}: must be an integer >= {low}")
    return value


def build_model(
    arch: str,
    num_classes: int,
    *,
    width: int | None = None,
    stem: str | None = None,
    image_size: int = 32,
    seed: int = 0,
    batch_norm: bool = True,
    patch_size: int | None = None,
    num_heads: int | None = None,
    num_layers: int = 12,
) -> nn.Module:
    """Build a freshly initialised classifier (seeded, float32, CPU).

    Parameters
    ----------
    arch : str
        One of :data:`ARCHITECTURES`.
    num_classes : int
        Size of the output layer (the classes of the task).
    width : int, optional
        Base channel count (CNNs, default 64 = torchvision) or hidden size (ViT; default by
        architecture).
    stem : {"cifar", "imagenet"}, optional
        Default ``"cifar"`` when ``image_size <= 64``.  Ignored for ViTs.
    image_size : int
        Side of the square input images (ViT: patch grid; CNNs: only the default stem).
    seed : int
        Seed of the initial draw (a private RNG state; the global state is restored).
    batch_norm : bool
        VGG with batch normalisation (``vgg16_bn`` layout; default) or without.
    patch_size, num_heads, num_layers : int, optional
        ViT only.  ``patch_size`` default ``16`` for images >= 224, else ``image_size // 8``.

    Raises
    ------
    ValueError
        Unknown ``arch``/``stem`` or non-positive sizes, naming the field.
    """
    if arch not in ARCHITECTURES:
        raise ValueError(f"arch = {arch!r}: unknown architecture; choose from {ARCHITECTURES}")
    _check_int("num_classes", num_classes, 1)
    _check_int("image_size", image_size, 1)
    _check_int("seed", seed, 0)
    if width is not None:
        _check_int("width", width, 1)
    stem = ("cifar" if image_size <= 64 else "imagenet") if stem is None else stem
    if stem not in ("cifar", "imagenet"):
        raise ValueError(f"stem = {stem!r}: must be 'cifar' or 'imagenet'")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if arch in _RESNETS:
            block, layers = _RESNETS[arch]
            return CifarResNet(block, layers, num_classes, width or 64, stem)
        if arch in _VGGS:
            w = width or 64
            if w * 8 % 64:
                raise ValueError(f"width = {w}: VGG widths must be multiples of 8")
            return _vgg(_VGGS[arch], num_classes, w, stem, batch_norm)
        _check_int("num_layers", num_layers, 1)
        return _vit(arch, num_classes, width, image_size, patch_size, num_heads, num_layers)


def vit_block_prefix(block: int) -> str:
    """Parameter-name prefix of encoder block ``block`` (0-based) of a torchvision ViT."""
    return f"encoder.layers.encoder_layer_{block}."


def load_state_dict_file(path: str | Path) -> dict[str, torch.Tensor]:
    """Read a state dict from a local ``.pt``/``.pth`` file (never downloads).

    Accepts a plain state dict or a checkpoint with a ``"state_dict"``/``"model"`` entry;
    a ``"module."`` prefix (DataParallel) is stripped; timm-style ViT/DeiT keys are renamed to
    torchvision's (:func:`timm_vit_to_torchvision`).

    Raises
    ------
    ValueError
        If the file does not exist or holds no tensors.
    """
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"upstream_weights = {str(p)!r}: file not found (weights are only "
                         "read from a local file, never downloaded)")
    obj = torch.load(p, map_location="cpu", weights_only=True)
    for key in ("state_dict", "model"):
        if isinstance(obj, Mapping) and isinstance(obj.get(key), Mapping):
            obj = obj[key]
    if not isinstance(obj, Mapping) or not any(torch.is_tensor(v) for v in obj.values()):
        raise ValueError(f"upstream_weights = {str(p)!r}: holds no state dict of tensors")
    sd = {k.removeprefix("module."): v for k, v in obj.items() if torch.is_tensor(v)}
    if any(k.startswith("blocks.") for k in sd):
        sd = timm_vit_to_torchvision(sd)
    return sd


_TIMM_BLOCK = {
    "norm1.": "ln_1.", "norm2.": "ln_2.", "attn.qkv.weight": "self_attention.in_proj_weight",
    "attn.qkv.bias": "self_attention.in_proj_bias", "attn.proj.": "self_attention.out_proj.",
    "mlp.fc1.": "mlp.0.", "mlp.fc2.": "mlp.3.",
}
_TIMM_TOP = {
    "cls_token": "class_token", "pos_embed": "encoder.pos_embedding",
    "patch_embed.proj.": "conv_proj.", "norm.": "encoder.ln.", "head.": "heads.head.",
}


def timm_vit_to_torchvision(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Rename timm ViT/DeiT keys (``blocks.9.attn.qkv.weight``) to torchvision's.

    Shapes are unchanged (timm's fused ``qkv`` is torchvision's ``in_proj`` in the same q, k, v
    order).  Keys without a counterpart (e.g. DeiT's ``dist_token``, ``head_dist``) are kept
    under their own name, so they are reported as unmatched by the transfer.
    """
    out = {}
    for key, val in state.items():
        new = key
        if key.startswith("blocks."):
            _, idx, rest = key.split(".", 2)
            for a, b in _TIMM_BLOCK.items():
                if rest.startswith(a):
                    rest = b + rest[len(a):]
                    break
            new = vit_block_prefix(int(idx)) + rest
        else:
            for a, b in _TIMM_TOP.items():
                if key == a or (a.endswith(".") and key.startswith(a)):
                    new = b + key[len(a):] if a.endswith(".") else b
                    break
        out[new] = val
    return out


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameter entries."""
    return int(sum(math.prod(p.shape) for p in model.parameters() if p.requires_grad))
