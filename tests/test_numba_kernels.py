"""DL.engine.numba_kernels: the float32 tanh and ExpandDims DL gives its own graphs in
PyTensor's Numba engine, and their registration when DL first compiles in a Numba mode
(tests/test_isolation.py checks that other graphs keep PyTensor's code)."""
import math
import os
import subprocess
import sys

import numpy
import pytest
from numpy.testing import assert_array_equal, assert_array_max_ulp

from DL.backend import BACKEND, T, function
from conftest import HANG  # a subprocess's bound on a hang (cold compiles take minutes)

pytestmark = pytest.mark.skipif(BACKEND != "pytensor",
                                reason="Numba is one of PyTensor's engines; legacy Theano has none")

NUMBA = "NUMBA"
C_ENGINE = "CVM"


def float32_grid(limit=10.0, step=61):
    """Every `step`-th float32 in [0, limit], both signs: about 36 million values."""
    top = numpy.float32(limit).view(numpy.int32)
    positive = numpy.arange(0, top + 1, step, dtype=numpy.int32).view(numpy.float32)
    return numpy.concatenate([positive, -positive])


def ulps(values, exact):
    """|values - exact| in units of the float32 spacing at `exact`."""
    spacing = numpy.spacing(numpy.abs(exact).astype(numpy.float32)).astype(numpy.float64)
    return numpy.abs(values.astype(numpy.float64) - exact) / spacing


def reference_rational_tanh(x):
    """The kernel's formula in NumPy: its float32 constants, float64 arithmetic
    (so that only the kernel's own arithmetic rounds)."""
    from DL.engine import numba_kernels as kernels
    as_float32 = lambda c: float(numpy.float32(c))  # noqa: E731
    numerator = [as_float32(a) for a in kernels.TANH_NUMERATOR]
    denominator = [as_float32(b) for b in kernels.TANH_DENOMINATOR]
    clamp = as_float32(kernels.TANH_CLAMP)
    x = x.astype(numpy.float64)
    clipped = numpy.clip(x, -clamp, clamp)
    x2 = clipped * clipped
    p = sum(a * x2 ** k for k, a in enumerate(numerator)) * clipped
    q = sum(b * x2 ** k for k, b in enumerate(denominator))
    return numpy.where(numpy.abs(x) < as_float32(kernels.TANH_TINY), x, numpy.clip(p / q, -1, 1))


def run_python(code, **environment):
    env = dict(os.environ, **environment)
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=HANG)


# --- tanh ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def numba_tanh32():
    x = T.vector("x", dtype="float32")
    return function([x], T.tanh(x), mode=NUMBA)


@pytest.mark.slow
def test_float32_tanh_within_five_ulp_of_the_exact_value(numba_tanh32):
    x = float32_grid()
    y = numba_tanh32(x)
    assert y.dtype == numpy.float32
    error = ulps(y, numpy.tanh(x.astype(numpy.float64)))
    assert error.max() <= 5.0, "worst at x=%r" % x[numpy.argmax(error)]
    assert error.mean() < 0.25


def test_float32_tanh_is_the_rational_approximation(numba_tanh32):
    # the kernel in use is DL's (not the C library's tanhf): it agrees with the
    # formula to rounding, and differs from NumPy's tanh on many values
    x = float32_grid(step=6007)
    y = numba_tanh32(x)
    formula = reference_rational_tanh(x)
    assert ulps(y, formula).max() <= 4.0  # (p and q round in float32: 3.6 ulp near saturation)
    assert numpy.mean(y != numpy.tanh(x)) > 0.05


def test_float32_tanh_edges(numba_tanh32):
    x = numpy.array([numpy.nan, numpy.inf, -numpy.inf, 1e30, -1e30, 9.0, -9.0, 0.0, -0.0, 1e-40, 3e-4,
                     numpy.float32(1.17549435e-38)], dtype=numpy.float32)
    y = numba_tanh32(x)
    assert numpy.isnan(y[0])  # so optimize's non-finite guard still sees it
    assert_array_equal(y[1:7], [1, -1, 1, -1, 1, -1])
    assert_array_equal(y[7:], x[7:])  # tanh(x) = x for |x| < 0.0004, exactly
    grid = numba_tanh32(float32_grid(step=997))
    assert numpy.all(numpy.abs(grid) <= 1)


def test_float32_tanh_in_a_fused_expression_and_its_gradient():
    x = T.matrix("x", dtype="float32")
    b = T.vector("b", dtype="float32")
    h = T.tanh(x + b)
    cost = h.sum()
    f = function([x, b], [h, T.grad(cost, b)], mode=NUMBA)
    rng = numpy.random.default_rng(0)
    xv = rng.normal(0, 2, (37, 11)).astype("float32")
    bv = rng.normal(0, 1, 11).astype("float32")
    h_value, grad_value = f(xv, bv)
    exact = numpy.tanh(xv.astype(float) + bv)
    assert ulps(h_value, exact).max() <= 5.0
    numpy.testing.assert_allclose(grad_value, (1 - exact ** 2).sum(0), rtol=2e-5, atol=2e-5)


