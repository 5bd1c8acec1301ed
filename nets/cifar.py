r"""CIFAR-10/100 python-pickle batches, the bundled digits, and the two-task class split.

Real-data protocol of Yuan et al. (arXiv:2509.22056, §5, Table 1 and Figure 3), with the
choices the paper leaves open made explicit (``docs/deep_transfer.md``):

* Task 2 (downstream): ``n2_classes`` classes (2 of CIFAR-10, 20 of CIFAR-100), relabelled
  ``0..n2_classes-1``; ``N2 = n2_classes * n_per_class`` training images.
* Task 1 (upstream): ``ratio * n2_classes`` *other* classes with ``n_per_class`` images each,
  so that ``N1 / N2 = ratio`` exactly (``n1_mode="classes"``, default; CIFAR-10 with ratio 4
  uses all 8 remaining classes).  ``n1_mode="subsample"``: all remaining classes, ``N1 = ratio
  N2`` images drawn uniformly from them.
* Which classes: ``class_order="random"`` (default) permutes the classes with the seed: Task 2
  takes the first ``n2_classes``, Task 1 the next ones, so Task-1 class sets are nested in
  ``ratio``.  ``"fixed"`` uses the natural class order (CIFAR-10: Task 2 = airplane,
  automobile).
* Noise on Task 2 (Figure 3): ``x + (sigma_p2 / 255) z``, ``z ~ N(0, I)``, on images scaled to
  [0, 1], i.e. ``sigma_p2`` is in 8-bit grey levels; drawn once per image (seeded), added to the
  training and (by default) the test images, no clipping.

Images are float32 arrays ``(n, 3, H, W)`` in [0, 1].  Without a data directory the
scikit-learn bundled digits (1797 8x8 images, 10 classes, grey replicated to 3 channels) stand
in for CIFAR-10 so that the whole protocol runs offline.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

__all__ = [
    "ImageData",
    "Task",
    "TaskPair",
    "add_gaussian_noise",
    "class_split",
    "load_cifar",
    "load_digits_images",
    "load_image_data",
    "write_cifar_batches",
]

_C10 = ("cifar-10-batches-py", ("data_batch_1",), "test_batch", b"labels")
_C100 = ("cifar-100-python", ("train",), "test", b"fine_labels")


@dataclass(frozen=True, eq=False)
class ImageData:
    """A labelled image dataset with a train/test split (images in [0, 1], NCHW)."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int


