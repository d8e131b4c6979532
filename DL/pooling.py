"""Pooling a sequence of vectors over its valid steps.

    mean_pool(h, mask)[n] = sum_t mask[n, t] h[n, t] / sum_t mask[n, t]

h `(n_examples, n_timesteps, n_units)`, mask `(n_examples, n_timesteps)` (1 on
real steps, 0 on padding, or None for all steps), result `(n_examples, n_units)`.
A row with no valid step pools to zeros instead of 0 / 0.
"""
from DL.backend import T


def mean_pool(h, mask=None):
    """The mean of `h` over the time axis, counting only the steps `mask` marks valid."""
    if h.ndim != 3:
        raise ValueError("mean_pool: h must be (n_examples, n_timesteps, n_units), got %d-D" % h.ndim)
    if mask is None:
        return T.mean(h, axis=1)
    if mask.ndim != 2:
        raise ValueError("mean_pool: mask must be (n_examples, n_timesteps), got %d-D" % mask.ndim)
    weights = T.cast(mask, h.dtype)
    total = T.sum(h * weights.dimshuffle(0, 1, "x"), axis=1)
    count = T.maximum(T.sum(weights, axis=1), 1)
    return total / count.dimshuffle(0, "x")
