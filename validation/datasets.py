r"""Real data for the semi-artificial MNIST and the IMDb experiments (``docs/results.md``).

Images as design matrices
-------------------------
:func:`design_from_images` turns images into a design matrix :math:`A \in \mathbb{R}^{M\times N}`
(``M`` images, ``N`` pixels) in the normalisation of the replica theory, where the entries of
:math:`A` are i.i.d. with mean 0 and variance :math:`1/N`. Default data:
scikit-learn's bundled 8x8 digits (:func:`load_digits_design`, no download); the full MNIST is
read from its IDX files by :func:`load_mnist`.

IMDb reviews
------------
:func:`load_imdb` reads the ``aclImdb`` folder of the Large Movie Review Dataset (Maas et al.
2011), :func:`imdb_features` builds TF-IDF features and :func:`imdb_target_source_split`
splits the reviews into a target and a source task (see its docstring for the choice).

Nothing here downloads data: the loaders read user folders and say where to put the files
when they are missing.
"""

from __future__ import annotations

import dataclasses
import gzip
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

__all__ = [
    "HORROR_KEYWORDS",
    "IMDB_URL",
    "MNIST_URL",
    "ImageDesign",
    "design_from_images",
    "imdb_features",
    "imdb_target_source_split",
    "load_digits_design",
    "load_imdb",
    "load_mnist",
    "read_idx",
]

MNIST_URL = "http://yann.lecun.com/exdb/mnist/"
IMDB_URL = "https://ai.stanford.edu/~amaas/data/sentiment/"

# IDX type codes (third byte of the magic number) -> big-endian numpy dtype
_IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

# --- images -------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ImageDesign:
    r"""Design matrix made from images, with what is needed to trace it back.

    Attributes
    ----------
    A : ndarray, shape (M, N)
        Design matrix, rows = images, columns = kept pixels, in the theory normalisation
        (see :func:`design_from_images`).
    pixels : ndarray of int, shape (N,)
        Index of each column in the flattened image.
    mean : ndarray, shape (N,)
        Pixel means that were subtracted.
    scale : ndarray, shape (N,)
        Factors by which the centred pixels were multiplied: ``A = (X - mean) * scale``.
    image_shape : tuple of int
        Shape of one image.
    rows : ndarray of int, shape (M,)
        Index of each row in the input images.
    labels : ndarray or None, shape (M,)
        Class labels of the rows, when known.
    """

    A: np.ndarray
    pixels: np.ndarray
    mean: np.ndarray
    scale: np.ndarray
    image_shape: tuple[int, ...]
    rows: np.ndarray
    labels: np.ndarray | None = None

    @property
    def n_samples(self) -> int:
        """Number of rows ``M``."""
        return self.A.shape[0]

    @property
    def n_features(self) -> int:
        """Number of columns ``N``."""
        return self.A.shape[1]


