"""The synthetic lag tasks: their targets, seeds and splits, and an RNN that learns
each of them (a small model for a few seconds: far below chance, not the
benchmark's figures, which benchmarks/recurrent_accuracy.py measures)."""
import numpy
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from DL import datasets
from DL.backend import T
from DL.models.RNN import RNN
from DL.optimizers import optimize
from DL.utils import flatten, load_data


def whole(task, **options):
    """Inputs and targets of all three sets, stacked again."""
    sets = getattr(datasets, "lag_" + task)(**options)
    return [numpy.concatenate([data_set[i] for data_set in sets]) for i in (0, 1)], sets


def test_binary_targets_compare_lagged_inputs():
    (x, t), _ = whole("binary", n_sequences=30, n_timesteps=7, seed=1)
    assert x.shape == (30, 7, 5) and t.shape == (30, 7, 2)
    assert not t[:, :2].any()
    for s in range(2, 7):
        assert_array_equal(t[:, s, 0], x[:, s - 1, 3] > x[:, s - 2, 0])
        assert_array_equal(t[:, s, 1], x[:, s - 1, 4] * x[:, s - 1, 2] > x[:, s - 2, 0])


def test_real_targets_are_delayed_inputs_with_a_little_noise():
    (x, t), _ = whole("real", n_sequences=30, n_timesteps=7, seed=1)
    assert t.shape == (30, 7, 3)
    delayed = numpy.zeros_like(t)
    delayed[:, 1:, 0], delayed[:, 1:, 1], delayed[:, 2:, 2] = x[:, :-1, 3], x[:, :-1, 2], x[:, :-2, 0]
    noise = t - delayed
    assert numpy.abs(noise).max() < 0.06 and 0.005 < noise.std() < 0.02


def test_softmax_targets_say_above_below_or_near():
    (x, t), _ = whole("softmax", n_sequences=30, n_timesteps=7, seed=1)
    assert t.shape == (30, 7)
    d = x[:, 1:-1, 3] - x[:, :-2, 0]
    assert_array_equal(t[:, 2:], numpy.where(d > 0.5, 1, numpy.where(d < -0.5, 2, 0)))
    assert not t[:, :2].any() and set(numpy.unique(t)) == {0, 1, 2}


def test_seed_split_and_bad_sizes():
    (x, _), sets = whole("binary", n_sequences=60, seed=5)
    assert [len(data_set[0]) for data_set in sets] == [40, 10, 10]
    assert all(array.dtype == numpy.float32 for data_set in sets for array in data_set)
    assert_allclose(whole("binary", n_sequences=60, seed=5)[0][0], x)
    assert not numpy.allclose(whole("binary", n_sequences=60, seed=6)[0][0], x)
    with pytest.raises(ValueError, match="n_timesteps must be an integer >= 3"):
        datasets.lag_real(n_timesteps=2)
    with pytest.raises(ValueError, match="n_sequences"):
        datasets.lag_softmax(n_sequences=3)


@pytest.mark.parametrize("task, n_out, outputActivation, target, bound", [
    ("binary", 2, "sigmoid", T.tensor3, 0.15),   # guessing: about 40 % of the bits wrong
    ("softmax", 3, "softmax", T.lmatrix, 0.15),  # the most common class: about 55 % wrong
    ("real", 3, "linear", T.tensor3, 0.05),      # predicting 0: an mse of about 0.8
])
@pytest.mark.slow
def test_an_rnn_learns_the_task(task, n_out, outputActivation, target, bound):
    lag = getattr(datasets, "lag_" + task)(n_sequences=300, seed=0)
    x, t = T.tensor3("x"), target("t")
    rnn = RNN(numpy.random.RandomState(1), x, 5, 20, n_out, outputActivation=outputActivation)
    result = optimize(dataset=load_data(lag), inputs=[x, t], cost=rnn.loss(t) + 1e-4 * rnn.L2_sqr,
                      params=flatten(rnn.params), errors=rnn.errors(t), n_epochs=30, batch_size=20,
                      patience=10 ** 6, optimizer="rmsprop_tieleman", learning_rate=0.01, progress=False, verbose=False)
    assert result.test_loss < bound, result
