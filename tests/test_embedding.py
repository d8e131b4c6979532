"""EmbeddingLayer: a lookup by index for ids of any shape, one-hot input on request,
its gradient, its regularizers, and a clear error for ids outside the table."""
import numpy
import pytest
from numpy.testing import assert_allclose

from DL.backend import T, function, grad, shared
from DL.models.EmbeddingLayer import EmbeddingLayer

N_IN, N_OUT = 7, 3


@pytest.fixture
def table(rng):
    return rng.randn(N_IN, N_OUT)


def embedded(table, ids_variable, ids, onehot=False):
    layer = EmbeddingLayer(numpy.random.RandomState(0), ids_variable, N_IN, N_OUT, onehot=onehot,
                           params=[shared(table)])
    return function([ids_variable], layer.output)(ids), layer


@pytest.mark.parametrize("variable, ids", [
    (T.lscalar, 4),
    (T.lvector, [0, 6, 6, 2]),
    (T.lmatrix, [[1, 2, 3], [6, 0, 1]]),
    (T.ltensor3, numpy.arange(12).reshape(2, 3, 2) % N_IN),
])
def test_ids_of_any_shape_index_the_table(table, variable, ids):
    output, _ = embedded(table, variable("ids"), numpy.asarray(ids, dtype="int64"))
    assert output.shape == numpy.shape(ids) + (N_OUT,)
    assert_allclose(output, table[numpy.asarray(ids)])


def test_the_graph_indexes_instead_of_multiplying(table):
    """Ids pick rows: no product with one-hot rows appears in the graph."""
    ids = T.lmatrix("ids")
    _, layer = embedded(table, ids, numpy.zeros((1, 1), dtype="int64"))
    ops = set()
    stack = [layer.output]
    while stack:
        variable = stack.pop()
        if variable.owner is not None:
            ops.add(type(variable.owner.op).__name__)
            stack.extend(variable.owner.inputs)
    assert not {"Dot", "Dot22", "Gemm", "Blockwise"} & ops, ops
    assert any("Subtensor" in op for op in ops), ops


def test_onehot_input_gives_the_same_rows(table, rng):
    ids = rng.randint(N_IN, size=(2, 5))
    onehot = numpy.eye(N_IN)[ids]
    by_dot, _ = embedded(table, T.dtensor3("onehot"), onehot, onehot=True)
    assert_allclose(by_dot, table[ids])


def test_gradient_adds_up_at_each_row_used(table, rng):
    """d sum(output * C) / dW[k] = sum of C over the positions whose id is k (rows unused get 0)."""
    ids_value = numpy.array([[1, 3, 1], [5, 1, 3]])
    weights = rng.randn(2, 3, N_OUT)
    ids = T.lmatrix("ids")
    layer = EmbeddingLayer(numpy.random.RandomState(0), ids, N_IN, N_OUT, params=[shared(table)])
    gradient = function([ids], grad(T.sum(layer.output * weights), layer.W))(ids_value)
    expected = numpy.zeros_like(table)
    numpy.add.at(expected, ids_value, weights)
    assert_allclose(gradient, expected)


def test_regularizers_cover_the_table_without_L1(table):
    layer = EmbeddingLayer(numpy.random.RandomState(0), T.lmatrix("ids"), N_IN, N_OUT, params=[table])
    assert layer.L1 == 0
    assert_allclose(float(layer.L2_sqr.eval()), (table ** 2).sum(), rtol=1e-5)
    assert layer.params == [layer.W] and layer.updates == []


def test_default_table_is_small_and_params_load_back(rng):
    ids = T.lmatrix("ids")
    layer = EmbeddingLayer(rng, ids, N_IN, N_OUT)
    table = layer.W.get_value()
    assert table.shape == (N_IN, N_OUT) and 0 < numpy.abs(table).max() <= 0.01
    again = EmbeddingLayer(rng, ids, N_IN, N_OUT, params=[value.get_value() for value in layer.params])
    assert_allclose(again.W.get_value(), table)
    shared_weights = EmbeddingLayer(rng, ids, N_IN, N_OUT, params=layer.params)
    assert shared_weights.W is layer.W


@pytest.mark.parametrize("bad_id", [N_IN, 50, -1])
def test_an_id_outside_the_table_is_a_clear_error_at_run_time(table, bad_id):
    """Out of range ids (a negative one would silently wrap around in NumPy) stop the call."""
    ids = T.lmatrix("ids")
    layer = EmbeddingLayer(numpy.random.RandomState(0), ids, N_IN, N_OUT, params=[table])
    lookup = function([ids], layer.output)
    with pytest.raises(IndexError, match=r"ids must lie in 0 \.\. 6 \(n_in=7"):
        lookup(numpy.array([[0, bad_id]]))
    assert_allclose(lookup(numpy.array([[0, 6]])), table[[[0, 6]]], rtol=1e-6)


def test_bad_arguments_are_clear_errors(rng):
    with pytest.raises(TypeError, match="integer tensor"):
        EmbeddingLayer(rng, T.matrix("floats"), N_IN, N_OUT)
    with pytest.raises(TypeError, match="float tensor"):
        EmbeddingLayer(rng, T.lmatrix("ids"), N_IN, N_OUT, onehot=True)
    with pytest.raises(ValueError, match="n_in"):
        EmbeddingLayer(rng, T.lmatrix("ids"), 0, N_OUT)
    with pytest.raises(ValueError, match=r"W has shape \(3, 3\) but the layer needs \(7, 3\)"):
        EmbeddingLayer(rng, T.lmatrix("ids"), N_IN, N_OUT, params=[numpy.zeros((3, 3))])
