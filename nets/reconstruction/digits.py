r"""Binary-digit transfer ("is it a 1?" -> "is it an 8?") with input reconstruction.

Cui & Yu (arXiv:2404.00505, Sec. V-A): MNIST classes {0, 1, 8} resized to 10 x 10, normalised
with mean 0.1307 and std 0.3081; source "is it a 1?", target "is it an 8?", both sigmoid + BCE;
common information: the input image. Networks: feature ``d -> 50 -> 25``, heads
``25 -> 10 -> 1``, decoder ``25 -> 50 -> d``.

Default data: scikit-learn's bundled 8 x 8 digits (1797 images, no download), scaled to [0, 1]
and normalised with their own pixel mean and std; ``d = 64`` instead of the paper's 100. MNIST
IDX files in a user directory are read by :func:`load_mnist_idx` and resized to 10 x 10.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import torch

from nets.reconstruction.methods import TransferData, TransferTask
from nets.reconstruction.model import ScaledSigmoid

__all__ = [
    "load_sklearn_digits",
    "read_idx",
    "load_mnist_idx",
    "digits_task",
    "digits_transfer_data",
    "accuracy",
]

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def load_sklearn_digits(classes=(0, 1, 8)) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 8 x 8 digits of ``classes``: images (n, 64) in [0, 1] and labels."""
    from sklearn.datasets import load_digits

    d = load_digits()
    keep = np.isin(d.target, classes)
    return (d.data[keep] / 16.0).astype(np.float64), d.target[keep].astype(np.int64)


def read_idx(path: str | Path) -> np.ndarray:
    """Read one IDX file (MNIST format), raw or gzip-compressed."""
    path = Path(path)
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise ValueError(f"{path}: not an IDX file (magic bytes {raw[:4].hex()})")
    ndim = raw[3]
    dims = tuple(int.from_bytes(raw[4 + 4 * k:8 + 4 * k], "big") for k in range(ndim))
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    data = np.frombuffer(raw, dtype=dtype, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"{path}: header says {dims}, file holds {data.size} values")
    return data.reshape(dims).astype(dtype.newbyteorder("="))


def _find(directory: Path, stem: str) -> Path:
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx"),
                 stem.replace("-idx", ".idx") + ".gz"):
        if (directory / name).exists():
            return directory / name
    raise ValueError(f"mnist_dir = {str(directory)!r}: no file {stem}[.gz] in it")


def load_mnist_idx(mnist_dir, split: str = "train", classes=(0, 1, 8), size: int = 10
                   ) -> tuple[np.ndarray, np.ndarray]:
    """MNIST images of ``classes`` from IDX files, resized to ``size x size`` in [0, 1].

    Resizing: bilinear with antialiasing (as torchvision's ``Resize`` on tensors).

    Parameters
    ----------
    mnist_dir : path
        Folder holding ``{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]``.
    split : {"train", "test"}
    """
    directory = Path(mnist_dir)
    if not directory.is_dir():
        raise ValueError(f"mnist_dir = {str(mnist_dir)!r}: not an existing directory")
    if split not in ("train", "test"):
        raise ValueError(f"split = {split!r}: must be 'train' or 'test'")
    prefix = "train" if split == "train" else "t10k"
    images = read_idx(_find(directory, f"{prefix}-images-idx3-ubyte"))
    labels = read_idx(_find(directory, f"{prefix}-labels-idx1-ubyte")).astype(np.int64)
    if images.ndim != 3 or labels.shape != (images.shape[0],):
        raise ValueError(f"mnist_dir = {str(mnist_dir)!r}: images {images.shape} and labels "
                         f"{labels.shape} do not match")
    keep = np.isin(labels, classes)
    x = torch.as_tensor(images[keep], dtype=torch.float32)[:, None] / 255.0
    x = torch.nn.functional.interpolate(x, size=(size, size), mode="bilinear",
                                        antialias=True, align_corners=False)
    return x.reshape(len(x), -1).double().numpy(), labels[keep]


