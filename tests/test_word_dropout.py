"""DL.dropout.word_dropout: whole word vectors dropped, survivors scaled by 1 / (1 - rate)."""
import numpy
import pytest

from DL.backend import T, RandomStreams, floatX, function
from DL.dropout import word_dropout

RATE = 0.3


@pytest.fixture(scope="module")
def dropped():
    x = T.tensor3("x")
    return function([x], word_dropout(RandomStreams(0), RATE, x))


def test_each_step_is_dropped_whole_or_kept_scaled(dropped):
    x = numpy.random.RandomState(0).uniform(0.5, 1.5, size=(200, 50, 4)).astype(floatX)
    out = dropped(x)
    kept = out[:, :, 0] != 0
    # all units of a step share one draw: zero together, or all scaled by the same factor
    assert numpy.all((out != 0) == kept[:, :, None])
    numpy.testing.assert_allclose(out, x * kept[:, :, None] / (1 - RATE), rtol=1e-5)
    assert abs((1 - kept.mean()) - RATE) < 0.03  # 10000 draws: the share dropped is the rate
    assert not numpy.array_equal(kept, dropped(x)[:, :, 0] != 0)  # a new mask each call


def test_rate_zero_is_the_identity():
    x = T.tensor3("x")
    assert word_dropout(RandomStreams(0), 0, x) is x


@pytest.mark.parametrize("rate, shape, error", [(0.5, 2, ValueError), (1.0, 3, ValueError), ("0.5", 3, TypeError)])
def test_bad_input_is_refused(rate, shape, error):
    x = T.tensor3("x") if shape == 3 else T.matrix("x")
    with pytest.raises(error):
        word_dropout(RandomStreams(0), rate, x)
