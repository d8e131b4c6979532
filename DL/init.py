"""Initial values for weights, as NumPy arrays in floatX.

glorot_uniform: U(-s, s) with s = sqrt(6 / (n_in + n_out)) (Glorot and Bengio
2010), times 4 for sigmoid units, as in the deeplearning.net tutorials.
orthogonal: a random orthogonal matrix (Saxe et al. 2014), from the SVD of a
Gaussian matrix, as the LSTM tutorial does for recurrent weights.
"""
import numpy

from DL.backend import floatX


def check_rng(rng):
    """`rng`, or a TypeError that says what a weight initializer needs."""
    if not (hasattr(rng, "uniform") and hasattr(rng, "normal")):
        raise TypeError("rng must be a numpy.random.RandomState (or Generator) that draws the "
                        "initial weights, e.g. numpy.random.RandomState(1234); got %r" % (rng,))
    return rng


def glorot_uniform(rng, n_in, n_out, activation="tanh"):
    """(n_in, n_out) weights for a layer with `activation`."""
    check_rng(rng)
    bound = numpy.sqrt(6.0 / (n_in + n_out))
    if activation == "sigmoid":
        bound *= 4
    return numpy.asarray(rng.uniform(low=-bound, high=bound, size=(n_in, n_out)), dtype=floatX)


def orthogonal(rng, n_in, n_out=None, gain=1.0):
    """(n_in, n_out) weights whose rows or columns are orthonormal."""
    check_rng(rng)
    n_out = n_in if n_out is None else n_out
    gaussian = rng.normal(0.0, 1.0, size=(max(n_in, n_out), max(n_in, n_out)))
    u, _, v = numpy.linalg.svd(gaussian)
    return numpy.asarray(gain * u[:n_in, :n_out] if n_in >= n_out else gain * v[:n_in, :n_out],
                         dtype=floatX)


def zeros(*shape):
    return numpy.zeros(shape, dtype=floatX)
