"""`mode=` passes through optimize() to every function it compiles, and an MLP
trains the same on each of PyTensor's engines.

- NUMBA: every compiled function runs on the Numba linker, and the trained
  weights equal those of the C engine (CVM) from the same start, to float32
  rounding; the MLP learns the task (train and test error near zero).
- JAX (an optional engine: `pip install jax jaxlib`, or `pip install DL[jax]`):
  the same checks on the JAX linker.  Skipped, saying so, where jax is not
  installed.
Legacy Theano has neither linker, so the module is skipped there.
"""
import importlib.util
import warnings

import numpy
import pytest
from numpy.testing import assert_allclose

from DL.backend import BACKEND, T
from DL.models.MLP import MLP
from DL.optimizers import optimize
from DL.optimizers import training
from DL.utils import flatten, load_data

pytestmark = pytest.mark.skipif(BACKEND != "pytensor",
                                reason="NUMBA and JAX are linkers of PyTensor; legacy Theano has neither")

HAS_JAX = importlib.util.find_spec("jax") is not None
EPOCHS = 15


def two_blobs(seed=0):
    """Two well separated Gaussian classes in 4-D: 160 / 40 / 40 examples."""
    rng = numpy.random.RandomState(seed)
    sets = []
    for n in (160, 40, 40):
        t = rng.randint(0, 2, size=n)
        x = rng.normal(size=(n, 4)) + 2.0 * numpy.where(t[:, None] == 1, 1.0, -1.0)
        sets.append([x.astype("float32"), t.astype("int32")])
    return sets


def train_mlp(mode, monkeypatch):
    """Train a 4-8-2 MLP with optimize(mode=mode); (result, weights, compiled functions)."""
    compiled = []
    real_function = training.function

    def recording_function(*args, **kwargs):
        compiled.append(real_function(*args, **kwargs))
        return compiled[-1]

    monkeypatch.setattr(training, "function", recording_function)
    x, t = T.matrix("x"), T.ivector("t")
    mlp = MLP(rng=numpy.random.RandomState(1), input=x, n_in=4, n_hidden=8, n_out=2)
    params = flatten(mlp.params)
    result = optimize(dataset=load_data(two_blobs()), inputs=[x, t], cost=mlp.loss(t), params=params,
                      errors=mlp.errors(t), n_epochs=EPOCHS, batch_size=10, optimizer="sgd",
                      learning_rate=0.1, momentum=0, mode=mode, progress=False, verbose=False)
    return result, [p.get_value() for p in params], compiled


def linker_of(function):
    return type(function.maker.linker).__name__


@pytest.fixture(scope="module")
def reference(request):
    """The same training on PyTensor's C engine (the CVM linker)."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        return train_mlp("CVM", monkeypatch)


def check_engine(mode, linker, reference, monkeypatch):
    result, weights, compiled = train_mlp(mode, monkeypatch)
    # train, validate, test and the final train-error function: all on the engine asked for
    assert len(compiled) >= 4
    assert {linker_of(f) for f in compiled} == {linker}
    assert result.iterations == EPOCHS * 16
    assert result.train_loss <= 0.02 and result.test_loss <= 0.05
    _, reference_weights, reference_compiled = reference
    assert {linker_of(f) for f in reference_compiled} == {"VMLinker"}
    for mine, theirs in zip(weights, reference_weights):
        assert mine.dtype == theirs.dtype == numpy.float32
        assert_allclose(mine, theirs, rtol=1e-4, atol=1e-5)


def test_numba_mode_passes_through_optimize_and_matches_the_c_engine(reference, monkeypatch):
    check_engine("NUMBA", "NumbaLinker", reference, monkeypatch)


@pytest.mark.skipif(not HAS_JAX, reason="JAX is an optional engine and jax is not installed "
                                        "(pip install jax jaxlib, or pip install DL[jax])")
def test_jax_mode_passes_through_optimize_and_matches_the_c_engine(reference, monkeypatch):
    check_engine("JAX", "JAXLinker", reference, monkeypatch)


def test_an_unknown_mode_fails_before_training():
    x, t = T.matrix("x"), T.ivector("t")
    mlp = MLP(rng=numpy.random.RandomState(1), input=x, n_in=4, n_hidden=8, n_out=2)
    with pytest.raises(Exception, match="NO_SUCH_MODE"):
        optimize(dataset=load_data(two_blobs()), inputs=[x, t], cost=mlp.loss(t),
                 params=flatten(mlp.params), errors=mlp.errors(t), n_epochs=1, batch_size=10,
                 optimizer="sgd", learning_rate=0.1, mode="NO_SUCH_MODE", progress=False, verbose=False)


def tiny_sequences(seed=0):
    """Sequences of 6 ids (padded at the end), labelled by whether id 1 occurs:
    23 / 9 / 9 examples, so the last minibatch of each set is shorter."""
    rng = numpy.random.RandomState(seed)
    sets = []
    for n in (23, 9, 9):
        ids = rng.randint(1, 5, size=(n, 6)).astype("int64")
        mask = numpy.ones((n, 6), "float32")
        for example, length in enumerate(rng.randint(2, 7, size=n)):
            ids[example, length:], mask[example, length:] = 0, 0
        sets.append([ids, (ids == 1).any(axis=1).astype("int64"), mask])
    return sets


def train_lstm(mode):
    from DL.models import EmbeddingLayer, HiddenLayer, LSTM
    from DL.pooling import mean_pool
    x, t, mask = T.lmatrix("x"), T.lvector("t"), T.matrix("mask")
    rng = numpy.random.RandomState(3)
    embedding = EmbeddingLayer(rng=rng, input=x, n_in=5, n_out=4)
    lstm = LSTM(rng=rng, input=embedding.output, mask=mask, n_units=4)
    classifier = HiddenLayer(rng=rng, input=mean_pool(lstm.output, mask), n_in=4, n_out=2, activation="softmax")
    params = flatten([embedding.params, lstm.params, classifier.params])
    result = optimize(dataset=load_data(tiny_sequences()), inputs=[x, t, mask], cost=classifier.loss(t),
                      params=params, errors=classifier.errors(t), n_epochs=3, batch_size=5,
                      optimizer="adadelta", mode=mode, progress=False, verbose=False)
    return result, [p.get_value() for p in params]


@pytest.mark.skipif(not HAS_JAX, reason="JAX is an optional engine and jax is not installed "
                                        "(pip install jax jaxlib, or pip install DL[jax])")
@pytest.mark.slow
def test_jax_mode_trains_an_lstm_like_the_c_engine():
    # every minibatch shape gets its own traced function (the last minibatches are shorter)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # JAX drops the run-time shape checks, and says so
        result, weights = train_lstm("JAX")
    reference, reference_weights = train_lstm("CVM")
    assert_allclose(list(result), list(reference), rtol=1e-4, atol=1e-6)
    for mine, theirs in zip(weights, reference_weights):
        assert_allclose(mine, theirs, rtol=1e-4, atol=1e-5)
