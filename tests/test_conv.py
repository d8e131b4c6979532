"""DL.engine.conv.conv2d: exact against NumPy references written with direct loops (and
SciPy's convolve2d for true convolution), with strides, every border mode, rectangular
filters and images, several channels, filter_flip both ways; float64 and float32; on
the Numba, JAX and C/Python engines (or on legacy Theano); gradients against the
references and against central differences; and bad arguments."""
import contextlib
import importlib.util

import numpy
import pytest
from scipy.signal import convolve2d

from DL.backend import BACKEND, T, function, grad, shared
from DL.engine.conv import conv2d

DTYPES = ["float64", "float32"]
if BACKEND == "pytensor":  # FAST_COMPILE runs the Ops' `perform`
    NO_JAX = pytest.mark.skipif(importlib.util.find_spec("jax") is None,
                                reason="jax is not installed (pip install DL[jax])")
    ENGINES = [pytest.param((mode, dtype), marks=[NO_JAX] if mode == "JAX" else [], id="%s-%s" % (mode, dtype))
               for mode in ("NUMBA", "JAX", "FAST_COMPILE") for dtype in DTYPES]
else:  # legacy Theano's own conv2d
    ENGINES = [pytest.param((None, dtype), id="theano-" + dtype) for dtype in DTYPES]
TOLERANCE = {"float64": 1e-10, "float32": 2e-5}

X_SHAPE, W_SHAPE = (2, 3, 9, 7), (4, 3, 3, 2)  # several channels, rectangular images and filters
CASES = [  # (border_mode, subsample, filter_flip)
    ("valid", (1, 1), False), ("valid", (2, 3), True),
    ("full", (1, 2), True), ("full", (2, 1), False),
    ("half", (1, 1), False), ("half", (3, 2), True),
    (1, (2, 1), False), ((2, 0), (1, 2), True)]


def pads(border_mode, filter_shape):
    """(pad_h, pad_w), as Theano's conv2d documents each border mode."""
    if border_mode == "valid":
        return 0, 0
    if border_mode == "full":
        return filter_shape[0] - 1, filter_shape[1] - 1
    if border_mode == "half":
        return filter_shape[0] // 2, filter_shape[1] // 2
    return (border_mode, border_mode) if isinstance(border_mode, int) else border_mode


def zero_padded(x, pad_h, pad_w):
    padded = numpy.zeros(x.shape[:2] + (x.shape[2] + 2 * pad_h, x.shape[3] + 2 * pad_w))
    padded[:, :, pad_h:pad_h + x.shape[2], pad_w:pad_w + x.shape[3]] = x
    return padded


def reference_conv(x, W, border_mode, subsample, filter_flip):
    """float64.  Cross-correlation by direct loops over the output; true convolution as
    SciPy's convolve2d of the padded images, summed over the channels, then subsampled."""
    (pad_h, pad_w), (stride_h, stride_w) = pads(border_mode, W.shape[2:]), subsample
    padded = zero_padded(x, pad_h, pad_w)
    if filter_flip:
        return numpy.array([[sum(convolve2d(image[c], W[k, c], mode="valid") for c in range(x.shape[1]))
                             [::stride_h, ::stride_w] for k in range(W.shape[0])] for image in padded])
    out_h = (padded.shape[2] - W.shape[2]) // stride_h + 1
    out_w = (padded.shape[3] - W.shape[3]) // stride_w + 1
    out = numpy.zeros((x.shape[0], W.shape[0], out_h, out_w))
    for e, k, y, z in numpy.ndindex(out.shape):
        top, left = y * stride_h, z * stride_w
        out[e, k, y, z] = numpy.sum(W[k] * padded[e, :, top:top + W.shape[2], left:left + W.shape[3]])
    return out


