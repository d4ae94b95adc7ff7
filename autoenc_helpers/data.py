"""Offline-first, checksum-verified loaders for the course's data sets.

The loaders look for each file in the data directory
(:func:`autoenc_helpers.config.default_data_dir`: ``$AUTOENC_DATA_DIR``, else the checkout's
``data/``) and download it from its canonical address
only when it is missing. Every file is checked against its pinned SHA-256 before use, then its
structure is validated. A file that fails a check is refused, never deleted or overwritten.

Command line::

    python -m autoenc_helpers.data fetch    # download every missing file
    python -m autoenc_helpers.data verify   # check every file; exit 1 if one is missing or bad
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import os
import sys
import tempfile
import urllib.request
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from autoenc_helpers.config import DATA_ENV, default_data_dir

_TF_DATASETS = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"

#: Fashion-MNIST class names, indexed by label.
FASHION_CLASSES: tuple[str, ...] = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)


@dataclass(frozen=True)
class DataFile:
    """One file of a data set: where it lives in the data directory and where it comes from."""

    relpath: str
    url: str
    sha256: str
    size: int


FILES: dict[str, DataFile] = {
    f.relpath: f
    for f in (
        DataFile("keras/datasets/fashion-mnist/train-images-idx3-ubyte.gz",
                 _TF_DATASETS + "train-images-idx3-ubyte.gz",
                 "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84", 26421880),
        DataFile("keras/datasets/fashion-mnist/train-labels-idx1-ubyte.gz",
                 _TF_DATASETS + "train-labels-idx1-ubyte.gz",
                 "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845", 29515),
        DataFile("keras/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz",
                 _TF_DATASETS + "t10k-images-idx3-ubyte.gz",
                 "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073", 4422102),
        DataFile("keras/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz",
                 _TF_DATASETS + "t10k-labels-idx1-ubyte.gz",
                 "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5", 5148),
        DataFile("keras/datasets/mnist.npz",
                 _TF_DATASETS + "mnist.npz",
                 "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1", 11490434),
        DataFile("ecg.csv",
                 "http://storage.googleapis.com/download.tensorflow.org/data/ecg.csv",
                 "72ce7b040ca0c6ed36c3368e570c6ac4ddf20100476e47373c63b2395e012df1", 7877383),
    )
}


class DataNotFoundError(FileNotFoundError):
    """A data file is missing and could not be downloaded."""


class ChecksumError(ValueError):
    """A data file's SHA-256 differs from the pinned one."""


