"""The fused LSTM recurrence (`DL.engine.lstm_op.LSTMRecurrence`) compiled with Numba.

The loop over time cannot be batched: step t needs h_{t-1}.  Each step is one
matrix product (h_{t-1} U, by BLAS) and elementwise work on the four gates,
which NumPy did in about 25 passes over small arrays.  Here the elementwise
work of an example's row is three loops Numba vectorizes, with DL's float32
sigmoid and tanh (`DL.engine.numba_kernels`; the C library's in float64, and with
DL_FAST_TANH=0).  Forward, per step and example row (n = n_units)::

    a = x_t W + b + h_{t-1} U           (4 n): the input part comes in precomputed
    i, f, o = sigmoid(a[:3n]);  g = tanh(a[3n:])
    c_t = f * c_{t-1} + i * g;  h_t = o * tanh(c_t)
    with mask m: c_t = m c_t + (1 - m) c_{t-1}, and so for h_t

Backward, from t = T-1 down to 0, with dh, dc the gradients reaching h_t and
c_t (and c_t recomputed from the kept gates)::

    dm      = sum(dh * (h_t - h_{t-1}) + dc * (c_t - c_{t-1}))
    dc'     = m dc + m dh * o * (1 - tanh(c_t)^2)
    da      = [dc' g i (1 - i),  dc' c_{t-1} f (1 - f),  m dh tanh(c_t) o (1 - o),  dc' i (1 - g^2)]
    dc_{t-1} = dc' f + (1 - m) dc;   dh_{t-1} = da U^T + (1 - m) dh
    dU      = sum over t of h_{t-1}^T da_t

Shapes are time major: input part and gates (n_timesteps, n_examples, 4 n),
h and c (n_timesteps, n_examples, n), mask (n_timesteps, n_examples).
"""
import functools
import hashlib
import sys

import numpy
from numba import types
from numba.core.errors import TypingError
from numba.extending import overload
from pytensor.link.numba.dispatch.basic import numba_njit

from DL.engine import numba_kernels
from DL.engine.numba_kernels import dl_sigmoid, dl_tanh, libm_sigmoid, libm_tanh


def _sigmoid(x, fast):
    """dl_sigmoid(x) if fast else libm_sigmoid(x), chosen when Numba compiles:
    `fast` is a constant (forward and backward pass True or False).  A branch at
    run time stopped LLVM from vectorizing the loops."""


def _tanh(x, fast):
    """dl_tanh(x) if fast else libm_tanh(x), chosen when Numba compiles."""


def _chosen_by_literal(fast, fast_version, libm_version):
    if not isinstance(fast, types.BooleanLiteral):
        raise TypingError("DL.engine.numba_lstm: `fast` must be a constant, True or False")
    return fast_version if fast.literal_value else libm_version


@overload(_sigmoid, prefer_literal=True)
def _sigmoid_for(x, fast):
    return _chosen_by_literal(fast, lambda x, fast: dl_sigmoid(x), lambda x, fast: libm_sigmoid(x))


@overload(_tanh, prefer_literal=True)
def _tanh_for(x, fast):
    return _chosen_by_literal(fast, lambda x, fast: dl_tanh(x), lambda x, fast: libm_tanh(x))


@numba_njit(error_model="numpy")
def _forward(input_part, mask, U, fast):
    input_part = numpy.ascontiguousarray(input_part)
    n_timesteps, n_examples, four_n = input_part.shape
    n = four_n // 4
    dtype = input_part.dtype
    U = numpy.ascontiguousarray(U)
    H = numpy.empty((n_timesteps, n_examples, n), dtype)
    C = numpy.empty((n_timesteps, n_examples, n), dtype)
    G = numpy.empty((n_timesteps, n_examples, four_n), dtype)
    zero = numpy.zeros((n_examples, n), dtype)
    for t in range(n_timesteps):
        h_prev = H[t - 1] if t else zero
        c_prev = C[t - 1] if t else zero
        numpy.dot(h_prev, U, G[t])
        for b in range(n_examples):
            a, x = G[t, b], input_part[t, b]
            for j in range(3 * n):
                a[j] = _sigmoid(a[j] + x[j], fast)
            # (slices, so that every index runs from 0: Numba then needs no check
            # for negative indices, and the loops vectorize)
            i, f, o, g = a[:n], a[n:2 * n], a[2 * n:3 * n], a[3 * n:]
            x_g = x[3 * n:]
            for j in range(n):
                g[j] = _tanh(g[j] + x_g[j], fast)
            keep = mask[t, b]
            c, h, c_before, h_before = C[t, b], H[t, b], c_prev[b], h_prev[b]
            for j in range(n):
                c_new = f[j] * c_before[j] + i[j] * g[j]
                h_new = o[j] * _tanh(c_new, fast)
                c[j] = keep * c_new + (1 - keep) * c_before[j]
                h[j] = keep * h_new + (1 - keep) * h_before[j]
    return H, C, G


