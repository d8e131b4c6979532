"""The feed-forward models: HiddenLayer, LogisticRegression, ForwardFeed, MLP, DBN.

Each is checked against a NumPy forward pass over its own weights; its
gradients against central finite differences; the `params=` round trip;
dropout on the training path only; the regularizers; errors on bad input;
and an MLP learning a small separable task.
"""
import numpy
import pytest
from numpy.testing import assert_allclose

from DL import updates
from DL.backend import T, floatX, function, grad, random_updates, shared
from DL.models import DBN, ForwardFeed, HiddenLayer, LogisticRegression, MLP
from DL.utils import flatten

N, N_IN, N_HID, N_HID2, N_OUT = 7, 4, 5, 6, 3

# name: (builder, activations of its layers in order, given the output activation)
MODELS = {
    "HiddenLayer": (lambda rng, x, act, **kw: HiddenLayer(rng, x, N_IN, N_OUT, activation=act, **kw),
                    lambda act: [act]),
    "LogisticRegression": (lambda rng, x, act, **kw: LogisticRegression(rng, x, N_IN, N_OUT, **kw),
                           lambda act: ["softmax"]),
    "ForwardFeed": (lambda rng, x, act, **kw: ForwardFeed(rng, x, [N_IN, N_HID, N_OUT], activation=act, **kw),
                    lambda act: [act, act]),
    "MLP": (lambda rng, x, act, **kw: MLP(rng, x, N_IN, N_HID, N_OUT, activation="tanh",
                                          outputActivation=act, **kw),
            lambda act: ["tanh", act]),
    "DBN": (lambda rng, x, act, **kw: DBN(rng, x, N_IN, N_OUT, [N_HID, N_HID2], activation="tanh",
                                          outputActivation=act, **kw),
            lambda act: ["tanh", "tanh", act]),
}
OUTPUT_ACTIVATIONS = ["softmax", "sigmoid", "linear"]
CASES = [(name, act) for name in MODELS for act in OUTPUT_ACTIVATIONS
         if name != "LogisticRegression" or act == "softmax"]
DROPOUT_MODELS = ["HiddenLayer", "ForwardFeed", "MLP", "DBN"]  # LogisticRegression has none


def build(name, rng, x, act="softmax", **options):
    return MODELS[name][0](rng, x, act, **options)


# --- NumPy references -------------------------------------------------------------