def design_from_images(
    images: np.ndarray,
    n_features: int | None = None,
    rng: np.random.Generator | int | None = 0,
    *,
    n_samples: int | None = None,
    labels: np.ndarray | None = None,
    scaling: Literal["column", "global"] = "column",
    tol: float = 1e-12,
) -> ImageDesign:
    r"""Design matrix in the replica normalisation from a stack of images.

    Steps: flatten each image to a row; optionally keep a random subset of ``n_samples``
    images; centre each pixel (column) by its mean over the kept images; drop the pixels
    whose (population) standard deviation over the kept images is at most ``tol`` (constant
    pixels, e.g. the always-black border of MNIST); optionally keep a random subset of
    ``n_features`` of the remaining pixels (in increasing pixel order); scale.

    Scaling (``N`` = number of kept pixels, ``M`` = number of images):

    * ``"column"`` (default): every column is scaled to population variance exactly
      :math:`1/N`, i.e. :math:`\frac1M\sum_\mu A_{\mu i} = 0` and
      :math:`\frac1M\sum_\mu A_{\mu i}^2 = 1/N` for each :math:`i`, so that the diagonal of
      :math:`A^\top A` equals :math:`(M/N)\,I`, as its expectation does for the i.i.d.
      ensemble :math:`A_{\mu i} \sim \mathcal N(0, 1/N)` of the theory. Pixel correlations
      are kept (they are what makes the design "real").
    * ``"global"``: one common factor, so that the average over all entries is
      :math:`\frac{1}{MN}\sum_{\mu i} A_{\mu i}^2 = 1/N`; keeps the relative pixel variances.

    Parameters
    ----------
    images
        Array of shape ``(M, ...)``: one image (any shape) per row.
    n_features
        Number of pixels to keep at random (default: all non-constant pixels).
    rng
        Seed or generator for the random subsets (``numpy.random.default_rng``); only used
        when ``n_features`` or ``n_samples`` is given. Default ``0`` (reproducible).
    n_samples
        Number of images to keep at random (default: all), in increasing index order.
    labels
        Optional labels of the images (shape ``(M,)``), subset along with the rows.
    scaling
        ``"column"`` or ``"global"``, see above.
    tol
        Pixels with standard deviation ``<= tol`` are treated as constant.

    Returns
    -------
    ImageDesign
        ``A`` and the kept rows/pixels, means and scale factors.

    Raises
    ------
    ValueError
        For fewer than two images, fewer than one non-constant pixel, ``n_features`` or
        ``n_samples`` out of range, labels of the wrong length, or an unknown ``scaling``.

    Notes
    -----
    Derived (our construction, the paper's MNIST protocol is not known).
    """
    X = np.asarray(images)
    if X.ndim < 2:
        raise ValueError(f"images.shape = {X.shape}: expected (n_images, ...) with ndim >= 2")
    if scaling not in ("column", "global"):
        raise ValueError(f"scaling = {scaling!r}: must be 'column' or 'global'")
    M_all = X.shape[0]
    image_shape = tuple(X.shape[1:])
    X = X.reshape(M_all, -1).astype(np.float64)
    if not np.all(np.isfinite(X)):
        raise ValueError("images contain NaN or inf")
    if labels is not None:
        labels = np.asarray(labels)
        if labels.shape != (M_all,):
            raise ValueError(f"labels.shape = {labels.shape}: expected ({M_all},)")
    gen = np.random.default_rng(rng)
    rows = np.arange(M_all)
    if n_samples is not None:
        if not 2 <= n_samples <= M_all:
            raise ValueError(f"n_samples = {n_samples}: must be in [2, {M_all}]")
        rows = np.sort(gen.choice(M_all, size=n_samples, replace=False))
        X = X[rows]
    if X.shape[0] < 2:
        raise ValueError(f"{X.shape[0]} image(s): need at least two to centre and scale")
    mean = X.mean(axis=0)
    Xc = X - mean
    std = np.sqrt(np.mean(Xc**2, axis=0))
    keep = np.flatnonzero(std > tol)
    if keep.size == 0:
        raise ValueError("all pixels are constant over the images")
    if n_features is not None:
        if not 1 <= n_features <= keep.size:
            raise ValueError(
                f"n_features = {n_features}: must be in [1, {keep.size}] (number of "
                "non-constant pixels)"
            )
        keep = np.sort(gen.choice(keep, size=n_features, replace=False))
    N = keep.size
    Xc = Xc[:, keep]
    if scaling == "column":
        scale = 1.0 / (std[keep] * np.sqrt(N))
    else:
        scale = np.full(N, 1.0 / np.sqrt(np.mean(Xc**2) * N))
    return ImageDesign(
        A=Xc * scale,
        pixels=keep,
        mean=mean[keep],
        scale=scale,
        image_shape=image_shape,
        rows=rows,
        labels=None if labels is None else labels[rows],
    )


def load_digits_design(
    n_features: int | None = None,
    rng: np.random.Generator | int | None = 0,
    *,
    n_samples: int | None = None,
    scaling: Literal["column", "global"] = "column",
) -> ImageDesign:
    """Design matrix from scikit-learn's bundled 8x8 digits (1797 images, no download).

    Of the 64 pixels, 3 are constant (always blank) and dropped, leaving ``N = 61`` columns
    unless ``n_features`` asks for fewer. See :func:`design_from_images` for the parameters
    and the normalisation.
    """
    from sklearn.datasets import load_digits

    digits = load_digits()
    return design_from_images(digits.images, n_features, rng, n_samples=n_samples,
                              labels=digits.target, scaling=scaling)


