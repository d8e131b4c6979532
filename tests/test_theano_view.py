"""DL's engine view is Theano 1.0's module tree (issue 27): `theano.tensor is T`,
Theano's paths resolve, and the names PyTensor dropped mean what they meant.

The value checks compare against NumPy written from Theano 1.0's formulas; they
run on both engines, so on legacy Theano (scripts/theano-env.sh) they check
those formulas against Theano itself.  Truthiness, the names the view refuses
and what the view leaves alone are PyTensor's side only."""
import pickle

import numpy
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from DL.backend import BACKEND, T, floatX, function, scan, theano

on_pytensor = pytest.mark.skipif(BACKEND != "pytensor", reason="on legacy Theano the names are Theano's own")
RNG = numpy.random.RandomState(0)


# --- one view ------------------------------------------------------------------

# Theano 1.0 paths scripts reach, spelled as `from theano.X import Y` rewritten to look-ups
PATHS = ["tensor.nnet.sigmoid", "tensor.nnet.relu", "tensor.nnet.softmax", "tensor.nnet.categorical_crossentropy",
         "tensor.nnet.bn.batch_normalization_train", "tensor.nnet.bn.batch_normalization_test",
         "tensor.nnet.conv2d", "tensor.signal.pool.pool_2d", "tensor.shared_randomstreams.RandomStreams",
         "sandbox.rng_mrg.MRG_RandomStreams", "printing.Print", "printing.debugprint", "printing.pp",
         "gradient.grad_clip", "gradient.disconnected_grad", "gradient.zero_grad", "ifelse.ifelse",
         "tensor.extra_ops.repeat", "tensor.extra_ops.cumsum", "tensor.nlinalg.matrix_inverse",
         "scan_module.until", "config.floatX", "shared", "function", "scan", "grad", "tensor.grad"]


def look_up(path):
    found = theano
    for part in path.split("."):
        found = getattr(found, part)
    return found


@pytest.mark.parametrize("path", PATHS)
def test_theano_paths_resolve(path):
    assert look_up(path) is not None


def test_one_view():
    assert theano.tensor is T
    assert theano.function is function and theano.scan is scan
    assert theano.scan_module.scan is scan
    assert theano.tensor.nnet is T.nnet and T.nnet.bn is theano.tensor.nnet.bn
    assert theano.sandbox.rng_mrg is theano.sandbox.rng_mrg  # made once


def test_convolution_is_dls():
    from DL.engine import conv
    assert T.nnet.conv2d is conv.conv2d and theano.tensor.nnet.conv2d is conv.conv2d
    assert T.signal.pool.pool_2d is conv.pool_2d and theano.tensor.signal.pool.pool_2d is conv.pool_2d


def test_tensor_var_is_the_variance_and_the_module_of_tensor_variable():
    """Theano's T.var(x) is the variance; `from theano.tensor.var import TensorVariable` a module."""
    x = T.dvector("x")
    values = numpy.array([1.0, 2.0, 4.0, 8.0])
    assert_allclose(function([x], T.var(x))(values), numpy.var(values))
    assert isinstance(x, T.var.TensorVariable)
    with pytest.raises(TypeError, match="not a function"):
        T.nnet.bn()


def test_the_version_is_the_engines():
    import importlib
    assert theano.__version__ == importlib.import_module(BACKEND).__version__


def test_nodes_pickle_by_path():
    assert pickle.loads(pickle.dumps(T)) is T
    assert pickle.loads(pickle.dumps(T.nnet)) is T.nnet


@on_pytensor
def test_pytensors_names_fill_in_where_dl_has_none():
    import pytensor
    import pytensor.tensor as pt
    assert T.dot is pt.dot and theano.tensor.extra_ops.repeat is pt.extra_ops.repeat
    assert theano.printing.debugprint is pytensor.printing.debugprint
    assert theano.gradient.zero_grad is pytensor.gradient.zero_grad
    assert T.nnet.sigmoid is pt.sigmoid


@on_pytensor
@pytest.mark.parametrize("path, says", [
    ("sandbox.cuda", "mode='JAX'"), ("gpuarray", "mode='JAX'"),
    ("tensor.raw_random", "shared_randomstreams.RandomStreams"),
    ("tensor.signal.downsample", "pool_2d"), ("tensor.nnet.conv3d", "conv2d"),
    ("tensor.nnet.no_such_name", "neither DL nor"), ("config.no_such_flag", "no flag"),
])
def test_names_the_view_lacks_raise_saying_what_to_use(path, says):
    with pytest.raises(AttributeError, match=says.replace("(", r"\(").replace(")", r"\)")):
        look_up(path)


