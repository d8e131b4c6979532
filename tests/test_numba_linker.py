"""DL's Numba code computes with IEEE arithmetic (DL.engine.numba_linker): a script's first,
cold run computes the same bits as a later run that loads the compiled code from the caches.

The cold-against-warm test runs this module as a script, twice, in processes that share
new, empty caches (PyTensor's compile folder, Numba's cache, DL's graph cache):

    python tests/test_numba_linker.py OUT.npy

The graphs: BatchNorm's gradient, where PyTensor's fast-math flags made a cold process and
a warm one differ (by 1.2e-7 in the last bits, on an AMD EPYC with AVX-512), and a fused
LSTM's gradient (DL's own kernels).
"""
import os
import subprocess
import sys

import numpy
import pytest

from DL.backend import BACKEND
from conftest import HANG

pytestmark = pytest.mark.skipif(BACKEND != "pytensor", reason="the Numba linker belongs to PyTensor's engine")


def batchnorm_gradient():
    """(x, w) -> d(sum(BatchNorm(x) * w))/dx for x, w `(6, 4, 6, 6)`, compiled by DL."""
    from DL.backend import T, function, grad
    from DL.models.BatchNorm import BatchNorm
    x, w = T.tensor4("x"), T.tensor4("w")
    normalized = BatchNorm(None, 4, momentum=0.3).apply(x, train=True)
    return function([x, w], grad((normalized * w).sum(), x))


def batchnorm_gradient_values():
    rng = numpy.random.RandomState(0)
    return batchnorm_gradient()(rng.rand(6, 4, 6, 6).astype("float32"),
                                rng.randn(6, 4, 6, 6).astype("float32"))


def lstm_gradient_values():
    """The cost and gradients of a fused LSTM (DL's kernels, their gates' tanh and exp in
    explicit FMAs) on 8 x 30 x 16 inputs with padding, flattened into one vector."""
    from DL.backend import T, function, grad
    from DL.models.LSTM import LSTM
    x, mask = T.tensor3("x"), T.matrix("mask")
    layer = LSTM(numpy.random.RandomState(1), x, mask, 16)
    cost = (layer.output ** 2).sum()
    rng = numpy.random.RandomState(2)
    values = function([x, mask], [cost] + grad(cost, layer.params + [x]))(
        rng.randn(8, 30, 16).astype("float32"), (rng.rand(8, 30) > 0.2).astype("float32"))
    return numpy.concatenate([numpy.ravel(value) for value in values])


def run_with_caches(folder, out):
    env = dict(os.environ, HOME=str(folder), NUMBA_CACHE_DIR=str(folder / "numba"))
    env.pop("PYTENSOR_FLAGS", None)  # (the compile folder under the new HOME)
    env.pop("DL_FASTMATH", None)
    subprocess.run([sys.executable, __file__, str(out)], env=env, check=True, timeout=HANG,
                   cwd=os.path.dirname(__file__))
    return numpy.load(out)


def test_a_cold_process_computes_the_bits_a_warm_one_does(tmp_path):
    cold = run_with_caches(tmp_path, tmp_path / "cold.npy")
    assert any((tmp_path / ".pytensor").rglob("*.nbc")), "the first process cached nothing"
    warm = run_with_caches(tmp_path, tmp_path / "warm.npy")
    assert cold.dtype == warm.dtype == numpy.float32
    assert numpy.array_equal(cold, warm)
    assert numpy.isfinite(cold).all()


def test_dl_compiles_without_fast_math_and_gives_the_setting_back(monkeypatch):
    from pytensor import config
    from DL.engine.numba_linker import DLNumbaLinker
    monkeypatch.delenv("DL_FASTMATH", raising=False)
    assert config.numba__fastmath  # PyTensor's default
    with DLNumbaLinker()._setting():
        assert not config.numba__fastmath
    assert config.numba__fastmath
    monkeypatch.setenv("DL_FASTMATH", "1")
    with DLNumbaLinker()._setting():
        assert config.numba__fastmath
    batchnorm_gradient_values()
    assert config.numba__fastmath


def test_dl_functions_compile_in_dl_s_linker():
    assert type(batchnorm_gradient().maker.linker).__name__ == "DLNumbaLinker"


def test_the_gradient_is_batchnorm_s():
    """The numbers compared above are the gradient, by NumPy in float64."""
    rng = numpy.random.RandomState(0)
    x, w = rng.rand(6, 4, 6, 6), rng.randn(6, 4, 6, 6)
    mean, var = x.mean((0, 2, 3), keepdims=True), x.var((0, 2, 3), keepdims=True)
    scale, count = 1 / numpy.sqrt(var + 1e-5), 6 * 6 * 6  # gamma is 1 at the start
    dx = scale * (w - w.mean((0, 2, 3), keepdims=True)
                  - (x - mean) * scale ** 2 * (w * (x - mean)).sum((0, 2, 3), keepdims=True) / count)
    numpy.testing.assert_allclose(batchnorm_gradient_values(), dx, rtol=2e-4, atol=2e-5)


if __name__ == "__main__":
    numpy.save(sys.argv[1], numpy.concatenate([batchnorm_gradient_values().ravel(), lstm_gradient_values()]))