def sha256sum(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _check(path: Path, spec: DataFile) -> None:
    """Refuse a file in the data directory whose SHA-256 is not the pinned one."""
    actual = sha256sum(path)
    if actual != spec.sha256:
        raise ChecksumError(
            f"{path} failed its checksum and was not used.\n"
            f"  expected sha256 {spec.sha256}\n  actual   sha256 {actual}\n"
            f"The file is corrupt or is not the course's copy. It was left as it is: move it "
            f"away, then run `python -m autoenc_helpers.data fetch` to download a fresh copy."
        )


def _download(spec: DataFile, target: Path) -> None:
    """Download ``spec`` to ``target`` via a temporary file; ``target`` must not exist.

    A download that fails its checksum is deleted and nothing is written to ``target``.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".download-", suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(spec.url, timeout=60) as resp:
            while chunk := resp.read(1 << 20):
                out.write(chunk)
        actual = sha256sum(tmp)
        if actual != spec.sha256:
            raise ChecksumError(
                f"The download of {spec.relpath!r} from {spec.url} failed its checksum, so it "
                f"was discarded and {target} was not written.\n"
                f"  expected sha256 {spec.sha256}\n  actual   sha256 {actual}\n"
                f"The transfer was cut short, or the file at that address has changed. Try "
                f"again (`python -m autoenc_helpers.data fetch`); if it fails again, copy the "
                f"course's file there by hand (see data/README.md)."
            )
        if target.exists():  # appeared meanwhile: never overwrite a user's file
            raise FileExistsError(f"{target} appeared during the download; left untouched.")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def ensure_file(relpath: str, data_dir: Path | None = None, download: bool = True) -> Path:
    """Path of a verified data file, downloading it first if it is missing.

    Args:
        relpath: the file's path inside the data directory, a key of :data:`FILES`
            (any other name raises ``ValueError``).
        data_dir: the data directory; default :func:`default_data_dir`.
        download: when ``False``, a missing file raises instead of being fetched.

    Raises:
        ValueError: ``relpath`` is not one of the course's data files.
        DataNotFoundError: the file is missing and could not be downloaded.
        ChecksumError: the file's SHA-256 is not the pinned one (a file in the data directory
            is left in place; a fresh download is discarded).
    """
    spec = FILES.get(relpath)
    if spec is None:
        raise ValueError(f"Unknown data file {relpath!r}. The course's data files are: "
                         + ", ".join(repr(name) for name in FILES) + ".")
    root = Path(data_dir) if data_dir is not None else default_data_dir()
    path = root / relpath
    if not path.exists():
        reason = "downloading is switched off"
        if download:
            try:
                _download(spec, path)
            except ChecksumError:
                raise
            except Exception as exc:  # no network, HTTP error, read-only folder...
                reason = f"downloading it from {spec.url} failed ({type(exc).__name__}: {exc})"
        if not path.exists():
            raise DataNotFoundError(
                f"Data file {relpath!r} is missing from the data directory {root} and "
                f"{reason}.\nFix: on a machine with internet run "
                f"`python -m autoenc_helpers.data fetch` (with {DATA_ENV}={root}), or copy the "
                f"file there by hand, or point {DATA_ENV} at a folder that has it."
            )
    _check(path, spec)
    return path


# --------------------------------------------------------------------------- file readers


def read_idx(path: Path, expect_dims: int) -> NDArray[np.uint8]:
    """Read a gzipped IDX file (the MNIST format) as uint8.

    Args:
        path: ``*-idx3-ubyte.gz`` (images, ``expect_dims=3``) or ``*-idx1-ubyte.gz``
            (labels, ``expect_dims=1``).

    Returns:
        ``(n, rows, cols)`` for images, ``(n,)`` for labels, dtype uint8.

    Raises:
        ValueError: the file is truncated or not an IDX file of that kind.
    """
    try:
        with gzip.open(path, "rb") as fh:
            raw = fh.read()
    except (OSError, EOFError, zlib.error) as exc:
        raise ValueError(f"{path} is not a readable gzip file ({exc}).") from exc
    magic = 0x0800 + expect_dims
    if len(raw) < 4 + 4 * expect_dims or int.from_bytes(raw[:4], "big") != magic:
        raise ValueError(f"{path} is not an IDX file with {expect_dims} dimension(s) "
                         f"(expected magic number {magic}).")
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(expect_dims)]
    offset = 4 + 4 * expect_dims
    if len(raw) - offset != int(np.prod(dims)):
        raise ValueError(f"{path} is truncated or malformed: header says {dims}, "
                         f"but it holds {len(raw) - offset} bytes of data.")
    return np.frombuffer(raw, np.uint8, offset=offset).reshape(dims)


def _validate_images(name: str, x: NDArray, y: NDArray, n: int) -> None:
    if x.shape != (n, 28, 28) or x.dtype != np.uint8 or y.shape != (n,):
        raise ValueError(f"{name}: expected {n} images of 28x28 uint8 with {n} labels, got "
                         f"images {x.shape} {x.dtype} and labels {y.shape}.")
    if set(np.unique(y).tolist()) != set(range(10)):
        raise ValueError(f"{name}: labels should be the digits 0-9, got {np.unique(y)}.")


ImageSplits = tuple[tuple[NDArray[np.uint8], NDArray[np.uint8]],
                    tuple[NDArray[np.uint8], NDArray[np.uint8]]]


def load_fashion_mnist(data_dir: Path | None = None) -> ImageSplits:
    """Fashion-MNIST as uint8, like ``keras.datasets.fashion_mnist.load_data()``.

    Returns:
        ``(x_train, y_train), (x_test, y_test)`` with ``x_train`` (60000, 28, 28) uint8,
        ``y_train`` (60000,) uint8, ``x_test`` (10000, 28, 28), ``y_test`` (10000,).
        Class names: :data:`FASHION_CLASSES`.
    """
    base = "keras/datasets/fashion-mnist/"
    out = []
    for split, n in (("train", 60000), ("t10k", 10000)):
        x = read_idx(ensure_file(f"{base}{split}-images-idx3-ubyte.gz", data_dir), 3)
        y = read_idx(ensure_file(f"{base}{split}-labels-idx1-ubyte.gz", data_dir), 1)
        _validate_images(f"Fashion-MNIST {split}", x, y, n)
        out.append((x, y))
    return out[0], out[1]


def read_mnist_npz(path: Path) -> ImageSplits:
    """Read Keras's ``mnist.npz``; raises ValueError naming the file if it is malformed."""
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in ("x_train", "y_train", "x_test", "y_test")}
    except Exception as exc:
        raise ValueError(f"{path} is not a readable MNIST .npz file ({exc}).") from exc
    _validate_images(f"MNIST train ({path})", arrays["x_train"], arrays["y_train"], 60000)
    _validate_images(f"MNIST test ({path})", arrays["x_test"], arrays["y_test"], 10000)
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def load_mnist(data_dir: Path | None = None) -> ImageSplits:
    """MNIST digits as uint8, like ``keras.datasets.mnist.load_data()``.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: (60000, 28, 28) uint8, (60000,) uint8,
        (10000, 28, 28) uint8, (10000,) uint8.
    """
    return read_mnist_npz(ensure_file("keras/datasets/mnist.npz", data_dir))


