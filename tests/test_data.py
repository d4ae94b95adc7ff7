"""Data loading: checksums, clear errors, structure validation, splits and scaling."""

from __future__ import annotations

import gzip
import hashlib
import io
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from autoenc_helpers import data
from autoenc_helpers.data import (ChecksumError, DataFile, DataNotFoundError, MinMaxScaler1D,
                                  ensure_file, read_ecg_csv, read_idx, read_mnist_npz,
                                  train_val_test_split)
from autoenc_helpers.metrics import CLASS_NAMES


def _no_network(*args, **kwargs):
    raise urllib.error.URLError("no network in this test")


@pytest.fixture
def tiny_file(monkeypatch) -> tuple[str, bytes]:
    """A registered data file whose 'canonical' content is known to the test."""
    content = b"hello autoencoders\n"
    spec = DataFile("tiny/hello.txt", "https://example.invalid/hello.txt",
                    hashlib.sha256(content).hexdigest(), len(content))
    monkeypatch.setitem(data.FILES, spec.relpath, spec)
    return spec.relpath, content


def test_missing_file_without_network_names_file_dir_and_command(tmp_path, monkeypatch, tiny_file):
    monkeypatch.setattr(urllib.request, "urlopen", _no_network)
    relpath, _ = tiny_file
    with pytest.raises(DataNotFoundError) as err:
        ensure_file(relpath, tmp_path)
    msg = str(err.value)
    assert relpath in msg and str(tmp_path) in msg
    assert "python -m autoenc_helpers.data fetch" in msg
    assert not (tmp_path / relpath).exists()


def test_download_writes_verified_file(tmp_path, monkeypatch, tiny_file):
    relpath, content = tiny_file
    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout: io.BytesIO(content))
    path = ensure_file(relpath, tmp_path)
    assert path.read_bytes() == content
    assert not list(path.parent.glob(".download-*")), "temporary file left behind"


def test_corrupt_download_is_refused_and_not_kept(tmp_path, monkeypatch, tiny_file):
    relpath, _ = tiny_file
    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout: io.BytesIO(b"evil"))
    with pytest.raises(ChecksumError):
        ensure_file(relpath, tmp_path)
    assert not (tmp_path / relpath).exists()
    assert not list((tmp_path / "tiny").glob("*")), "nothing of a bad download may stay"


def test_checksum_mismatch_is_refused_and_file_kept(tmp_path, tiny_file):
    relpath, content = tiny_file
    path = tmp_path / relpath
    path.parent.mkdir(parents=True)
    path.write_bytes(content + b"tampered")
    with pytest.raises(ChecksumError) as err:
        ensure_file(relpath, tmp_path)
    msg = str(err.value)
    assert data.FILES[relpath].sha256 in msg
    assert hashlib.sha256(content + b"tampered").hexdigest() in msg
    assert path.read_bytes() == content + b"tampered", "a user's file is never overwritten"


def _idx_bytes(arr: np.ndarray) -> bytes:
    header = (0x0800 + arr.ndim).to_bytes(4, "big")
    header += b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    return header + arr.astype(np.uint8).tobytes()


def test_read_idx_roundtrip_and_bad_files(tmp_path):
    images = np.arange(3 * 4 * 5, dtype=np.uint8).reshape(3, 4, 5)
    good = tmp_path / "good-idx3-ubyte.gz"
    good.write_bytes(gzip.compress(_idx_bytes(images)))
    np.testing.assert_array_equal(read_idx(good, 3), images)

    truncated = tmp_path / "truncated.gz"
    truncated.write_bytes(gzip.compress(_idx_bytes(images)[:-7]))
    with pytest.raises(ValueError, match="truncated.gz"):
        read_idx(truncated, 3)
    with pytest.raises(ValueError, match="magic"):
        read_idx(good, 1)  # an image file where labels were expected
    not_gzip = tmp_path / "plain.gz"
    not_gzip.write_bytes(b"not gzip at all")
    with pytest.raises(ValueError, match="plain.gz"):
        read_idx(not_gzip, 3)


def test_read_mnist_npz_rejects_wrong_content(tmp_path):
    bad = tmp_path / "mnist.npz"
    np.savez(bad, x_train=np.zeros((5, 28, 28), np.uint8))
    with pytest.raises(ValueError, match="mnist.npz"):
        read_mnist_npz(bad)


def test_read_ecg_csv_rejects_wrong_width_and_labels(tmp_path):
    narrow = tmp_path / "narrow.csv"
    np.savetxt(narrow, np.zeros((4998, 10)), delimiter=",")
    with pytest.raises(ValueError, match="narrow.csv"):
        read_ecg_csv(narrow)
    labels = tmp_path / "labels.csv"
    table = np.zeros((4998, 141))
    table[:, -1] = 3.0
    np.savetxt(labels, table, delimiter=",")
    with pytest.raises(ValueError, match="0 or 1"):
        read_ecg_csv(labels)


