r"""Partial parameter transfer between deep networks (Yuan et al., arXiv:2509.22056, §5).

Algorithm 1 of Yuan et al. initialises the downstream model with an ``alpha``-proportion of
the upstream parameters and the rest fresh; for the two-layer CNN the unit of inheritance is
a filter (:func:`nets.transfer_filters`).  For deep networks the paper does not say how the
proportion is sampled; this module implements, for every tensor that upstream and downstream
share by (matched) name and shape:

* ``mode="filter"`` (default): a uniformly random set of ``floor(alpha C)`` of the ``C``
  output units (dim 0: conv filters, linear rows, norm channels) is copied.  All tensors of a
  module (``weight``, ``bias``, BatchNorm running statistics) share one draw, and a
  BatchNorm layer that directly follows a convolution/linear layer with the same number of
  channels shares that layer's draw, so that an inherited filter keeps its BatchNorm scale
  and statistics (LayerNorms of pre-norm transformers draw on their own).  Each module draws
  independently.
* ``mode="entry"``: each entry is copied independently with probability ``alpha``
  (Bernoulli mask; tensors of one module with the same shape share the mask).

Matching (which upstream tensor feeds a downstream tensor):

1. ``mapping``: user pairs ``(downstream prefix, upstream prefix)``; the longest matching
   downstream prefix is rewritten (e.g. ``("layer3.5.", "layer3.22.")``).
2. VGG -> VGG (both modules): convolution ``j`` of stage ``s`` (stages separated by
   max-pools) and its BatchNorm feed convolution ``j`` of stage ``s`` downstream
   (``align="first"``; ``"last"`` counts from the end of the stage), since the ``features.<k>``
   indices of VGG-16 and VGG-11 do not correspond.
3. Otherwise the same name.  Between ResNets of different depth (ResNet-101 -> 34) torchvision
   names blocks ``layer<s>.<i>``, so the same name matches the stem (``conv1``, ``bn1``) and
   the *first* ``min(n_down, n_up)`` blocks of each stage (``align="first"``, default);
   ``align="last"`` pairs downstream block ``i`` of a stage with upstream block
   ``n_up - n_down + i`` (the last blocks).  Within a block only tensors of equal shape are
   copied: for Bottleneck -> BasicBlock these are ``conv2``/``bn2`` (3x3, same width).
4. ``include`` / ``exclude``: name prefixes restricting the eligible downstream tensors (for
   transformers: the chosen blocks, :func:`vit_blocks`).

Tensors that differ in shape (e.g. the classification heads of tasks with different class
counts) or that are absent upstream are skipped and listed in the report with the reason.
A BatchNorm layer that follows a convolution which was not transferred is not transferred
either (its scale and statistics belong to the fresh filters).  ``num_batches_tracked``
counters are never copied.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

__all__ = ["TransferReport", "transfer_parameters", "vit_blocks"]

_BATCHNORMS = (nn.BatchNorm1d, nn.BatchNorm2d)
_BLOCK = re.compile(r"^(layer\d+)\.(\d+)\.(.*)$")


@dataclass(frozen=True, eq=False)
class TransferReport:
    """Exactly which tensors were transferred, and how much of each.

    Attributes
    ----------
    transferred : tuple of dict
        One per copied tensor: ``name`` (downstream), ``source`` (upstream), ``shape``,
        ``kind`` (``"parameter"``/``"buffer"``), ``n_copied``, ``n_entries``.
    skipped : tuple of dict
        ``name``, ``reason`` (``"excluded"``, ``"absent upstream"``, ``"shape ..."``,
        ``"counter"``) for every downstream tensor not transferred.
    masks : dict of str to bool tensor
        Full-shape mask of the copied entries of every transferred tensor.
    alpha, mode : float, str
    """

    transferred: tuple
    skipped: tuple
    masks: dict = field(repr=False)
    alpha: float
    mode: str

    @property
    def names(self) -> list[str]:
        """Downstream names of the transferred tensors."""
        return [r["name"] for r in self.transferred]

    def fraction(self, kind: str = "parameter", of: str = "shared") -> float:
        """Copied entries over the entries of the shared tensors (``of="shared"``)."""
        rows = [r for r in self.transferred if r["kind"] == kind]
        tot = sum(r["n_entries"] for r in rows)
        return sum(r["n_copied"] for r in rows) / tot if tot else 0.0

    def to_frame(self):
        """Tidy table: one row per downstream tensor (transferred or skipped)."""
        import pandas as pd

        rows = [{**r, "shape": "x".join(map(str, r["shape"])), "transferred": True}
                for r in self.transferred]
        rows += [{**r, "transferred": False} for r in self.skipped]
        return pd.DataFrame(rows)

    def summary(self) -> dict[str, Any]:
        return {"n_tensors_transferred": len(self.transferred),
                "n_tensors_skipped": len(self.skipped),
                "fraction_of_shared_params": self.fraction("parameter"),
                "n_params_copied": sum(r["n_copied"] for r in self.transferred
                                       if r["kind"] == "parameter")}


def vit_blocks(blocks, num_layers: int) -> tuple[str, ...]:
    """Name prefixes of torchvision-ViT encoder blocks (negative indices count from the end).

    ``vit_blocks((9, 10, 11), 12)`` are DeiT-Base's blocks 9-11 (0-based), Figure 4 of
    Yuan et al.
    """
    out = []
    for b in blocks:
        i = b + num_layers if b < 0 else b
        if not 0 <= i < num_layers:
            raise ValueError(f"blocks: block {b} does not exist in a {num_layers}-block ViT")
        out.append(f"encoder.layers.encoder_layer_{i}.")
    return tuple(out)


def _stage_sizes(names) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for n in names:
        m = _BLOCK.match(n)
        if m:
            sizes[m.group(1)] = max(sizes.get(m.group(1), 0), int(m.group(2)) + 1)
    return sizes


def _vgg_units(model: nn.Module) -> dict[str, tuple[int, int]]:
    """VGG ``features.<k>`` prefix -> (stage, position of the conv in the stage)."""
    out, stage, pos = {}, 0, 0
    for k, mod in enumerate(model.features):
        if isinstance(mod, nn.MaxPool2d):
            stage, pos = stage + 1, 0
        elif isinstance(mod, nn.Conv2d):
            out[f"features.{k}."] = (stage, pos)
            pos += 1
        elif isinstance(mod, _BATCHNORMS):
            out[f"features.{k}."] = (stage, pos - 1, "norm")
    return out


def _vgg_mapping(up, down, align: str) -> dict[str, str]:
    """Prefix map between VGGs of different depth: conv ``j`` of stage ``s`` (and its norm)
    to conv ``j`` of stage ``s`` upstream (``align="last"``: counted from the stage's end)."""
    if not all(isinstance(getattr(m, "features", None), nn.Sequential) for m in (up, down)):
        return {}
    u, d = _vgg_units(up), _vgg_units(down)
    count_u, count_d = {}, {}
    for units, count in ((u, count_u), (d, count_d)):
        for key in units.values():
            count[key[0]] = max(count.get(key[0], 0), key[1] + 1)
    inv = {v: k for k, v in u.items()}
    out = {}
    for prefix, key in d.items():
        stage, j = key[0], key[1]
        if align == "last" and stage in count_u:
            j = count_u[stage] - count_d[stage] + j
        src = inv.get((stage, j, *key[2:]))
        if src is not None:
            out[prefix] = src
    return out


def _source_name(name, mapping, align, up_sizes, down_sizes) -> str:
    best = max((p for p in mapping if name.startswith(p)), key=len, default=None)
    if best is not None:
        return mapping[best] + name[len(best):]
    m = _BLOCK.match(name)
    if align == "last" and m and m.group(1) in up_sizes:
        i = up_sizes[m.group(1)] - down_sizes[m.group(1)] + int(m.group(2))
        return f"{m.group(1)}.{i}.{m.group(3)}"
    return name


def _groups(model: nn.Module) -> dict[str, str]:
    """Module prefix -> mask group (a norm right after a conv/linear of equal width joins it)."""
    out, last = {}, None
    for name, mod in model.named_modules():
        out[name] = name
        if isinstance(mod, (nn.Conv2d, nn.Linear)):
            last = (name, mod.weight.shape[0])
        elif isinstance(mod, _BATCHNORMS) and last is not None:
            if mod.num_features == last[1]:
                out[name] = last[0]
            last = None
    return out


def _check(alpha, mode, align, mapping, include, exclude):
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 <= alpha <= 1:
        raise ValueError(f"alpha = {alpha!r}: transferred proportion must lie in [0, 1]")
    if mode not in ("filter", "entry"):
        raise ValueError(f"mode = {mode!r}: must be 'filter' or 'entry'")
    if align not in ("first", "last"):
        raise ValueError(f"align = {align!r}: must be 'first' or 'last'")
    mapping = dict(mapping or {})
    for k, v in mapping.items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise ValueError(f"mapping: {k!r} -> {v!r}: prefixes must be strings")
    for nm, pre in (("include", include), ("exclude", exclude)):
        if isinstance(pre, str) or not all(isinstance(p, str) for p in pre):
            raise ValueError(f"{nm} = {pre!r}: must be a tuple of name prefixes")
    return mapping


@torch.no_grad()
def transfer_parameters(
    upstream: nn.Module | dict,
    downstream: nn.Module,
    alpha: float,
    *,
    mode: str = "filter",
    include: tuple[str, ...] = (),
    exclude: tuple[str, ...] = (),
    mapping: dict[str, str] | None = None,
    align: str = "first",
    buffers: bool = True,
    seed: int = 0,
) -> TransferReport:
    r"""Copy an ``alpha``-proportion of the shared upstream tensors into ``downstream``.

    ``downstream`` is modified in place and must hold its fresh initialisation; entries not
    selected keep it (Algorithm 1 of Yuan et al.: inherited units take the upstream weights,
    the rest stay at their random initialisation).  With ``alpha = 0`` nothing changes
    (Algorithm 2, training from scratch).

    Parameters
    ----------
    upstream : nn.Module or state dict
    downstream : nn.Module
    alpha : float in [0, 1]
    mode : {"filter", "entry"}
        Unit of inheritance (module docstring).
    include, exclude : tuple of str
        Name prefixes of eligible / excluded downstream tensors (``include=()``: all).
    mapping : dict, optional
        ``{downstream prefix: upstream prefix}`` overriding the name matching.
    align : {"first", "last"}
        Block alignment between ResNet stages of different depth.
    buffers : bool
        Also copy buffers (BatchNorm running mean/var) with the same masks.
    seed : int
        Seed of the random selection.

    Returns
    -------
    TransferReport

    Raises
    ------
    ValueError
        Bad ``alpha``/``mode``/``align``; or no tensor is shared (``the models share no
        tensor``), naming the two models.
    """
    mapping = _check(alpha, mode, align, mapping, include, exclude)
    if isinstance(upstream, nn.Module):
        mapping = {**_vgg_mapping(upstream, downstream, align), **mapping}
    up = upstream.state_dict() if isinstance(upstream, nn.Module) else dict(upstream)
    params = dict(downstream.named_parameters())
    targets = dict(params)
    if buffers:
        targets.update(dict(downstream.named_buffers()))
    up_sizes, down_sizes = _stage_sizes(up), _stage_sizes(targets)
    groups = _groups(downstream)
    gen = torch.Generator().manual_seed(int(seed))
    masks_by_group: dict = {}
    done, skipped, masks, untransferred = [], [], {}, set()
    for name, dst in targets.items():
        src_name = _source_name(name, mapping, align, up_sizes, down_sizes)
        src = up.get(src_name)
        reason = _skip_reason(name, dst, src, src_name, include, exclude)
        module = name.rsplit(".", 1)[0] if "." in name else ""
        group = groups.get(module, module)
        if reason is None and group != module and group in untransferred:
            reason = f"follows {group}, which was not transferred"
        if reason is not None:
            skipped.append({"name": name, "reason": reason})
            if name.endswith(".weight"):
                untransferred.add(module)
            continue
        mask = _mask(dst, group, alpha, mode, gen, masks_by_group)
        dst.copy_(torch.where(mask.to(dst.device), src.to(dst.device, dst.dtype), dst))
        masks[name] = mask
        done.append({"name": name, "source": src_name, "shape": tuple(dst.shape),
                     "kind": "parameter" if name in params else "buffer",
                     "n_copied": int(mask.sum()), "n_entries": dst.numel()})
    if not done:
        raise ValueError(
            f"transfer {type(upstream).__name__} -> {type(downstream).__name__}: the models share "
            "no tensor (same name and shape) among the eligible ones; check include/mapping")
    return TransferReport(tuple(done), tuple(skipped), masks, float(alpha), mode)


def _skip_reason(name, dst, src, src_name, include, exclude) -> str | None:
    """Why ``name`` is not transferred, or ``None``."""
    if name.endswith("num_batches_tracked"):
        return "counter"
    if (include and not name.startswith(tuple(include))) or (
            exclude and name.startswith(tuple(exclude))):
        return "excluded"
    if src is None:
        return f"absent upstream ({src_name})"
    if tuple(src.shape) != tuple(dst.shape):
        return f"shape {tuple(src.shape)} upstream vs {tuple(dst.shape)}"
    return None


def _mask(dst, group, alpha, mode, gen, cache) -> torch.Tensor:
    """Bool mask of the copied entries of ``dst`` (shared within a module group)."""
    shape = tuple(dst.shape)
    if dst.ndim == 0:
        return torch.tensor(bool(alpha == 1))
    if mode == "filter":
        key = ("filter", group, shape[0])
        if key not in cache:
            k = int(math.floor(alpha * shape[0] + 1e-9))
            rows = torch.zeros(shape[0], dtype=torch.bool)
            rows[torch.randperm(shape[0], generator=gen)[:k]] = True
            cache[key] = rows
        return cache[key].view(-1, *([1] * (dst.ndim - 1))).expand(shape).clone()
    key = ("entry", group, shape)
    if key not in cache:
        cache[key] = torch.rand(shape, generator=gen) < alpha
    return cache[key].clone()