def reference_gradients(x, W, d_out, border_mode, subsample, filter_flip):
    """float64 (d x, d W) of sum(conv2d(x, W) * d_out): each output pixel's d_out added to the
    window it read, times the filter (d x), and to the filter, times the window (d W)."""
    (pad_h, pad_w), (stride_h, stride_w) = pads(border_mode, W.shape[2:]), subsample
    taps = W[:, :, ::-1, ::-1] if filter_flip else W
    padded = zero_padded(x, pad_h, pad_w)
    d_padded, d_taps = numpy.zeros_like(padded), numpy.zeros(W.shape)
    filter_h, filter_w = W.shape[2:]
    for e, k, y, z in numpy.ndindex(d_out.shape):
        window = (e, slice(None), slice(y * stride_h, y * stride_h + filter_h),
                  slice(z * stride_w, z * stride_w + filter_w))
        d_padded[window] += d_out[e, k, y, z] * taps[k]
        d_taps[k] += d_out[e, k, y, z] * padded[window]
    d_x = d_padded[:, :, pad_h:pad_h + x.shape[2], pad_w:pad_w + x.shape[3]]
    return d_x, d_taps[:, :, ::-1, ::-1] if filter_flip else d_taps


def in_x64(mode, dtype):
    """JAX computes float64 only with x64 on, which PyTensor sets from floatX at import."""
    if mode == "JAX" and dtype == "float64":
        import jax
        return jax.enable_x64(True)
    return contextlib.nullcontext()


@pytest.fixture(scope="module")
def data():
    rng = numpy.random.RandomState(24)
    x, W = rng.normal(0, 1, X_SHAPE), rng.normal(0, 1, W_SHAPE)
    outputs = [reference_conv(x, W, *case) for case in CASES]
    d_outs = [rng.normal(0, 1, out.shape) for out in outputs]
    return x, W, outputs, d_outs


@pytest.fixture(scope="module", params=ENGINES)
def compiled(request, data):
    """(mode, dtype, f): f(x, W, *d_outs) -> every case's output, then its (d x, d W), then
    the cost sum over cases of sum(out * d_out) (for finite differences)."""
    mode, dtype = request.param
    x, W = T.tensor4("x", dtype=dtype), T.tensor4("W", dtype=dtype)
    d_outs = [T.tensor4("d_out%d" % i, dtype=dtype) for i in range(len(CASES))]
    outputs = [conv2d(x, W, border_mode=border_mode, subsample=subsample, filter_flip=flip)
               for border_mode, subsample, flip in CASES]
    gradients = [g for out, d_out in zip(outputs, d_outs) for g in grad((out * d_out).sum(), [x, W])]
    cost = sum((out * d_out).sum() for out, d_out in zip(outputs, d_outs))
    return mode, dtype, function([x, W] + d_outs, outputs + gradients + [cost], mode=mode)


def run(compiled, x, W, d_outs):
    mode, dtype, f = compiled
    with in_x64(mode, dtype):  # (JAX returns its own arrays: NumPy's, before x64 goes off)
        return [numpy.asarray(r) for r in f(x.astype(dtype), W.astype(dtype), *[d.astype(dtype) for d in d_outs])]


def test_conv2d_matches_the_direct_loops_and_scipy(compiled, data):
    x, W, references, d_outs = data
    results = run(compiled, x, W, d_outs)[:len(CASES)]
    for case, result, reference in zip(CASES, results, references):
        assert result.dtype == compiled[1]
        assert result.shape == reference.shape, case
        numpy.testing.assert_allclose(result, reference, rtol=TOLERANCE[compiled[1]],
                                      atol=TOLERANCE[compiled[1]], err_msg=str(case))


def test_gradients_match_the_direct_loops(compiled, data):
    x, W, _, d_outs = data
    gradients = run(compiled, x, W, d_outs)[len(CASES):-1]
    for i, case in enumerate(CASES):
        for result, reference in zip(gradients[2 * i:2 * i + 2], reference_gradients(x, W, d_outs[i], *case)):
            numpy.testing.assert_allclose(result, reference, rtol=TOLERANCE[compiled[1]],
                                          atol=10 * TOLERANCE[compiled[1]], err_msg=str(case))


def test_gradients_match_central_differences(compiled, data):
    # Along random directions (as verify_grad): the cost is linear in x and in W, so
    # central differences are exact but for rounding, and float32 takes a large step.
    eps, tolerance = {"float64": (1e-5, 1e-8), "float32": (1e-1, 1e-3)}[compiled[1]]
    x, W, _, d_outs = data
    results = run(compiled, x, W, d_outs)
    d_x, d_W = sum(results[len(CASES):-1:2]), sum(results[len(CASES) + 1:-1:2])
    cost = lambda x, W: float(run(compiled, x, W, d_outs)[-1])  # noqa: E731
    for direction_x, direction_W in directions(x, W):
        numeric = (cost(x + eps * direction_x, W + eps * direction_W)
                   - cost(x - eps * direction_x, W - eps * direction_W)) / (2 * eps)
        analytic = numpy.sum(d_x * direction_x) + numpy.sum(d_W * direction_W)
        assert abs(numeric - analytic) <= tolerance * (1 + abs(analytic))


