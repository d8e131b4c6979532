"""The original package's calls, with its meaning (issue 15).

Random streams advance in every function that draws, including one compiled
with the engine's own `function`, and repeat from the same seed; the deterministic
path draws nothing; `theano.function` from DL.backend takes float64 and int64
arrays into float32 inputs without touching the engine; `T.shared_randomstreams`,
`srng=`, `load_data(output=)`, `layers_params` and `params=` as the object array
`numpy.load` gives back.  (The original's rmsprop: tests/test_updates.py; USE's
layouts and shape errors: tests/test_use.py; whole scripts: tests/test_original_style.py.)
"""
import io

import numpy
import pytensor
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from DL import backend
from DL.backend import RandomStreams, T, floatX, random_updates, theano
from DL.models.DBN import DBN
from DL.models.MLP import MLP
from DL.utils import flatten, layers_params, load_data

N_IN, N_HIDDEN, N_OUT = 4, 16, 3
X = numpy.random.RandomState(0).randn(5, N_IN)  # float64, as NumPy makes it


def dropout_mlp(seed, srng=None):
    x = T.matrix("x")
    return x, MLP(rng=numpy.random.RandomState(seed), input=x, n_in=N_IN, n_hidden=N_HIDDEN,
                  n_out=N_OUT, dropout_rate=0.5, srng=srng)


def calls(f, n=4):
    return [f(X) for _ in range(n)]


# --- random streams advance --------------------------------------------------

@pytest.mark.parametrize("compile_with", ["pytensor.function", "DL's theano.function"])
def test_a_user_compiled_function_draws_a_new_mask_at_every_call(compile_with):
    compiler = pytensor.function if compile_with == "pytensor.function" else theano.function
    x, mlp = dropout_mlp(seed=3)
    outputs = calls(compiler([x], mlp.output, allow_input_downcast=True))
    for i in range(len(outputs)):
        for j in range(i):
            assert not numpy.allclose(outputs[i], outputs[j]), "calls %d and %d drew the same mask" % (j, i)
    # the same seed gives the same sequence of masks
    x, twin = dropout_mlp(seed=3)
    for got, expected in zip(calls(compiler([x], twin.output, allow_input_downcast=True)), outputs):
        assert_array_equal(got, expected)


def test_a_given_stream_repeats_from_its_seed():
    sequences = []
    for _ in range(2):
        x, mlp = dropout_mlp(seed=numpy.random.randint(1000), srng=T.shared_randomstreams.RandomStreams(7))
        hidden = theano.function([x], mlp.hiddenLayer.apply(x, train=True))
        sequences.append([(h == 0) for h in calls(hidden)])  # the masks themselves
    for first, second in zip(*sequences):
        assert_array_equal(first, second)
    assert not all((m == sequences[0][0]).all() for m in sequences[0][1:])


def test_explicit_updates_replace_the_default_ones():
    """A function given the model's updates (as optimize passes them) advances each
    generator once a call, exactly as one relying on the default updates."""
    x, mlp = dropout_mlp(seed=4)
    x2, twin = dropout_mlp(seed=4)
    explicit = theano.function([x], mlp.output, updates=mlp.updates)
    default = theano.function([x2], twin.output)
    for got, expected in zip(calls(explicit), calls(default)):
        assert_array_equal(got, expected)


def test_the_deterministic_path_draws_nothing():
    x, mlp = dropout_mlp(seed=5)
    t = T.lvector("t")
    assert random_updates([mlp.pred, mlp.errors(t), mlp.output_deterministic]) == []
    predict = theano.function([x], mlp.output_deterministic)
    assert not predict.maker.fgraph.update_mapping  # no generator among its updates
    first = predict(X)
    assert all((out == first).all() for out in calls(predict))


def test_draws_stay_fixed_on_request():
    x, mlp = dropout_mlp(seed=6)
    fixed = theano.function([x], mlp.output, no_default_updates=True)
    first = fixed(X)
    assert all((out == first).all() for out in calls(fixed))


# --- inputs of functions users compile ---------------------------------------

def test_theano_function_takes_float64_and_int64_arrays_into_float32_inputs():
    x = T.matrix("x")
    ids = T.ivector("ids")
    f = theano.function([x, ids], [x * 2, ids + 1])
    doubled, next_ids = f(numpy.ones((2, 3)), numpy.arange(3, dtype="int64"))
    assert doubled.dtype == floatX and next_ids.dtype == "int32"
    assert_array_equal(doubled, 2) and assert_array_equal(next_ids, [1, 2, 3])
    assert_array_equal(f(numpy.ones((2, 3), dtype="int64"), [0])[0], 2)


