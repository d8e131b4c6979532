"""ForwardFeedColumn and DBNC: the max over columns against NumPy, DBNC = DBN for one
column, gradients, dropout on the training path only, params=, bad input.
"""
import numpy
import pytest
from numpy.testing import assert_allclose

from DL.backend import T, function
from DL.models.DBN import DBN
from DL.models.DBNC import DBNC
from DL.models.ForwardFeedColumn import ForwardFeedColumn

from test_use import assert_gradients_match, float64_copy, values_of


def np_forward(x, layers):
    for W, b in layers:
        x = numpy.tanh(x @ W + b)
    return x


def test_column_output_is_the_elementwise_max_of_its_forward_feeds(rng):
    x = T.dmatrix("x")
    column = ForwardFeedColumn(rng, x, [4, 5, 3], n_parallel=3)
    data = rng.randn(6, 4)
    output = function([x], column.output)(data)
    columns = numpy.stack([np_forward(data, params) for params in values_of(column.params)])
    assert output.shape == (6, 3)
    assert_allclose(output, columns.max(axis=0), rtol=1e-5)
    assert not all(numpy.allclose(output, c) for c in columns), "one column won everywhere: no max was taken"


def test_dbnc_with_one_column_is_the_dbn(rng):
    x = T.dmatrix("x")
    dbnc = DBNC(rng, x, n_in=4, n_out=3, ff_sizes=[[5], [6, 2]], n_parallel=1)
    stages, output_params = values_of(dbnc.params)
    dbn = DBN(rng, x, 4, 3, layer_sizes=[5, 6, 2], params=[[layer for stage in stages for layer in stage[0]],
                                                          output_params])
    data = rng.randn(7, 4)
    assert_allclose(function([x], dbnc.output)(data), function([x], dbn.output)(data), rtol=1e-6)


def test_dbnc_hooks_and_gradients(rng, numeric_grad):
    x, t = T.dmatrix("x"), T.lvector("t")
    first = DBNC(rng, x, n_in=3, n_out=2, ff_sizes=[[3], [2]], n_parallel=2)
    dbnc = DBNC(rng, x, n_in=3, n_out=2, ff_sizes=[[3], [2]], n_parallel=2, params=float64_copy(first.params))
    data, labels = rng.randn(5, 3), rng.randint(2, size=5)
    output, pred, errors = function([x, t], [dbnc.output, dbnc.pred, dbnc.errors(t)])(data, labels)
    assert output.shape == (5, 2) and pred.shape == (5,)
    assert_allclose(errors, numpy.mean(output.argmax(-1) != labels))
    assert_gradients_match(dbnc.loss(t) + 1e-3 * dbnc.L2_sqr, dbnc.params, [x, t], [data, labels], numeric_grad)


def test_dropout_reaches_training_only_and_params_round_trip(rng):
    x = T.matrix("x")
    dbnc = DBNC(rng, x, n_in=4, n_out=3, ff_sizes=[[8]], n_parallel=3, dropout_rate=0.5)
    assert len(dbnc.params) == 2 and len(dbnc.params[0]) == 1 and len(dbnc.params[0][0]) == 3
    data = rng.randn(4, 4).astype("float32")
    train = function([x], dbnc.output, updates=dbnc.updates)
    assert not numpy.allclose(train(data), train(data))
    deterministic = function([x], dbnc.output_deterministic)(data)
    copy = DBNC(rng, x, n_in=4, n_out=3, ff_sizes=[[8]], n_parallel=3, params=values_of(dbnc.params))
    assert_allclose(function([x], copy.output)(data), deterministic, rtol=1e-6)


def test_bad_sizes_are_refused(rng):
    x = T.matrix("x")
    with pytest.raises(ValueError, match="n_parallel"):
        ForwardFeedColumn(rng, x, [4, 3], n_parallel=0)
    with pytest.raises(ValueError, match="layer_sizes must list the input size and at least one"):
        ForwardFeedColumn(rng, x, [4], n_parallel=2)
    with pytest.raises(ValueError, match=r"ff_sizes\[1\]\[0\]"):
        DBNC(rng, x, 4, 3, ff_sizes=[[5], [None]])
    with pytest.raises(ValueError, match="each entry of ff_sizes"):
        DBNC(rng, x, 4, 3, ff_sizes=[[5], []])
