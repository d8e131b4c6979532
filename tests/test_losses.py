"""DL.losses against NumPy, on the stable path, under masks, and by finite differences.

Graphs are built on float64 inputs (T.dmatrix, T.dtensor3) so values and
gradients compare to float64 NumPy tightly; the stable-path tests also run in
float32, where a saturated softmax or sigmoid overflows without the logits.
"""
import numpy
import pytest
from numpy.testing import assert_allclose

from DL import losses
from DL.activations import sigmoid, softmax
from DL.backend import T, function, grad

N, STEPS, K = 4, 3, 3  # examples, time steps, units/classes


def np_softmax(a):
    e = numpy.exp(a - a.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def np_sigmoid(a):
    return 1 / (1 + numpy.exp(-a))


def np_masked_mean(values, mask):
    """Mean over valid steps; trailing unit axes count as part of their step."""
    weights = numpy.broadcast_to(mask.reshape(mask.shape + (1,) * (values.ndim - mask.ndim)),
                                 values.shape)
    return numpy.sum(values * weights) / numpy.sum(weights)


def np_picked_log(p, t):
    """log p[..., t] for class ids t."""
    return numpy.log(numpy.take_along_axis(p, t[..., None], axis=-1)[..., 0])


@pytest.fixture
def data(rng):
    """Logits, class ids, binary and real targets and a padding mask, 2-D and 3-D."""
    mask = numpy.ones((N, STEPS))
    mask[0, 2:] = 0  # sequence 0 has 2 valid steps, sequence 2 has 1
    mask[2, 1:] = 0
    return dict(
        a2=rng.randn(N, K), a3=rng.randn(N, STEPS, K),
        ids2=rng.randint(K, size=N), ids3=rng.randint(K, size=(N, STEPS)),
        bits2=rng.randint(2, size=(N, K)).astype("float64"),
        bits3=rng.randint(2, size=(N, STEPS, K)).astype("float64"),
        real2=rng.randn(N, K), real3=rng.randn(N, STEPS, K), mask=mask)


def symbolic(ndim, kind="float64"):
    return {("float64", 2): T.dmatrix, ("float64", 3): T.dtensor3,
            ("int64", 1): T.lvector, ("int64", 2): T.lmatrix}[(kind, ndim)]()


# --- values against NumPy -------------------------------------------------------

def np_binary_nll(p, bits):
    return -(bits * numpy.log(p) + (1 - bits) * numpy.log(1 - p))


# name: (symbolic loss of input o, targets t, mask m;  NumPy per-step values of
# input a and targets t, before the (masked) mean;  kind of targets)
LOSSES = {
    "mse": (lambda o, t, m: losses.mse(o, t, m),
            lambda a, t: (a - t) ** 2, "real"),
    "nll_binary on sigmoid": (lambda o, t, m: losses.nll_binary(sigmoid(o), t, m),
                              lambda a, t: np_binary_nll(np_sigmoid(a), t), "bits"),
    # a sigmoid written out by hand: not a sigmoid node, so the clipped-log path
    # (integer constants only: Python floats would become float32 constants)
    "nll_binary on probabilities": (lambda o, t, m: losses.nll_binary(T.exp(o) / (1 + T.exp(o)), t, m),
                                    lambda a, t: np_binary_nll(np_sigmoid(a), t), "bits"),
    "nll_multiclass on softmax": (lambda o, t, m: losses.nll_multiclass(softmax(o), t, m),
                                  lambda a, t: -np_picked_log(np_softmax(a), t), "ids"),
    # a softmax written out by hand: not a Softmax node, so the clipped-log path
    "nll_multiclass on probabilities": (
        lambda o, t, m: losses.nll_multiclass(T.exp(o) / T.exp(o).sum(axis=-1, keepdims=True), t, m),
        lambda a, t: -np_picked_log(np_softmax(a), t), "ids"),
}
SHAPES = {"2-D": (2, False), "3-D": (3, False), "3-D masked": (3, True)}
CASES = [(name, shape) for name in LOSSES for shape in SHAPES]
MASKED_CASES = [(name, "3-D masked") for name in LOSSES]


def setup_case(data, name, shape):
    """The compiled (loss, d loss / d input), the input, the other arguments, the NumPy loss."""
    builder, np_values, target_kind = LOSSES[name]
    ndim, masked = SHAPES[shape]
    a = data["a%d" % ndim]
    t = data["%s%d" % (target_kind, ndim)]
    mask = data["mask"] if masked else None
    o = symbolic(ndim)
    targets = symbolic(t.ndim, "int64" if target_kind == "ids" else "float64")
    m = symbolic(2) if masked else None
    loss = builder(o, targets, m)
    f = function([o, targets] + ([m] if masked else []), [loss, grad(loss, o)])
    values = np_values(a, t)
    expected = np_masked_mean(values, mask) if masked else values.mean()
    return f, a, [t] + ([mask] if masked else []), expected


@pytest.mark.parametrize("name, shape", CASES)
def test_loss_matches_numpy(data, name, shape):
    f, a, rest, expected = setup_case(data, name, shape)
    assert_allclose(f(a, *rest)[0], expected, rtol=1e-10)


@pytest.mark.parametrize("name, shape", CASES)
def test_loss_gradient_matches_finite_differences(data, name, shape, numeric_grad):
    f, a, rest, _ = setup_case(data, name, shape)
    analytic = f(a, *rest)[1]
    numeric, = numeric_grad(lambda a_: f(a_, *rest)[0], [a])
    assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)
    assert numpy.abs(analytic).max() > 1e-3  # a gradient that is there


