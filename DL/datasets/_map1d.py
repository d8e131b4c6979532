"""The 1-D map of the original package's USE examples: a corridor with walls.

An agent stands in one of `n_obs` cells and steps left or right; a step into a
wall leaves it where it is.  It observes the cell it is in.  Once one cell has
been seen, every later observation follows from the actions: a state estimator
should predict the next observation without error.

    map1d(n_obs=5, n_steps=20, n_examples=100, seed=0, encoding="onehot") -> (obs, act)

    obs  (n_examples, n_steps, n_obs)  one-hot cells     encoding="onehot"
         (n_examples, n_steps, n_bits) the cell in binary (n_bits = bits of n_obs - 1), "binary"
         (n_examples, n_steps)         cell ids, int32,                                 "ids"
    act  (n_examples, n_steps, 2)      one-hot: [1, 0] left, [0, 1] right

a_t is the step taken after observing o_t, so o_{t+1} = clip(o_t - 1 or + 1);
the last action's outcome is not in the sequence.  The first cell and every
action are drawn uniformly.  `seeded_sets` makes `[train, valid, test]` from
any such generator with one seed per set.
"""
import numpy

from DL.backend import floatX

ENCODINGS = ("onehot", "binary", "ids")
LEFT, RIGHT = 0, 1


def check_count(value, argument, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, numpy.integer)) or value < minimum:
        raise ValueError("%s must be an integer >= %d, got %r" % (argument, minimum, value))
    return int(value)


def check_encoding(encoding):
    if encoding not in ENCODINGS:
        raise ValueError("encoding must be one of %s, got %r" % (", ".join(ENCODINGS), encoding))
    return encoding


def encode(ids, n_values, encoding):
    """Integer ids `(n, T)` as one-hot `(n, T, n_values)`, bits `(n, T, n_bits)` or ids."""
    if encoding == "onehot":
        return numpy.eye(n_values, dtype=floatX)[ids]
    if encoding == "binary":
        n_bits = max(1, int(n_values - 1).bit_length())
        return ((ids[..., None] >> numpy.arange(n_bits - 1, -1, -1)) & 1).astype(floatX)
    return ids.astype("int32")


def walk(start, moves, n_obs):
    """Cells `(n, T)` visited from `start` `(n,)` by `moves` `(n, T)` of LEFT/RIGHT."""
    cells = numpy.empty(moves.shape, dtype="int64")
    cells[:, 0] = start
    for t in range(1, moves.shape[1]):
        cells[:, t] = numpy.clip(cells[:, t - 1] + 2 * moves[:, t - 1] - 1, 0, n_obs - 1)
    return cells


def map1d(n_obs=5, n_steps=20, n_examples=100, seed=0, encoding="onehot"):
    """(obs, act) of `n_examples` random walks of `n_steps` in a corridor of `n_obs` cells."""
    n_obs = check_count(n_obs, "n_obs (cells of the corridor)", 2)
    n_steps = check_count(n_steps, "n_steps", 2)
    n_examples = check_count(n_examples, "n_examples", 1)
    encoding = check_encoding(encoding)
    rng = numpy.random.RandomState(seed)
    start = rng.randint(n_obs, size=n_examples)
    moves = rng.randint(2, size=(n_examples, n_steps))
    cells = walk(start, moves, n_obs)
    return encode(cells, n_obs, encoding), numpy.eye(2, dtype=floatX)[moves]


def seeded_sets(generate, sizes=(600, 200, 200), seed=0, **options):
    """[train, valid, test] from `generate(n_examples=size, seed=..., **options)`, one seed each."""
    if len(sizes) != 3:
        raise ValueError("sizes must give the number of train, valid and test examples, got %r" % (sizes,))
    return [list(generate(n_examples=size, seed=seed * 3 + i, **options)) for i, size in enumerate(sizes)]