def read_idx(file: str | Path) -> np.ndarray:
    """Read one IDX file (the MNIST format), raw or gzip-compressed (``.gz``).

    The header is two zero bytes, a type code, the number of dimensions ``d`` and ``d``
    big-endian 32-bit sizes, followed by the data in C order.

    Raises
    ------
    ValueError
        If the magic number is not an IDX one, or the data size does not match the header.
    """
    path = Path(file)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            raw = fh.read()
    except (OSError, EOFError) as exc:  # gzip errors are OSError/EOFError subclasses
        raise ValueError(f"{path}: cannot read ({exc})") from exc
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise ValueError(f"{path}: not an IDX file (magic bytes {raw[:4].hex() or 'missing'})")
    dtype = _IDX_DTYPES[raw[2]]
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path}: truncated header ({len(raw)} bytes, expected {header})")
    shape = tuple(int(n) for n in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) - header != expected:
        raise ValueError(
            f"{path}: {len(raw) - header} data bytes, the header {shape} of {dtype.name} says "
            f"{expected}"
        )
    data = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="))


def _mnist_names(kind: str) -> dict[str, list[str]]:
    return {
        part: [f"{kind}-{part}-idx{d}-ubyte", f"{kind}-{part}.idx{d}-ubyte"]
        for part, d in (("images", 3), ("labels", 1))
    }


def _find_file(folders: Sequence[Path], names: Sequence[str]) -> Path | None:
    for folder in folders:
        for name in names:
            for candidate in (folder / name, folder / f"{name}.gz"):
                if candidate.is_file():
                    return candidate
    return None


def load_mnist(path: str | Path, kind: Literal["train", "t10k"] = "train",
               ) -> tuple[np.ndarray, np.ndarray]:
    """Read MNIST (or any dataset in the same IDX layout, e.g. Fashion-MNIST) from a folder.

    Looks in ``path`` and in ``path/MNIST/raw`` (torchvision's layout) for
    ``{kind}-images-idx3-ubyte`` and ``{kind}-labels-idx1-ubyte``, raw or with ``.gz``
    (the spelling ``{kind}-images.idx3-ubyte`` is accepted too).

    Parameters
    ----------
    path
        Folder holding the files.
    kind
        ``"train"`` (60000 images) or ``"t10k"`` (10000 test images).

    Returns
    -------
    images : ndarray of uint8, shape (n, rows, cols)
    labels : ndarray of uint8, shape (n,)

    Raises
    ------
    FileNotFoundError
        If a file is missing; the message lists the expected names and where to get them.
    ValueError
        If a file is not a valid IDX file of the right kind (magic number 2051 for images,
        2049 for labels), or the numbers of images and labels differ.
    """
    if kind not in ("train", "t10k"):
        raise ValueError(f"kind = {kind!r}: must be 'train' or 't10k'")
    root = Path(path).expanduser()
    folders = [root, root / "MNIST" / "raw"]
    names = _mnist_names(kind)
    found = {part: _find_file(folders, names[part]) for part in names}
    missing = [part for part, f in found.items() if f is None]
    if missing:
        expected = ", ".join(f"{names[p][0]}[.gz]" for p in names)
        raise FileNotFoundError(
            f"MNIST {kind} files not found in {root} (missing: {', '.join(missing)}). Expected "
            f"{expected} in that folder (or in {root / 'MNIST' / 'raw'}). Download the four "
            f"files train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
            f"t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz from {MNIST_URL} (or a "
            f"mirror) and put them, gzipped or not, into {root}."
        )
    images = read_idx(found["images"])
    labels = read_idx(found["labels"])
    for part, arr, magic, ndim in (("images", images, 2051, 3), ("labels", labels, 2049, 1)):
        if arr.dtype != np.uint8 or arr.ndim != ndim:
            raise ValueError(
                f"{found[part]}: expected an MNIST {part} file (magic number {magic}: "
                f"unsigned bytes, {ndim} dimension(s)), got {arr.dtype} with shape {arr.shape}"
            )
    if images.shape[0] != labels.shape[0]:
        raise ValueError(
            f"{found['images']} holds {images.shape[0]} images but {found['labels']} holds "
            f"{labels.shape[0]} labels"
        )
    return images, labels


# --- IMDb ---------------------------------------------------------------------------------

_REVIEW_NAME = re.compile(r"^(\d+)_(\d+)\.txt$")