@on_pytensor
def test_the_views_modules_export_only_theanos_names():
    """DL's modules behind a node import numpy and pytensor; those are not the node's names."""
    with pytest.raises(AttributeError):
        T.nnet.numpy
    with pytest.raises(AttributeError):
        theano.sandbox.rng_mrg.pt


@on_pytensor
def test_config_reads_theanos_flags_and_refuses_what_it_cannot_do():
    import pytensor
    assert theano.config.device == "cpu" and theano.config.floatX == pytensor.config.floatX
    assert theano.config.blas.ldflags == pytensor.config.blas__ldflags  # Theano's sections
    assert theano.config.compute_test_value == "off"
    theano.config.device = "cpu"  # what it is: accepted
    with pytest.raises(ValueError, match="mode='JAX'"):
        theano.config.device = "cuda0"
    with pytest.raises(ValueError, match="eval"):
        theano.config.compute_test_value = "raise"
    before = pytensor.config.on_unused_input
    try:
        theano.config.on_unused_input = "ignore"  # a flag PyTensor has is PyTensor's
        assert pytensor.config.on_unused_input == "ignore"
    finally:
        pytensor.config.on_unused_input = before
    assert not hasattr(pytensor.config, "device")


# --- truthiness ------------------------------------------------------------------

CONSTRUCTORS = {
    "T.matrix": lambda: T.matrix("x"), "T.tensor3": lambda: T.tensor3(), "T.vector": lambda: T.vector(),
    "T.scalar": lambda: T.scalar(), "T.imatrix": lambda: T.imatrix(), "T.fmatrix": lambda: T.fmatrix(),
    "T.matrix(name, dtype)": lambda: T.matrix("x", "int32"), "T.lscalars": lambda: T.lscalars("a", "b")[1],
    "T.tensor(dtype, broadcastable)": lambda: T.tensor("float32", (False, True)),
    "T.TensorType(...)()": lambda: T.TensorType(floatX, (False, False))(),
    "theano.shared": lambda: theano.shared(numpy.ones((2, 2), dtype=floatX)),
}


@pytest.mark.parametrize("made_by", sorted(CONSTRUCTORS))
def test_variables_made_through_the_view_are_true_as_in_theano(made_by):
    variable = CONSTRUCTORS[made_by]()
    assert bool(variable) is True
    input = None if made_by == "T.matrix" else variable
    if not input:  # Theano's idiom: make the input when none is given
        input = T.matrix("input")
    assert input is not None
    with pytest.raises(TypeError):
        bool(variable > 0)  # comparisons refuse, as Theano's did


def test_argument_styles_of_the_constructors():
    assert T.matrix("x", "int32").dtype == "int32" and T.matrix("x", dtype="int32").dtype == "int32"
    assert T.tensor("float64", (False, True), name="t").broadcastable == (False, True)
    assert T.lscalars("a", "b")[0].dtype == "int64"


@on_pytensor
def test_truthy_variables_survive_cloning_pickling_and_compiling():
    import pytensor
    x = T.matrix("x")
    t = T.TensorType(floatX, (False, False))("t")
    s = theano.shared(numpy.zeros((2, 2), dtype=floatX), name="s")
    for variable in (x, t, s):
        assert bool(variable.clone()) and bool(pickle.loads(pickle.dumps(variable)))
    # their types are the engine's: equal, so they mix with variables made by pytensor
    assert t.type == pytensor.tensor.matrix(dtype=floatX).type == x.type
    assert isinstance(pytensor.tensor.matrix().type, T.TensorType)
    ones = numpy.ones((2, 2), dtype=floatX)
    for mode in ("NUMBA", "CVM", "JAX"):
        f = pytensor.function([x, t], (x * t + s).sum(), updates=[(s, s + x)], mode=mode)
        assert f(ones, ones) == pytest.approx(4.0 * (1 + ("NUMBA", "CVM", "JAX").index(mode)))
    assert_array_equal(s.get_value(), 3 * ones)


@on_pytensor
def test_pytensors_own_variables_still_refuse_bool():
    import pytensor
    import pytensor.tensor as pt
    T.matrix()
    with pytest.raises(TypeError):
        bool(pt.matrix())
    with pytest.raises(TypeError):
        bool(pytensor.shared(numpy.ones(2)))
    with pytest.raises(TypeError):
        bool(T.matrix() + 1)  # an operation's result is the operation's own variable


