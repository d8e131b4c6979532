"""Every model learns a small task it should, in seconds, and beats a simple
baseline computed here on the same data (not only chance):

    LSTM, GRU    the first symbol of a padded sequence of bits, read at its last
                 real step: a task that needs memory.  Baselines: the majority
                 class and the best memoryless guess (from the last real symbol).
    Bidirectional (GRU)  at each step, the NEXT symbol: a forward-only reader
                 cannot know it.  Baseline: the best guess from the current symbol.
    MRNN         next character of a text of words, held out: bits per character
                 below the unigram and the bigram models of the training text.
    MUSE, EUSE   the next colour in a corridor coloured 0 1 1 0: colour and step
                 alone leave it open; the position, tracked from the start, fixes
                 it.  Baseline: the best guess from (colour, step) alone.
    DBNC         XOR of two signs: baselines the majority class and a logistic
                 regression (scikit-learn), both near 50 %.

Each trains full-batch with Adam (DL.updates.adam) on a few hundred examples;
the error is measured on held-out data with the deterministic path.  Every test
runs on each engine: Numba and, where jax is installed, JAX (DL_MODE).
"""
import importlib.util
import os
import sys

import numpy
import pytest

from DL.backend import BACKEND, T, floatX, function, grad
from DL.datasets._map1d import walk
from DL.losses import nll_multiclass, pred_error, pred_multiclass
from DL.models import DBNC, EUSE, GRU, LSTM, MRNN, MUSE, Bidirectional, HiddenLayer
from DL.pooling import last_pool
from DL.updates import adam
from DL.utils import flatten

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the checkout's benchmarks/
from benchmarks.baselines import bigram_bits, majority_error, memoryless_accuracy, unigram_bits  # noqa: E402

slow = pytest.mark.slow  # left out of `make test-quick`: trains a model to a bound


def on_each_engine():
    """Numba (DL's default) and JAX, where jax is installed; legacy Theano: its one engine."""
    if BACKEND != "pytensor":
        return [None]
    no_jax = pytest.mark.skipif(importlib.util.find_spec("jax") is None,
                                reason="JAX is an optional engine and jax is not installed")
    return ["NUMBA", pytest.param("JAX", marks=no_jax)]


@pytest.fixture(autouse=True, params=on_each_engine())
def engine(request, monkeypatch):
    """Every test runs on each engine: DL_MODE picks the mode of DL's functions."""
    if request.param is not None:
        monkeypatch.setenv("DL_MODE", request.param)
    return request.param


def train(inputs, values, cost, params, steps, learning_rate=0.02, updates=()):
    """`steps` full-batch Adam steps on `cost`."""
    params = flatten(params)
    # (on JAX the function compiles for the values' shapes: DL.backend.PerShape)
    step = function(inputs, cost, updates=adam(params, grad(cost, params), learning_rate) + list(updates))
    for _ in range(steps):
        step(*values)


def error_of(inputs, errors, values):
    return float(function(inputs, errors)(*values))


# --- sequences of bits with padding --------------------------------------------------------

def padded_bits(seed, n, steps=8, shortest=4, width=2):
    """(one-hot bits `(n, steps, width)` with junk on the padding, bit ids `(n, steps)`, mask)."""
    rng = numpy.random.RandomState(seed)
    bits = rng.randint(2, size=(n, steps))
    lengths = rng.randint(shortest, steps + 1, size=n)
    mask = (numpy.arange(steps)[None] < lengths[:, None]).astype("float32")
    x = numpy.zeros((n, steps, width), "float32")
    x[numpy.arange(n)[:, None], numpy.arange(steps)[None], bits] = 1
    x[mask == 0] = 5 * rng.randn(int((mask == 0).sum()), width)  # junk that would show
    return x, bits, mask, lengths


@pytest.fixture(scope="module")
def first_bit_task():
    data = []
    for seed, n in ((0, 300), (1, 300)):
        x, bits, mask, lengths = padded_bits(seed, n, width=8)
        last = bits[numpy.arange(n), lengths - 1]
        data.append((x, bits[:, 0].astype("int64"), mask, last))
    return data


