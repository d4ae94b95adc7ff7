"""Quick/full settings and seeding."""

from __future__ import annotations

import ctypes
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from autoenc_helpers.config import (QUICK_EPOCHS, QUICK_MAX_SAMPLES, display_path, get_settings,
                                    lean_malloc, set_seed)


def test_full_mode_is_the_default(monkeypatch):
    monkeypatch.delenv("AUTOENC_QUICK", raising=False)
    s = get_settings()
    assert not s.quick and s.mode == "full"
    assert s.epochs(20) == 20 and s.n_samples(60000) == 60000 and s.pick(1, 2) == 1


def test_quick_mode_shrinks_data_and_epochs(monkeypatch):
    monkeypatch.setenv("AUTOENC_QUICK", "1")
    s = get_settings()
    assert s.quick
    assert s.epochs(20) == QUICK_EPOCHS
    assert s.n_samples(60000) == QUICK_MAX_SAMPLES and s.n_samples(10) == 10
    assert s.pick(1, 2) == 2


def test_data_dir_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("AUTOENC_DATA_DIR", str(tmp_path))
    assert get_settings().data_dir == tmp_path.resolve()


def test_set_seed_makes_numpy_and_keras_repeatable():
    import keras

    def draw():
        set_seed(7)
        return np.random.rand(3), keras.random.normal((3,)).numpy()

    (a1, k1), (a2, k2) = draw(), draw()
    np.testing.assert_array_equal(a1, a2)
    np.testing.assert_array_equal(k1, k2)


def test_same_seed_trains_the_same_model():
    """Two training runs after set_seed give identical weights (deterministic ops)."""
    from autoenc_helpers.models import dense_autoencoder

    def train():
        set_seed(3)
        x = np.random.rand(128, 28, 28).astype("float32")
        ae, _, _ = dense_autoencoder((28, 28), latent_dim=4, hidden=(16,))
        ae.compile(optimizer="adam", loss="mse")
        ae.fit(x, x, epochs=2, batch_size=32, verbose=0)
        return ae.get_weights()

    for w1, w2 in zip(train(), train()):
        np.testing.assert_array_equal(w1, w2)


def test_settings_never_print_an_absolute_path(monkeypatch, tmp_path):
    monkeypatch.setenv("AUTOENC_DATA_DIR", str(tmp_path))
    shown = str(get_settings())
    assert "data_dir=$AUTOENC_DATA_DIR" in shown and str(tmp_path) not in shown
    monkeypatch.delenv("AUTOENC_DATA_DIR")
    assert display_path(Path.home() / "autoenc_data") == "~/autoenc_data"
    repo = Path(__file__).resolve().parent.parent
    assert display_path(repo / "data") == "data"
    assert display_path(Path("/somewhere/else/course-data")) == "course-data"


def test_set_seed_on_a_gpu_says_so_instead_of_failing(monkeypatch, capsys):
    """On a GPU op determinism is not switched on (some kernels have no deterministic
    version); set_seed prints one line and seeds everything else."""
    import tensorflow as tf

    enabled = []
    monkeypatch.setattr(tf.config, "list_physical_devices",
                        lambda kind=None: ["/physical_device:GPU:0"] if kind == "GPU" else [])
    monkeypatch.setattr(tf.config.experimental, "enable_op_determinism",
                        lambda: enabled.append(True))
    set_seed(5)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and "GPU" in lines[0] and "deterministic" in lines[0]
    assert not enabled
    monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: [])
    set_seed(5)
    assert enabled == [True] and capsys.readouterr().out == ""


def test_set_seed_rejects_a_bad_seed():
    with pytest.raises(ValueError, match="seed"):
        set_seed(-1)
    with pytest.raises(ValueError, match="seed"):
        set_seed(1.5)


_MALLOC_PROBE = textwrap.dedent("""
    import ctypes, sys

    class MallInfo2(ctypes.Structure):
        _fields_ = [(name, ctypes.c_size_t) for name in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
            "uordblks", "fordblks", "keepcost")]

    libc = ctypes.CDLL(None)
    libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    libc.mallinfo2.restype = MallInfo2
    if sys.argv[1] == "lean":
        from autoenc_helpers.config import lean_malloc
        assert lean_malloc()
    libc.free(libc.malloc(20 * 2**20))  # glibc now raises its mmap threshold past 20 MiB
    before = libc.mallinfo2().hblks     # number of separately mapped blocks
    block = libc.malloc(8 * 2**20)
    print(libc.mallinfo2().hblks - before)
    libc.free(block)
""")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc only")
def test_lean_malloc_maps_large_buffers_even_after_large_frees(monkeypatch):
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    try:
        ctypes.CDLL(None).mallinfo2  # noqa: B018  (glibc >= 2.33)
    except AttributeError:
        pytest.skip("not glibc >= 2.33")
    new_mappings = {mode: int(subprocess.run([sys.executable, "-c", _MALLOC_PROBE, mode],
                                             capture_output=True, text=True, check=True).stdout)
                    for mode in ("plain", "lean")}
    # plain glibc serves the 8 MiB block from its heap (kept, fragments); lean maps it
    assert new_mappings == {"plain": 0, "lean": 1}