def _bce(out, y):
    return torch.nn.functional.binary_cross_entropy(out[:, 0].clamp(1e-7, 1 - 1e-7), y)


def _error_rate(out, y) -> float:
    return float(((out[:, 0] > 0.5).float() != y).float().mean())


def accuracy(out, y) -> float:
    """Share of correct binary decisions (threshold 0.5)."""
    return 1.0 - _error_rate(torch.as_tensor(out), torch.as_tensor(y))


def digits_task(n_pixels: int = 64) -> TransferTask:
    """Networks of the paper for ``n_pixels`` inputs (100 for 10 x 10 MNIST)."""
    return TransferTask(
        name="digits",
        feature_sizes=(n_pixels, 50, 25),
        source_head_sizes=(25, 10, 1),
        target_head_sizes=(25, 10, 1),
        decoder_sizes=(25, 50, n_pixels),
        source_activation=ScaledSigmoid,
        target_activation=ScaledSigmoid,
        source_loss=_bce,
        target_loss=_bce,
        source_criterion=_error_rate,
        target_criterion=_error_rate,
    )


def digits_transfer_data(images, labels, *, n_target_train: int, target_fraction: float = 0.2,
                         source_val_fraction: float = 0.3, test_fraction: float = 0.25,
                         source_digit: int = 1, target_digit: int = 8, seed=0,
                         mean: float | None = None, std: float | None = None):
    """Split images into test, source (train/val) and target (train/val) sets.

    A random ``test_fraction`` is held out; of the rest, ``target_fraction`` forms the target
    pool (``n_target_train`` for training, the remainder for validation) and the rest the
    source pool (split ``1 - source_val_fraction`` / ``source_val_fraction``). Pixels are
    standardised with ``mean``/``std`` (default: the source-training pixels).

    Returns
    -------
    data : TransferData
    test : tuple ``(x_test, y_source_test, y_target_test)``
    """
    x = np.asarray(images, dtype=np.float64)
    y = np.asarray(labels)
    if x.ndim != 2 or y.shape != (x.shape[0],):
        raise ValueError(f"images {x.shape} / labels {y.shape}: expected (n, d) and (n,)")
    for name, v in (("target_fraction", target_fraction), ("test_fraction", test_fraction),
                    ("source_val_fraction", source_val_fraction)):
        if not 0 < v < 1:
            raise ValueError(f"{name} = {v!r}: must lie in (0, 1)")
    rng = np.random.default_rng(seed)
    perm = rng.permutation(len(x))
    n_test = int(round(test_fraction * len(x)))
    test, rest = perm[:n_test], perm[n_test:]
    n_tp = int(round(target_fraction * len(rest)))
    tpool, spool = rest[:n_tp], rest[n_tp:]
    if not (isinstance(n_target_train, int) and 1 <= n_target_train < len(tpool)):
        raise ValueError(f"n_target_train = {n_target_train!r}: must be an integer in "
                         f"[1, {len(tpool) - 1}] (target pool of {len(tpool)} images)")
    n_sv = int(round(source_val_fraction * len(spool)))
    s_tr, s_va = spool[n_sv:], spool[:n_sv]
    t_tr, t_va = tpool[:n_target_train], tpool[n_target_train:]
    mu = float(x[s_tr].mean()) if mean is None else float(mean)
    sd = float(x[s_tr].std()) if std is None else float(std)
    xn = ((x - mu) / sd).astype(np.float32)
    ys = (y == source_digit).astype(np.float32)
    yt = (y == target_digit).astype(np.float32)
    data = TransferData(
        source_train=(xn[s_tr], ys[s_tr], xn[s_tr]),
        source_val=(xn[s_va], ys[s_va], xn[s_va]),
        target_train=(xn[t_tr], yt[t_tr]),
        target_val=(xn[t_va], yt[t_va]),
    )
    return data, (xn[test], ys[test], yt[test])
