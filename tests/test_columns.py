"""ForwardFeedColumn and DBNC, batched: all columns at one depth are one product.

Proven here: the output equals a per-column NumPy reference; the graph does not
grow with n_parallel; files and weights of the per-column code (commit 3dc36f1,
tests/fixtures/) load and compute what that code computed, and the same seed
draws the same initial weights; gradients match finite differences in float64;
dropout reaches the training path only; a DBNC learns XOR far below chance and
below a linear baseline; bad sizes and bad params get clear errors.
"""
import os

import numpy
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from DL import io
from DL.backend import T, function, grad, shared
from DL.models.DBN import DBN
from DL.models.DBNC import DBNC
from DL.models.ForwardFeedColumn import ForwardFeedColumn
from DL.updates import adam
from DL.utils import flatten

from test_use import assert_gradients_match, float64_copy, values_of

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


def np_columns(x, depths, activation=numpy.tanh):
    """Each column on its own, as the per-column code computed it: (n_parallel, n, n_k)."""
    n_parallel = depths[0][0].shape[0]
    outputs = []
    for c in range(n_parallel):
        h = x
        for W, b in depths:
            h = activation(h @ W[c] + b[c])
        outputs.append(h)
    return numpy.stack(outputs)


def graph_size(outputs):
    """The number of operations in the symbolic graph of `outputs`."""
    seen, stack = set(), [v for v in outputs if v.owner is not None]
    while stack:
        node = stack.pop().owner
        if node in seen:
            continue
        seen.add(node)
        stack.extend(v for v in node.inputs if v.owner is not None)
    return len(seen)


# --- the batched column against NumPy ------------------------------------------------

@pytest.fixture(scope="module")
def column():
    """A float64 column of 4 columns, layer sizes [4, 5, 3], random biases, compiled once."""
    rng = numpy.random.RandomState(1)
    x = T.dmatrix("x")
    depths = [[rng.randn(4, n_in, n_out) * 0.8, rng.randn(4, n_out) * 0.5]
              for n_in, n_out in ((4, 5), (5, 3))]
    model = ForwardFeedColumn(rng, x, [4, 5, 3], n_parallel=4, params=[[shared(W), shared(b)] for W, b in depths])
    return model, depths, function([x], [model.output, model.output_deterministic])


def test_column_output_is_the_max_over_a_per_column_numpy_reference(column, rng):
    model, depths, compute = column
    data = rng.randn(6, 4)
    output, deterministic = compute(data)
    columns = np_columns(data, depths)
    assert output.shape == (6, 3)
    assert_allclose(output, columns.max(axis=0), rtol=1e-12, atol=1e-12)
    assert_allclose(deterministic, output, rtol=1e-12, atol=1e-12)
    winners = columns.argmax(axis=0)
    assert len(numpy.unique(winners)) > 1, "one column won everywhere: no max was taken"


def test_params_are_one_stacked_pair_per_depth(column):
    model, depths, _ = column
    shapes = [[leaf.get_value().shape for leaf in pair] for pair in model.params]
    assert shapes == [[(4, 4, 5), (4, 5)], [(4, 5, 3), (4, 3)]]
    assert_allclose(float(function([], model.L2_sqr)()), sum((W ** 2).sum() for W, _ in depths))
    assert_allclose(float(function([], model.L1)()), sum(abs(W).sum() for W, _ in depths))


def test_a_sequence_input_is_columned_step_by_step(rng):
    x = T.tensor3("x", dtype="float64")
    depths = [[shared(rng.randn(3, 3, 4)), shared(rng.randn(3, 4))]]
    model = ForwardFeedColumn(rng, x, [3, 4], n_parallel=3, params=depths)
    data = rng.randn(2, 5, 3)
    expected = np_columns(data.reshape(10, 3), values_of(model.params)).max(axis=0).reshape(2, 5, 4)
    assert_allclose(function([x], model.output)(data), expected, rtol=1e-12)


def test_the_graph_does_not_grow_with_the_number_of_columns():
    sizes = []
    for n_parallel in (2, 9):
        x, t = T.matrix("x"), T.ivector("t")
        dbnc = DBNC(numpy.random.RandomState(0), x, 6, 3, [[4, 4, 5], [4, 4, 5]], n_parallel=n_parallel,
                    dropout_rate=0.1)
        cost = dbnc.loss(t) + 1e-4 * dbnc.L2_sqr
        sizes.append(graph_size([cost, dbnc.errors(t)] + grad(cost, flatten(dbnc.params))))
    assert sizes[0] == sizes[1], "graph of %d operations for 2 columns, %d for 9" % tuple(sizes)


