"""Inverted dropout (Srivastava et al. 2014).

    dropout(srng, rate, x) = x * m / (1 - rate),  m_ij ~ Bernoulli(1 - rate)

Word dropout drops whole steps of a sequence (all units of a word vector at
once, as Gal & Ghahramani 2016 drop embedded words):

    word_dropout(srng, rate, x)[n, t] = x[n, t] * m_nt / (1 - rate),  m_nt ~ Bernoulli(1 - rate)

x `(n_examples, n_timesteps, n_units)`: a dropped word reads as the zero vector.

Scaling at training time keeps E[output] = x, so the deterministic path
(prediction) uses x unchanged.  Only training graphs call this.
"""
import numbers

from DL.backend import T, floatX


def check_rate(rate):
    if isinstance(rate, bool) or not isinstance(rate, numbers.Real):
        hint = ""
        if hasattr(rate, "binomial"):  # the original package's MLP took srng as its 6th argument
            hint = "; pass the random stream by keyword: srng=%s" % type(rate).__name__
        raise TypeError("dropout_rate must be a number in [0, 1), got %r%s" % (rate, hint))
    if not 0 <= rate < 1:
        raise ValueError("dropout_rate must be in [0, 1), got %r" % (rate,))
    return rate


def dropout_mask(srng, rate, shape):
    """A {0, 1/(1-rate)} mask of `shape`."""
    keep = 1.0 - check_rate(rate)
    return srng.binomial(size=shape, n=1, p=keep, dtype=floatX) / T.cast(keep, floatX)


def dropout(srng, rate, x):
    """x with each unit dropped with probability `rate`, survivors scaled up."""
    if check_rate(rate) == 0:
        return x
    return x * dropout_mask(srng, rate, x.shape)


def word_dropout(srng, rate, x):
    """x `(n_examples, n_timesteps, n_units)` with each step's whole vector dropped
    with probability `rate` (one draw per example and step), survivors scaled up."""
    if x.ndim != 3:
        raise ValueError("word_dropout: x must be (n_examples, n_timesteps, n_units), got %d-D" % x.ndim)
    if check_rate(rate) == 0:
        return x
    return x * dropout_mask(srng, rate, x.shape[:2]).dimshuffle(0, 1, "x")