@pytest.mark.parametrize("name, shape", MASKED_CASES)
def test_masked_loss_ignores_padded_steps(data, name, shape):
    f, a, (t, mask), _ = setup_case(data, name, shape)
    padded = mask == 0
    a_changed, t_changed = a.copy(), t.copy()
    a_changed[padded] = 50.0 * numpy.sign(a[padded]) + 7.0
    t_changed[padded] = 1 - t[padded] if t.dtype.kind == "f" else (t[padded] + 1) % K
    loss, gradient = f(a, t, mask)
    loss_changed, gradient_changed = f(a_changed, t_changed, mask)
    assert loss_changed == pytest.approx(loss, rel=1e-12)
    assert numpy.all(gradient[padded] == 0)
    assert numpy.all(gradient_changed[padded] == 0)
    # and valid steps do count (moving one unit: a softmax ignores a common shift)
    a_valid = a.copy()
    a_valid[~padded, 0] += 1.0
    assert f(a_valid, t, mask)[0] != pytest.approx(loss, rel=1e-6)


# --- the stable path: saturated softmax and sigmoid ------------------------------

@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_nll_multiclass_on_saturated_softmax_is_finite(dtype):
    a = T.matrix(dtype=dtype)
    t = T.lvector()
    loss = losses.nll_multiclass(softmax(a), t)
    f = function([a, t], [loss, grad(loss, a)])
    logits = numpy.array([[1000.0, 0.0, -1000.0], [0.0, 1000.0, -1000.0]], dtype=dtype)
    ids = numpy.array([2, 1])
    value, gradient = f(logits, ids)
    # row 0: -log softmax = 1000 - (-1000) = 2000; row 1: 0.  d/da = (softmax - onehot) / n
    assert numpy.isfinite(value) and numpy.all(numpy.isfinite(gradient))
    assert_allclose(value, 1000.0, rtol=1e-6)
    expected = (np_softmax(logits.astype("float64")) - numpy.eye(3)[ids]) / 2
    assert_allclose(gradient, expected, atol=1e-6)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_nll_binary_on_saturated_sigmoid_is_finite(dtype):
    a = T.matrix(dtype=dtype)
    t = T.matrix(dtype=dtype)
    loss = losses.nll_binary(sigmoid(a), t)
    f = function([a, t], [loss, grad(loss, a)])
    logits = numpy.array([[1000.0, -1000.0, 30.0]], dtype=dtype)
    bits = numpy.array([[0.0, 1.0, 1.0]], dtype=dtype)
    value, gradient = f(logits, bits)
    # softplus(1000) + softplus(1000) + softplus(-30), over 3 units; d/da = (sigmoid - t) / 3
    assert numpy.isfinite(value) and numpy.all(numpy.isfinite(gradient))
    assert_allclose(value, 2000.0 / 3, rtol=1e-6)
    assert_allclose(gradient, [[1 / 3, -1 / 3, -numpy.exp(-30.0) / 3]], rtol=1e-4, atol=1e-12)


def test_plain_probabilities_are_clipped_not_infinite():
    p = T.dmatrix()
    t = T.lvector()
    value = function([p, t], losses.nll_multiclass(p, t))(numpy.array([[1.0, 0.0]]), numpy.array([1]))
    assert numpy.isfinite(value) and value > 10  # -log(1e-7) ~ 16


# --- predictions and error rates -------------------------------------------------

def test_pred_binary_rounds(data):
    o = T.dmatrix()
    probabilities = np_sigmoid(data["a2"])
    assert_allclose(function([o], losses.pred_binary(o))(probabilities), numpy.round(probabilities))


@pytest.mark.parametrize("ndim", [2, 3])
def test_pred_multiclass_is_argmax_over_last_axis(data, ndim):
    o = symbolic(ndim)
    a = data["a%d" % ndim]
    numpy.testing.assert_array_equal(function([o], losses.pred_multiclass(o))(a), a.argmax(axis=-1))


def test_pred_error(data):
    pred, t = T.lvector(), T.lvector()
    ids = data["ids2"]
    guess = ids.copy()
    guess[:1] = (guess[:1] + 1) % K  # one wrong in N
    assert function([pred, t], losses.pred_error(pred, t))(guess, ids) == pytest.approx(1.0 / N)


def test_pred_error_with_mask_counts_valid_steps_only(data):
    pred, t, m = T.lmatrix(), T.lmatrix(), T.dmatrix()
    ids, mask = data["ids3"], data["mask"]
    guess = numpy.where(mask == 0, (ids + 1) % K, ids)  # wrong only on padding
    error = function([pred, t, m], losses.pred_error(pred, t, m))
    assert error(guess, ids, mask) == 0
    guess[1, 0] = (ids[1, 0] + 1) % K  # one wrong valid step
    assert error(guess, ids, mask) == pytest.approx(1.0 / mask.sum())


# --- bad input -------------------------------------------------------------------

def test_one_hot_targets_for_multiclass_are_refused():
    with pytest.raises(TypeError, match="class ids"):
        losses.nll_multiclass(T.dmatrix(), T.dmatrix())


def test_mask_of_wrong_rank_is_refused():
    with pytest.raises(ValueError, match="mask"):
        losses.nll_multiclass(T.dtensor3(), T.lmatrix(), T.dtensor3())