def read_ecg_csv(path: Path) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
    """Read ``ecg.csv``: 4998 rows of 140 samples and a 0/1 label; ValueError if malformed."""
    try:
        table = np.loadtxt(path, delimiter=",", dtype=np.float64)
    except Exception as exc:
        raise ValueError(f"{path} is not a readable ECG5000 CSV file ({exc}).") from exc
    if table.ndim != 2 or table.shape != (4998, 141):
        raise ValueError(f"{path}: expected 4998 rows of 141 numbers, got shape {table.shape}.")
    labels = table[:, -1]
    if not np.isin(labels, (0.0, 1.0)).all():
        raise ValueError(f"{path}: the last column should be 0 or 1, got {np.unique(labels)}.")
    if not np.isfinite(table).all():
        raise ValueError(f"{path}: contains NaN or infinite values.")
    return table[:, :-1].astype(np.float32), labels.astype(np.int64)


def load_ecg5000(data_dir: Path | None = None) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
    """ECG5000 heartbeats, as in the TensorFlow anomaly-detection tutorial.

    Returns:
        ``(x, y)``: ``x`` (4998, 140) float32, one heartbeat per row; ``y`` (4998,) int64,
        1 for a normal beat (2919 rows) and 0 for an abnormal one (2079 rows).
    """
    return read_ecg_csv(ensure_file("ecg.csv", data_dir))


# --------------------------------------------------------------------------- splits, scaling


def to_float(images: NDArray) -> NDArray[np.float32]:
    """Images as float32 in [0, 1], same shape: the course's one pixel conversion.

    uint8 pixels in [0, 255] are divided by 255. Float images are checked to lie in [0, 1] and
    returned as float32 *unchanged in value*: an array is never scaled twice.

    Raises:
        ValueError: another dtype, or float values outside [0, 1] (or NaN).
    """
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return images.astype(np.float32) / np.float32(255.0)
    if not np.issubdtype(images.dtype, np.floating):
        raise ValueError(f"images must be uint8 in [0, 255] or float in [0, 1], got dtype "
                         f"{images.dtype}.")
    if images.size and np.isnan(images).any():
        raise ValueError(f"images hold {int(np.isnan(images).sum())} NaN value(s): a failed "
                         "computation upstream (a division by zero, a diverged model?), not "
                         "pixels.")
    if images.size and not (images.min() >= 0 and images.max() <= 1):
        low, high = float(images.min()), float(images.max())
        hint = (" They look like pixels in [0, 255] stored as floats: pass them as uint8 "
                "(.astype(np.uint8)) to be scaled." if low >= 0 and high <= 255 else "")
        raise ValueError(f"float images must lie in [0, 1], got values in [{low:.4g}, "
                         f"{high:.4g}].{hint}")
    return images.astype(np.float32, copy=False)