@dataclass(frozen=True, eq=False)
class Task:
    """One task of the protocol: images, labels ``0..n_classes-1``, original class ids."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: tuple

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def n_train(self) -> int:
        return len(self.y_train)

    def standardized(self) -> Task:
        """Per-channel standardisation with the mean/std of the training images."""
        mean = self.x_train.mean(axis=(0, 2, 3), keepdims=True)
        std = self.x_train.std(axis=(0, 2, 3), keepdims=True) + 1e-6
        return replace(self, x_train=((self.x_train - mean) / std).astype(np.float32),
                       x_test=((self.x_test - mean) / std).astype(np.float32))


@dataclass(frozen=True, eq=False)
class TaskPair:
    """Upstream Task 1 and downstream Task 2 with ``N1 / N2 = ratio``."""

    task1: Task
    task2: Task
    ratio: float


def _get(d: dict, key: bytes):
    return d[key] if key in d else d[key.decode()]


def _unpickle(path: Path) -> dict:
    """A CIFAR batch (a dict with a ``data`` entry), or a ValueError naming the file."""
    try:
        with open(path, "rb") as f:
            d = pickle.load(f, encoding="bytes")  # noqa: S301 - the user's own CIFAR files
    except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError, AttributeError,
            ImportError, IndexError, KeyError) as err:
        raise ValueError(f"{path}: not a readable CIFAR python batch ({err})") from None
    if not isinstance(d, dict) or not ({b"data", "data"} & set(d)):
        raise ValueError(f"{path}: not a CIFAR python batch (no 'data' entry)")
    return d


def _to_images(flat) -> np.ndarray:
    a = np.asarray(flat, dtype=np.uint8)
    if a.ndim != 2 or a.shape[1] != 3072:
        raise ValueError(f"CIFAR batch data has shape {a.shape}: expected (n, 3072)")
    return (a.reshape(-1, 3, 32, 32).astype(np.float32) / 255.0)


def _find(data_dir: Path, spec) -> Path | None:
    sub, train_files, test_file, _ = spec
    for folder in (data_dir / sub, data_dir):
        if (folder / train_files[0]).is_file() and (folder / test_file).is_file():
            return folder
    return None


def load_cifar(data_dir, dataset: str = "cifar10") -> ImageData:
    """Read CIFAR-10 (``data_batch_*``, ``test_batch``) or CIFAR-100 (``train``, ``test``).

    ``data_dir`` may hold the files or the extracted ``cifar-10-batches-py`` /
    ``cifar-100-python`` folder.  CIFAR-100 uses the 100 fine labels.

    Raises
    ------
    ValueError
        Unknown ``dataset``, or no such batches in ``data_dir``.
    """
    if dataset not in ("cifar10", "cifar100"):
        raise ValueError(f"dataset = {dataset!r}: must be 'cifar10' or 'cifar100'")
    data_dir = Path(data_dir)
    spec = _C10 if dataset == "cifar10" else _C100
    folder = _find(data_dir, spec) if data_dir.is_dir() else None
    if folder is None:
        raise ValueError(
            f"data_dir = {str(data_dir)!r}: no {dataset} python batches found (expected "
            f"{spec[1][0]} and {spec[2]}, directly or in {spec[0]}/)")
    if dataset == "cifar10":
        train_paths = sorted(folder.glob("data_batch_*"))
    else:
        train_paths = [folder / "train"]
    xs, ys = [], []
    for p in train_paths:
        d = _unpickle(p)
        xs.append(_to_images(_get(d, b"data")))
        ys.append(np.asarray(_get(d, spec[3]), dtype=np.int64))
    t = _unpickle(folder / spec[2])
    return ImageData(dataset, np.concatenate(xs), np.concatenate(ys),
                     _to_images(_get(t, b"data")), np.asarray(_get(t, spec[3]), np.int64),
                     10 if dataset == "cifar10" else 100)


def load_digits_images(test_fraction: float = 0.3, seed: int = 0) -> ImageData:
    """scikit-learn's bundled 8x8 digits as 3-channel images in [0, 1] (stratified split)."""
    from sklearn.datasets import load_digits

    d = load_digits()
    x = np.repeat((d.images / 16.0).astype(np.float32)[:, None], 3, axis=1)
    y = d.target.astype(np.int64)
    rng = np.random.default_rng(seed)
    test = np.zeros(len(y), dtype=bool)
    for c in range(10):
        idx = rng.permutation(np.flatnonzero(y == c))
        test[idx[: int(round(test_fraction * len(idx)))]] = True
    return ImageData("digits", x[~test], y[~test], x[test], y[test], 10)


def load_image_data(data_dir=None, dataset: str | None = None) -> ImageData:
    """CIFAR from ``data_dir`` (``dataset`` ``"cifar10"``/``"cifar100"``) or the digits."""
    if data_dir is None:
        if dataset not in (None, "digits"):
            raise ValueError(f"dataset = {dataset!r} needs data_dir (only 'digits' is bundled)")
        return load_digits_images()
    return load_cifar(data_dir, dataset or "cifar10")


def _pick(x, y, classes, n_per_class, rng) -> tuple[np.ndarray, np.ndarray]:
    idx = []
    for c in classes:
        pool = np.flatnonzero(y == c)
        idx.append(pool if n_per_class is None else rng.choice(pool, n_per_class, replace=False))
    idx = np.concatenate(idx)
    remap = {c: k for k, c in enumerate(classes)}
    return x[idx], np.array([remap[c] for c in y[idx]], dtype=np.int64)