@slow
@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_a_recurrent_layer_remembers_the_first_symbol(first_bit_task, kind):
    (x, t, mask, last), (test_x, test_t, test_mask, test_last) = first_bit_task
    rng = numpy.random.RandomState(1234)
    x_var, t_var, mask_var = T.tensor3("x"), T.lvector("t"), T.matrix("mask")
    layer = {"LSTM": LSTM, "GRU": GRU}[kind](rng, x_var, mask_var, 8)
    readout = HiddenLayer(rng, last_pool(layer.output, mask_var), 8, 2, activation="softmax")
    train([x_var, t_var, mask_var], [x, t, mask], readout.loss(t_var), [layer.params, readout.params], 300)
    error = error_of([x_var, t_var, mask_var], readout.errors(t_var), [test_x, test_t, test_mask])

    majority = majority_error(t, test_t)
    memoryless = 1 - memoryless_accuracy(last[:, None], t[:, None], test_last[:, None], test_t[:, None])
    assert min(majority, memoryless) > 0.4  # the task needs memory
    assert error < 0.05 and error < min(majority, memoryless) - 0.35, (error, majority, memoryless)


@slow
def test_a_bidirectional_layer_reads_the_next_symbol():
    data = []
    for seed in (2, 3):
        x, bits, mask, lengths = padded_bits(seed, 300)
        target_mask = mask.copy()
        target_mask[numpy.arange(len(x)), lengths - 1] = 0  # the last real step has no next symbol
        data.append((x, numpy.roll(bits, -1, axis=1), target_mask, mask, bits))
    (x, t, target_mask, mask, bits), (test_x, test_t, test_target_mask, test_mask, test_bits) = data
    rng = numpy.random.RandomState(1234)
    x_var, t_var, mask_var, target_mask_var = T.tensor3("x"), T.lmatrix("t"), T.matrix("mask"), T.matrix("tm")
    both = Bidirectional(lambda x, m, name: GRU(rng, x, m, 6, n_in=2, name=name), x_var, mask_var)
    readout = HiddenLayer(rng, both.output.reshape((-1, 12)), 12, 2, activation="softmax")
    output = readout.output.reshape((x_var.shape[0], x_var.shape[1], 2))
    inputs = [x_var, t_var, mask_var, target_mask_var]
    train(inputs, [x, t, target_mask, mask], nll_multiclass(output, t_var, target_mask_var),
          [both.params, readout.params], 300)
    error = error_of(inputs, pred_error(pred_multiclass(output), t_var, target_mask_var),
                     [test_x, test_t, test_target_mask, test_mask])

    valid, test_valid = target_mask == 1, test_target_mask == 1
    memoryless = 1 - memoryless_accuracy(bits[valid][:, None], t[valid][:, None],
                                         test_bits[test_valid][:, None], test_t[test_valid][:, None])
    assert memoryless > 0.4 and error < 0.25 and error < memoryless - 0.25, (error, memoryless)  # measured 0.157


# --- characters of words -----------------------------------------------------------------

def word_text(seed, n_words):
    words = ["the ", "cat ", "sat ", "on ", "mat ", "rat ", "ate ", "hat "]
    return "".join(numpy.random.RandomState(seed).choice(words, size=n_words))


@slow
def test_mrnn_predicts_held_out_text_below_the_unigram_and_bigram_bits():
    alphabet = sorted(set(word_text(0, 1000)))
    n_chars, length = len(alphabet), 20

    def sequences(text):
        ids = numpy.searchsorted(alphabet, list(text))
        n = (len(ids) - 1) // length
        return ids[:n * length].reshape(n, length), ids[1:n * length + 1].reshape(n, length)

    (x, t), (test_x, test_t) = sequences(word_text(0, 800)), sequences(word_text(1, 200))
    rng = numpy.random.RandomState(1234)
    x_var, t_var = T.lmatrix("x"), T.lmatrix("t")
    one_hot = T.eye(n_chars, dtype=floatX)
    mrnn = MRNN(rng, one_hot[x_var], n_chars, 24, n_chars, 24)
    train([x_var, t_var], [x, t], mrnn.loss(t_var), mrnn.params, 150)
    bits = error_of([x_var, t_var], nll_multiclass(mrnn.output_deterministic, t_var) / numpy.log(2), [test_x, test_t])

    unigram, bigram = unigram_bits(t, test_t, n_chars), bigram_bits(x, t, test_x, test_t, n_chars)
    assert unigram > 2.5 and bits < bigram - 0.3 and bits < 0.6 * unigram, (bits, unigram, bigram)


# --- state estimators in an aliased corridor -----------------------------------------------

COLOURS = numpy.array([0, 1, 1, 0])  # cell -> colour: every colour in two places


