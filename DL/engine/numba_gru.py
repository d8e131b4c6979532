"""The fused GRU recurrence (`DL.engine.gru_op.GRURecurrence`) compiled with Numba.

As for the LSTM (`DL.engine.numba_lstm`), the loop over time cannot be batched:
step t needs h_{t-1}.  The GRU's reset gate multiplies h_{t-1} before its
product with U_g (Cho et al. 2014; Keras' reset_after=False), so a step needs
two BLAS products, one after the other, and the elementwise work of each
example's row runs in loops Numba vectorizes, with DL's float32 sigmoid and tanh
(`DL.engine.numba_kernels`; the C library's in float64 and with DL_FAST_TANH=0).
Forward, per step (rows are examples, n = n_units, columns z | r | g)::

    a_zr = x_t W_zr + b_zr + h_{t-1} U_zr          (2 n): the input part comes in precomputed
    z, r = sigmoid(a_zr)
    a_g  = x_t W_g + b_g + (r * h_{t-1}) U_g       (n)
    g    = tanh(a_g)
    h'   = z * h_{t-1} + (1 - z) * g
    with mask m: h_t = m h' + (1 - m) h_{t-1}

Backward, from t = T-1 down to 0, with dh the gradient reaching h_t (from the
cost and from step t+1); nothing is recomputed but h' (no tanh: the kept gates
are the squashed values)::

    dm    = sum(dh * (h' - h_{t-1}))
    da_z  = m dh (h_{t-1} - g) z (1 - z)
    da_g  = m dh (1 - z) (1 - g^2)
    d(rh) = da_g U_g^T                                             BLAS
    da_r  = d(rh) h_{t-1} r (1 - r)
    dh_{t-1} = m dh z + d(rh) r + (1 - m) dh + [da_z, da_r] U_zr^T  BLAS
    dU_zr = sum over t of h_{t-1}^T [da_z, da_r];   dU_g = sum over t of (r * h_{t-1})^T da_g

Shapes are time major: input part and gates (n_timesteps, n_examples, 3 n),
h (n_timesteps, n_examples, n), mask (n_timesteps, n_examples); U (n, 3 n).
"""
import numpy

from DL.engine.numba_kernels import lane_sum
from DL.engine.numba_linker import njit
from DL.engine.numba_recurrence import MASK_SUM_LANES, entry_points, forward_arrays, kernel, sigmoid, tanh

# (The rows' loops are functions of their own, as in numba_lstm: written inside
# the kernels' loops over examples, LLVM did not vectorize them.  Slices make
# every index run from 0, so Numba needs no check for negative indices.)


@njit(error_model="numpy")
def _update_and_reset_row(x, a_zr, h_before, gates, reset, fast):
    """One example's row, first half of step t: z and r into gates[:2n], r * h_{t-1} into reset."""
    n = h_before.shape[0]
    x_zr, zr = x[:2 * n], gates[:2 * n]
    for j in range(2 * n):
        zr[j] = sigmoid(a_zr[j] + x_zr[j], fast)
    r = gates[n:2 * n]
    for j in range(n):
        reset[j] = r[j] * h_before[j]


@njit(error_model="numpy")
def _candidate_and_state_row(keep, x, a_g, h_before, gates, h, fast):
    """One example's row, second half of step t: g into gates[2n:], h_t into h."""
    n = h_before.shape[0]
    z, g, x_g = gates[:n], gates[2 * n:], x[2 * n:]
    for j in range(n):
        g[j] = tanh(a_g[j] + x_g[j], fast)
        h_new = g[j] + z[j] * (h_before[j] - g[j])  # = z h_{t-1} + (1 - z) g
        h[j] = keep * h_new + (1 - keep) * h_before[j]


@kernel
def _forward(arrays, fast):
    input_part, mask, U = arrays
    input_part, n, H, G = forward_arrays(input_part, 3)
    n_timesteps, n_examples, dtype = H.shape[0], H.shape[1], H.dtype
    U_zr, U_g = numpy.ascontiguousarray(U[:, :2 * n]), numpy.ascontiguousarray(U[:, 2 * n:])
    a_zr = numpy.empty((n_examples, 2 * n), dtype)  # h_{t-1} U_zr
    reset = numpy.empty((n_examples, n), dtype)     # r * h_{t-1}
    a_g = numpy.empty((n_examples, n), dtype)       # (r * h_{t-1}) U_g
    zero = numpy.zeros((n_examples, n), dtype)
    for t in range(n_timesteps):
        h_prev = H[t - 1] if t else zero
        numpy.dot(h_prev, U_zr, a_zr)
        for b in range(n_examples):
            _update_and_reset_row(input_part[t, b], a_zr[b], h_prev[b], G[t, b], reset[b], fast)
        numpy.dot(reset, U_g, a_g)
        for b in range(n_examples):
            _candidate_and_state_row(mask[t, b], input_part[t, b], a_g[b], h_prev[b], G[t, b], H[t, b], fast)
    return H, G