# --- files and weights of the per-column code (commit 3dc36f1) ------------------------

@pytest.fixture(scope="module")
def saved():
    params, meta = io.load(os.path.join(FIXTURES, "dbnc_3dc36f1.npz"))
    expected = numpy.load(os.path.join(FIXTURES, "dbnc_3dc36f1_expected.npz"))
    return params, meta, expected


def build_saved(meta, params=None, seed=0):
    x = T.matrix("x")
    return x, DBNC(numpy.random.RandomState(seed), x, meta["n_in"], meta["n_out"], meta["ff_sizes"],
                   n_parallel=meta["n_parallel"], params=params)


def test_a_file_saved_per_column_by_3dc36f1_loads_and_computes_what_it_computed(saved):
    params, meta, expected = saved
    assert meta["commit"] == "3dc36f1" and len(params[0][0]) == meta["n_parallel"]  # per-column nesting
    x, dbnc = build_saved(meta, params)
    output, pred = function([x], [dbnc.output_deterministic, dbnc.pred])(expected["x"])
    assert_allclose(output, expected["output"], rtol=1e-6, atol=1e-7)
    assert_array_equal(pred, expected["pred"])
    # stacked: column c's layer i is W_i[c]
    assert_array_equal(dbnc.params[0][0][1][0].get_value()[2], params[0][0][2][1][0])
    assert_array_equal(dbnc.params[0][0][1][1].get_value()[2], params[0][0][2][1][1])


def test_the_same_seed_draws_the_weights_the_per_column_code_drew(saved):
    _, meta, expected = saved
    _, dbnc = build_saved(meta, seed=meta["seed"])
    stages, (W_o, _) = values_of(dbnc.params)
    # the per-column code's order: stage by stage, column by column, layer by layer, then the output
    per_column = [W[c] for stage in stages for c in range(meta["n_parallel"]) for W, _ in stage]
    assert_array_equal(numpy.concatenate([W.ravel() for W in per_column + [W_o]]), expected["initial_weights"])


def test_a_saved_batched_model_round_trips_through_DL_io(saved, tmp_path):
    params, meta, expected = saved
    _, first = build_saved(meta, params)
    io.save(str(tmp_path / "batched.npz"), first.params)
    loaded, _ = io.load(str(tmp_path / "batched.npz"))
    x, second = build_saved(meta, loaded)
    assert_allclose(function([x], second.output_deterministic)(expected["x"]), expected["output"],
                    rtol=1e-6, atol=1e-7)


# --- gradients, dropout, one column --------------------------------------------------

def test_dbnc_with_one_column_is_the_dbn(rng):
    x = T.dmatrix("x")
    dbnc = DBNC(rng, x, n_in=4, n_out=3, ff_sizes=[[5], [6, 2]], n_parallel=1)
    stages, output_params = values_of(dbnc.params)
    layers = [[W[0], b[0]] for stage in stages for W, b in stage]
    dbn = DBN(rng, x, 4, 3, layer_sizes=[5, 6, 2], params=[layers, output_params])
    data = rng.randn(7, 4)
    assert_allclose(function([x], dbnc.output)(data), function([x], dbn.output)(data), rtol=1e-6)


def test_dbnc_hooks_and_gradients_against_finite_differences(rng, numeric_grad):
    x, t = T.dmatrix("x"), T.lvector("t")
    first = DBNC(rng, x, n_in=3, n_out=2, ff_sizes=[[3, 2], [2]], n_parallel=3)
    params = float64_copy(first.params)
    for leaf in flatten(params):  # biases away from zero, so that their gradients are checked too
        leaf.set_value(leaf.get_value() + rng.uniform(-0.5, 0.5, size=leaf.get_value().shape))
    dbnc = DBNC(rng, x, n_in=3, n_out=2, ff_sizes=[[3, 2], [2]], n_parallel=3, params=params)
    data, labels = rng.randn(5, 3), rng.randint(2, size=5)
    output, pred, errors = function([x, t], [dbnc.output, dbnc.pred, dbnc.errors(t)])(data, labels)
    assert output.shape == (5, 2) and pred.shape == (5,)
    assert_allclose(errors, numpy.mean(output.argmax(-1) != labels))
    assert_gradients_match(dbnc.loss(t) + 1e-3 * dbnc.L2_sqr + 1e-3 * dbnc.L1, dbnc.params, [x, t],
                           [data, labels], numeric_grad)