@pytest.fixture(scope="module")
def corridor():
    """[(colour ids (n, T), one-hot colours, one-hot steps, step ids)] for train and test:
    walks of 12 steps from the left end."""
    sets = []
    for seed, n in ((0, 200), (1, 200)):
        moves = numpy.random.RandomState(seed).randint(2, size=(n, 12))
        colours = COLOURS[walk(numpy.zeros(n, "int64"), moves, len(COLOURS))]
        sets.append((colours, numpy.eye(2, dtype="float32")[colours], numpy.eye(2, dtype="float32")[moves], moves))
    return sets


def memoryless_next_colour_error(corridor):
    """Error of the best guess of o_{t+1} from (o_t, a_t) alone (counted on the training walks)."""
    (colours, _, _, moves), (test_colours, _, _, test_moves) = corridor
    key, test_key = 2 * colours[:, :-1] + moves[:, :-1], 2 * test_colours[:, :-1] + test_moves[:, :-1]
    return 1 - memoryless_accuracy(key.reshape(-1, 1), colours[:, 1:].reshape(-1, 1),
                                   test_key.reshape(-1, 1), test_colours[:, 1:].reshape(-1, 1))


@slow
@pytest.mark.parametrize("kind", ["MUSE", "EUSE"])
def test_a_state_estimator_tracks_its_place_in_an_aliased_corridor(corridor, kind):
    (colours, onehot, act, _), (test_colours, test_onehot, test_act, _) = corridor
    rng = numpy.random.RandomState(1234)
    a_var = T.tensor3("a")
    if kind == "MUSE":
        o_var, values, test_values = T.tensor3("o"), (onehot, act), (test_onehot, test_act)
        model = MUSE(rng, o_var, a_var, n_obs=2, n_act=2, n_hidden=10)
    else:
        o_var, values, test_values = T.lmatrix("o"), (colours, act), (test_colours, test_act)
        model = EUSE(rng, o_var, a_var, n_obs=2, e_obs=2, n_act=2, n_hidden=10)
    train([o_var, a_var], values, model.loss(), model.params, 300)
    error = error_of([o_var, a_var], model.errors(), test_values)

    memoryless = memoryless_next_colour_error(corridor)
    assert memoryless > 0.3 and error < 0.05, (error, memoryless)


# --- columns --------------------------------------------------------------------------------

@slow
def test_dbnc_learns_xor_that_no_linear_model_can():
    from sklearn.linear_model import LogisticRegression
    rng = numpy.random.RandomState(0)
    x = rng.uniform(-1, 1, size=(800, 2)).astype("float32")
    t = (x[:, 0] * x[:, 1] > 0).astype("int64")
    (x, test_x), (t, test_t) = numpy.split(x, 2), numpy.split(t, 2)
    x_var, t_var = T.matrix("x"), T.lvector("t")
    dbnc = DBNC(numpy.random.RandomState(1234), x_var, n_in=2, n_out=2, ff_sizes=[[16]], n_parallel=3)
    train([x_var, t_var], [x, t], dbnc.loss(t_var), dbnc.params, 400)
    error = error_of([x_var, t_var], dbnc.errors(t_var), [test_x, test_t])

    linear = float(numpy.mean(LogisticRegression().fit(x, t).predict(test_x) != test_t))
    majority = majority_error(t, test_t)
    assert min(linear, majority) > 0.35 and error < 0.08, (error, linear, majority)


def test_the_baselines_score_what_they_say_on_data_counted_by_hand():
    """The bars the tests above must clear: majority class and memoryless guesses, on tiny
    sets whose answers are counted by hand."""
    assert majority_error([1, 1, 0, 1], [1, 0, 0, 1, 1]) == 2 / 5  # majority 1: wrong on the two 0s
    # observation 0 -> mostly label 1 (2 of 3), observation 1 -> label 0; the test asks at the last step
    train_obs, train_y = numpy.array([[9, 0], [9, 0], [9, 0], [9, 1]]), numpy.array([[0, 1], [0, 1], [0, 0], [0, 0]])
    test_obs, test_y = numpy.array([[9, 0], [9, 1], [9, 1]]), numpy.array([[0, 1], [0, 1], [0, 0]])
    assert memoryless_accuracy(train_obs, train_y, test_obs, test_y) == 2 / 3
    # unigram, add-one: counts 2+1 and 1+1 of 2 symbols -> p = 3/5, 2/5
    assert unigram_bits([0, 0, 1], [0, 1], 2) == pytest.approx(-(numpy.log2(3 / 5) + numpy.log2(2 / 5)) / 2)
    # bigram, add-one: after 0, seen 1 twice -> p(1 | 0) = (2 + 1) / (2 + 2)
    assert bigram_bits([0, 0, 1], [1, 1, 0], [0], [1], 2) == pytest.approx(-numpy.log2(3 / 4))