# --- T.nnet ------------------------------------------------------------------------

def numpy_ultra_fast_sigmoid(x):
    u = numpy.abs(0.5 * x)
    z = numpy.where(u < 1.7, 1.5 * u / (1 + u),
                    numpy.where(u < 3, 0.935409070603099 + 0.0458812946797165 * (u - 1.7), 0.99505475368673))
    return 0.5 * (numpy.sign(x) * z + 1)


def numpy_softmax(a):
    e = numpy.exp(a - a.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@pytest.fixture(scope="module")
def nnet_values():
    """Every T.nnet function of one compiled function, on float64 data."""
    x, p, q = T.dmatrix("x"), T.dmatrix("p"), T.dmatrix("q")
    labels = T.ivector("labels")
    v = T.dvector("v")
    nnet = theano.tensor.nnet
    outputs = {
        "sigmoid": nnet.sigmoid(x), "ultra_fast_sigmoid": nnet.ultra_fast_sigmoid(x),
        "hard_sigmoid": nnet.hard_sigmoid(x), "softplus": nnet.softplus(x), "softsign": nnet.softsign(x),
        "relu": nnet.relu(x), "leaky_relu": nnet.relu(x, 0.1), "elu": nnet.elu(x), "selu": nnet.selu(x),
        "softmax": nnet.softmax(x), "softmax_of_vector": nnet.softmax(v), "logsoftmax": nnet.logsoftmax(x),
        "binary_crossentropy": nnet.binary_crossentropy(p, q),
        "sigmoid_binary_crossentropy": nnet.sigmoid_binary_crossentropy(x, q),
        "categorical_crossentropy_1hot": nnet.categorical_crossentropy(p, labels),
        "categorical_crossentropy_dist": nnet.categorical_crossentropy(p, q),
        "crossentropy_categorical_1hot": nnet.crossentropy_categorical_1hot(p, labels),
        # Theano's gradients: relu's at 0 is 1/2; sigmoid cross-entropy's is sigmoid(x) - q, also at 0
        "relu_grad": T.grad(nnet.relu(x).sum(), x),
        "sbce_grad": T.grad(nnet.sigmoid_binary_crossentropy(x, q).sum(), x),
    }
    names = sorted(outputs)
    data = {
        x: numpy.array([[-4.0, -2.0, -0.5, 0.0], [0.5, 2.0, 4.0, 7.0], [-7.0, 3.4, 1.0, -1.0]]),
        p: numpy.array([[0.1, 0.2, 0.3, 0.4], [0.25, 0.25, 0.25, 0.25], [0.7, 0.1, 0.1, 0.1]]),
        q: numpy.array([[0.0, 1.0, 0.5, 0.2], [1.0, 0.0, 0.0, 0.0], [0.3, 0.3, 0.2, 0.2]]),
        labels: numpy.array([3, 0, 0], dtype="int32"), v: numpy.array([1.0, 2.0, 3.0]),
    }
    inputs = [x, p, q, labels, v]
    f = function(inputs, [outputs[name] for name in names], on_unused_input="ignore")
    return dict(zip(names, f(*[data[i] for i in inputs]))), {i.name: data[i] for i in inputs}


def test_nnet_functions_compute_theanos_formulas(nnet_values):
    got, data = nnet_values
    x, p, q, labels, v = data["x"], data["p"], data["q"], data["labels"], data["v"]
    sigmoid = 1 / (1 + numpy.exp(-x))
    expected = {
        "sigmoid": sigmoid, "ultra_fast_sigmoid": numpy_ultra_fast_sigmoid(x),
        "hard_sigmoid": numpy.clip(0.2 * x + 0.5, 0, 1), "softplus": numpy.log1p(numpy.exp(x)),
        "softsign": x / (1 + numpy.abs(x)), "relu": numpy.maximum(x, 0), "leaky_relu": numpy.maximum(x, 0.1 * x),
        "elu": numpy.where(x > 0, x, numpy.expm1(x)),
        "selu": 1.0507009873554805 * numpy.where(x > 0, x, 1.6732632423543772 * numpy.expm1(x)),
        "softmax": numpy_softmax(x), "softmax_of_vector": numpy_softmax(v[None, :]),
        "logsoftmax": numpy.log(numpy_softmax(x)),
        "binary_crossentropy": -(q * numpy.log(p) + (1 - q) * numpy.log(1 - p)),
        "sigmoid_binary_crossentropy": -(q * numpy.log(sigmoid) + (1 - q) * numpy.log(1 - sigmoid)),
        "categorical_crossentropy_1hot": -numpy.log(p[numpy.arange(3), labels]),
        "categorical_crossentropy_dist": -(q * numpy.log(p)).sum(axis=1),
        "crossentropy_categorical_1hot": -numpy.log(p[numpy.arange(3), labels]),
        "relu_grad": numpy.where(x > 0, 1.0, numpy.where(x == 0, 0.5, 0.0)),
        "sbce_grad": sigmoid - q,
    }
    for name in expected:
        # relu's alpha is a constant in floatX, in Theano as here
        rtol = 1e-6 if name == "leaky_relu" else 1e-7
        assert_allclose(got[name], expected[name], rtol=rtol, atol=1e-12, err_msg=name)
    assert got["softmax_of_vector"].shape == (1, 3)  # Theano 1.0 made a vector one row
    assert numpy.abs(got["ultra_fast_sigmoid"] - sigmoid).max() < 0.03


def test_h_softmax_gives_a_distribution_and_the_targets_entries():
    batch, n_in, n_classes, per_class, n_outputs = 4, 3, 3, 4, 12
    x, target = T.dmatrix("x"), T.ivector("target")
    W1 = theano.shared(RNG.randn(n_in, n_classes))
    b1 = theano.shared(RNG.randn(n_classes))
    W2 = theano.shared(RNG.randn(n_classes, n_in, per_class))
    b2 = theano.shared(RNG.randn(n_classes, per_class))
    nnet = theano.tensor.nnet
    every = nnet.h_softmax(x, batch, n_outputs, n_classes, per_class, W1, b1, W2, b2)
    targets = nnet.h_softmax(x, batch, n_outputs, n_classes, per_class, W1, b1, W2, b2, target)
    values, picked = function([x, target], [every, targets])(RNG.randn(batch, n_in), [0, 5, 11, 3])
    assert values.shape == (batch, n_outputs)
    assert_allclose(values.sum(axis=1), 1.0, rtol=1e-12)
    assert_allclose(picked, values[numpy.arange(batch), [0, 5, 11, 3]], rtol=1e-10)
    fewer = nnet.h_softmax(x, batch, 10, n_classes, per_class, W1, b1, W2, b2)  # the last 2 ignored
    assert_allclose(function([x], fewer)(RNG.randn(batch, n_in)).shape, (batch, 10))


def test_nnet_argument_errors_are_theanos():
    with pytest.raises(TypeError, match="rank mismatch"):
        theano.tensor.nnet.categorical_crossentropy(T.dmatrix(), T.dtensor3())


@on_pytensor
def test_row_functions_refuse_other_ranks_naming_the_any_axis_one():
    with pytest.raises(ValueError, match="DL.backend.softmax"):
        T.nnet.softmax(T.tensor3())


# --- T.nnet.bn ---------------------------------------------------------------------

def numpy_batch_norm(x, gamma, beta, axes, epsilon=1e-4):
    mean, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
    return (x - mean) * gamma / numpy.sqrt(var + epsilon) + beta, mean, var


@pytest.mark.parametrize("axes", ["per-activation", "spatial"])
def test_batch_normalization_train_and_test(axes):
    bn = theano.tensor.nnet.bn
    x = T.dtensor4("x")
    rng = numpy.random.RandomState(1)
    images = rng.randn(5, 3, 2, 2) * 3 + 1
    reduced = (0,) if axes == "per-activation" else (0, 2, 3)
    shape = (3, 2, 2) if axes == "per-activation" else (3,)  # the non-normalized axes only
    gamma, beta = rng.rand(*shape) + 0.5, rng.randn(*shape)
    running_mean, running_var = rng.randn(*shape), rng.rand(*shape) + 1
    # parameters given as the non-normalized axes, as in Theano
    out, mean, invstd, new_mean, new_var = bn.batch_normalization_train(
        x, T.constant(gamma), T.constant(beta), axes=axes, running_average_factor=0.3,
        running_mean=T.constant(running_mean), running_var=T.constant(running_var))
    test_out = bn.batch_normalization_test(x, T.constant(gamma), T.constant(beta), T.constant(running_mean),
                                           T.constant(running_var), axes=axes)
    values = function([x], [out, mean, invstd, new_mean, new_var, test_out])(images)
    layout = [1] * 4
    for axis in range(4):
        if axis not in reduced:
            layout[axis] = images.shape[axis]
    g, b = gamma.reshape(layout), beta.reshape(layout)
    expected, batch_mean, batch_var = numpy_batch_norm(images, g, b, reduced)
    m = numpy.prod([images.shape[a] for a in reduced])
    assert_allclose(values[0], expected, rtol=1e-10)
    assert_allclose(values[1], batch_mean.reshape(shape), rtol=1e-10)
    assert_allclose(values[2], 1 / numpy.sqrt(batch_var.reshape(shape) + 1e-4), rtol=1e-10)
    # the factor is a constant in floatX, in Theano as here
    assert_allclose(values[3], 0.7 * running_mean + 0.3 * batch_mean.reshape(shape), rtol=1e-6)
    assert_allclose(values[4], 0.7 * running_var + 0.3 * m / (m - 1) * batch_var.reshape(shape), rtol=1e-6)
    assert_allclose(values[5], (images - running_mean.reshape(layout)) * g
                    / numpy.sqrt(running_var.reshape(layout) + 1e-4) + b, rtol=1e-10)


def test_batch_normalization_errors_are_theanos():
    bn = theano.tensor.nnet.bn
    x, g = T.dmatrix(), T.dvector()
    with pytest.raises(ValueError, match="epsilon must be at least 1e-5"):
        bn.batch_normalization_train(x, g, g, epsilon=1e-6)
    with pytest.raises(ValueError, match="both be given or both be None"):
        bn.batch_normalization_train(x, g, g, running_mean=g)
    assert_allclose(function([x], bn.batch_normalization(x, 2.0, 1.0, 3.0, 4.0))(numpy.ones((1, 1)) * 7), 3.0)


# --- random streams ------------------------------------------------------------------

def values_of(draw, updates, n_calls=2):
    f = function([], draw, updates=updates)
    return [f() for _ in range(n_calls)]


@pytest.fixture(scope="module")
def mrg_draws():
    """One function drawing every MRG distribution, called twice; the same from a twin stream."""
    def draws(seed):
        srng = theano.sandbox.rng_mrg.MRG_RandomStreams(seed)
        pvals = numpy.array([[0.2, 0.8, 0.0], [0.0, 0.0, 1.0]] * 2000, dtype=floatX)
        return srng, [srng.uniform((20000,), low=-1.0, high=3.0), srng.normal((20000,), avg=2.0, std=0.5),
                      srng.binomial((20000,), p=0.3, dtype=floatX), srng.multinomial(pvals=pvals, n=2),
                      srng.choice(size=2, replace=False, p=pvals[:2000] + numpy.float32(0.1) * (pvals[:2000] == 0))]
    # MRG's draws advance by their default updates (Theano's MRG lists its own as 4-tuples)
    srng, outputs = draws(1234)
    first, second = values_of(outputs, None)
    twin_srng, twin = draws(1234)
    return first, second, values_of(twin, None, 1)[0]


def test_mrg_random_streams_distributions(mrg_draws):
    (uniform, normal, binomial, multinomial, choice), _, _ = mrg_draws
    assert uniform.dtype == floatX and -1 <= uniform.min() and uniform.max() < 3
    assert uniform.mean() == pytest.approx(1.0, abs=0.05)
    assert normal.mean() == pytest.approx(2.0, abs=0.02) and normal.std() == pytest.approx(0.5, rel=0.03)
    assert set(numpy.unique(binomial)) == {0.0, 1.0} and binomial.mean() == pytest.approx(0.3, abs=0.02)
    assert multinomial.dtype == "int64" and multinomial.shape == (4000, 3)
    assert_array_equal(multinomial.sum(axis=1), 2)
    assert multinomial[1::2, 2].min() == 2 and multinomial[::2, 2].max() == 0
    assert multinomial[::2, 0].mean() == pytest.approx(0.4, abs=0.05)
    # two picks without replacement: different categories in each row
    assert choice.shape == (2000, 2) and (choice[:, 0] != choice[:, 1]).all()


def test_mrg_draws_advance_and_repeat_from_the_seed(mrg_draws):
    first, second, twin = mrg_draws
    for a, b, c in zip(first, second, twin):
        assert_array_equal(a, c)
    assert not numpy.array_equal(first[0], second[0])


def test_mrg_limits_are_theanos():
    srng = theano.sandbox.rng_mrg.MRG_RandomStreams(1)
    with pytest.raises(NotImplementedError):
        srng.binomial((3,), n=2)
    with pytest.raises(NotImplementedError):
        srng.choice(size=1, p=numpy.ones((2, 3)) / 3)  # replace=True
    with pytest.raises((TypeError, ValueError)):
        srng.multinomial(size=(3,), pvals=numpy.ones((2, 3)) / 3)


@on_pytensor
def test_mrg_truncated_normal_stays_within_two_standard_deviations():
    srng = theano.sandbox.rng_mrg.MRG_RandomStreams(3)
    values = values_of(srng.normal((20000,), avg=1.0, std=2.0, truncate=True), None, 1)[0]
    assert values.min() >= -3.0 - 1e-5 and values.max() <= 5.0 + 1e-5
    assert values.mean() == pytest.approx(1.0, abs=0.05)
    scaled = values_of(srng.truncated_normal((20000,), std=2.0), None, 1)[0]
    assert scaled.std() == pytest.approx(2.0, rel=0.03)


def test_shared_random_streams_theanos_methods():
    srng = theano.tensor.shared_randomstreams.RandomStreams(seed=5)
    pvals = numpy.array([0.1, 0.9])
    draws = [srng.binomial((10000,), p=0.25), srng.multinomial((10000,), n=3, pvals=pvals),
             srng.choice((10000,), a=3, replace=True, p=[0.5, 0.3, 0.2]), srng.random_integers((10000,), 2, 4),
             srng.uniform(size=(3, 2), ndim=2)]
    binomial, multinomial, choice, integers, uniform = values_of(draws, srng.updates(), 1)[0]
    assert binomial.dtype == "int64" and binomial.mean() == pytest.approx(0.25, abs=0.02)  # Theano's int64
    assert multinomial.shape == (10000, 2) and (multinomial.sum(axis=1) == 3).all()
    assert multinomial[:, 1].mean() == pytest.approx(2.7, abs=0.05)
    assert numpy.bincount(choice, minlength=3) / 10000.0 == pytest.approx([0.5, 0.3, 0.2], abs=0.02)
    assert set(numpy.unique(integers)) == {2, 3, 4}
    assert uniform.shape == (3, 2)
    with pytest.raises(ValueError, match="ndim"):
        srng.uniform(size=(3, 2), ndim=3)


def test_seed_restarts_every_generator():
    srng = theano.tensor.shared_randomstreams.RandomStreams(seed=8)
    f = function([], srng.normal((4,)), updates=srng.updates())
    first = f()
    f()
    srng.seed(8)
    assert_array_equal(f(), first)


def test_draws_in_scan_come_back_in_its_updates_and_advance():
    """A Gibbs-like chain: each step draws; the updates scan returns advance the draws."""
    srng = theano.sandbox.rng_mrg.MRG_RandomStreams(7)
    start = T.matrix("start")

    def step(v):
        return srng.binomial(size=v.shape, p=0.5, dtype=floatX) + 0 * v

    chain, updates = scan(step, outputs_info=[start], n_steps=3)
    assert len(updates) >= 1
    f = function([start], chain[-1], updates=updates)
    zeros = numpy.zeros((50, 4), dtype=floatX)
    a, b = f(zeros), f(zeros)
    assert set(numpy.unique(a)) <= {0.0, 1.0} and not numpy.array_equal(a, b)


# --- printing, gradient, ifelse ---------------------------------------------------

def test_printing_gradient_and_ifelse():
    x = T.dscalar("x")
    clipped = theano.gradient.grad_clip(x, -1.0, 1.0) * 10  # the gradient reaching x, 10, clipped to 1
    g_clip = T.grad(clipped, x)
    g_zero = T.grad(theano.gradient.zero_grad(x * x) + x, x)
    g_disconnected = T.grad(theano.gradient.disconnected_grad(x * x) + x, x)
    chosen = theano.ifelse.ifelse(T.gt(x, 0), x * 2, x * 3)
    printed = theano.printing.Print("x is")(x)
    f = function([x], [g_clip, g_zero, g_disconnected, chosen, printed])
    assert [float(v) for v in f(2.0)] == [1.0, 1.0, 1.0, 4.0, 2.0]
    assert float(f(-1.0)[3]) == -3.0
    assert "x" in theano.printing.pp(x * 2)
    assert theano.printing.debugprint(x * 2, file="str")


def test_variables_of_T_TensorType_are_truthy_and_go_through_every_op():
    # T.dot asks for PyTensor's own (dense) type: a variable of the view's subclass was refused
    x = T.TensorType("float32", (False, False))("x")
    assert bool(x)
    f = theano.function([x], T.dot(x, x.T))
    numpy.testing.assert_allclose(f(numpy.ones((2, 3), "float32")), 3 * numpy.ones((2, 2)))