def test_float64_tanh_keeps_the_c_library():
    x = T.vector("x", dtype="float64")
    values = numpy.linspace(-10, 10, 100001)
    c_library = numpy.array([math.tanh(v) for v in values])  # Python's math.tanh is the C library's
    # (1 ulp: see test_float64_and_the_libm_versions_keep_the_c_library)
    assert_array_max_ulp(function([x], T.tanh(x), mode=NUMBA)(values), c_library, maxulp=1)


def test_DL_FAST_TANH_0_keeps_pytensors_tanh():
    code = ("import numpy; from DL.backend import T, function\n"
            "x = T.vector('x', dtype='float32')\n"
            "v = numpy.linspace(-5, 5, 100001, dtype='float32')\n"
            "y = function([x], T.tanh(x), mode='NUMBA')(v)\n"
            "print(numpy.abs(y.astype(float) - numpy.tanh(v.astype(float))).max())\n")
    fast = run_python(code)
    exact = run_python(code, DL_FAST_TANH="0")
    assert fast.returncode == 0 and exact.returncode == 0, fast.stderr[-2000:] + exact.stderr[-2000:]
    assert float(exact.stdout) < 1e-7 < float(fast.stdout) < 3e-7


# --- exp and the sigmoid (the fused LSTM's gates) -------------------------------

@pytest.fixture(scope="module")
def elementwise():
    """Python-callable loops over DL's scalar kernels (they are compiled for use
    inside other Numba code only)."""
    from pytensor.link.numba.dispatch.basic import numba_njit
    from DL.engine import numba_kernels as kernels

    def loop_over(scalar):
        @numba_njit(error_model="numpy", final_function=True)
        def apply(x):
            out = numpy.empty_like(x)
            for j in range(x.size):
                out[j] = scalar(x[j])
            return out
        return apply

    return {name: loop_over(getattr(kernels, name))
            for name in ("exp_float32", "dl_sigmoid", "dl_tanh", "libm_sigmoid", "libm_tanh")}


@pytest.mark.slow
def test_float32_exp_within_five_ulp_over_its_range(elementwise):
    x = numpy.concatenate([float32_grid(limit=87.0, step=61)])
    exact = numpy.exp(x.astype(numpy.float64))
    error = ulps(elementwise["exp_float32"](x), exact)
    assert error.max() <= 5.0, "worst at x=%r" % x[numpy.argmax(error)]
    assert error.mean() < 2.0


def test_float32_sigmoid_within_four_ulp_relative(elementwise):
    # 1.5e-7 (about one float32 ulp) where the gates live; up to 3e-7 far in the
    # negative tail, where exp(-x) carries its own few ulp into 1 / (1 + exp(-x))
    x = float32_grid(limit=80.0, step=61)
    exact = 1 / (1 + numpy.exp(-x.astype(numpy.float64)))
    relative = numpy.abs(elementwise["dl_sigmoid"](x) - exact) / exact
    assert relative.max() < 4 * 2.0 ** -23, "worst at x=%r" % x[numpy.argmax(relative)]
    assert relative[numpy.abs(x) < 16].max() < 2e-7


def test_float32_exp_and_sigmoid_edges(elementwise):
    x = numpy.array([numpy.nan, numpy.inf, -numpy.inf, 1e30, -1e30, 0.0], dtype=numpy.float32)
    exp, sigmoid = elementwise["exp_float32"](x), elementwise["dl_sigmoid"](x)
    assert numpy.isnan(exp[0]) and numpy.isnan(sigmoid[0])  # the non-finite guard still sees NaN
    assert numpy.all(numpy.isfinite(exp[1:]))               # clamped to float32's range
    assert_array_equal(sigmoid[[1, 3, 5]], [1, 1, 0.5])
    assert 0 <= sigmoid[2] < 1e-38 and 0 <= sigmoid[4] < 1e-38  # 1 / (1 + FLT_MAX): zero or subnormal
    assert exp[5] == 1