def binarise(images: NDArray[np.uint8], seed: int = 0) -> NDArray[np.uint8]:
    """Binary images drawn once: each pixel is on with probability ``intensity / 255``.

    The *stochastic binarisation* of MNIST used to report VAE likelihoods in nats (lesson 7):
    done once, with a fixed seed, so every epoch and every model sees the same binary images.
    Give each set (training, test, ...) a seed of its own: with one seed, image ``i`` of every
    set would get the same uniform draws. The result stays uint8, with pixels 0 or 255, so
    :func:`to_float` (giving 0.0 or 1.0), :func:`autoencoder_dataset` and every other helper
    take it unchanged.

    Args:
        images: ``(n, ...)`` uint8 greyscale images. seed: seed of the draw.

    Returns:
        ``(n, ...)`` uint8 array of 0s and 255s.
    """
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise ValueError(f"binarise expects uint8 images in [0, 255], got {images.dtype}.")
    # u uniform on {0, ..., 254}: P(u < pixel) = pixel / 255, in one byte per pixel.
    draws = np.random.default_rng(seed).integers(0, 255, size=images.shape, dtype=np.uint8)
    return np.where(draws < images, np.uint8(255), np.uint8(0))


def train_val_split(x: NDArray, y: NDArray | None = None, val_fraction: float = 0.1,
                    seed: int = 0, stratify: bool = True) -> tuple[NDArray, ...]:
    """Carve a validation split out of the training data (the test set stays untouched).

    Args:
        x: ``(n, ...)`` inputs. y: optional ``(n,)`` labels, used to stratify.

    Returns:
        ``(x_train, x_val)`` or, with labels, ``(x_train, x_val, y_train, y_val)``.
    """
    from sklearn.model_selection import train_test_split

    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction}.")
    arrays = (x,) if y is None else (x, y)
    strat = y if (y is not None and stratify) else None
    return tuple(train_test_split(*arrays, test_size=val_fraction, random_state=seed,
                                  stratify=strat))


@dataclass(frozen=True)
class Splits:
    """Train, validation and test examples (``x_*``: ``(n, ...)``) and labels (``y_*``:
    ``(n,)``): what :func:`train_val_test_split` (lesson 4) and lesson 5's
    :func:`autoenc_helpers.sequences.make_signal_splits` return. Defined in lesson 4."""

    x_train: NDArray
    y_train: NDArray
    x_val: NDArray
    y_val: NDArray
    x_test: NDArray
    y_test: NDArray

    def sizes(self, names: Sequence[str] | None = None) -> dict[str, dict[str, int]]:
        """``{"train": {name: count, ...}, "validation": ..., "test": ...}`` for a quick table.

        ``names[c]`` names label ``c`` (e.g. :data:`autoenc_helpers.metrics.CLASS_NAMES`,
        ``("normal", "anomaly")``); without names, the labels found in the three parts,
        as strings.

        >>> s = Splits(np.zeros((3, 1)), np.array([0, 1, 1]), np.zeros((2, 1)), np.array([0, 1]),
        ...            np.zeros((1, 1)), np.array([0]))
        >>> s.sizes(("normal", "anomaly"))["train"]
        {'normal': 1, 'anomaly': 2}
        >>> s.sizes()["test"]
        {'0': 1, '1': 0}
        """
        labels = (range(len(names)) if names is not None else
                  np.unique(np.concatenate([self.y_train, self.y_val, self.y_test])).tolist())
        shown = list(names) if names is not None else [str(c) for c in labels]
        return {part: {shown[i]: int((np.asarray(y) == c).sum()) for i, c in enumerate(labels)}
                for part, y in (("train", self.y_train), ("validation", self.y_val),
                                ("test", self.y_test))}


def train_val_test_split(x: NDArray, y: NDArray, val_fraction: float = 0.2,
                         test_fraction: float = 0.2, seed: int = 0) -> Splits:
    """Stratified, seeded split into train / validation / test. Defined in lesson 4.

    Args:
        x: ``(n, ...)`` examples. y: ``(n,)`` labels (stratified on).
        val_fraction, test_fraction: shares of the *whole* data set.

    Returns:
        :class:`Splits`; the test part is cut first, then the validation part from the rest.
    """
    if not (0 < val_fraction < 1 and 0 < test_fraction < 1 and val_fraction + test_fraction < 1):
        raise ValueError("val_fraction and test_fraction must be in (0, 1) and sum below 1, got "
                         f"{val_fraction} and {test_fraction}.")
    x_rest, x_test, y_rest, y_test = train_val_split(x, y, test_fraction, seed)
    x_train, x_val, y_train, y_val = train_val_split(x_rest, y_rest,
                                                     val_fraction / (1 - test_fraction), seed)
    return Splits(x_train, y_train, x_val, y_val, x_test, y_test)


