"""Image data sets for the reconstruction-vs-perception experiments, read from a user folder.

* scikit-learn's bundled 8x8 digits (default, no download): :func:`load_digits_images`;
* CIFAR-10 / CIFAR-100 "python version" batches (``data_batch_1..5``/``test_batch`` or
  ``train``/``test`` pickles, as distributed by the Toronto site): :func:`load_cifar_python`;
* TinyImageNet folder layout (``wnids.txt``, ``train/<wnid>/images/*.JPEG``,
  ``val/images/*.JPEG`` + ``val/val_annotations.txt``): :func:`load_tinyimagenet`.

Every loader returns ``(images, labels)`` with images ``uint8``/float of shape ``(N, C, H, W)``
and integer labels.  Nothing is downloaded.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["load_digits_images", "load_cifar_python", "load_tinyimagenet", "find_image_dataset"]


def load_digits_images() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 1797 digits as ``(N, 1, 8, 8)`` float images in [0, 16] and labels."""
    from sklearn.datasets import load_digits

    d = load_digits()
    return d.images[:, None].astype(float), d.target.astype(int)


def _opt_count(name: str, v) -> None:
    if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
        raise ValueError(f"{name} = {v!r}: must be a positive integer or None")


def _cifar_root(path: Path, names: list[str]) -> Path:
    for cand in (path, *sorted(p for p in path.glob("*") if p.is_dir())):
        if all((cand / n).exists() for n in names):
            return cand
    raise FileNotFoundError(
        f"no CIFAR python batches under {path}: expected the files {names} (e.g. the folder "
        "cifar-10-batches-py or cifar-100-python extracted from the official archives)"
    )


def load_cifar_python(path, which: int = 10, split: str = "train"
                      ) -> tuple[np.ndarray, np.ndarray]:
    """CIFAR-10/100 python batches from ``path`` as ``(N, 3, 32, 32)`` uint8 and labels."""
    if which not in (10, 100):
        raise ValueError(f"which = {which!r}: choose 10 or 100")
    if split not in ("train", "test"):
        raise ValueError(f"split = {split!r}: choose 'train' or 'test'")
    path = Path(path)
    names = ["data_batch_1", "test_batch"] if which == 10 else ["train", "test"]
    root = _cifar_root(path, names)
    from nets.cifar import load_cifar  # the one reader of the python batches

    data = load_cifar(root, f"cifar{which}")
    x, y = (data.x_train, data.y_train) if split == "train" else (data.x_test, data.y_test)
    return np.rint(x * 255.0).astype(np.uint8), y.astype(int)


def _read_image(path: Path, size: int | None) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        im = im.convert("RGB")
        if size is not None and im.size != (size, size):
            im = im.resize((size, size), Image.BILINEAR)
        return np.asarray(im, dtype=np.uint8).transpose(2, 0, 1)


def load_tinyimagenet(path, split: str = "train", size: int | None = None,
                      max_per_class: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """TinyImageNet from its folder layout; ``size`` resizes (e.g. 32), labels follow
    ``wnids.txt``; ``max_per_class`` keeps the first images of each class (sorted names)."""
    if split not in ("train", "val"):
        raise ValueError(f"split = {split!r}: choose 'train' or 'val'")
    _opt_count("size", size)
    _opt_count("max_per_class", max_per_class)
    root = Path(path)
    if not (root / "wnids.txt").exists():
        cands = [p for p in root.glob("*") if (p / "wnids.txt").exists()]
        if not cands:
            raise FileNotFoundError(f"no TinyImageNet folder under {root}: expected wnids.txt, "
                                    "train/<wnid>/images/ and val/images/")
        root = cands[0]
    wnids = [w.strip() for w in (root / "wnids.txt").read_text().split() if w.strip()]
    index = {w: i for i, w in enumerate(wnids)}
    files: list[tuple[Path, int]] = []
    if split == "train":
        for w in wnids:
            imgs = sorted((root / "train" / w / "images").glob("*"))
            files += [(f, index[w]) for f in imgs[:max_per_class]]
    elif split == "val":
        ann = (root / "val" / "val_annotations.txt").read_text().splitlines()
        count: dict[str, int] = {}
        for line in ann:
            parts = line.split("\t")
            if len(parts) < 2 or parts[1] not in index:
                continue
            count[parts[1]] = count.get(parts[1], 0) + 1
            if max_per_class is None or count[parts[1]] <= max_per_class:
                files.append((root / "val" / "images" / parts[0], index[parts[1]]))
    else:
        raise ValueError(f"split = {split!r}: choose 'train' or 'val'")
    if not files:
        raise FileNotFoundError(f"no {split} images found under {root}")
    X = np.stack([_read_image(f, size) for f, _ in files])
    return X, np.array([c for _, c in files], dtype=int)


def find_image_dataset(data_dir) -> str | None:
    """Which data set ``data_dir`` holds: ``"tinyimagenet"``, ``"cifar10"``, ``"cifar100"``."""
    root = Path(data_dir)
    if not root.exists():
        raise FileNotFoundError(f"--data-dir {root}: folder not found")
    if (root / "wnids.txt").exists() or any((p / "wnids.txt").exists() for p in root.glob("*")):
        return "tinyimagenet"
    for which, name in ((10, "data_batch_1"), (100, "train")):
        try:
            _cifar_root(root, [name])
            return f"cifar{which}"
        except FileNotFoundError:
            pass
    return None
