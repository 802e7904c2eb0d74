"""Datasets: images ``(N, C, n, n)`` float64 and labels ``(N,)`` int64, split train/test.

* ``digits`` (default, bundled with scikit-learn, no download): the 1797 8x8 digits,
  scaled to [0, 1] (pixel / 16) and upsampled to the network's input size by
  nearest-neighbour repetition (16x16: each pixel becomes a 2x2 block; exact, adds no
  interpolation artefacts, and keeps the strokes' full contrast).  Fixed split: 20 %
  test, stratified, ``random_state=0`` (independent of the training seed, so every run
  is scored on the same images).
* ``mnist``: the four IDX files (``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
  ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``, each optionally ``.gz``) from
  ``--data DIR``; 28x28 scaled to [0, 1] and zero-padded (centred) to the input size (32).
* ``cifar10``: the binary batches ``data_batch_1.bin`` .. ``data_batch_5.bin`` and
  ``test_batch.bin`` (in DIR or DIR/cifar-10-batches-bin), 3x32x32, scaled to [0, 1].
* ``random``: seeded Gaussian images and uniform random labels (shape tests, benchmarks).

Then every dataset is standardized with the training set's per-channel mean and standard
deviation (zero-mean inputs keep the DC bins of the spectra small).  Every problem with
the files (missing, truncated, wrong magic number, bad labels) raises ConfigError.
"""
from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from accel.config import ConfigError, DenseLayer, NetworkConfig

DIGITS_TEST_FRACTION = 0.2
RANDOM_TRAIN, RANDOM_TEST = 512, 128


@dataclass(frozen=True)
class Dataset:
    """Train and test images (N, C, n, n) float64 with int64 labels in [0, classes)."""
    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: int


# --------------------------------------------------------------------------- digits


def load_digits_images(size: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """sklearn's digits as (1797, 1, size, size) in [0, 1], nearest-neighbour upsampled."""
    from sklearn.datasets import load_digits

    d = load_digits()
    if size % 8:
        raise ConfigError(f"input.size: digits are 8x8 and upsample by whole factors; size {size} "
                          f"is not a multiple of 8")
    f = size // 8
    x = np.repeat(np.repeat(d.images / 16.0, f, axis=1), f, axis=2)
    return x[:, None].astype(np.float64), d.target.astype(np.int64)


def _digits(size: int) -> tuple[np.ndarray, ...]:
    from sklearn.model_selection import train_test_split

    x, y = load_digits_images(size)
    return tuple(train_test_split(x, y, test_size=DIGITS_TEST_FRACTION, random_state=0, stratify=y))


def native_digits() -> tuple[np.ndarray, ...]:
    """The digits at their native 8 x 8, in [0, 1], split as the ``digits`` dataset is:
    (x_train, x_test, y_train, y_test); image i here is image i of that dataset before its
    upsampling (nearest, which keeps the mean and the standard deviation) and
    standardization."""
    return _digits(8)


# --------------------------------------------------------------------------- MNIST IDX

_IDX_TYPES = {0x08: np.uint8}


def _open_maybe_gz(folder: Path, name: str) -> tuple[bytes, Path]:
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            try:
                raw = candidate.read_bytes()
                data = gzip.decompress(raw) if candidate.suffix == ".gz" else raw
            except (OSError, EOFError, gzip.BadGzipFile) as exc:
                raise ConfigError(f"data: cannot read {str(candidate)!r}: {exc}") from None
            return data, candidate
    raise ConfigError(f"data: {name} (or {name}.gz) not found in {str(folder)!r}")


def read_idx(data: bytes, path: str, ndim: int) -> np.ndarray:
    """Parse an IDX file (magic: two zero bytes, type 0x08 = ubyte, number of dimensions;
    big-endian uint32 sizes; then the values)."""
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ConfigError(f"data: {path!r} is not an IDX file (bad magic number)")
    if data[2] not in _IDX_TYPES:
        raise ConfigError(f"data: {path!r}: IDX value type 0x{data[2]:02x} is not unsigned bytes (0x08)")
    if data[3] != ndim:
        raise ConfigError(f"data: {path!r}: expected {ndim} dimensions, the header says {data[3]}")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ConfigError(f"data: {path!r} is truncated (header)")
    dims = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    count = int(np.prod(dims))
    if len(data) != header + count:
        raise ConfigError(f"data: {path!r}: header announces {count} values of {dims}, file holds "
                          f"{len(data) - header}")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def load_mnist(folder: str | Path, size: int = 32) -> tuple[np.ndarray, ...]:
    """MNIST from IDX files: (x_train, x_test, y_train, y_test), x in [0, 1] (N, 1, size, size)
    centred and zero-padded."""
    folder = Path(folder)
    out = {}
    for split, prefix in (("train", "train"), ("test", "t10k")):
        img_bytes, img_path = _open_maybe_gz(folder, f"{prefix}-images-idx3-ubyte")
        lab_bytes, lab_path = _open_maybe_gz(folder, f"{prefix}-labels-idx1-ubyte")
        images = read_idx(img_bytes, str(img_path), 3)
        labels = read_idx(lab_bytes, str(lab_path), 1)
        if len(images) != len(labels):
            raise ConfigError(f"data: {str(img_path)!r} has {len(images)} images but "
                              f"{str(lab_path)!r} has {len(labels)} labels")
        if labels.size and labels.max() > 9:
            raise ConfigError(f"data: {str(lab_path)!r}: labels must be 0..9, found {int(labels.max())}")
        h, w = images.shape[1:]
        if h > size or w > size:
            raise ConfigError(f"input.size: MNIST images are {h}x{w}, larger than the input size {size}")
        top, left = (size - h) // 2, (size - w) // 2
        x = np.zeros((len(images), 1, size, size))
        x[:, 0, top:top + h, left:left + w] = images / 255.0
        out[split] = (x, labels.astype(np.int64))
    return out["train"][0], out["test"][0], out["train"][1], out["test"][1]


# --------------------------------------------------------------------------- CIFAR-10 binary

CIFAR_RECORD = 1 + 3 * 32 * 32
CIFAR_TRAIN_FILES = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
CIFAR_TEST_FILE = "test_batch.bin"


def read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One CIFAR-10 binary batch: records of 1 label byte + 3072 pixel bytes (R, G, B planes)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"data: cannot read {str(path)!r}: {exc.strerror or exc}") from None
    if not data or len(data) % CIFAR_RECORD:
        raise ConfigError(f"data: {str(path)!r}: {len(data)} bytes is not a whole number of "
                          f"{CIFAR_RECORD}-byte CIFAR-10 records")
    rec = np.frombuffer(data, dtype=np.uint8).reshape(-1, CIFAR_RECORD)
    labels = rec[:, 0].astype(np.int64)
    if labels.max() > 9:
        raise ConfigError(f"data: {str(path)!r}: labels must be 0..9, found {int(labels.max())}")
    return rec[:, 1:].reshape(-1, 3, 32, 32) / 255.0, labels


