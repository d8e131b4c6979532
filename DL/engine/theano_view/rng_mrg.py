"""`theano.sandbox.rng_mrg.MRG_RandomStreams` on PyTensor, with Theano 1.0's meanings.

Theano's MRG31k3p generator was its fast stream, written for GPUs; the methods
below keep its signatures, defaults and limits (binomial with n=1 only,
multinomial and choice over the rows of a matrix of probabilities, choice
without replacement only), drawn from DL's RandomStreams (DL.backend), so that
draws advance at every call, come back from `scan` in its updates and repeat
from the seed.  The numbers are not MRG31k3p's; their distributions are the
same.  `nstreams` chose how many parallel generators Theano ran: it changed
which numbers came out, not their distribution, and is accepted and unused.
"""
from math import erf

import numpy
import pytensor.tensor as pt
from pytensor.graph.basic import Variable

from DL.engine.backend import RandomStreams

_TRUNCATION = 2.0  # Theano truncated its normal at 2 standard deviations
_TRUNCATED_STD = 0.87962566103423978  # the std of a standard normal truncated at +-2


class MRG_RandomStreams(RandomStreams):
    """MRG_RandomStreams(seed=12345): uniform, normal, truncated_normal, binomial,
    multinomial, choice, with Theano's signatures."""

    def __init__(self, seed=12345):
        if isinstance(seed, int) and seed == 0:
            raise ValueError("MRG_RandomStreams: seed should not be 0", seed)
        super(MRG_RandomStreams, self).__init__(seed)
        self.default_instance_seed = seed

    def uniform(self, size, low=0.0, high=1.0, ndim=None, dtype=None, nstreams=None):
        """Uniform on [low, high); `size` a tuple of ints or scalars, or a symbolic vector."""
        _check_size(size)
        return super(MRG_RandomStreams, self).uniform(size, low, high, ndim=ndim, dtype=dtype)

    def binomial(self, size=None, n=1, p=0.5, ndim=None, dtype="int64", nstreams=None):
        """cast(uniform(size) < p, dtype), as Theano's: a {0, 1} sample, n=1 only."""
        if n != 1:
            raise NotImplementedError("MRG_RandomStreams.binomial draws n=1 only (as Theano's); for n > 1 "
                                      "use theano.tensor.shared_randomstreams.RandomStreams().binomial")
        return pt.cast(self.uniform(size, ndim=ndim) < p, dtype)

    def normal(self, size, avg=0.0, std=1.0, ndim=None, dtype=None, nstreams=None, truncate=False):
        """Normal(avg, std); truncate=True keeps only values within 2 std of avg
        (drawn by the inverse of the normal's CDF on the kept interval)."""
        _check_size(size)
        if not truncate:
            return super(MRG_RandomStreams, self).normal(size, avg, std, ndim=ndim, dtype=dtype)
        dtype = self._float_dtype(dtype, avg, std)
        # Phi(-2) .. Phi(2): the uniform that the inverse CDF maps to [-2, 2]
        edge = 0.5 * (1.0 + erf(-_TRUNCATION / numpy.sqrt(2.0)))
        u = super(MRG_RandomStreams, self).uniform(size, edge, 1.0 - edge, ndim=ndim, dtype=dtype)
        z = numpy.sqrt(2.0).astype(dtype) * pt.erfinv(2 * u - 1)
        return pt.cast(z * std + avg, dtype)

    def truncated_normal(self, size, avg=0.0, std=1.0, ndim=None, dtype=None, nstreams=None):
        """A normal truncated at 2 std, scaled so that its std is `std`."""
        return self.normal(size, avg, std / _TRUNCATED_STD, ndim=ndim, dtype=dtype, truncate=True)

    def multinomial(self, size=None, n=1, pvals=None, ndim=None, dtype="int64", nstreams=None):
        """Counts of `n` draws from each row of pvals `(n_rows, n_categories)`:
        `(n_rows, n_categories)`, e.g. one-hot rows for n=1."""
        if pvals is None:
            raise TypeError("MRG_RandomStreams.multinomial: you have to specify pvals")
        if size is not None or ndim is not None:
            raise ValueError("MRG_RandomStreams.multinomial takes neither size nor ndim (as Theano's): "
                             "the sample has pvals' shape")
        pvals = pt.as_tensor_variable(pvals)
        if pvals.ndim != 2:
            raise NotImplementedError("MRG_RandomStreams.multinomial takes pvals as a matrix "
                                      "(n_rows, n_categories), got %d-d" % pvals.ndim)
        return super(MRG_RandomStreams, self).multinomial(None, n, pvals, dtype=dtype)

    def choice(self, size=1, a=None, replace=True, p=None, ndim=None, dtype="int64", nstreams=None):
        """`size` category indices per row of p `(n_rows, n_categories)`, drawn without
        replacement, each in proportion to the probabilities of those left:
        `(n_rows, size)`."""
        if replace:
            raise NotImplementedError("MRG_RandomStreams.choice draws without replacement only (as "
                                      "Theano's): pass replace=False, or draw with replacement from "
                                      "theano.tensor.shared_randomstreams.RandomStreams().choice")
        if a is not None:
            raise TypeError("MRG_RandomStreams.choice: a must be None (as in Theano); the sampled values "
                            "are 0 .. p.shape[1] - 1")
        if p is None:
            raise TypeError("MRG_RandomStreams.choice: p has to be specified")
        if ndim is not None:
            raise ValueError("MRG_RandomStreams.choice takes no ndim")
        p = pt.as_tensor_variable(p)
        if p.ndim != 2:
            raise NotImplementedError("MRG_RandomStreams.choice takes p as a matrix (n_rows, n_categories), "
                                      "got %d-d" % p.ndim)
        # Gumbel top-k: the categories with the largest log p + Gumbel noise are a draw
        # without replacement, each pick in proportion to the probabilities left.
        u = self.uniform(p.shape, dtype=p.dtype if p.dtype.startswith("float") else None)
        keys = pt.log(p) - pt.log(-pt.log(u))
        return pt.cast(pt.argsort(-keys, axis=1)[:, :size], dtype)

    def multinomial_wo_replacement(self, size=None, n=1, pvals=None, ndim=None, dtype="int64",
                                   nstreams=None):
        """Theano's deprecated name for choice(size=n, replace=False, p=pvals)."""
        if size is not None:
            raise ValueError("multinomial_wo_replacement takes no size: use choice(size=n, replace=False, p=pvals)")
        return self.choice(size=n, replace=False, p=pvals, ndim=ndim, dtype=dtype)


def _check_size(size):
    """Theano's MRG took `size` as a tuple of ints or scalars, or a symbolic vector."""
    if isinstance(size, (tuple, list)):
        if not all(isinstance(s, (int, numpy.integer, Variable)) for s in size):
            raise TypeError("size must be a tuple of ints or scalars, or a symbolic vector, got %r" % (size,))
        if any(isinstance(s, (int, numpy.integer)) and s <= 0 for s in size):
            raise ValueError("The specified size contains a dimension with value <= 0", size)
    elif not (isinstance(size, Variable) and size.ndim == 1):
        raise TypeError("size must be a tuple of ints or scalars, or a symbolic vector, got %r of type %s"
                        % (size, type(size).__name__))


__all__ = ["MRG_RandomStreams"]
