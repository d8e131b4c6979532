"""A lookup table of learned vectors, one row per id (word embeddings).

    output[..., :] = W[ids[...], :]          integer ids (the default)
    output         = onehot W                 onehot=True: float one-hot rows

W `(n_in, n_out)`: `n_in` ids (the vocabulary), `n_out` numbers per id.  Ids of
any shape give that shape plus `(n_out,)`: `(n_examples, n_timesteps)` word ids
give `(n_examples, n_timesteps, n_out)`, the input of an RNN or LSTM.  Ids
index the table (no product with one-hot rows, whose cost grows with the
vocabulary); `onehot=True` takes float one-hot input `(..., n_in)` instead.

An id outside `0 .. n_in - 1` at run time stops the compiled function with an
error that names the valid range.  W starts small (uniform in +-0.01, as the
LSTM tutorial's embeddings); L2 penalizes the table, L1 is 0.
params: `[W]`.
"""
import numpy

from DL.backend import T, check_and_raise, floatX
from DL.models.base import Layer, as_tensor, check_size, make_param, sub_params

INITIAL_SCALE = 0.01


def checked_ids(ids, n_in, owner):
    """`ids` unchanged, with a run-time check that each lies in 0 .. n_in - 1."""
    inside = T.and_(T.ge(T.min(ids), 0), T.lt(T.max(ids), n_in))
    return check_and_raise(ids, T.or_(T.eq(ids.size, 0), inside),
                 "%s: word ids must lie in 0 .. %d (n_in=%d ids); map rarer words to the unknown "
                 "id 1 first (DL.datasets.imdb does, with vocabulary_size=n_in)" % (owner, n_in - 1, n_in),
                 IndexError)


class EmbeddingLayer(Layer):
    """A table of `n_in` learned vectors of `n_out` numbers: output = W[ids].

    rng     numpy.random.RandomState: draws W uniform in +-0.01
    input   symbolic integer ids of any shape, e.g. `(n_examples, n_timesteps)`;
            with `onehot=True` float one-hot rows `(..., n_in)`; or None (parameters only)
    n_in    the number of ids (the vocabulary);  n_out  numbers per id
    onehot  take one-hot float rows instead of ids
    params  None, or `[W (n_in, n_out)]`

    Hooks: output = output_deterministic, the input's shape plus `(n_out,)`
    (no dropout: both paths are one lookup); params `[W]`; L1 0, L2_sqr over W.
    """

    def __init__(self, rng, input, n_in, n_out, onehot=False, params=None, name="EmbeddingLayer"):
        self.name = name
        n_in = check_size(n_in, "%s: n_in" % name)
        n_out = check_size(n_out, "%s: n_out" % name)
        self.n_in, self.n_out, self.onehot = n_in, n_out, bool(onehot)
        (W_value,) = sub_params(params, 1, name)
        self.W = make_param(W_value, (n_in, n_out), "W", name, lambda: numpy.asarray(
            rng.uniform(-INITIAL_SCALE, INITIAL_SCALE, size=(n_in, n_out)), dtype=floatX))
        self.connect(input)

    def check_input(self, input):
        """One-hot float rows `(..., n_in)` (onehot=True) or integer ids of any shape."""
        if self.onehot:
            return as_tensor(input, "%s: input" % self.name, (1, 2, 3, 4),
                             "one-hot rows (..., n_in=%d)" % self.n_in)
        return as_tensor(input, "%s: input" % self.name, (0, 1, 2, 3),
                         "integer ids, e.g. (n_examples, n_timesteps)", kind="int")

    def apply(self, x, mask=None, train=False):
        """The vectors of ids `x` (`x` one-hot rows `(..., n_in)` with onehot=True): `x.shape + (n_out,)`.
        (No dropout, and `mask` is unused: padding ids look up their rows like any other.)"""
        if self.onehot:
            return T.dot(x, self.W)
        return self.W[checked_ids(x, self.n_in, self.name)]

    @property
    def weights(self):
        """The matrices L1 and L2_sqr penalize."""
        return [self.W]

    @property
    def params(self):
        """`[W (n_in, n_out)]`."""
        return [self.W]

    @property
    def L1(self):
        """0: a sparse table would leave rare words at zero, so only L2 applies."""
        return 0  # a sparse table would leave rare words at zero: only L2 applies
