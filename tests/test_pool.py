"""DL.engine.conv.pool_2d: max, sum and both averages, with strides, padding, ties and
ignore_border both ways, exact against NumPy references written with direct loops;
float64 and float32; on the Numba, JAX and C/Python engines (or on legacy Theano);
gradients against the references (ties: the first maximum of a window, row-major; every
maximum on legacy Theano) and against central differences; and bad arguments."""
import numpy
import pytest

from DL.backend import BACKEND, T, function, grad
from DL.engine.conv import pool_2d
from test_conv import ENGINES, directions, in_x64

X_SHAPE = (2, 3, 9, 7)
CASES = [  # (ws, stride, pad, ignore_border, mode)
    ((2, 2), None, (0, 0), True, "max"),
    ((3, 2), (2, 1), (1, 1), True, "max"),
    ((2, 3), (1, 2), (0, 0), False, "max"),
    ((2, 2), (3, 3), (0, 0), False, "max"),                 # stride > window: gaps, partial windows
    ((3, 3), (2, 2), (0, 0), False, "sum"),
    ((2, 2), (1, 1), (1, 0), True, "sum"),
    ((3, 2), (2, 2), (2, 1), True, "average_inc_pad"),
    ((2, 2), (3, 3), (0, 0), False, "average_inc_pad"),
    ((3, 2), (1, 2), (1, 1), True, "average_exc_pad"),
    ((4, 3), (3, 2), (0, 0), False, "average_exc_pad")]
TOLERANCE = {"float64": 1e-12, "float32": 1e-5}


def window_starts(size, window, stride, ignore_border):
    """Where the windows start along a padded axis of `size`: whole windows only, or
    (ignore_border=False) until one reaches the end, the last ones partial."""
    if ignore_border:
        return list(range(0, size - window + 1, stride))
    starts = []
    while len(starts) * stride < size and (not starts or starts[-1] + window < size):
        starts.append(len(starts) * stride)
    return starts


def reference_windows(x, ws, stride, pad, ignore_border):
    """(y, z, index, window) for each output pixel: `index` selects the window from the
    image padded with NaN (padding is no value), `window` is that selection."""
    stride = stride or ws
    padded = numpy.full(x.shape[:-2] + (x.shape[-2] + 2 * pad[0], x.shape[-1] + 2 * pad[1]), numpy.nan)
    padded[..., pad[0]:pad[0] + x.shape[-2], pad[1]:pad[1] + x.shape[-1]] = x
    rows, columns = (window_starts(padded.shape[axis - 2], ws[axis], stride[axis], ignore_border) for axis in (0, 1))
    for y, top in enumerate(rows):
        for z, left in enumerate(columns):
            index = (Ellipsis, slice(top, top + ws[0]), slice(left, left + ws[1]))  # (cut at the padded edge)
            yield y, z, (len(rows), len(columns)), padded, index, padded[index]


def reference_pool(x, ws, stride, pad, ignore_border, mode):
    """float64, by direct loops over the windows of the NaN padded image."""
    out = None
    for y, z, out_shape, _, _, window in reference_windows(x, ws, stride, pad, ignore_border):
        if out is None:
            out = numpy.zeros(x.shape[:-2] + out_shape)
        flat = window.reshape(window.shape[:-2] + (-1,))
        out[..., y, z] = {"max": numpy.nanmax, "sum": numpy.nansum, "average_exc_pad": numpy.nanmean,
                          "average_inc_pad": lambda v, axis: numpy.nansum(v, axis) / v.shape[-1]}[mode](flat, axis=-1)
    return out


def reference_pool_grad(x, d_out, ws, stride, pad, ignore_border, mode):
    """float64 d x of sum(pool_2d(x) * d_out): max pooling's to the first maximum of each
    window in row-major order (every maximum on legacy Theano, as its CPU code)."""
    d_padded = None
    for y, z, _, padded, index, window in reference_windows(x, ws, stride, pad, ignore_border):
        if d_padded is None:
            d_padded = numpy.zeros_like(padded)
        real = ~numpy.isnan(window)
        g = d_out[..., y, z][..., None, None]
        if mode == "max":
            maximum = numpy.nanmax(window, axis=(-2, -1), keepdims=True)
            chosen = real & (window == maximum)
            if BACKEND == "pytensor":  # only the first of them: nothing before it in the window
                chosen &= numpy.cumsum(chosen.reshape(chosen.shape[:-2] + (-1,)), axis=-1).reshape(chosen.shape) == 1
            d_padded[index] += g * chosen
        else:
            count = {"sum": 1, "average_inc_pad": window.shape[-2] * window.shape[-1],
                     "average_exc_pad": real.sum(axis=(-2, -1), keepdims=True)}[mode]
            d_padded[index] += g * real / count
    return d_padded[..., pad[0]:pad[0] + x.shape[-2], pad[1]:pad[1] + x.shape[-1]]


@pytest.fixture(scope="module")
def data():
    """Normal inputs, and inputs of three values (ties in most windows) with integer
    output gradients (so that max pooling's gradients are exact)."""
    rng = numpy.random.RandomState(25)
    normal = rng.normal(0, 1, X_SHAPE)
    ties = rng.randint(0, 3, X_SHAPE).astype("float64")
    d_outs = [rng.randint(-4, 5, reference_pool(normal, *case).shape).astype("float64") for case in CASES]
    return normal, ties, d_outs


