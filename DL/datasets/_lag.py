"""Synthetic lag tasks: targets computed from inputs a step or two back.

Inputs x `(n_sequences, n_timesteps, 5)` are standard normal.  Targets at step
t read x at t-1 and t-2, so a model must remember; before the lag is available
(t < 2, or t < 1 for a one-step lag) a target is 0 (class 0).

    lag_binary   t[:, s, 0] = x[s-1, 3] > x[s-2, 0]
                 t[:, s, 1] = x[s-1, 4] * x[s-1, 2] > x[s-2, 0]          (n, T, 2) in {0, 1}
    lag_real     t[:, s] = (x[s-1, 3], x[s-1, 2], x[s-2, 0]) + 0.01 noise  (n, T, 3) real
    lag_softmax  t[:, s] = 1 if x[s-1, 3] > x[s-2, 0] + 0.5,
                           2 if x[s-1, 3] < x[s-2, 0] - 0.5, else 0          (n, T) class ids

(the tasks of the original package's rnn-lag examples).  Each returns
`[train, valid, test]` as `[x, t]` float32 arrays, split 4/6, 1/6, 1/6; the
same `seed` gives the same data.
"""
import numpy

N_IN = 5
SOFTMAX_MARGIN = 0.5
REAL_NOISE = 0.01


def _inputs(n_sequences, n_timesteps, seed):
    if not isinstance(n_sequences, int) or n_sequences < 6:
        raise ValueError("n_sequences must be an integer >= 6 (the three sets each need some), got %r"
                         % (n_sequences,))
    if not isinstance(n_timesteps, int) or n_timesteps < 3:
        raise ValueError("n_timesteps must be an integer >= 3 (targets look 2 steps back), got %r"
                         % (n_timesteps,))
    rng = numpy.random.RandomState(seed)
    return rng, rng.standard_normal((n_sequences, n_timesteps, N_IN))


def _split(x, t):
    """[train, valid, test]: the first 4/6 of the sequences, the next 1/6, the rest."""
    n = len(x)
    cuts = [0, int(n * 4 / 6), int(n * 5 / 6), n]
    return [[numpy.asarray(x[a:b], dtype="float32"), numpy.asarray(t[a:b], dtype="float32")]
            for a, b in zip(cuts[:-1], cuts[1:])]


def lag_binary(n_sequences=600, n_timesteps=11, seed=0):
    """Two bits a step: comparisons of inputs one and two steps back."""
    _, x = _inputs(n_sequences, n_timesteps, seed)
    t = numpy.zeros((n_sequences, n_timesteps, 2))
    t[:, 2:, 0] = x[:, 1:-1, 3] > x[:, :-2, 0]
    t[:, 2:, 1] = x[:, 1:-1, 4] * x[:, 1:-1, 2] > x[:, :-2, 0]
    return _split(x, t)


def lag_real(n_sequences=600, n_timesteps=11, seed=0):
    """Three real outputs a step: inputs delayed by one, one and two steps, plus a little noise."""
    rng, x = _inputs(n_sequences, n_timesteps, seed)
    t = numpy.zeros((n_sequences, n_timesteps, 3))
    t[:, 1:, 0] = x[:, :-1, 3]
    t[:, 1:, 1] = x[:, :-1, 2]
    t[:, 2:, 2] = x[:, :-2, 0]
    t += REAL_NOISE * rng.standard_normal(t.shape)
    return _split(x, t)


def lag_softmax(n_sequences=600, n_timesteps=11, seed=0):
    """One of three classes a step: is x[s-1, 3] above, below or near x[s-2, 0]?"""
    _, x = _inputs(n_sequences, n_timesteps, seed)
    t = numpy.zeros((n_sequences, n_timesteps))
    difference = x[:, 1:-1, 3] - x[:, :-2, 0]
    t[:, 2:][difference > SOFTMAX_MARGIN] = 1
    t[:, 2:][difference < -SOFTMAX_MARGIN] = 2
    return _split(x, t)
