"""DL.engine.c_blas: DL's functions in PyTensor's C mode link to the OpenBLAS in SciPy's wheel,
without the "could not link to a BLAS installation" warning, and nothing else changes."""
import os
import subprocess
import sys
import warnings

import numpy
import pytest
from numpy.testing import assert_allclose

from DL.backend import BACKEND, T, function, grad
from conftest import HANG  # a subprocess's bound on a hang (cold compiles take minutes)

pytestmark = pytest.mark.skipif(BACKEND != "pytensor", reason="PyTensor's C engine")


def products(mode="CVM", compile=function):
    """A graph with a matrix-vector product, an outer product and a matrix product (and the
    gradient's), compiled in `mode`; its value, its gradients, and its BLAS Ops' names."""
    x, w, v = T.dmatrix("x"), T.dmatrix("w"), T.dvector("v")
    y = T.tanh(T.dot(x, w)).sum() + (T.dot(w, v) ** 2).sum() + T.outer(v, v).sum()
    f = compile([x, w, v], [y] + grad(y, [w, v]), mode=mode)
    names = {type(node.op).__name__ for node in f.maker.fgraph.toposort()}
    return f, names


def numpy_values(x, w, v):
    y = numpy.tanh(x @ w).sum() + ((w @ v) ** 2).sum() + numpy.outer(v, v).sum()
    d_w = x.T @ (1 - numpy.tanh(x @ w) ** 2) + 2 * numpy.outer(w @ v, v)
    d_v = 2 * w.T @ (w @ v) + 2 * v.sum()  # (the outer product: the sum of v, for each entry)
    return y, d_w, d_v


@pytest.fixture(scope="module")
def data():
    rng = numpy.random.RandomState(0)
    return rng.randn(5, 7), 0.3 * rng.randn(7, 6), rng.randn(6)


def test_a_c_mode_function_runs_blas_and_computes_numpys_values(data):
    from DL.engine.c_blas import scipy_openblas
    if scipy_openblas() is None:
        pytest.skip("this SciPy ships no OpenBLAS of its own")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        f, names = products()
    assert {"CGemv", "CGer"} <= names  # PyTensor's C Ops that call BLAS (without: Gemv, Ger)
    assert not [w for w in caught if "could not link to a BLAS" in str(w.message)]
    for got, expected in zip(f(*data), numpy_values(*data)):
        assert_allclose(got, expected, rtol=1e-10)


def test_nothing_outside_dls_function_changes(data):
    import pytensor
    from pytensor import config
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        before = config.blas__ldflags
        products()
        assert config.blas__ldflags == before
        plain, names = products(compile=pytensor.function)  # the user's own function: PyTensor's choice
    assert ("CGemv" in names) == bool(before)
    for got, expected in zip(plain(*data), numpy_values(*data)):
        assert_allclose(got, expected, rtol=1e-10)


def test_dl_c_blas_0_leaves_pytensors_fallbacks(monkeypatch, data):
    from pytensor import config
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if config.blas__ldflags:
            pytest.skip("PyTensor found a BLAS of its own here")
    monkeypatch.setenv("DL_C_BLAS", "0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f, names = products()
    assert "CGemv" not in names and "Gemv" in names
    for got, expected in zip(f(*data), numpy_values(*data)):
        assert_allclose(got, expected, rtol=1e-10)


@pytest.mark.slow
def test_the_users_own_flags_are_kept():
    # blas__ldflags set by the user, here to nothing: DL links no BLAS of its own
    code = ("import warnings; warnings.simplefilter('ignore')\n"
            "from DL.backend import T, function\n"
            "v, w = T.dvector(), T.dmatrix()\n"
            "f = function([w, v], T.dot(w, v), mode='CVM')\n"
            "print(sorted(type(n.op).__name__ for n in f.maker.fgraph.toposort()))")
    env = dict(os.environ, PYTENSOR_FLAGS="blas__ldflags=")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=HANG, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Gemv" in result.stdout and "CGemv" not in result.stdout