def class_split(
    data: ImageData,
    ratio: int,
    n2_classes: int = 2,
    *,
    n_per_class: int | None = None,
    seed: int = 0,
    class_order: str = "random",
    n1_mode: str = "classes",
) -> TaskPair:
    """Split ``data`` into Task 1 (upstream) and Task 2 (downstream) with ``N1 = ratio N2``.

    Parameters
    ----------
    data : ImageData
    ratio : int
        ``N1 / N2`` (Table 1 of Yuan et al.: 2, 3, 4).
    n2_classes : int
        Classes of Task 2.
    n_per_class : int, optional
        Training images per class (default: the smallest class count of the training split).
    seed : int
        Seeds the class order (``"random"``) and the image subsets.
    class_order : {"random", "fixed"}
    n1_mode : {"classes", "subsample"}
        See the module docstring.

    Raises
    ------
    ValueError
        Ratio or class counts that the dataset cannot supply, naming the field.
    """
    if isinstance(ratio, bool) or not isinstance(ratio, (int, np.integer)) or ratio < 1:
        raise ValueError(f"ratio = {ratio!r}: N1/N2 must be a positive integer")
    if not isinstance(n2_classes, (int, np.integer)) or not 1 <= n2_classes < data.n_classes:
        raise ValueError(f"n2_classes = {n2_classes!r}: must lie in [1, {data.n_classes - 1}]")
    if class_order not in ("random", "fixed"):
        raise ValueError(f"class_order = {class_order!r}: must be 'random' or 'fixed'")
    if n1_mode not in ("classes", "subsample"):
        raise ValueError(f"n1_mode = {n1_mode!r}: must be 'classes' or 'subsample'")
    rng = np.random.default_rng(seed)
    order = rng.permutation(data.n_classes) if class_order == "random" else np.arange(
        data.n_classes)
    counts = np.bincount(data.y_train, minlength=data.n_classes)
    npc = int(counts.min()) if n_per_class is None else n_per_class
    if isinstance(npc, bool) or not 1 <= npc <= counts.min():
        raise ValueError(f"n_per_class = {n_per_class!r}: must lie in [1, {counts.min()}]")
    c2 = [int(c) for c in order[:n2_classes]]
    rest = [int(c) for c in order[n2_classes:]]
    k1 = ratio * n2_classes
    if n1_mode == "classes" and k1 > len(rest):
        raise ValueError(f"ratio = {ratio}: needs {k1} Task-1 classes, but only {len(rest)} "
                         f"classes remain besides the {n2_classes} of Task 2")
    x2, y2 = _pick(data.x_train, data.y_train, c2, npc, rng)
    t2 = Task(x2, y2, *_pick(data.x_test, data.y_test, c2, None, rng), tuple(c2))
    if n1_mode == "classes":
        c1 = rest[:k1]
        x1, y1 = _pick(data.x_train, data.y_train, c1, npc, rng)
    else:
        c1 = rest
        x1, y1 = _pick(data.x_train, data.y_train, c1, None, rng)
        n1 = ratio * len(y2)
        if n1 > len(y1):
            raise ValueError(f"ratio = {ratio}: N1 = {n1} exceeds the {len(y1)} Task-1 images")
        keep = rng.choice(len(y1), n1, replace=False)
        x1, y1 = x1[keep], y1[keep]
    t1 = Task(x1, y1, *_pick(data.x_test, data.y_test, c1, None, rng), tuple(c1))
    return TaskPair(t1, t2, float(ratio))


def add_gaussian_noise(task: Task, sigma_p: float, *, seed: int = 0, on_test: bool = True,
                       scale: float = 255.0) -> Task:
    r"""Task with Gaussian noise: :math:`x + (\sigma_p/\mathrm{scale})\,z`, ``z ~ N(0, I)``.

    ``sigma_p`` is in grey levels of 8-bit images (``scale = 255``); Figure 3 of Yuan et al.
    sweeps :math:`\sigma_{p,2}` from 1 to 20.

    Raises
    ------
    ValueError
        ``sigma_p < 0`` or not finite.
    """
    if not np.isfinite(sigma_p) or sigma_p < 0:
        raise ValueError(f"sigma_p = {sigma_p!r}: noise level must be finite and >= 0")
    if sigma_p == 0:
        return task
    rng = np.random.default_rng(seed)
    s = np.float32(sigma_p / scale)
    xtr = task.x_train + s * rng.standard_normal(task.x_train.shape, dtype=np.float32)
    xte = task.x_test + s * rng.standard_normal(task.x_test.shape, dtype=np.float32) \
        if on_test else task.x_test
    return replace(task, x_train=xtr, x_test=xte)


def write_cifar_batches(folder, x: np.ndarray, y: np.ndarray, x_test: np.ndarray,
                        y_test: np.ndarray, dataset: str = "cifar10") -> Path:
    """Write images ``(n, 3, 32, 32)`` uint8 as CIFAR python batches (test fixtures).

    CIFAR-10: ``data_batch_1`` + ``test_batch`` (key ``labels``); CIFAR-100: ``train`` +
    ``test`` (keys ``fine_labels`` and ``coarse_labels``).  Returns ``folder``.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    names = ("data_batch_1", "test_batch") if dataset == "cifar10" else ("train", "test")
    key = b"labels" if dataset == "cifar10" else b"fine_labels"
    for name, xi, yi in ((names[0], x, y), (names[1], x_test, y_test)):
        d = {b"data": np.asarray(xi, np.uint8).reshape(len(xi), -1), key: [int(v) for v in yi]}
        if dataset == "cifar100":
            d[b"coarse_labels"] = [int(v) // 5 for v in yi]
        with open(folder / name, "wb") as f:
            pickle.dump(d, f)
    return folder
