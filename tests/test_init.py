"""Initial weights: Glorot-uniform bounds, orthogonality, zeros."""
import numpy
import pytest
from numpy.testing import assert_allclose

from DL import init
from DL.backend import floatX


@pytest.mark.parametrize("activation, factor", [("tanh", 1), ("relu", 1), ("sigmoid", 4)])
def test_glorot_uniform_fills_its_bounds(rng, activation, factor):
    n_in, n_out = 200, 100
    W = init.glorot_uniform(rng, n_in, n_out, activation)
    bound = factor * numpy.sqrt(6.0 / (n_in + n_out))
    assert W.shape == (n_in, n_out) and W.dtype == floatX
    assert numpy.abs(W).max() <= bound * (1 + 1e-6)
    # 20000 uniform draws reach within 0.1% of both ends and centre on zero
    assert W.max() > 0.999 * bound and W.min() < -0.999 * bound
    assert abs(W.mean()) < 0.02 * bound
    # the variance of U(-s, s) is s^2 / 3
    assert W.var() == pytest.approx(bound ** 2 / 3, rel=0.03)


def test_glorot_uniform_is_reproducible_from_the_rng():
    first = init.glorot_uniform(numpy.random.RandomState(7), 5, 3)
    second = init.glorot_uniform(numpy.random.RandomState(7), 5, 3)
    numpy.testing.assert_array_equal(first, second)


@pytest.mark.parametrize("n_in, n_out", [(6, 6), (8, 3), (3, 8)])
def test_orthogonal_is_orthogonal(rng, n_in, n_out):
    W = init.orthogonal(rng, n_in, n_out).astype("float64")
    assert W.shape == (n_in, n_out)
    # orthonormal columns (tall or square) or rows (wide)
    gram = W.T @ W if n_in >= n_out else W @ W.T
    assert_allclose(gram, numpy.eye(min(n_in, n_out)), atol=1e-6)
    if n_in == n_out:
        assert_allclose(W @ W.T, numpy.eye(n_in), atol=1e-6)


def test_orthogonal_square_by_default_and_gain(rng):
    W = init.orthogonal(rng, 5, gain=2.0).astype("float64")
    assert W.shape == (5, 5) and init.orthogonal(rng, 5).dtype == floatX
    assert_allclose(W.T @ W, 4 * numpy.eye(5), atol=1e-5)


def test_orthogonal_differs_between_draws(rng):
    assert not numpy.allclose(init.orthogonal(rng, 4), init.orthogonal(rng, 4))


def test_zeros():
    Z = init.zeros(3, 2)
    assert Z.shape == (3, 2) and Z.dtype == floatX and not Z.any()
    assert init.zeros(4).shape == (4,)
