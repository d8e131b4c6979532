"""Pooling a sequence of vectors over its valid steps.

    mean_pool(h, mask)[n] = sum_t mask[n, t] h[n, t] / sum_t mask[n, t]
    max_pool(h, mask)[n]  = max over the valid t of h[n, t]          (unit by unit)
    last_pool(h, mask)[n] = h[n, t_last(n)],  t_last(n) the last t with mask[n, t] = 1

h `(n_examples, n_timesteps, n_units)`, mask `(n_examples, n_timesteps)` (1 on
real steps, 0 on padding, or None for all steps), result `(n_examples, n_units)`.
A row with no valid step pools to zeros (instead of 0 / 0, -inf or a padded step).

For a `DL.models.Bidirectional` output, `last_pool` gives the forward
direction's last state but the backward direction's first step (the
backward direction ends at the first real step): use max or mean there.
"""
import numpy

from DL.backend import T


def _checked(h, mask, name):
    if h.ndim != 3:
        raise ValueError("%s: h must be (n_examples, n_timesteps, n_units), got %d-D" % (name, h.ndim))
    if mask is not None and mask.ndim != 2:
        raise ValueError("%s: mask must be (n_examples, n_timesteps), got %d-D" % (name, mask.ndim))
    return None if mask is None else T.cast(mask, h.dtype)


def mean_pool(h, mask=None):
    """The mean of `h` over the time axis, counting only the steps `mask` marks valid."""
    weights = _checked(h, mask, "mean_pool")
    if mask is None:
        return T.mean(h, axis=1)
    total = T.sum(h * weights.dimshuffle(0, 1, "x"), axis=1)
    count = T.maximum(T.sum(weights, axis=1), 1)
    return total / count.dimshuffle(0, "x")


def max_pool(h, mask=None):
    """The unit-wise maximum of `h` over the steps `mask` marks valid."""
    weights = _checked(h, mask, "max_pool")
    if mask is None:
        return T.max(h, axis=1)
    valid = T.gt(weights, 0).dimshuffle(0, 1, "x")
    # Padded steps become -inf, so they never win; a row with none valid gives zeros.
    largest = T.max(T.switch(valid, h, numpy.array(-numpy.inf, dtype=h.dtype)), axis=1)
    return T.switch(T.gt(T.sum(weights, axis=1), 0).dimshuffle(0, "x"), largest, 0)


def last_pool(h, mask=None):
    """`h` at each sequence's last valid step (wherever the padding sits)."""
    weights = _checked(h, mask, "last_pool")
    if mask is None:
        return h[:, -1]
    steps = T.arange(h.shape[1]).dimshuffle("x", 0)
    # The last valid step has the largest (t + 1) * mask; a row with none valid gives zeros.
    last = T.argmax(T.gt(weights, 0) * (steps + 1), axis=1)
    picked = h[T.arange(h.shape[0]), last]
    return picked * T.gt(T.sum(weights, axis=1), 0).dimshuffle(0, "x")