# (a function of its own: written inside _backward's loop, LLVM did not vectorize it)
@numba_njit(error_model="numpy")
def _backward_row(keep, a, da, c_before, h_before, dh, dc, dh_kept, dH, dC, fast):
    """One example's row at step t: fills da, carries dh and dc back over the
    step (dh without its da U^T part, which BLAS adds for all rows at once),
    and returns the mask's gradient."""
    n = c_before.shape[0]
    i, f, o, g = a[:n], a[n:2 * n], a[2 * n:3 * n], a[3 * n:]
    da_i, da_f, da_o, da_g = da[:n], da[n:2 * n], da[2 * n:3 * n], da[3 * n:]
    dmask = a.dtype.type(0)
    for j in range(n):
        dh_j = dh[j] + dH[j]
        dc_j = dc[j] + dC[j]
        c_new = f[j] * c_before[j] + i[j] * g[j]
        tanh_c = _tanh(c_new, fast)
        dmask += dh_j * (o[j] * tanh_c - h_before[j]) + dc_j * (c_new - c_before[j])
        dh_new = keep * dh_j
        dc_new = keep * dc_j + dh_new * o[j] * (1 - tanh_c * tanh_c)
        da_i[j] = dc_new * g[j] * i[j] * (1 - i[j])
        da_f[j] = dc_new * c_before[j] * f[j] * (1 - f[j])
        da_o[j] = dh_new * tanh_c * o[j] * (1 - o[j])
        da_g[j] = dc_new * i[j] * (1 - g[j] * g[j])
        dc[j] = dc_new * f[j] + (1 - keep) * dc_j
        dh_kept[j] = (1 - keep) * dh_j
    return dmask


@numba_njit(error_model="numpy")
def _backward(mask, U, H, C, G, dH, dC, fast):
    dH, dC = numpy.ascontiguousarray(dH), numpy.ascontiguousarray(dC)
    n_timesteps, n_examples, four_n = G.shape
    n = four_n // 4
    dtype = G.dtype
    dA = numpy.empty_like(G)
    dmask = numpy.empty((n_timesteps, n_examples), dtype)
    dh = numpy.zeros((n_examples, n), dtype)       # reaching h_t from later steps
    dc = numpy.zeros((n_examples, n), dtype)
    dh_kept = numpy.zeros((n_examples, n), dtype)  # (1 - m) dh: passes a padded step by
    zero = numpy.zeros((n_examples, n), dtype)
    U_T = numpy.ascontiguousarray(U.T)
    for t in range(n_timesteps - 1, -1, -1):
        h_prev = H[t - 1] if t else zero
        c_prev = C[t - 1] if t else zero
        for b in range(n_examples):
            dmask[t, b] = _backward_row(mask[t, b], G[t, b], dA[t, b], c_prev[b], h_prev[b],
                                        dh[b], dc[b], dh_kept[b], dH[t, b], dC[t, b], fast)
        numpy.dot(dA[t], U_T, dh)
        dh += dh_kept
    dU = numpy.zeros_like(U_T.T)
    if n_timesteps > 1:  # h_{-1} = 0: step 0 adds nothing
        dU = numpy.dot(H[:-1].reshape(-1, n).T, dA[1:].reshape(-1, four_n))
    return dA, dU, dmask


def _compile(sources):
    """forward and backward, cached by Numba on disk (in __pycache__ beside this
    file, or Numba's user cache).  Numba's cache key holds the cached function's
    code and the values in its closure: here `sources`, the digest of this file
    and DL/engine/numba_kernels.py, so that a change to the tanh or exp there compiles
    the kernels afresh too."""

    def cached(function):
        try:
            return numba_njit(final_function=True, cache=True)(function)
        except RuntimeError:  # Numba found no folder it may write: compile in each process
            return numba_njit(final_function=True)(function)

    @cached
    def forward(input_part, mask, U, fast):
        """(H, C, G) from the input part, the mask and U (any layout; copied to C order)."""
        assert sources  # (in the closure: in the cache key)
        if fast:  # (constants: the kernel is compiled for each, with its functions chosen)
            return _forward(input_part, mask, U, True)
        return _forward(input_part, mask, U, False)

    @cached
    def backward(mask, U, H, C, G, dH, dC, fast):
        """(d input_part, dU, d mask) from the forward pass's H, C, G and the
        gradients reaching H and C."""
        assert sources
        if fast:
            return _backward(mask, U, H, C, G, dH, dC, True)
        return _backward(mask, U, H, C, G, dH, dC, False)

    return forward, backward


@functools.lru_cache(maxsize=None)
def source_digest():
    """SHA-256 of DL/engine/numba_kernels.py and this file (the compiled code's sources),
    for the cache keys: read once per process."""
    digest = hashlib.sha256()
    for module in (numba_kernels, sys.modules[__name__]):
        with open(module.__file__, "rb") as source:
            digest.update(source.read())
    return digest.hexdigest()


_compiled = []


def kernels():
    """(forward, backward), compiled on first use; their last argument `fast`
    is `DL.engine.numba_kernels.fast_tanh_enabled()`: DL's float32 sigmoid and tanh
    when True, the C library's when False (DL_FAST_TANH=0)."""
    if not _compiled:
        _compiled.extend(_compile(source_digest()))
    return tuple(_compiled)
