"""Dataset loaders, on files the tests write themselves (IDX, CIFAR-10 binary)."""
import gzip
import struct

import numpy as np
import pytest

from accel.config import ConfigError
from accel.data import load_dataset, load_digits_images, read_idx
from accel.network import load_network

MNIST_NET = {"name": "m", "dataset": "mnist", "input": {"channels": 1, "size": 32},
             "layers": [{"type": "conv", "out_channels": 2, "kernel": 3}, {"type": "dense", "classes": 10}]}
CIFAR_NET = {"name": "c", "dataset": "cifar10", "input": {"channels": 3, "size": 32},
             "layers": [{"type": "conv", "out_channels": 2, "kernel": 3}, {"type": "dense", "classes": 10}]}


def idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(struct.pack(">I", d) for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_mnist(folder, n_train=5, n_test=3, gz=False, seed=0):
    rng = np.random.default_rng(seed)
    arrays = {"train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28)),
              "train-labels-idx1-ubyte": rng.integers(0, 10, n_train),
              "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28)),
              "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test)}
    for name, a in arrays.items():
        data = idx_bytes(a)
        if gz:
            (folder / f"{name}.gz").write_bytes(gzip.compress(data))
        else:
            (folder / name).write_bytes(data)
    return arrays


def write_cifar(folder, per_batch=2, seed=0):
    rng = np.random.default_rng(seed)
    out = {}
    for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
        labels = rng.integers(0, 10, per_batch)
        pixels = rng.integers(0, 256, (per_batch, 3, 32, 32))
        rec = np.concatenate([labels[:, None], pixels.reshape(per_batch, -1)], axis=1).astype(np.uint8)
        (folder / name).write_bytes(rec.tobytes())
        out[name] = (labels, pixels)
    return out


# ------------------------------------------------------------------ digits


def test_digits_default_split_and_scaling():
    cfg = load_network("lenet-digits")
    a = load_dataset(cfg)
    assert a.x_train.shape == (1437, 1, 16, 16) and a.x_test.shape == (360, 1, 16, 16)
    assert a.classes == 10 and set(np.unique(a.y_train)) == set(range(10))
    assert abs(a.x_train.mean()) < 1e-12 and abs(a.x_train.std() - 1) < 1e-12
    b = load_dataset(cfg, seed=5)  # the split does not depend on the training seed
    assert np.array_equal(a.x_test, b.x_test) and np.array_equal(a.y_train, b.y_train)


def test_digits_upsampling_is_nearest_neighbour():
    x, y = load_digits_images(16)
    assert x.shape == (1797, 1, 16, 16) and 0 <= x.min() and x.max() <= 1
    assert np.array_equal(x[:, :, ::2, ::2], x[:, :, 1::2, 1::2])
    with pytest.raises(ConfigError, match="multiple of 8"):
        load_digits_images(12)


def test_random_dataset_is_seeded():
    cfg = load_network({**MNIST_NET, "dataset": "random", "input": {"channels": 2, "size": 8}})
    a, b, c = load_dataset(cfg, seed=1), load_dataset(cfg, seed=1), load_dataset(cfg, seed=2)
    assert a.x_train.shape[1:] == (2, 8, 8)
    assert np.array_equal(a.x_train, b.x_train) and not np.array_equal(a.x_train, c.x_train)


# ------------------------------------------------------------------ MNIST


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_idx_files(tmp_path, gz):
    arrays = write_mnist(tmp_path, gz=gz)
    d = load_dataset(load_network(MNIST_NET), tmp_path)
    assert d.x_train.shape == (5, 1, 32, 32) and d.x_test.shape == (3, 1, 32, 32)
    assert np.array_equal(d.y_train, arrays["train-labels-idx1-ubyte"])
    # padded by 2 on each side: the border is the standardized value of 0
    border = d.x_train[:, 0, :2, :]
    assert np.allclose(border, border.flat[0])
    raw = arrays["train-images-idx3-ubyte"]
    inner = d.x_train[:, 0, 2:30, 2:30]
    assert np.allclose(np.corrcoef(inner.ravel(), raw.ravel())[0, 1], 1.0)


def test_mnist_errors(tmp_path):
    cfg = load_network(MNIST_NET)
    with pytest.raises(ConfigError, match="--data"):
        load_dataset(cfg)
    with pytest.raises(ConfigError, match="not found"):
        load_dataset(cfg, tmp_path)
    write_mnist(tmp_path)
    f = tmp_path / "train-images-idx3-ubyte"
    good = f.read_bytes()
    f.write_bytes(b"\x01" + good[1:])
    with pytest.raises(ConfigError, match="magic"):
        load_dataset(cfg, tmp_path)
    f.write_bytes(good[:-10])
    with pytest.raises(ConfigError, match="header announces"):
        load_dataset(cfg, tmp_path)
    f.write_bytes(good)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(4)))
    with pytest.raises(ConfigError, match="5 images but"):
        load_dataset(cfg, tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(b"not gzip")
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(5)))
    with pytest.raises(ConfigError, match="cannot read"):
        load_dataset(cfg, tmp_path)


def test_read_idx_checks_dimensions():
    with pytest.raises(ConfigError, match="dimensions"):
        read_idx(idx_bytes(np.zeros((2, 3))), "f", 3)


# ------------------------------------------------------------------ CIFAR-10


def test_cifar_binary_batches(tmp_path):
    written = write_cifar(tmp_path)
    d = load_dataset(load_network(CIFAR_NET), tmp_path)
    assert d.x_train.shape == (10, 3, 32, 32) and d.x_test.shape == (2, 3, 32, 32)
    assert np.array_equal(d.y_test, written["test_batch.bin"][0])
    labels, pixels = written["data_batch_1.bin"]
    assert np.array_equal(d.y_train[:2], labels)
    # channel planes kept apart: per-channel standardization is affine per channel
    for c in range(3):
        assert np.allclose(np.corrcoef(d.x_train[:2, c].ravel(), pixels[:, c].ravel())[0, 1], 1.0)


def test_cifar_subfolder_and_errors(tmp_path):
    cfg = load_network(CIFAR_NET)
    sub = tmp_path / "cifar-10-batches-bin"
    sub.mkdir()
    write_cifar(sub)
    assert load_dataset(cfg, tmp_path).x_train.shape[0] == 10
    (sub / "data_batch_3.bin").unlink()
    with pytest.raises(ConfigError, match="data_batch_3.bin"):
        load_dataset(cfg, tmp_path)
    (sub / "data_batch_3.bin").write_bytes(b"\x00" * 100)
    with pytest.raises(ConfigError, match="whole number"):
        load_dataset(cfg, tmp_path)
    with pytest.raises(ConfigError, match="not a folder"):
        load_dataset(cfg, tmp_path / "nope")
    with pytest.raises(ConfigError, match="channel"):
        load_dataset(load_network({**CIFAR_NET, "input": {"channels": 1, "size": 32}}), tmp_path)