def _imdb_root(path: Path, split: str) -> Path:
    for root in (path / "aclImdb", path):
        if (root / split / "pos").is_dir() and (root / split / "neg").is_dir():
            return root
    raise FileNotFoundError(
        f"IMDb reviews not found under {path}: expected the folders "
        f"{path / 'aclImdb' / split / 'pos'} and {path / 'aclImdb' / split / 'neg'} with files "
        f"<id>_<rating>.txt. Download aclImdb_v1.tar.gz from {IMDB_URL} and extract it into "
        f"{path} (tar -xzf aclImdb_v1.tar.gz -C {path}), so that {path / 'aclImdb'} exists."
    )


def _review_files(folder: Path) -> list[tuple[int, int, Path]]:
    out = []
    for f in folder.iterdir():
        if f.suffix != ".txt":
            continue
        m = _REVIEW_NAME.match(f.name)
        if m is None:
            raise ValueError(f"{f}: review files must be named <id>_<rating>.txt")
        rid, rating = int(m.group(1)), int(m.group(2))
        if not 1 <= rating <= 10:
            raise ValueError(f"{f}: rating {rating} outside 1..10")
        out.append((rid, rating, f))
    out.sort(key=lambda t: (t[0], t[1]))
    return out


def load_imdb(
    path: str | Path,
    split: Literal["train", "test"] = "train",
    max_docs: int | None = None,
    *,
    strip_html: bool = True,
) -> pd.DataFrame:
    """Read the reviews of one split of the Large Movie Review Dataset (aclImdb).

    The layout is ``aclImdb/{train,test}/{pos,neg}/<id>_<rating>.txt`` (``pos``: ratings
    7-10, ``neg``: 1-4; the unlabelled ``train/unsup`` folder is ignored). ``path`` may be the
    folder that contains ``aclImdb`` or ``aclImdb`` itself.

    Parameters
    ----------
    path
        Data folder.
    split
        ``"train"`` or ``"test"`` (25000 reviews each).
    max_docs
        Keep at most this many reviews, half from each polarity (the larger half from ``pos``
        when odd; the rest from the other polarity when one runs short), those with the
        smallest ids. Deterministic; ``None`` keeps all.
    strip_html
        Replace the ``<br />`` tags of the raw reviews by spaces.

    Returns
    -------
    pandas.DataFrame
        Columns ``id`` (int, unique within a polarity only), ``rating`` (int, 1-10),
        ``sentiment`` (int: 1 positive, 0 negative), ``text`` (str); rows ordered by
        polarity (``neg`` first) then id.

    Raises
    ------
    FileNotFoundError
        If the folders are missing; the message says where to get and put the data.
    ValueError
        For malformed file names or ratings outside 1-10.
    """
    if split not in ("train", "test"):
        raise ValueError(f"split = {split!r}: must be 'train' or 'test'")
    if max_docs is not None and max_docs < 0:
        raise ValueError(f"max_docs = {max_docs}: must be non-negative")
    base = Path(path).expanduser()
    root = _imdb_root(base, split)
    files = {label: _review_files(root / split / label) for label in ("neg", "pos")}
    if max_docs is not None:
        n_pos = min(len(files["pos"]), max_docs - max_docs // 2)
        n_neg = min(len(files["neg"]), max_docs - n_pos)
        n_pos = min(len(files["pos"]), max_docs - n_neg)
        files = {"neg": files["neg"][:n_neg], "pos": files["pos"][:n_pos]}
    records = []
    for label, sentiment in (("neg", 0), ("pos", 1)):
        for rid, rating, f in files[label]:
            text = f.read_text(encoding="utf-8")
            if strip_html:
                text = re.sub(r"<br\s*/?>", " ", text)
            records.append((rid, rating, sentiment, text))
    df = pd.DataFrame.from_records(records, columns=["id", "rating", "sentiment", "text"])
    return df.astype({"id": np.int64, "rating": np.int64, "sentiment": np.int64})


def imdb_features(
    texts: Sequence[str],
    max_features: int = 2000,
    *,
    vectorizer=None,
    min_df: int | float = 2,
    max_df: float = 0.95,
    ngram_range: tuple[int, int] = (1, 1),
    stop_words: str | None = "english",
    sublinear_tf: bool = True,
):
    """TF-IDF features of review texts (scikit-learn ``TfidfVectorizer``).

    Rows are L2-normalised (scikit-learn's default), so every review has unit norm whatever
    its length.

    Parameters
    ----------
    texts
        Documents.
    max_features
        Vocabulary size (the most frequent terms over the corpus).
    vectorizer
        An already fitted vectorizer: transform ``texts`` with its vocabulary and idf
        weights (use it for held-out documents); the remaining options are then ignored.
    min_df, max_df, ngram_range, stop_words, sublinear_tf
        Passed to ``TfidfVectorizer``.

    Returns
    -------
    X : scipy.sparse.csr_matrix, shape (n_docs, n_terms)
    vectorizer : sklearn.feature_extraction.text.TfidfVectorizer
        The fitted vectorizer (``vectorizer.get_feature_names_out()`` gives the terms).
    """
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = list(texts)
    if vectorizer is not None:
        return vectorizer.transform(texts).tocsr(), vectorizer
    vec = TfidfVectorizer(max_features=max_features, min_df=min_df, max_df=max_df,
                          ngram_range=ngram_range, stop_words=stop_words,
                          sublinear_tf=sublinear_tf, dtype=np.float64)
    X = vec.fit_transform(texts).tocsr()
    return X, vec


HORROR_KEYWORDS = ("horror", "scary", "slasher", "zombie", "zombies", "gore", "gory",
                   "vampire", "vampires")


def imdb_target_source_split(
    texts: Sequence[str],
    method: Literal["keyword", "random"] = "keyword",
    *,
    keywords: Sequence[str] = HORROR_KEYWORDS,
    n_target: int | None = None,
    rng: np.random.Generator | int | None = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Split reviews into a target task and a source task.

    Our choice (the paper's split is not known): the response is the review's rating for
    both tasks and the tasks differ by genre.

    * ``"keyword"`` (default): the **target** is the reviews that mention any of
      ``keywords`` as a whole word, case-insensitively (default: horror words, a genre
      proxy, since aclImdb has no genre labels); the **source** is all other reviews. The
      two tasks share most of the sentiment vocabulary ("great", "worst") but not all of it
      (in horror "scary" or "creepy" is praise), which is the partly shared support the
      transfer theory is about.
    * ``"random"``: the target is a uniformly random subset of ``n_target`` reviews and the
      source is the rest: identical tasks, the control with no shift.

    With ``n_target`` given in ``"keyword"`` mode, a random subset of that many of the
    keyword reviews is the target (the other keyword reviews are dropped from both tasks, so
    the source stays free of the target genre).

    Parameters
    ----------
    texts
        Review texts (e.g. ``load_imdb(...)["text"]``).
    method
        ``"keyword"`` or ``"random"``.
    keywords
        Words that put a review into the target task (``"keyword"`` mode).
    n_target
        Size of the target (required for ``"random"``).
    rng
        Seed or generator for the random subsets.

    Returns
    -------
    target, source : ndarray of int
        Sorted row indices of the two tasks (disjoint).

    Raises
    ------
    ValueError
        For an unknown method, empty keywords, or ``n_target`` out of range.
    """
    texts = list(texts)
    n = len(texts)
    gen = np.random.default_rng(rng)
    if method == "random":
        if n_target is None or not 1 <= n_target < n:
            raise ValueError(f"n_target = {n_target}: must be in [1, {n - 1}] for 'random'")
        target = np.sort(gen.choice(n, size=n_target, replace=False))
        source = np.setdiff1d(np.arange(n), target)
        return target, source
    if method != "keyword":
        raise ValueError(f"method = {method!r}: must be 'keyword' or 'random'")
    words = [w.strip().lower() for w in keywords if w.strip()]
    if not words:
        raise ValueError("keywords is empty")
    pattern = re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\b",
                         re.IGNORECASE)
    hit = np.array([pattern.search(t) is not None for t in texts], dtype=bool)
    target = np.flatnonzero(hit)
    source = np.flatnonzero(~hit)
    if n_target is not None:
        if not 1 <= n_target <= target.size:
            raise ValueError(
                f"n_target = {n_target}: must be in [1, {target.size}] (reviews with a keyword)"
            )
        target = np.sort(gen.choice(target, size=n_target, replace=False))
    return target, source