def test_float64_and_the_libm_versions_keep_the_c_library(elementwise):
    # Against Python's math.exp and math.tanh (the C library's), not NumPy's: on
    # AVX-512 CPUs NumPy has its own exp, 1 ulp away from the C library's for about
    # 2% of these values.  Allowed: 1 float64 ulp, for a C library or vector math
    # library that Numba may pick on another machine; DL's float32 code, were it
    # used here, would be some 1e9 float64 ulps off.
    x64 = numpy.linspace(-30, 30, 10001)
    c_library_sigmoid = numpy.array([1 / (1 + math.exp(-v)) for v in x64])
    assert_array_max_ulp(elementwise["dl_sigmoid"](x64), c_library_sigmoid, maxulp=1)
    assert_array_max_ulp(elementwise["dl_tanh"](x64), numpy.array([math.tanh(v) for v in x64]), maxulp=1)
    x32 = numpy.linspace(-30, 30, 10001, dtype=numpy.float32)  # (the C library's tanhf: within 2 ulp)
    tanh_float32_grid = elementwise["libm_tanh"](float32_grid(step=6007))
    assert ulps(tanh_float32_grid, numpy.tanh(float32_grid(step=6007).astype(numpy.float64))).max() <= 2
    assert numpy.mean(tanh_float32_grid != elementwise["dl_tanh"](float32_grid(step=6007))) > 0.05
    exact = 1 / (1 + numpy.exp(-x32.astype(numpy.float64)))
    assert (numpy.abs(elementwise["libm_sigmoid"](x32) - exact) / exact).max() < 4e-7


# --- ExpandDims -------------------------------------------------------------------

def expand_dims_cases():
    rng = numpy.random.default_rng(1)
    matrix = rng.normal(size=(4, 6)).astype("float32")
    return {
        "row of a bias": (lambda v: v.dimshuffle("x", 0), rng.normal(size=6).astype("float32")),
        "column": (lambda v: v.dimshuffle(0, "x"), rng.normal(size=6).astype("float32")),
        "middle": (lambda m: m.dimshuffle(0, "x", 1), matrix),
        "both ends": (lambda m: m.dimshuffle("x", 0, 1, "x"), matrix),
        "of a 0-d": (lambda s: s.dimshuffle("x", "x"), numpy.array(2.5, dtype="float32")),
        "of a transpose": (lambda m: m.T.dimshuffle("x", 0, 1), matrix),
        "of a column slice (not contiguous)": (lambda m: m[:, ::2].dimshuffle(0, "x", 1), matrix),
    }


def transpose_cases():
    rng = numpy.random.default_rng(2)
    matrix = rng.normal(size=(5, 7)).astype("float32")
    return {
        "of a contiguous matrix": (lambda m: m.T, matrix),
        "of a transpose (back to contiguous)": (lambda m: m.T.T, matrix),
        "of a row slice": (lambda m: m[1:4].T, matrix),
        "of a column slice (not contiguous)": (lambda m: m[:, ::2].T, matrix),
        "of a Fortran-ordered input": (lambda m: m.T, numpy.asfortranarray(matrix)),
    }


@pytest.mark.parametrize("case", sorted(transpose_cases()))
def test_matrix_transpose_gives_the_c_engines_numbers_in_products_and_elementwise(case):
    build, value = transpose_cases()[case]
    x = T.matrix("x", dtype="float32")
    transposed = build(x)
    rows, columns = transposed.shape
    right = T.cast(T.arange(columns * 3).reshape((columns, 3)), "float32") / 7
    left = T.cast(T.arange(3 * rows).reshape((3, rows)), "float32") / 7
    outputs = [transposed, T.dot(transposed, right), T.dot(left, transposed), T.tanh(transposed) * 2]
    numba_values = function([x], outputs, mode=NUMBA)(value)
    c_values = function([x], outputs, mode=C_ENGINE)(value)
    for numba_value, c_value in zip(numba_values, c_values):
        assert numba_value.shape == c_value.shape
        numpy.testing.assert_allclose(numba_value, c_value, rtol=1e-6, atol=1e-6)
    assert_array_equal(numba_values[0], c_values[0])


@pytest.mark.parametrize("case", sorted(expand_dims_cases()))
def test_expand_dims_gives_the_c_engines_numbers(case):
    build, value = expand_dims_cases()[case]
    x = T.tensor("x", dtype="float32", shape=(None,) * value.ndim)
    expanded = build(x)
    # broadcast against a full array, as a bias is: the new axes of length 3
    full_shape = [3 if length == 1 else expanded.shape[i] for i, length in enumerate(expanded.type.shape)]
    plus = T.ones(full_shape, dtype="float32")
    outputs = [expanded, expanded * 2 + plus]
    numba_values = function([x], outputs, mode=NUMBA)(value)
    c_values = function([x], outputs, mode=C_ENGINE)(value)
    for numba_value, c_value in zip(numba_values, c_values):
        assert numba_value.shape == c_value.shape
        assert_array_equal(numba_value, c_value)