def test_lean_malloc_leaves_an_explicit_setting_and_other_systems_alone(monkeypatch):
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "131072")
    assert lean_malloc() is False
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_")
    monkeypatch.setattr(sys, "platform", "darwin")
    assert lean_malloc() is False


def test_seed_override_from_the_environment(monkeypatch):
    from autoenc_helpers.config import SEED_ENV, resolve_seed

    monkeypatch.delenv(SEED_ENV, raising=False)
    assert resolve_seed(5) == 5
    monkeypatch.setenv(SEED_ENV, "101")
    assert resolve_seed(5) == 101
    monkeypatch.setenv(SEED_ENV, "abc")
    with pytest.raises(ValueError, match="AUTOENC_SEED"):
        resolve_seed(5)


_ARENA_PROBE = textwrap.dedent("""
    import ctypes, sys, tempfile, threading

    libc = ctypes.CDLL(None)
    libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
    libc.fopen.restype, libc.fopen.argtypes = ctypes.c_void_p, [ctypes.c_char_p, ctypes.c_char_p]
    libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
    libc.fclose.argtypes = [ctypes.c_void_p]
    if sys.argv[1] == "lean":
        from autoenc_helpers.config import lean_malloc
        lean_malloc()
    barrier = threading.Barrier(7)

    def work():
        libc.malloc(1000)   # a thread's first malloc attaches it to an arena (kept, not freed)
        barrier.wait()      # all six alive at once

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    barrier.wait()
    with tempfile.NamedTemporaryFile(suffix=".xml") as f:
        fp = libc.fopen(f.name.encode(), b"w")
        libc.malloc_info(0, fp)
        libc.fclose(fp)
        print(open(f.name).read().count("<heap nr="))
    for t in threads:
        t.join()
""")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc only")
def test_lean_malloc_caps_the_number_of_heaps(monkeypatch):
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    heaps = {mode: int(subprocess.run([sys.executable, "-c", _ARENA_PROBE, mode],
                                      capture_output=True, text=True, check=True).stdout)
             for mode in ("plain", "lean")}
    assert heaps["lean"] <= 2 < heaps["plain"], heaps


_TRIM_PROBE = textwrap.dedent("""
    import ctypes, sys
    import psutil

    libc = ctypes.CDLL(None)
    libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    blocks = [libc.malloc(64 * 1024) for _ in range(4000)]     # 256 MB of small heap blocks
    for b in blocks:
        ctypes.memset(b, 1, 64 * 1024)                            # touched: resident
    for b in blocks[:-1]:
        libc.free(b)                                              # the last one pins the heap top
    before = psutil.Process().memory_info().rss
    from autoenc_helpers.config import free_memory
    released = free_memory()
    print(int(released), (before - psutil.Process().memory_info().rss) // 2**20)
""")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc only")
def test_free_memory_hands_freed_heap_pages_back():
    out = subprocess.run([sys.executable, "-c", _TRIM_PROBE], capture_output=True, text=True,
                         check=True).stdout.split()
    released, freed_mb = int(out[0]), int(out[1])
    assert released == 1 and freed_mb > 100, out


_WARNING_PROBE = textwrap.dedent("""
    import warnings
    from autoenc_helpers.config import quiet_tensorflow

    quiet_tensorflow()
    import keras
    import numpy as np
    import tensorflow as tf

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    pairs = tf.data.Dataset.from_tensor_slices((np.ones((8, 2), "float32"),
                                                np.ones((8, 1), "float32"))).batch(4)
    seen = []
    old = warnings.showwarning
    warnings.showwarning = lambda message, *args, **kwargs: seen.append(str(message))
    model.fit(pairs, epochs=1, verbose=0)                              # known length
    model.fit(pairs.filter(lambda x, y: True), epochs=1, verbose=0)    # unknown length
    model.fit(pairs, steps_per_epoch=5, epochs=1, verbose=0)           # asks for too many
    warnings.showwarning = old
    print(sum("shuffle=True" in m for m in seen), sum("ran out of data" in m for m in seen))
""")


def test_quiet_tensorflow_mutes_the_shuffle_warning_only():
    """Keras' needless "shuffle=True was passed" warning is muted; its "input ran out of data"
    warning, a real sign of a pipeline shorter than asked for, still reaches the student."""
    out = subprocess.run([sys.executable, "-c", _WARNING_PROBE], capture_output=True, text=True,
                         check=True).stdout.split()
    shuffle, ran_out = int(out[0]), int(out[1])
    assert shuffle == 0 and ran_out >= 1, out