def test_the_engine_module_is_untouched():
    """DL's `theano` is a view of the engine (Theano 1.0's module tree: DL's names where DL has
    them, the engine's otherwise); the engine's own modules are left as they are."""
    assert theano.function is backend.function and pytensor.function is not backend.function
    assert theano.tensor is T and not hasattr(pytensor.tensor, "nnet")
    assert theano.config.floatX == pytensor.config.floatX and not hasattr(pytensor.config, "device")
    assert theano.__name__ == "pytensor"
    x = T.fmatrix("x")
    with pytest.raises(TypeError):  # the engine keeps its strict check for everyone else
        pytensor.function([x], x.sum())(numpy.ones((2, 2)))
    with pytest.raises(TypeError):  # and DL's, when asked
        theano.function([x], x.sum(), allow_input_downcast=False)(numpy.ones((2, 2)))


# --- the original's names -----------------------------------------------------

def test_shared_randomstreams_is_dls_random_streams():
    assert T.shared_randomstreams.RandomStreams is RandomStreams


def test_srng_draws_the_dropout_of_mlp_and_dbn():
    srng = T.shared_randomstreams.RandomStreams(1)
    x, mlp = dropout_mlp(seed=0, srng=srng)
    dbn = DBN(rng=numpy.random.RandomState(0), input=x, n_in=N_IN, n_out=N_OUT, layer_sizes=[5, 6],
              dropout_rate=0.5, srng=srng)
    assert mlp.hiddenLayer.srng is srng and all(layer.srng is srng for layer in dbn.forwardFeed.layers)
    # each model hands over its own draws, once each
    drawn = [rng for rng, _ in srng.updates()]
    assert [rng for rng, _ in mlp.updates] == drawn[:1]
    assert [rng for rng, _ in dbn.updates] == drawn[1:3]


def test_load_data_output_is_the_targets_dtype():
    sets = [[numpy.zeros((4, 2)), numpy.array([0.0, 1.0, 2.0, 1.0])] for _ in range(3)]
    for output, dtype in [(None, floatX), ("int32", "int32"), ("float32", "float32"), ("int64", "int64")]:
        loaded = load_data(sets, output=output) if output else load_data(sets)
        assert [s[1].dtype for s in loaded] == [dtype] * 3 and loaded[0][0].dtype == floatX
        assert_array_equal(theano.function([], loaded[2][1])(), [0, 1, 2, 1])
    with pytest.raises(ValueError, match="output= names the targets' dtype"):
        load_data(sets, output="labels")


def test_layers_params():
    x, mlp = dropout_mlp(seed=0)
    assert layers_params(mlp.layers) == mlp.params


@pytest.mark.parametrize("saved", ["shared variables", "values"])
def test_params_from_numpy_load_as_object_arrays(saved):
    """The original saved `numpy.savez(..., params=mlp.params)`; numpy.load gives a
    (2, 2) object array back, which params= takes."""
    x, mlp = dropout_mlp(seed=0)
    stored = io.BytesIO()
    if saved == "shared variables":
        nested = mlp.params  # numpy.savez makes the (2, 2) object array itself
    else:
        nested = numpy.empty((2, 2), dtype=object)
        for i, layer in enumerate(mlp.params):
            for j, param in enumerate(layer):
                nested[i, j] = param.get_value()
    numpy.savez(stored, params=nested, notes="an mlp")
    stored.seek(0)
    params = numpy.load(stored, allow_pickle=True)["params"]
    assert params.dtype == object and params.shape == (2, 2)
    loaded = MLP(rng=numpy.random.RandomState(1), input=x, n_in=N_IN, n_hidden=N_HIDDEN, n_out=N_OUT,
                 params=params)
    predict = theano.function([x], [loaded.output_deterministic, mlp.output_deterministic])
    assert_allclose(*predict(X), rtol=1e-6)
    with pytest.raises(ValueError, match="params= must be a list of 2 entries"):
        MLP(rng=numpy.random.RandomState(1), input=x, n_in=N_IN, n_hidden=N_HIDDEN, n_out=N_OUT,
            params=params[:, :1])


def test_srng_passed_by_position_gets_a_clear_error():
    """The original's MLP took srng as its 6th argument, where DL's takes dropout_rate."""
    x = T.matrix("x")
    with pytest.raises(TypeError, match="pass the random stream by keyword: srng="):
        MLP(numpy.random.RandomState(0), x, N_IN, N_HIDDEN, N_OUT, T.shared_randomstreams.RandomStreams(1), 0.5)