@njit(error_model="numpy")
def _backward_state_row(keep, gates, h_before, dh, dH, da_zr, da_g, dh_kept, reset, dmask_terms, partial):
    """One example's row at step t, before d(rh): fills da_z and da_g, the part of
    dh_{t-1} that needs no product with U (into dh_kept) and r * h_{t-1} (for dU_g);
    returns the mask's gradient (its terms summed apart, in lane_sum's order: a sum inside
    this loop would keep LLVM from vectorizing it)."""
    n = h_before.shape[0]
    z, r, g = gates[:n], gates[n:2 * n], gates[2 * n:]
    da_z = da_zr[:n]
    for j in range(n):
        dh_j = dh[j] + dH[j]
        h_new = g[j] + z[j] * (h_before[j] - g[j])
        dmask_terms[j] = dh_j * (h_new - h_before[j])
        dh_new = keep * dh_j
        da_z[j] = dh_new * (h_before[j] - g[j]) * z[j] * (1 - z[j])
        da_g[j] = dh_new * (1 - z[j]) * (1 - g[j] * g[j])
        dh_kept[j] = dh_new * z[j] + (1 - keep) * dh_j
        reset[j] = r[j] * h_before[j]
    return lane_sum(dmask_terms, partial)


@njit(error_model="numpy")
def _backward_reset_row(gates, h_before, d_reset, da_zr, dh_kept):
    """One example's row at step t, after d(rh) = da_g U_g^T: da_r, and d(rh) r into dh_kept."""
    n = h_before.shape[0]
    r, da_r = gates[n:2 * n], da_zr[n:]
    for j in range(n):
        da_r[j] = d_reset[j] * h_before[j] * r[j] * (1 - r[j])
        dh_kept[j] += d_reset[j] * r[j]


@kernel
def _backward(arrays, fast):
    # (`fast` chooses nothing here: the backward pass evaluates no sigmoid or tanh)
    mask, U, H, G, dH = arrays
    dH = numpy.ascontiguousarray(dH)
    n_timesteps, n_examples, three_n = G.shape
    n = three_n // 3
    dtype = G.dtype
    U_zr_T, U_g_T = numpy.ascontiguousarray(U[:, :2 * n].T), numpy.ascontiguousarray(U[:, 2 * n:].T)
    dA_zr = numpy.empty((n_timesteps, n_examples, 2 * n), dtype)
    dA_g = numpy.empty((n_timesteps, n_examples, n), dtype)
    reset = numpy.empty((n_timesteps, n_examples, n), dtype)  # r * h_{t-1}, for dU_g
    dmask = numpy.empty((n_timesteps, n_examples), dtype)
    dh = numpy.zeros((n_examples, n), dtype)       # reaching h_t from later steps
    dh_kept = numpy.zeros((n_examples, n), dtype)  # reaching h_{t-1} other than through [da_z, da_r] U_zr^T
    d_reset = numpy.empty((n_examples, n), dtype)  # d(r * h_{t-1})
    zero = numpy.zeros((n_examples, n), dtype)
    dmask_terms, partial = numpy.empty(n, dtype), numpy.empty(MASK_SUM_LANES, dtype)
    for t in range(n_timesteps - 1, -1, -1):
        h_prev = H[t - 1] if t else zero
        for b in range(n_examples):
            dmask[t, b] = _backward_state_row(mask[t, b], G[t, b], h_prev[b], dh[b], dH[t, b],
                                              dA_zr[t, b], dA_g[t, b], dh_kept[b], reset[t, b],
                                              dmask_terms, partial)
        numpy.dot(dA_g[t], U_g_T, d_reset)
        for b in range(n_examples):
            _backward_reset_row(G[t, b], h_prev[b], d_reset[b], dA_zr[t, b], dh_kept[b])
        numpy.dot(dA_zr[t], U_zr_T, dh)
        dh += dh_kept
    dU = numpy.zeros((n, three_n), dtype)
    if n_timesteps > 1:  # h_{-1} = 0: step 0 adds nothing
        dU[:, :2 * n] = numpy.dot(H[:-1].reshape(-1, n).T, dA_zr[1:].reshape(-1, 2 * n))
        dU[:, 2 * n:] = numpy.dot(reset[1:].reshape(-1, n).T, dA_g[1:].reshape(-1, n))
    return numpy.concatenate((dA_zr, dA_g), axis=2), dU, dmask


def kernels():
    """(forward, backward), compiled on first use (DL.engine.numba_recurrence):

        forward(input_part, mask, U, fast)     -> (H, G)      any layout; copied to C order
        backward(mask, U, H, G, dH, fast)      -> (d input_part, dU, d mask)

    from the forward pass's H and gates G and the gradient reaching H.  `fast` is
    `DL.engine.numba_kernels.fast_tanh_enabled()`: DL's float32 sigmoid and tanh when
    True, the C library's when False (DL_FAST_TANH=0)."""
    return entry_points(__name__, _forward, _backward)