def test_expand_dims_output_can_be_updated_in_place_without_touching_the_input():
    # a reshape is a view, like PyTensor's as_strided: updating the input after the call
    # must not be seen in a result the caller holds
    v = T.vector("v", dtype="float32")
    f = function([v], v.dimshuffle("x", 0) + T.zeros((2, 1), dtype="float32"), mode=NUMBA)
    value = numpy.arange(5, dtype="float32")
    result = f(value)
    value[:] = -1
    assert_array_equal(result, numpy.tile(numpy.arange(5, dtype="float32"), (2, 1)))


# --- registration -----------------------------------------------------------------

def test_importing_DL_imports_neither_numba_nor_jax():
    result = run_python("import sys, DL, DL.models, DL.optimizers, DL.updates\n"
                        "print(sorted(m for m in ('numba', 'jax') if m in sys.modules))")
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[]"


def test_kernels_are_registered_by_the_first_numba_compile():
    result = run_python("from DL.engine import numba_kernels\n"
                        "from DL.backend import T, function\n"
                        "before = numba_kernels._registered\n"
                        "x = T.vector('x')\n"
                        "function([x], T.tanh(x), mode='NUMBA')\n"
                        "print(before, numba_kernels._registered)")
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["False", "True"]


# --- OrderedSum: a float sum over every element, vectorized in a fixed order ----------

def ordered_sum_in_numpy(values, lanes, dtype=numpy.float64):
    """OrderedSum's order, in NumPy (float64 unless `dtype` says): rows of `lanes` elements
    added row by row into `lanes` partial sums, the partials in order, then the elements
    left over in order."""
    flat = numpy.ravel(values).astype(dtype)
    rows = flat.size // lanes
    partial = numpy.zeros(lanes, dtype)
    for row in flat[:rows * lanes].reshape(rows, lanes):
        partial += row
    total = partial[0]
    for value in list(partial[1:]) + list(flat[rows * lanes:]):
        total += value
    return total


@pytest.mark.parametrize("shape", [(785, 500), (3, 7), (2, 1024, 3), (1024,), (1,)])
def test_a_sum_over_every_element_is_ordered_sum_in_its_order(shape):
    from DL.engine.numba_kernels import SUM_LANES
    x = T.TensorType("float32", shape=(None,) * len(shape))("x")
    f = function([x], [x.sum(), T.sum(x, dtype="float64"), T.sqr(x).sum()], mode=NUMBA)
    assert sum(type(node.op).__name__ == "OrderedSum" for node in f.maker.fgraph.toposort()) == 3
    values = numpy.random.RandomState(sum(shape)).randn(*shape).astype("float32")
    as_float32, as_float64, squares = f(values)
    exact = ordered_sum_in_numpy(values, SUM_LANES)
    assert as_float32.dtype == numpy.float32 and as_float64.dtype == numpy.float64
    assert as_float64 == exact and as_float32 == numpy.float32(exact)
    assert squares == numpy.float32(ordered_sum_in_numpy(numpy.square(values), SUM_LANES))  # (float32 squares)
    assert numpy.isclose(as_float64, math.fsum(values.astype(float).ravel()), rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("size", [0, 5, 16, 40, 133])
def test_lane_sum_adds_in_ordered_sums_order_with_any_number_of_lanes(size):
    import numba
    from DL.engine.numba_kernels import lane_sum as kernel
    lane_sum = numba.njit(lambda values, partial: kernel(values, partial))  # (DL's njit has no Python entry)
    values = numpy.random.RandomState(size).randn(size).astype("float32")
    partial = numpy.full(16, numpy.nan, "float32")  # scratch: lane_sum sets it to zero itself
    total = lane_sum(values, partial)
    assert numpy.float32(total) == total == ordered_sum_in_numpy(values, 16, numpy.float32)  # float32 partials
    assert lane_sum(values, numpy.empty(16)) == ordered_sum_in_numpy(values, 16)  # float64 partials


def test_ordered_sum_keeps_nan_and_inf_and_leaves_other_sums_to_pytensor():
    x = T.matrix("x")
    f = function([x], [x.sum(), x.sum(axis=0), x.sum(axis=1)], mode=NUMBA)
    names = [type(node.op).__name__ for node in f.maker.fgraph.toposort()]
    assert names.count("OrderedSum") == 1 and names.count("Sum") == 2
    values = numpy.ones((40, 50), "float32")
    assert f(values)[0] == 2000
    values[3, 4] = numpy.nan
    assert numpy.isnan(f(values)[0])
    values[3, 4] = numpy.inf
    assert f(values)[0] == numpy.inf
    ints = T.lmatrix("ints")
    g = function([ints], ints.sum(), mode=NUMBA)
    assert "OrderedSum" not in [type(node.op).__name__ for node in g.maker.fgraph.toposort()]
    assert g(numpy.arange(12).reshape(3, 4)) == 66