def test_train_val_split_is_stratified_and_disjoint():
    x = np.arange(1000).reshape(500, 2)
    y = np.repeat([0, 1], [400, 100])
    x_tr, x_val, y_tr, y_val = data.train_val_split(x, y, val_fraction=0.2, seed=1)
    assert len(x_val) == 100 and len(x_tr) == 400
    assert (y_val == 1).sum() == 20
    assert not set(x_tr[:, 0]) & set(x_val[:, 0])
    with pytest.raises(ValueError):
        data.train_val_split(x, y, val_fraction=1.5)


def test_minmax_scaler_fits_on_training_data_only():
    train = np.array([[0.0, 2.0], [4.0, 1.0]])
    test = np.array([[8.0, -4.0]])
    scaler = MinMaxScaler1D().fit(train)
    np.testing.assert_allclose(scaler.transform(train), [[0, 0.5], [1, 0.25]])
    np.testing.assert_allclose(scaler.transform(test), [[2.0, -1.0]])  # not refitted on test
    with pytest.raises(RuntimeError):
        MinMaxScaler1D().transform(test)


# ------------------------------------------------------------------ the real files


def test_real_fashion_mnist(real_data_dir: Path):
    (x_tr, y_tr), (x_te, y_te) = data.load_fashion_mnist(real_data_dir)
    assert x_tr.shape == (60000, 28, 28) and x_tr.dtype == np.uint8
    assert x_te.shape == (10000, 28, 28)
    assert y_tr[:5].tolist() == [9, 0, 0, 3, 0] and y_te[:5].tolist() == [9, 2, 1, 1, 6]
    assert np.bincount(y_tr).tolist() == [6000] * 10


def test_real_mnist(real_data_dir: Path):
    (x_tr, y_tr), (x_te, y_te) = data.load_mnist(real_data_dir)
    assert x_tr.shape == (60000, 28, 28) and x_te.shape == (10000, 28, 28)
    assert y_tr[:5].tolist() == [5, 0, 4, 1, 9]
    assert np.bincount(y_tr).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265,
                                          5851, 5949]


def test_real_ecg(real_data_dir: Path):
    x, y = data.load_ecg5000(real_data_dir)
    assert x.shape == (4998, 140) and x.dtype == np.float32
    assert (y == 1).sum() == 2919 and (y == 0).sum() == 2079


def test_cli_verify(real_data_dir: Path, tmp_path, capsys):
    assert data.main(["verify", "--data-dir", str(real_data_dir)]) == 0
    assert data.main(["verify", "--data-dir", str(tmp_path)]) == 1  # empty: all missing
    assert "missing" in capsys.readouterr().out
    assert not any(tmp_path.iterdir()), "verify never downloads"


def test_corrupt_download_message_is_true(tmp_path, monkeypatch, tiny_file):
    """The message names the address and the target, not a deleted temporary file, and does
    not claim that anything was kept."""
    relpath, _ = tiny_file
    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout: io.BytesIO(b"evil"))
    with pytest.raises(ChecksumError) as err:
        ensure_file(relpath, tmp_path)
    msg = str(err.value)
    assert ".part" not in msg and "left as it is" not in msg
    assert "https://example.invalid/hello.txt" in msg and "discarded" in msg
    assert hashlib.sha256(b"evil").hexdigest() in msg


def test_unknown_data_file_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match=r"Unknown data file 'mnist\.npz'.*keras/datasets/mnist"):
        ensure_file("mnist.npz", tmp_path)


# --------------------------------------------------------------------------- splits


def test_train_val_test_split_is_stratified_disjoint_and_seeded():
    x = np.arange(1000, dtype=float)[:, None] * np.ones((1, 3))
    y = (np.arange(1000) % 4 == 0).astype(int)  # 25 % anomalies
    s = train_val_test_split(x, y, val_fraction=0.2, test_fraction=0.2, seed=3)
    assert (len(s.x_train), len(s.x_val), len(s.x_test)) == (600, 200, 200)
    for part in (s.y_train, s.y_val, s.y_test):
        assert part.mean() == pytest.approx(0.25, abs=0.01)
    ids = [set(p[:, 0]) for p in (s.x_train, s.x_val, s.x_test)]
    assert not (ids[0] & ids[1] or ids[0] & ids[2] or ids[1] & ids[2])
    assert np.array_equal(train_val_test_split(x, y, seed=3).x_test, s.x_test)
    assert not np.array_equal(train_val_test_split(x, y, seed=4).x_test, s.x_test)
    assert s.sizes(CLASS_NAMES)["test"] == {"normal": 150, "anomaly": 50}
    assert s.sizes()["train"] == {"0": 450, "1": 150}
    with pytest.raises(ValueError, match="sum below 1"):
        train_val_test_split(x, y, val_fraction=0.5, test_fraction=0.5)