def np_softmax(a):
    e = numpy.exp(a - a.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


NP_ACTIVATIONS = {
    "tanh": numpy.tanh,
    "sigmoid": lambda a: 1 / (1 + numpy.exp(-a)),
    "linear": lambda a: a,
    "softmax": np_softmax,
}


def np_forward(name, act, weights, x):
    """The model's output from its flat [W, b, W, b, ...] values, in float64."""
    h = numpy.asarray(x, dtype="float64")
    for i, layer_act in enumerate(MODELS[name][1](act)):
        W, b = weights[2 * i], weights[2 * i + 1]
        h = NP_ACTIVATIONS[layer_act](h @ W + b)
    return h


def np_loss_pred_errors(act, y, t):
    """(loss, pred, errors) of output y against targets t, as DL.models.base chooses them."""
    if act == "softmax":
        pred = y.argmax(axis=-1)
        return -numpy.mean(numpy.log(y[numpy.arange(len(t)), t])), pred, numpy.mean(pred != t)
    if act == "sigmoid":
        pred = numpy.round(y)
        loss = -numpy.mean(t * numpy.log(y) + (1 - t) * numpy.log(1 - y))
        return loss, pred, numpy.mean(pred != t)
    mse = numpy.mean((y - t) ** 2)
    return mse, y, mse


def assert_same_decisions(pred, reference_pred, y, tie=1e-4):
    """DL's predictions equal NumPy's wherever the decision is clear.  The outputs agree
    only to ~1e-5 (float32, another BLAS), so where NumPy's y is within `tie` of a tie
    (top two classes, or 0.5) either side is right: DL's choice must then be one of the
    tied ones.  Exact ties (a zero-initialized output layer) are the same on every machine."""
    if pred.ndim < y.ndim:                              # argmax: the gap between the top two
        top_two = numpy.sort(y, axis=-1)[..., -2:]
        gap = top_two[..., 1] - top_two[..., 0]
        chosen = numpy.take_along_axis(y, pred[..., None].astype(int), axis=-1)[..., 0]
        assert numpy.all(chosen >= top_two[..., 1] - tie), "DL chose a class that is not the top one"
    else:                                               # rounding at 0.5
        gap = numpy.abs(y - 0.5)
    clear = (gap == 0) | (gap >= tie)
    assert clear.mean() > 0.5, "too few clear decisions to compare"
    numpy.testing.assert_array_equal(pred[clear], reference_pred[clear])


def values_of(model):
    return [p.get_value() for p in flatten(model.params)]


def targets_for(act, rng, dtype):
    """A symbolic target and matching values for the output activation."""
    if act == "softmax":
        return T.lvector("t"), rng.randint(N_OUT, size=N)
    if act == "sigmoid":
        return T.matrix("t", dtype=dtype), rng.randint(2, size=(N, N_OUT)).astype(dtype)
    return T.matrix("t", dtype=dtype), rng.randn(N, N_OUT).astype(dtype)


def map_nested(function_, nested):
    if isinstance(nested, (list, tuple)):
        return [map_nested(function_, item) for item in nested]
    return function_(nested)


# --- outputs, predictions, losses and errors ---------------------------------------

@pytest.mark.parametrize("name, act", CASES)
def test_outputs_match_numpy(rng, name, act):
    x = T.matrix("x")
    model = build(name, rng, x, act)
    t, t_values = targets_for(act, rng, floatX)
    X = rng.randn(N, N_IN).astype(floatX)
    f = function([x, t], [model.output, model.output_deterministic, model.pred,
                          model.loss(t), model.errors(t)])
    output, deterministic, pred, loss, errors = f(X, t_values)

    assert output.shape == deterministic.shape == (N, N_OUT)
    assert output.dtype == floatX
    assert pred.shape == ((N,) if act == "softmax" else (N, N_OUT))
    assert numpy.ndim(loss) == 0 and numpy.ndim(errors) == 0

    y = np_forward(name, act, values_of(model), X)
    np_loss, np_pred, np_errors = np_loss_pred_errors(act, y, t_values)
    assert_allclose(output, y, rtol=1e-5, atol=1e-6)
    assert_allclose(deterministic, output)  # no dropout: the two paths agree
    if act == "linear":
        numpy.testing.assert_array_equal(pred, output)  # DL computes both: pred is the output
    else:
        assert_same_decisions(pred, np_pred, y)
    assert_allclose(loss, np_loss, rtol=1e-5)
    assert_allclose(errors, np_errors, rtol=1e-5)


def test_hidden_layer_takes_sequences(rng):
    """(n_examples, n_timesteps, n_in) in, (n_examples, n_timesteps, n_out) out, mask aware."""
    x, t, mask = T.tensor3("x"), T.lmatrix("t"), T.matrix("mask")
    layer = HiddenLayer(rng, x, N_IN, N_OUT, activation="softmax")
    X = rng.randn(2, 5, N_IN).astype(floatX)
    ids = rng.randint(N_OUT, size=(2, 5))
    M = numpy.ones((2, 5), dtype=floatX)
    M[1, 3:] = 0
    output, pred, loss = function([x, t, mask], [layer.output, layer.pred, layer.loss(t, mask)])(X, ids, M)
    W, b = values_of(layer)
    y = np_softmax(X.astype("float64") @ W + b)
    assert output.shape == (2, 5, N_OUT) and pred.shape == (2, 5)
    assert_allclose(output, y, rtol=1e-5, atol=1e-6)
    assert_same_decisions(pred, y.argmax(axis=-1), y)
    picked = numpy.log(numpy.take_along_axis(y, ids[..., None], axis=-1)[..., 0])
    assert_allclose(loss, -numpy.sum(picked * M) / M.sum(), rtol=1e-5)


# --- gradients ------------------------------------------------------------------------

@pytest.mark.parametrize("name, act", CASES)
def test_gradients_match_finite_differences(rng, name, act, numeric_grad):
    # The check runs in float64: float32 rounding would swamp a central
    # difference.  Under floatX=float32 a model makes float32 weights, so we
    # hand it float64 shared variables through params= (used as they are, the
    # contract for sharing weights) and a T.dmatrix input: the whole graph,
    # loss and regularizers included, is then float64.
    params = map_nested(lambda p: shared(0.5 * rng.randn(*p.get_value().shape), name=p.name),
                        build(name, rng, T.matrix(), act).params)
    x = T.dmatrix("x")
    model = build(name, rng, x, act, params=params)
    flat = flatten(model.params)
    assert all(p is q for p, q in zip(flat, flatten(params)))
    assert all(p.dtype == "float64" for p in flat)

    t, t_values = targets_for(act, rng, "float64")
    X = rng.randn(N, N_IN)
    cost = model.loss(t) + 0.01 * model.L1 + 0.02 * model.L2_sqr
    assert cost.dtype == "float64"
    f = function([x, t], [cost] + grad(cost, flat))

    def cost_at(*values):
        for p, value in zip(flat, values):
            p.set_value(value)
        return f(X, t_values)[0]

    start = [p.get_value() for p in flat]
    numeric = numeric_grad(cost_at, start)
    cost_at(*start)
    analytic = f(X, t_values)[1:]
    for p, a, n in zip(flat, analytic, numeric):
        assert_allclose(a, n, rtol=1e-6, atol=1e-8, err_msg=p.name)


# --- params= round trip -----------------------------------------------------------------

@pytest.mark.parametrize("name", list(MODELS))
def test_params_round_trip_from_arrays(rng, name):
    x = T.matrix("x")
    first = build(name, rng, x, "softmax")
    for p in flatten(first.params):  # non-zero everywhere (LogisticRegression starts at 0)
        p.set_value(rng.randn(*p.get_value().shape).astype(floatX))
    arrays = map_nested(lambda p: p.get_value(), first.params)
    second = build(name, numpy.random.RandomState(99), x, "softmax", params=arrays)

    # the same nesting and shapes
    assert map_nested(numpy.shape, arrays) == map_nested(lambda p: p.get_value().shape, second.params)
    for p, q in zip(flatten(first.params), flatten(second.params)):
        assert p is not q and q.dtype == floatX
        numpy.testing.assert_array_equal(p.get_value(), q.get_value())
    X = rng.randn(N, N_IN).astype(floatX)
    f = function([x], [first.output_deterministic, first.pred, second.output_deterministic, second.pred])
    out_a, pred_a, out_b, pred_b = f(X)
    numpy.testing.assert_array_equal(out_a, out_b)
    numpy.testing.assert_array_equal(pred_a, pred_b)
    # copies, not shared: changing the first leaves the second alone
    flatten(first.params)[0].set_value(numpy.zeros_like(flatten(first.params)[0].get_value()))
    assert flatten(second.params)[0].get_value().any()


@pytest.mark.parametrize("name", list(MODELS))
def test_params_round_trip_shares_shared_variables(rng, name):
    x = T.matrix("x")
    first = build(name, rng, x, "softmax")
    second = build(name, rng, x, "softmax", params=first.params)
    for p, q in zip(flatten(first.params), flatten(second.params)):
        assert p is q


def mlp_params(rng):
    model = build("MLP", rng, T.matrix(), "softmax")
    return map_nested(lambda p: p.get_value(), model.params)


def test_params_with_wrong_nesting_names_the_model(rng):
    (W_h, b_h), (W_o, b_o) = mlp_params(rng)
    with pytest.raises(ValueError, match=r"MLP.*2 entries"):
        build("MLP", rng, T.matrix(), params=[[W_h, b_h]])
    with pytest.raises(ValueError, match=r"MLP\.outputLayer"):
        build("MLP", rng, T.matrix(), params=[[W_h, b_h], W_o])
    with pytest.raises(ValueError, match=r"HiddenLayer.*2 entries"):
        build("HiddenLayer", rng, T.matrix(), params=[W_o])


def test_params_with_wrong_shapes_name_the_layer_and_both_shapes(rng):
    (W_h, b_h), (W_o, b_o) = mlp_params(rng)
    with pytest.raises(ValueError) as error:
        build("MLP", rng, T.matrix(), params=[[W_h, b_h], [W_o.T, b_o]])
    message = str(error.value)
    assert "MLP.outputLayer" in message
    assert str(W_o.T.shape) in message and str(W_o.shape) in message

    dbn = build("DBN", rng, T.matrix())
    arrays = map_nested(lambda p: p.get_value(), dbn.params)
    arrays[0][1][1] = numpy.zeros(N_HID2 + 1)  # the second hidden layer's bias
    with pytest.raises(ValueError) as error:
        build("DBN", rng, T.matrix(), params=arrays)
    message = str(error.value)
    assert "DBN.forwardFeed.layers[1]" in message
    assert str((N_HID2 + 1,)) in message and str((N_HID2,)) in message


# --- dropout ----------------------------------------------------------------------------

@pytest.mark.parametrize("name", DROPOUT_MODELS)
def test_dropout_on_the_training_path_only(rng, name):
    x, t = T.matrix("x"), T.lvector("t")
    model = build(name, rng, x, "softmax", dropout_rate=0.5)
    plain = build(name, rng, x, "softmax", params=model.params)  # same weights, no dropout
    assert model.updates, "a model that draws must hand its random updates over"
    assert plain.updates == []
    # the prediction path draws no random numbers at all
    assert random_updates([model.pred, model.errors(t), model.output_deterministic]) == []

    X = rng.randn(50, N_IN).astype(floatX)
    ids = rng.randint(N_OUT, size=50)
    train = function([x], model.output, updates=model.updates)
    assert not numpy.allclose(train(X), train(X))

    predict = function([x, t], [model.output_deterministic, model.pred, model.errors(t)])
    reference = function([x, t], [plain.output, plain.pred, plain.errors(t)])(X, ids)
    for _ in range(2):
        for got, expected in zip(predict(X, ids), reference):
            numpy.testing.assert_array_equal(got, expected)


def test_dropout_is_inverted(rng):
    """Survivors are scaled by 1/(1 - rate), so the training output averages to the deterministic one."""
    x = T.matrix("x")
    layer = HiddenLayer(rng, x, N_IN, N_OUT, dropout_rate=0.5, activation="tanh")
    f = function([x], [layer.output, layer.output_deterministic], updates=layer.updates)
    one_row = rng.randn(1, N_IN).astype(floatX)
    train, deterministic = f(numpy.repeat(one_row, 4000, axis=0))
    ratio = train / deterministic
    assert numpy.all(numpy.isclose(ratio, 0) | numpy.isclose(ratio, 2, rtol=1e-5))
    assert (ratio < 1).mean() == pytest.approx(0.5, abs=0.02)
    # mean of 4000 draws of h * {0, 2}: standard error |h| / 63 < 0.016
    assert_allclose(train.mean(axis=0), deterministic[0], atol=0.05)


def test_dropout_rate_out_of_range_is_refused(rng):
    with pytest.raises(ValueError, match="dropout_rate"):
        build("MLP", rng, T.matrix(), dropout_rate=1.0)


# --- regularizers ------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(MODELS))
def test_L1_and_L2_sqr_sum_weights_not_biases(rng, name):
    model = build(name, rng, T.matrix(), "softmax")
    flat = flatten(model.params)
    for p in flat:  # biases non-zero, so counting them would show
        p.set_value(rng.randn(*p.get_value().shape).astype(floatX))
    weights = [p.get_value().astype("float64") for p in flat[0::2]]
    assert all(w.ndim == 2 for w in weights) and all(b.get_value().ndim == 1 for b in flat[1::2])
    L1, L2_sqr = function([], [model.L1, model.L2_sqr])()
    assert_allclose(L1, sum(numpy.abs(w).sum() for w in weights), rtol=1e-5)
    assert_allclose(L2_sqr, sum((w ** 2).sum() for w in weights), rtol=1e-5)


# --- bad input ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize("wrong", [T.tensor4, T.vector], ids=["tensor4", "vector"])
def test_input_of_wrong_rank_names_the_argument_and_shape(rng, name, wrong):
    with pytest.raises(ValueError) as error:
        build(name, rng, wrong("x"))
    message = str(error.value)
    assert "input" in message and "(n_examples, n_in)" in message


@pytest.mark.parametrize("name", list(MODELS))
def test_integer_input_is_refused(rng, name):
    with pytest.raises(TypeError) as error:
        build(name, rng, T.imatrix("x"))
    message = str(error.value)
    assert "input" in message and "float" in message and "int32" in message


@pytest.mark.parametrize("name", ["HiddenLayer", "ForwardFeed", "MLP", "DBN"])
def test_unknown_activation_lists_the_valid_ones(rng, name):
    with pytest.raises(ValueError) as error:
        build(name, rng, T.matrix(), "swish")
    message = str(error.value)
    assert "swish" in message
    for valid in ("tanh", "sigmoid", "relu", "cappedrelu", "linear", "softmax"):
        assert valid in message


@pytest.mark.parametrize("make, argument", [
    (lambda rng, x: HiddenLayer(rng, x, 0, N_OUT), "n_in"),
    (lambda rng, x: HiddenLayer(rng, x, N_IN, 0), "n_out"),
    (lambda rng, x: LogisticRegression(rng, x, 0, N_OUT), "n_in"),
    (lambda rng, x: MLP(rng, x, 0, N_HID, N_OUT), "n_in"),
    (lambda rng, x: MLP(rng, x, N_IN, 0, N_OUT), "n_out"),  # the hidden layer's n_out
    (lambda rng, x: ForwardFeed(rng, x, [N_IN, 0]), "layer_sizes[1]"),
    (lambda rng, x: ForwardFeed(rng, x, []), "layer_sizes"),
    (lambda rng, x: DBN(rng, x, 0, N_OUT, [N_HID]), "layer_sizes[0]"),
    (lambda rng, x: MLP(rng, x, 2.5, N_HID, N_OUT), "n_in"),
])
def test_bad_sizes_name_the_argument(rng, make, argument):
    with pytest.raises(ValueError) as error:
        make(rng, T.matrix("x"))
    assert argument in str(error.value)


# --- learning --------------------------------------------------------------------------

def test_mlp_learns_a_separable_task_with_sgd(rng):
    """Two Gaussian blobs, 2-D: an MLP trained by plain SGD steps reaches 0 training error."""
    n_per_class = 40
    # centres 6 sqrt(2) apart, unit spread: separable by a margin
    X = numpy.concatenate([rng.randn(n_per_class, 2) + [3, 3], rng.randn(n_per_class, 2) - [3, 3]])
    ids = numpy.repeat([0, 1], n_per_class)
    X_shared, ids_shared = shared(X.astype(floatX)), shared(ids)

    x, t = T.matrix("x"), T.lvector("t")
    model = MLP(rng, x, n_in=2, n_hidden=6, n_out=2)
    cost = model.loss(t) + 1e-4 * model.L2_sqr
    step = function([], cost, updates=updates.sgd(flatten(model.params), cost, learning_rate=0.1),
                    givens={x: X_shared, t: ids_shared})
    error = function([], model.errors(t), givens={x: X_shared, t: ids_shared})

    first = step()
    for _ in range(300):
        last = step()
    assert last < first / 4
    assert error() == 0