def test_dropout_reaches_training_only_and_params_round_trip(rng):
    x = T.matrix("x")
    dbnc = DBNC(rng, x, n_in=4, n_out=3, ff_sizes=[[8]], n_parallel=3, dropout_rate=0.5)
    assert [[leaf.get_value().shape for leaf in pair] for pair in dbnc.params[0][0]] == [[(3, 4, 8), (3, 8)]]
    data = rng.randn(4, 4).astype("float32")
    train = function([x], dbnc.output, updates=dbnc.updates)
    assert not numpy.allclose(train(data), train(data))
    deterministic = function([x], dbnc.output_deterministic)
    assert_array_equal(deterministic(data), deterministic(data))
    copy = DBNC(rng, x, n_in=4, n_out=3, ff_sizes=[[8]], n_parallel=3, params=values_of(dbnc.params))
    assert_allclose(function([x], copy.output)(data), deterministic(data), rtol=1e-6)


def test_dropout_draws_a_mask_per_column(rng):
    x = T.dmatrix("x")
    ones = [[shared(numpy.eye(4)[None].repeat(2, axis=0)), shared(numpy.zeros((2, 4)))]]
    model = ForwardFeedColumn(rng, x, [4, 4], n_parallel=2, dropout_rate=0.5, params=ones,
                              activation="linear")
    columns = function([x], model.columns(x, train=True), updates=model.updates)(numpy.ones((50, 4)))
    assert set(numpy.unique(columns)) <= {0.0, 2.0}
    assert not numpy.array_equal(columns[0], columns[1]), "both columns dropped the same units"


# --- learning ---------------------------------------------------------------------------

def xor(rng, n):
    x = rng.uniform(-1, 1, size=(n, 2))
    return x, (x[:, 0] * x[:, 1] > 0).astype("int32")


def test_dbnc_learns_xor_far_below_chance_and_below_a_linear_baseline():
    rng = numpy.random.RandomState(3)
    (x_train, t_train), (x_test, t_test) = xor(rng, 300), xor(rng, 300)
    x, t = T.matrix("x"), T.ivector("t")
    dbnc = DBNC(rng, x, n_in=2, n_out=2, ff_sizes=[[8]], n_parallel=3)
    cost = dbnc.loss(t)
    params = flatten(dbnc.params)
    step = function([x, t], cost, updates=adam(params, grad(cost, params), learning_rate=0.05))
    for _ in range(300):
        step(x_train.astype(x.dtype), t_train)
    error = float(function([x, t], dbnc.errors(t))(x_test.astype(x.dtype), t_test))

    # baseline: the least-squares linear classifier on the same data
    design = numpy.c_[x_train, numpy.ones(len(x_train))]
    weights = numpy.linalg.lstsq(design, numpy.eye(2)[t_train], rcond=None)[0]
    baseline = numpy.mean((numpy.c_[x_test, numpy.ones(len(x_test))] @ weights).argmax(1) != t_test)
    assert baseline > 0.3, "the task became linear: the baseline proves nothing"
    assert error < 0.1 and error < baseline - 0.2, "DBNC error %.3f, linear baseline %.3f" % (error, baseline)


# --- bad input ------------------------------------------------------------------------

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


def test_bad_params_are_refused_with_what_to_give(rng):
    x = T.matrix("x")
    with pytest.raises(ValueError, match=r"needs \(3, 4, 5\)"):
        ForwardFeedColumn(rng, x, [4, 5], n_parallel=3, params=[[numpy.zeros((2, 4, 5)), numpy.zeros((3, 5))]])
    per_column = [[[numpy.zeros((4, 5)), numpy.zeros(5)]], [[numpy.zeros((4, 6)), numpy.zeros(6)]]]
    with pytest.raises(ValueError, match="differ in shape"):
        ForwardFeedColumn(rng, x, [4, 5], n_parallel=2, params=per_column)
    with pytest.raises(ValueError, match="list of 3 entries"):
        ForwardFeedColumn(rng, x, [4, 5], n_parallel=3, params=per_column)
    with pytest.raises(ValueError, match="has no W"):
        ForwardFeedColumn(rng, x, [4, 5], n_parallel=1, params=[[[None, numpy.zeros(5)]]])


def test_the_original_packages_nesting_loads(saved):
    params, meta, expected = saved
    stages, output = params
    x, dbnc = build_saved(meta, list(stages) + [output])  # the original's [stage_1, ..., stage_k, output]
    assert_allclose(function([x], dbnc.output_deterministic)(expected["x"]), expected["output"],
                    rtol=1e-6, atol=1e-7)
