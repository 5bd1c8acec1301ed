"""Tests of validation.datasets: IDX/MNIST and aclImdb loaders, image designs, TF-IDF, splits."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from validation.datasets import (
    design_from_images,
    imdb_features,
    imdb_target_source_split,
    load_digits_design,
    load_imdb,
    load_mnist,
    read_idx,
)

# --- fixtures written independently of the reader -----------------------------------------


def _idx_bytes(arr: np.ndarray, type_code: int = 0x08) -> bytes:
    header = bytes([0, 0, type_code, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return header + arr.tobytes()


def _write(path: Path, blob: bytes, gz: bool) -> None:
    if gz:
        with gzip.open(str(path) + ".gz", "wb") as fh:
            fh.write(blob)
    else:
        path.write_bytes(blob)


def _tiny_mnist(folder: Path, kind: str, n: int, gz: bool, seed: int):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 4, 3), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    folder.mkdir(parents=True, exist_ok=True)
    _write(folder / f"{kind}-images-idx3-ubyte", _idx_bytes(images), gz)
    _write(folder / f"{kind}-labels-idx1-ubyte", _idx_bytes(labels), gz)
    return images, labels


# --- IDX / MNIST ------------------------------------------------------------------------


@pytest.mark.parametrize("gz", [False, True])
def test_load_mnist_reads_back_exactly(tmp_path, gz):
    images, labels = _tiny_mnist(tmp_path, "train", 5, gz, seed=1)
    test_images, test_labels = _tiny_mnist(tmp_path, "t10k", 3, gz, seed=2)
    got_images, got_labels = load_mnist(tmp_path, "train")
    assert got_images.dtype == np.uint8 and got_images.shape == (5, 4, 3)
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)
    got_images, got_labels = load_mnist(tmp_path, kind="t10k")
    np.testing.assert_array_equal(got_images, test_images)
    np.testing.assert_array_equal(got_labels, test_labels)


def test_load_mnist_torchvision_layout(tmp_path):
    images, labels = _tiny_mnist(tmp_path / "MNIST" / "raw", "train", 2, True, seed=3)
    got_images, got_labels = load_mnist(tmp_path)
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)


def test_read_idx_other_types(tmp_path):
    arr = (np.arange(12.0).reshape(3, 4) / 7).astype(">f8")
    (tmp_path / "x.idx").write_bytes(_idx_bytes(arr, 0x0E))
    got = read_idx(tmp_path / "x.idx")
    np.testing.assert_array_equal(got, arr)
    assert got.dtype == np.float64 and got.dtype.isnative
    ints = np.array([-3, 70000, 5], dtype=">i4")
    (tmp_path / "i.idx").write_bytes(_idx_bytes(ints, 0x0C))
    np.testing.assert_array_equal(read_idx(tmp_path / "i.idx"), [-3, 70000, 5])


def test_load_mnist_missing_folder_says_what_and_where(tmp_path):
    where = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError) as info:
        load_mnist(where, "t10k")
    msg = str(info.value)
    for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", "train-images-idx3-ubyte.gz",
                 str(where), "yann.lecun.com"):
        assert name in msg
    # only the labels missing
    rng = np.random.default_rng(0)
    (tmp_path / "train-images-idx3-ubyte").write_bytes(
        _idx_bytes(rng.integers(0, 255, (2, 2, 2), dtype=np.uint8)))
    with pytest.raises(FileNotFoundError, match="missing: labels"):
        load_mnist(tmp_path)


def test_load_mnist_rejects_bad_files(tmp_path):
    rng = np.random.default_rng(4)
    images = rng.integers(0, 255, (3, 2, 2), dtype=np.uint8)
    # wrong magic number (not IDX)
    (tmp_path / "train-images-idx3-ubyte").write_bytes(b"\x12\x34" + _idx_bytes(images)[2:])
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(_idx_bytes(images[:, 0, 0]))
    with pytest.raises(ValueError, match="not an IDX file"):
        load_mnist(tmp_path)
    # truncated data
    (tmp_path / "train-images-idx3-ubyte").write_bytes(_idx_bytes(images)[:-1])
    with pytest.raises(ValueError, match="data bytes"):
        load_mnist(tmp_path)
    # labels file given as images (magic 2049 where 2051 is expected)
    (tmp_path / "train-images-idx3-ubyte").write_bytes(_idx_bytes(images[:, 0, 0]))
    with pytest.raises(ValueError, match="2051"):
        load_mnist(tmp_path)
    # count mismatch
    (tmp_path / "train-images-idx3-ubyte").write_bytes(_idx_bytes(images[:2]))
    with pytest.raises(ValueError, match="2 images but .* 3 labels"):
        load_mnist(tmp_path)
    # corrupt gzip
    (tmp_path / "g").mkdir()
    (tmp_path / "g" / "train-images-idx3-ubyte.gz").write_bytes(b"not gzip at all")
    (tmp_path / "g" / "train-labels-idx1-ubyte").write_bytes(_idx_bytes(images[:, 0, 0]))
    with pytest.raises(ValueError, match="cannot read"):
        load_mnist(tmp_path / "g")


# --- image designs ----------------------------------------------------------------------


def test_design_column_normalisation():
    rng = np.random.default_rng(5)
    images = rng.integers(0, 256, size=(40, 5, 5)).astype(np.uint8)
    images[:, 0, 0] = 0          # constant pixels are dropped
    images[:, 4, 4] = 255
    d = design_from_images(images)
    N = 23
    assert d.A.shape == (40, N) and d.n_features == N and d.n_samples == 40
    assert 0 not in d.pixels and 24 not in d.pixels
    np.testing.assert_allclose(d.A.mean(axis=0), 0, atol=1e-14)
    np.testing.assert_allclose((d.A**2).mean(axis=0), 1 / N, rtol=1e-12)
    np.testing.assert_allclose(np.diag(d.A.T @ d.A), 40 / N, rtol=1e-12)
    X = images.reshape(40, -1).astype(float)[:, d.pixels]
    np.testing.assert_allclose((X - d.mean) * d.scale, d.A, rtol=1e-12)
    np.testing.assert_allclose(d.mean, X.mean(axis=0))


def test_design_global_normalisation_keeps_relative_variances():
    rng = np.random.default_rng(6)
    images = rng.normal(size=(50, 6)) * np.array([1, 2, 3, 4, 5, 6.0])
    d = design_from_images(images, scaling="global")
    assert (d.A**2).mean() == pytest.approx(1 / 6, rel=1e-12)
    v = (d.A**2).mean(axis=0)
    np.testing.assert_allclose(v / v[0], images.var(axis=0) / images.var(axis=0)[0])


def test_design_subsets_are_seeded_and_normalised_with_kept_n():
    rng = np.random.default_rng(7)
    images = rng.uniform(size=(30, 3, 4))
    labels = np.arange(30) % 3
    d1 = design_from_images(images, n_features=5, rng=11, n_samples=20, labels=labels)
    d2 = design_from_images(images, n_features=5, rng=11, n_samples=20, labels=labels)
    d3 = design_from_images(images, n_features=5, rng=12, n_samples=20, labels=labels)
    np.testing.assert_array_equal(d1.A, d2.A)
    assert not np.array_equal(d1.pixels, d3.pixels) or not np.array_equal(d1.rows, d3.rows)
    assert d1.A.shape == (20, 5) and np.all(np.diff(d1.pixels) > 0)
    np.testing.assert_allclose((d1.A**2).mean(axis=0), 1 / 5, rtol=1e-12)
    np.testing.assert_array_equal(d1.labels, labels[d1.rows])
    with pytest.raises(ValueError, match="n_features = 13"):
        design_from_images(images, n_features=13)
    with pytest.raises(ValueError, match="scaling"):
        design_from_images(images, scaling="rows")
    with pytest.raises(ValueError, match="constant"):
        design_from_images(np.ones((4, 3)))


def test_digits_design():
    d = load_digits_design()
    assert d.A.shape == (1797, 61) and d.image_shape == (8, 8)
    assert set(range(64)) - set(d.pixels.tolist()) == {0, 32, 39}
    np.testing.assert_allclose((d.A**2).mean(axis=0), 1 / 61, rtol=1e-10)
    assert d.labels.shape == (1797,) and set(d.labels.tolist()) == set(range(10))
    small = load_digits_design(n_features=20, rng=3, n_samples=100)
    assert small.A.shape == (100, 20)


# --- IMDb --------------------------------------------------------------------------------

_REVIEWS = {
    ("train", "pos"): [(0, 9, "A wonderful film.<br /><br />Loved it."),
                       (12, 7, "Scary and fun, a great HORROR movie"),
                       (3, 10, "Best ever")],
    ("train", "neg"): [(5, 1, "Worst film, boring plot"),
                       (2, 4, "Not good; the zombies were silly")],
    ("test", "pos"): [(1, 8, "Great acting")],
    ("test", "neg"): [(1, 2, "Terrible")],
}


def _tiny_imdb(base: Path) -> Path:
    for (split, label), reviews in _REVIEWS.items():
        folder = base / "aclImdb" / split / label
        folder.mkdir(parents=True, exist_ok=True)
        for rid, rating, text in reviews:
            (folder / f"{rid}_{rating}.txt").write_text(text, encoding="utf-8")
    (base / "aclImdb" / "train" / "unsup").mkdir()
    (base / "aclImdb" / "train" / "unsup" / "0_0.txt").write_text("unlabelled")
    (base / "aclImdb" / "imdb.vocab").write_text("film\n")
    return base


def test_load_imdb_reads_back_exactly(tmp_path):
    base = _tiny_imdb(tmp_path)
    df = load_imdb(base, "train")
    assert list(df.columns) == ["id", "rating", "sentiment", "text"]
    assert df["id"].tolist() == [2, 5, 0, 3, 12]
    assert df["rating"].tolist() == [4, 1, 9, 10, 7]
    assert df["sentiment"].tolist() == [0, 0, 1, 1, 1]
    assert df["text"].tolist() == ["Not good; the zombies were silly", "Worst film, boring plot",
                                   "A wonderful film.  Loved it.", "Best ever",
                                   "Scary and fun, a great HORROR movie"]
    raw = load_imdb(base / "aclImdb", "train", strip_html=False)  # the aclImdb folder itself
    assert raw["text"][2] == "A wonderful film.<br /><br />Loved it."
    test = load_imdb(base, split="test")
    assert test[["rating", "sentiment"]].values.tolist() == [[2, 0], [8, 1]]


def test_load_imdb_max_docs_is_balanced_and_deterministic(tmp_path):
    base = _tiny_imdb(tmp_path)
    df = load_imdb(base, max_docs=3)
    assert df["id"].tolist() == [2, 0, 3] and df["sentiment"].tolist() == [0, 1, 1]
    df = load_imdb(base, max_docs=2)
    assert df["sentiment"].tolist() == [0, 1]
    assert len(load_imdb(base, "test", max_docs=10)) == 2


def test_load_imdb_missing_folder_says_where(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        load_imdb(tmp_path / "data", "test")
    msg = str(info.value)
    assert str(tmp_path / "data" / "aclImdb" / "test" / "pos") in msg
    assert "aclImdb_v1.tar.gz" in msg and "ai.stanford.edu" in msg


def test_load_imdb_rejects_bad_names(tmp_path):
    base = _tiny_imdb(tmp_path)
    (base / "aclImdb" / "train" / "pos" / "7_11.txt").write_text("x")
    with pytest.raises(ValueError, match="outside 1..10"):
        load_imdb(base)
    (base / "aclImdb" / "train" / "pos" / "7_11.txt").unlink()
    (base / "aclImdb" / "train" / "pos" / "review.txt").write_text("x")
    with pytest.raises(ValueError, match="<id>_<rating>"):
        load_imdb(base)


def test_imdb_features_tfidf(tmp_path):
    df = load_imdb(_tiny_imdb(tmp_path))
    X, vec = imdb_features(df["text"], max_features=50, min_df=1)
    terms = vec.get_feature_names_out().tolist()
    assert X.shape == (5, len(terms)) and "film" in terms and "the" not in terms
    np.testing.assert_allclose(np.sqrt(X.multiply(X).sum(axis=1)).A1, 1.0)
    Xt, same = imdb_features(["great film", "unknownword"], vectorizer=vec)
    assert same is vec and Xt.shape == (2, len(terms)) and Xt[1].nnz == 0
    small, _ = imdb_features(df["text"], max_features=3, min_df=1)
    assert small.shape == (5, 3)


def test_target_source_split():
    texts = ["A great HORROR movie", "boring drama", "Zombies!", "horrorshow is not a word",
             "gore galore", "romance"]
    target, source = imdb_target_source_split(texts)
    assert target.tolist() == [0, 2, 4] and source.tolist() == [1, 3, 5]
    t1, s1 = imdb_target_source_split(texts, n_target=2, rng=1)
    t2, _ = imdb_target_source_split(texts, n_target=2, rng=1)
    assert t1.tolist() == t2.tolist() and set(t1) < {0, 2, 4} and s1.tolist() == [1, 3, 5]
    target, source = imdb_target_source_split(texts, "random", n_target=2, rng=0)
    assert len(target) == 2 and sorted(np.r_[target, source].tolist()) == list(range(6))
    with pytest.raises(ValueError, match="n_target"):
        imdb_target_source_split(texts, "random")
    with pytest.raises(ValueError, match="method"):
        imdb_target_source_split(texts, "genre")
