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
import numpy

from DL.engine.numba_kernels import lane_sum
from DL.engine.numba_linker import njit
from DL.engine.numba_recurrence import (MASK_SUM_LANES, entry_points, forward_arrays, kernel, sigmoid as _sigmoid,
                                        tanh as _tanh)


# (the rows' loops are functions of their own: written inside the kernels' loops over
# examples, LLVM did not vectorize them.  Slices make every index run from 0, so
# Numba needs no check for negative indices.)
@njit(error_model="numpy")
def _forward_row(keep, x, a, c_before, h_before, c, h, fast):
    """One example's row at step t: the gates into a (which holds h_{t-1} U), c_t into c, h_t into h."""
    n = c_before.shape[0]
    for j in range(3 * n):
        a[j] = _sigmoid(a[j] + x[j], fast)
    i, f, o, g = a[:n], a[n:2 * n], a[2 * n:3 * n], a[3 * n:]
    x_g = x[3 * n:]
    for j in range(n):
        g[j] = _tanh(g[j] + x_g[j], fast)
    for j in range(n):
        c_new = f[j] * c_before[j] + i[j] * g[j]
        h_new = o[j] * _tanh(c_new, fast)
        c[j] = keep * c_new + (1 - keep) * c_before[j]
        h[j] = keep * h_new + (1 - keep) * h_before[j]


@kernel
def _forward(arrays, fast):
    input_part, mask, U = arrays
    input_part, n, H, G = forward_arrays(input_part, 4)
    n_timesteps, n_examples, dtype = H.shape[0], H.shape[1], H.dtype
    U = numpy.ascontiguousarray(U)
    C = numpy.empty_like(H)
    zero = numpy.zeros((n_examples, n), dtype)
    for t in range(n_timesteps):
        h_prev = H[t - 1] if t else zero
        c_prev = C[t - 1] if t else zero
        numpy.dot(h_prev, U, G[t])
        for b in range(n_examples):
            _forward_row(mask[t, b], input_part[t, b], G[t, b], c_prev[b], h_prev[b], C[t, b], H[t, b], fast)
    return H, C, G


@njit(error_model="numpy")
def _backward_row(keep, a, da, c_before, h_before, dh, dc, dh_kept, dH, dC, dmask_terms, partial, fast):
    """One example's row at step t: fills da, carries dh and dc back over the
    step (dh without its da U^T part, which BLAS adds for all rows at once),
    and returns the mask's gradient (its terms summed apart, in lane_sum's order: a sum
    inside this loop would keep LLVM from vectorizing it)."""
    n = c_before.shape[0]
    i, f, o, g = a[:n], a[n:2 * n], a[2 * n:3 * n], a[3 * n:]
    da_i, da_f, da_o, da_g = da[:n], da[n:2 * n], da[2 * n:3 * n], da[3 * n:]
    for j in range(n):
        dh_j = dh[j] + dH[j]
        dc_j = dc[j] + dC[j]
        c_new = f[j] * c_before[j] + i[j] * g[j]
        tanh_c = _tanh(c_new, fast)
        dmask_terms[j] = dh_j * (o[j] * tanh_c - h_before[j]) + dc_j * (c_new - c_before[j])
        dh_new = keep * dh_j
        dc_new = keep * dc_j + dh_new * o[j] * (1 - tanh_c * tanh_c)
        da_i[j] = dc_new * g[j] * i[j] * (1 - i[j])
        da_f[j] = dc_new * c_before[j] * f[j] * (1 - f[j])
        da_o[j] = dh_new * tanh_c * o[j] * (1 - o[j])
        da_g[j] = dc_new * i[j] * (1 - g[j] * g[j])
        dc[j] = dc_new * f[j] + (1 - keep) * dc_j
        dh_kept[j] = (1 - keep) * dh_j
    return lane_sum(dmask_terms, partial)


@kernel
def _backward(arrays, fast):
    mask, U, H, C, G, dH, dC = arrays
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
    dmask_terms, partial = numpy.empty(n, dtype), numpy.empty(MASK_SUM_LANES, dtype)
    U_T = numpy.ascontiguousarray(U.T)
    for t in range(n_timesteps - 1, -1, -1):
        h_prev = H[t - 1] if t else zero
        c_prev = C[t - 1] if t else zero
        for b in range(n_examples):
            dmask[t, b] = _backward_row(mask[t, b], G[t, b], dA[t, b], c_prev[b], h_prev[b],
                                        dh[b], dc[b], dh_kept[b], dH[t, b], dC[t, b], dmask_terms, partial, fast)
        numpy.dot(dA[t], U_T, dh)
        dh += dh_kept
    dU = numpy.zeros_like(U_T.T)
    if n_timesteps > 1:  # h_{-1} = 0: step 0 adds nothing
        dU = numpy.dot(H[:-1].reshape(-1, n).T, dA[1:].reshape(-1, four_n))
    return dA, dU, dmask


def kernels():
    """(forward, backward), compiled on first use (DL.engine.numba_recurrence):

        forward(input_part, mask, U, fast)              -> (H, C, G)     any layout; copied to C order
        backward(mask, U, H, C, G, dH, dC, fast)        -> (d input_part, dU, d mask)

    from the forward pass's H, C, G and the gradients reaching H and C.  `fast` is
    `DL.engine.numba_kernels.fast_tanh_enabled()`: DL's float32 sigmoid and tanh when
    True, the C library's when False (DL_FAST_TANH=0)."""
    return entry_points(__name__, _forward, _backward)