def directions(*values, count=4):
    """`count` random directions for `values`: each value's alone, then all together."""
    rng = numpy.random.RandomState(7)
    for _ in range(count):
        steps = [rng.normal(0, 1, value.shape) for value in values]
        for i in range(len(values)):
            yield [step if j == i else numpy.zeros_like(step) for j, step in enumerate(steps)]
        yield steps


@pytest.mark.skipif(BACKEND != "pytensor", reason="DL's own Ops are PyTensor Ops")
def test_the_graph_holds_only_DLs_ops_and_second_derivatives_run(data, numeric_grad):
    from DL.engine.conv_op import Conv2d, Conv2dGradFilters, Conv2dGradInput
    x, W = T.tensor4("x", dtype="float64"), T.tensor4("W", dtype="float64")
    out = conv2d(x, W, border_mode="half", subsample=(2, 1))
    d_x, d_W = grad((out ** 2).sum(), [x, W])
    # d/dW of |d x|^2 goes through the gradient Ops' own gradients
    f = function([x, W], [d_x, d_W, grad((d_x ** 2).sum() + (d_W ** 2).sum(), W)])
    ops = {type(node.op) for node in f.maker.fgraph.toposort()}
    assert {Conv2d, Conv2dGradInput, Conv2dGradFilters} <= ops
    assert not [op for op in ops if "Conv" in op.__name__ and op.__module__ != "DL.engine.conv_op"]
    x_value, W_value = data[0], data[1]
    second = lambda W_value: sum(numpy.sum(g ** 2) for g in f(x_value, W_value)[:2])  # noqa: E731
    numeric, = numeric_grad(second, [W_value], eps=1e-5)
    numpy.testing.assert_allclose(f(x_value, W_value)[2], numeric, rtol=1e-6, atol=1e-6)


# --- bad arguments -------------------------------------------------------------

def test_bad_arguments_say_what_to_fix():
    x, W = T.tensor4("x"), T.tensor4("W")
    with pytest.raises(TypeError, match="input .* must have 4 axes, got 2"):
        conv2d(T.matrix("x"), W)
    with pytest.raises(TypeError, match="filters .* must have 4 axes, got 3"):
        conv2d(x, T.tensor3("W"))
    with pytest.raises(ValueError, match="subsample .* >= 1"):
        conv2d(x, W, subsample=(0, 1))
    with pytest.raises(ValueError, match="border_mode .* >= 0"):
        conv2d(x, W, border_mode=(-1, 0))
    with pytest.raises(ValueError, match="border_mode must be one of valid, full, half"):
        conv2d(x, W, border_mode="same")


@pytest.mark.skipif(BACKEND != "pytensor", reason="DL's own checks (legacy Theano has dilation)")
def test_static_shapes_are_checked_before_anything_runs_and_dilation_is_refused():
    x, W = T.tensor4("x"), T.tensor4("W")
    with pytest.raises(NotImplementedError, match="filter_dilation other than"):
        conv2d(x, W, filter_dilation=(2, 2))
    with pytest.raises(ValueError, match="3 channels .* n_in = 2"):
        conv2d(x, W, input_shape=(None, 3, 9, 7), filter_shape=(4, 2, 3, 3))
    with pytest.raises(ValueError, match="3 channels .* n_in = 2"):  # a shared variable's value
        conv2d(x, shared(numpy.zeros((4, 2, 3, 3), "float32")), input_shape=(None, 3, 9, 7))
    with pytest.raises(ValueError, match=r"filter \(height 5\) is larger than the padded image \(height 3"):
        conv2d(T.tensor4("x", shape=(None, 1, 3, 8)), W, filter_shape=(2, 1, 5, 5))
    conv2d(T.tensor4("x", shape=(None, 1, 3, 8)), W, filter_shape=(2, 1, 5, 5), border_mode=1)  # fits now