@pytest.fixture(scope="module", params=ENGINES)
def compiled(request):
    """(mode, dtype, f): f(x, *d_outs) -> each case's output, then its d x, then the cost
    sum over cases of sum(out * d_out), then a case pooled on a 3-D input."""
    mode, dtype = request.param
    x = T.tensor4("x", dtype=dtype)
    d_outs = [T.tensor4("d_out%d" % i, dtype=dtype) for i in range(len(CASES))]
    outputs = [pool_2d(x, ws, ignore_border=ignore_border, stride=stride, pad=pad, mode=mode)
               for ws, stride, pad, ignore_border, mode in CASES]
    gradients = [grad((out * d_out).sum(), x) for out, d_out in zip(outputs, d_outs)]
    cost = sum((out * d_out).sum() for out, d_out in zip(outputs, d_outs))
    three_axes = pool_2d(x[0], (3, 2), stride=(2, 1), pad=(1, 1), mode="average_exc_pad")
    return mode, dtype, function([x] + d_outs, outputs + gradients + [cost, three_axes], mode=mode)


def run(compiled, x, d_outs):
    mode, dtype, f = compiled
    with in_x64(mode, dtype):
        return [numpy.asarray(r) for r in f(x.astype(dtype), *[d.astype(dtype) for d in d_outs])]


@pytest.mark.parametrize("inputs", ["normal", "ties"])
def test_pool_2d_matches_the_direct_loops(compiled, data, inputs):
    x = data[0] if inputs == "normal" else data[1]
    results = run(compiled, x, data[2])
    tolerance = TOLERANCE[compiled[1]]
    for case, result in zip(CASES, results):
        reference = reference_pool(x, *case)
        assert result.dtype == compiled[1]
        assert result.shape == reference.shape, case
        numpy.testing.assert_allclose(result, reference, rtol=tolerance, atol=tolerance, err_msg=str(case))
    numpy.testing.assert_allclose(results[-1], reference_pool(x[0], (3, 2), (2, 1), (1, 1), True, "average_exc_pad"),
                                  rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("inputs", ["normal", "ties"])
def test_gradients_match_the_direct_loops(compiled, data, inputs):
    x = data[0] if inputs == "normal" else data[1]
    gradients = run(compiled, x, data[2])[len(CASES):-2]
    for case, result, d_out in zip(CASES, gradients, data[2]):
        reference = reference_pool_grad(x, d_out, *case)
        if case[-1] in ("max", "sum"):  # sums of integers: exact on every engine
            numpy.testing.assert_array_equal(result, reference, err_msg=str(case))
        else:
            numpy.testing.assert_allclose(result, reference, rtol=TOLERANCE[compiled[1]],
                                          atol=TOLERANCE[compiled[1]], err_msg=str(case))


@pytest.mark.parametrize("compiled", [p for p in ENGINES if p.values[0][1] == "float64"], indirect=True)
def test_gradients_match_central_differences(compiled, data):
    # In float64 (float32's gradients are checked against the references above), along
    # random directions: the cost is piecewise linear in x, and the steps are small
    # enough that no window's maximum changes
    eps, tolerance = 1e-6, 1e-8
    x, _, d_outs = data
    results = run(compiled, x, d_outs)
    d_x = sum(results[len(CASES):-2])
    cost = lambda x: float(run(compiled, x, d_outs)[-2])  # noqa: E731
    for direction, in directions(x):
        numeric = (cost(x + eps * direction) - cost(x - eps * direction)) / (2 * eps)
        assert abs(numeric - numpy.sum(d_x * direction)) <= tolerance * (1 + abs(numeric))


# --- bad arguments -------------------------------------------------------------

def test_bad_arguments_say_what_to_fix():
    x = T.tensor4("x")
    with pytest.raises(TypeError, match="input .* must have 2 axes or more, got 1"):
        pool_2d(T.vector("x"), (2, 2))
    with pytest.raises(ValueError, match="ws .* >= 1"):
        pool_2d(x, (0, 2))
    with pytest.raises(ValueError, match="stride .* >= 1"):
        pool_2d(x, (2, 2), stride=(2, -1))
    with pytest.raises(ValueError, match="mode must be one of max, sum"):
        pool_2d(x, (2, 2), mode="average")
    with pytest.raises(ValueError, match="padding works only with ignore_border=True"):
        pool_2d(x, (2, 2), ignore_border=False, pad=(1, 1))
    with pytest.raises(ValueError, match="pad .* must be smaller than the window"):
        pool_2d(x, (2, 2), pad=(2, 0))


@pytest.mark.skipif(BACKEND != "pytensor", reason="DL's own checks of static shapes")
def test_a_window_larger_than_the_padded_image_is_refused():
    with pytest.raises(ValueError, match=r"window \(width 4\) is larger than the padded image \(width 1 \+ 2 x 1"):
        pool_2d(T.tensor4("x", shape=(None, 1, 8, 1)), (2, 4), pad=(0, 1))
    f = function([(x := T.tensor4("x"))], pool_2d(x, (2, 4), pad=(0, 1)))
    with pytest.raises(ValueError, match="pool_2d: the window is larger than the padded image"):
        f(numpy.zeros((1, 1, 8, 1), "float32"))