def load_cifar10(folder: str | Path) -> tuple[np.ndarray, ...]:
    """CIFAR-10 from its binary batches: (x_train, x_test, y_train, y_test)."""
    folder = Path(folder)
    if (folder / "cifar-10-batches-bin").is_dir():
        folder = folder / "cifar-10-batches-bin"
    missing = [f for f in CIFAR_TRAIN_FILES + (CIFAR_TEST_FILE,) if not (folder / f).is_file()]
    if missing:
        raise ConfigError(f"data: CIFAR-10 binary files missing in {str(folder)!r}: {', '.join(missing)}")
    train = [read_cifar_batch(folder / f) for f in CIFAR_TRAIN_FILES]
    x_test, y_test = read_cifar_batch(folder / CIFAR_TEST_FILE)
    return (np.concatenate([t[0] for t in train]), x_test,
            np.concatenate([t[1] for t in train]), y_test)


# --------------------------------------------------------------------------- entry point


def _random(channels: int, size: int, classes: int, seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((RANDOM_TRAIN, channels, size, size)),
            rng.standard_normal((RANDOM_TEST, channels, size, size)),
            rng.integers(0, classes, RANDOM_TRAIN), rng.integers(0, classes, RANDOM_TEST))


def standardize(x_train: np.ndarray, x_test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Subtract the training set's per-channel mean, divide by its per-channel std."""
    mean = x_train.mean(axis=(0, 2, 3), keepdims=True)
    std = x_train.std(axis=(0, 2, 3), keepdims=True)
    std[std == 0] = 1.0
    return (x_train - mean) / std, (x_test - mean) / std


def load_dataset(cfg: NetworkConfig, data_dir: str | Path | None = None, seed: int = 0) -> Dataset:
    """The network's dataset (``cfg.dataset``), checked against its input shape and classes.
    ``data_dir`` is needed for mnist and cifar10; ``seed`` only drives ``random``."""
    c, n = cfg.input.channels, cfg.input.size
    classes = cfg.layers[-1].classes if isinstance(cfg.layers[-1], DenseLayer) else 10
    if cfg.dataset in ("mnist", "cifar10") and data_dir is None:
        files = ("train-images-idx3-ubyte[.gz] and friends" if cfg.dataset == "mnist"
                 else "data_batch_1.bin .. test_batch.bin")
        raise ConfigError(f"data: network {cfg.name!r} trains on {cfg.dataset}; give --data DIR "
                          f"with its {files}")
    if data_dir is not None and not Path(data_dir).is_dir():
        raise ConfigError(f"data: {str(data_dir)!r} is not a folder")
    channels = {"digits": 1, "mnist": 1, "cifar10": 3}.get(cfg.dataset, c)
    if channels != c:
        raise ConfigError(f"input.channels: {cfg.dataset} images have {channels} channel(s), "
                          f"the network expects {c}")
    if cfg.dataset == "digits":
        x_tr, x_te, y_tr, y_te = _digits(n)
    elif cfg.dataset == "mnist":
        assert data_dir is not None
        x_tr, x_te, y_tr, y_te = load_mnist(data_dir, n)
    elif cfg.dataset == "cifar10":
        if n != 32:
            raise ConfigError(f"input.size: CIFAR-10 images are 32x32, the network expects {n}x{n}")
        assert data_dir is not None
        x_tr, x_te, y_tr, y_te = load_cifar10(data_dir)
    else:
        x_tr, x_te, y_tr, y_te = _random(c, n, classes, seed)
    for split, y in (("train", y_tr), ("test", y_te)):
        if len(y) and y.max() >= classes:
            raise ConfigError(f"layers[-1].classes: {cfg.dataset} {split} labels go up to {int(y.max())}, "
                              f"the classifier has {classes} classes")
    x_tr, x_te = standardize(x_tr, x_te)
    return Dataset(cfg.dataset, x_tr, y_tr.astype(np.int64), x_te, y_te.astype(np.int64), classes)
