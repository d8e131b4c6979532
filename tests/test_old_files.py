"""Files written before issue 13's layer rewrite still load, and give what they gave.

tests/fixtures/old/ was made by tests/scripts/make_old_fixtures.py with DL at
commit 3dc36f1: parameter files (DL.io.save) of an MLP, a DBN, an RNN, an LSTM
and a USE, a training checkpoint of a tiny MLP, and what that code computed
from them (expected.npz).  Today's code must take the files back through
`params=` and `optimize(..., resume=...)` and compute the same numbers; the
same seed must draw the same initial weights and dropout masks."""
import importlib.util
import os
import shutil

import numpy
import pytest

from DL import io
from DL.utils import flatten

HERE = os.path.dirname(os.path.abspath(__file__))
OLD = os.path.join(HERE, "fixtures", "old")

_spec = importlib.util.spec_from_file_location("make_old_fixtures",
                                               os.path.join(HERE, "scripts", "make_old_fixtures.py"))
fixtures = importlib.util.module_from_spec(_spec)  # the files' maker: the same models and inputs
_spec.loader.exec_module(fixtures)


@pytest.fixture(scope="module")
def expected():
    return dict(numpy.load(os.path.join(OLD, "expected.npz")))


@pytest.fixture(scope="module")
def data(expected):
    symbolic = fixtures.inputs(numpy.random.RandomState(0))
    for name, (_, value) in symbolic.items():
        numpy.testing.assert_array_equal(value, expected["inputs/" + name])  # the same fixed inputs
    return symbolic


def compile_output(model, data, names, output):
    from DL.backend import function
    return function([data[n][0] for n in names], output, updates=model.updates,
                    on_unused_input="ignore")(*[data[n][1] for n in names])


@pytest.mark.parametrize("name", ["mlp", "dbn", "rnn", "lstm", "use"])
def test_old_parameter_files_load_and_compute_the_same(name, data, expected):
    build, names = fixtures.builders(data)[name]
    params, _ = io.load(os.path.join(OLD, name + ".npz"))
    model = build(numpy.random.RandomState(fixtures.SEED), params)
    for loaded, variable in zip(flatten(params), flatten(model.params)):
        numpy.testing.assert_array_equal(loaded, variable.get_value())
    numpy.testing.assert_allclose(compile_output(model, data, names, model.output_deterministic),
                                  expected[name + "/output_deterministic"], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["mlp", "dbn", "rnn", "lstm", "use"])
def test_the_same_seed_draws_the_same_initial_weights(name, data, expected):
    build, _ = fixtures.builders(data)[name]
    fresh = flatten(build(numpy.random.RandomState(fixtures.SEED), None).params)
    old = [expected["%s/init/%d" % (name, i)] for i in range(len(fresh))]
    assert "%s/init/%d" % (name, len(fresh)) not in expected
    for value, variable in zip(old, fresh):
        numpy.testing.assert_array_equal(value, variable.get_value())


@pytest.mark.parametrize("name", ["mlp", "rnn"])
def test_the_same_seed_draws_the_same_dropout_masks(name, data, expected):
    build, names = fixtures.builders(data)[name]
    model = build(numpy.random.RandomState(fixtures.SEED), None, 0.5)
    numpy.testing.assert_allclose(compile_output(model, data, names, model.output),
                                  expected[name + "/output_dropout"], rtol=1e-5, atol=1e-6)


def test_an_old_checkpoint_resumes_to_the_same_parameters(tmp_path, expected):
    copy = tmp_path / "checkpoint.npz"
    shutil.copy(os.path.join(OLD, "mlp-checkpoint.npz"), copy)
    resumed = fixtures.train_mlp(resume=str(copy), n_epochs=2)
    old = [expected["checkpoint/resumed/%d" % i] for i in range(len(resumed))]
    for value, new in zip(old, resumed):
        numpy.testing.assert_allclose(new, value, rtol=1e-5, atol=1e-6)