def subsample(x: NDArray, n: int, y: NDArray | None = None, seed: int = 0):
    """The first ``n`` of a random permutation of the rows (all rows if ``n >= len(x)``).

    Returns ``x_sub`` or ``(x_sub, y_sub)`` when labels are given.
    """
    idx = np.random.default_rng(seed).permutation(len(x))[: min(n, len(x))]
    return x[idx] if y is None else (x[idx], y[idx])


def autoencoder_dataset(images: NDArray[np.uint8], batch_size: int = 256, shuffle: bool = True,
                        seed: int = 0, corrupt=None):
    """A ``tf.data`` pipeline of ``(input, target)`` float batches from uint8 images.

    Written out in lesson 1: shuffle the uint8 images (a new order every epoch), batch them,
    and turn each batch into the pair ``(x, x)`` of float32 images in [0, 1]. The images stay
    uint8 in memory (a quarter of the float32 size). Lesson 2 adds ``corrupt``: the input is
    then a corrupted copy and the target the clean batch (a *denoising* autoencoder).

    Args:
        images: ``(n, h, w)`` uint8. batch_size: examples per batch.
        shuffle: reshuffle every epoch (reproducibly, from ``seed``).
        corrupt: optional function ``(clean_batch, seed_pair) -> noisy_batch`` on float32
            tensors of shape ``(b, h, w)``; ``seed_pair`` is a ``(2,)`` int tensor, different
            for every batch and every epoch, for stateless random ops.

    Returns:
        A ``tf.data.Dataset`` of ``(input, target)``, each ``(b, h, w)`` float32, that Keras'
        ``fit`` accepts directly.
    """
    import tensorflow as tf

    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim < 2:
        raise ValueError(f"autoencoder_dataset expects uint8 images (n, h, w), got "
                         f"{images.dtype} {images.shape}.")
    ds = tf.data.Dataset.from_tensor_slices(images)
    if shuffle:
        ds = ds.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    if corrupt is None:
        def to_pair(batch):
            clean = tf.cast(batch, tf.float32) / 255.0
            return clean, clean
        ds = ds.map(to_pair, num_parallel_calls=tf.data.AUTOTUNE)
    else:
        # one random number per batch, new every epoch yet reproducible from `seed`
        keys = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)

        def to_noisy_pair(key, batch):
            clean = tf.cast(batch, tf.float32) / 255.0
            return corrupt(clean, tf.stack([tf.cast(seed, tf.int64), key])), clean
        ds = tf.data.Dataset.zip(keys, ds).map(to_noisy_pair, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


class MinMaxScaler1D:
    """Scale every value to [0, 1] with one min and max fitted on training data only.

    Unlike scikit-learn's per-feature ``MinMaxScaler`` this keeps the shape of a signal (all
    140 samples of a heartbeat share one scale), as in the TensorFlow ECG tutorial.
    """

    def fit(self, x: NDArray) -> MinMaxScaler1D:
        """Learn the global min and max of ``x`` (any shape)."""
        self.min_ = float(np.min(x))
        self.max_ = float(np.max(x))
        if self.max_ <= self.min_:
            raise ValueError("Cannot scale constant data: min == max.")
        return self

    def transform(self, x: NDArray) -> NDArray[np.float32]:
        """``(x - min) / (max - min)`` as float32, same shape as ``x``."""
        if not hasattr(self, "min_"):
            raise RuntimeError("MinMaxScaler1D: call fit() on training data first.")
        return ((x - self.min_) / (self.max_ - self.min_)).astype(np.float32)



# --------------------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> int:
    """``fetch`` or ``verify`` every data file; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m autoenc_helpers.data",
                                     description="Download or verify the course's data sets.")
    parser.add_argument("command", choices=["fetch", "verify"])
    parser.add_argument("--data-dir", type=Path, default=None,
                        help=f"data directory (default: ${DATA_ENV} or the checkout's data/)")
    args = parser.parse_args(argv)
    root = args.data_dir or default_data_dir()
    print(f"data directory: {root}")
    bad = 0
    for relpath in FILES:
        try:
            ensure_file(relpath, root, download=args.command == "fetch")
            print(f"  ok       {relpath}")
        except (DataNotFoundError, ChecksumError) as exc:
            bad += 1
            print(f"  PROBLEM  {relpath}\n{exc}\n", file=sys.stderr)
    print("all files present and verified" if not bad else f"{bad} file(s) missing or corrupt")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
