"""A long short-term memory layer (Hochreiter and Schmidhuber 1997; the
deeplearning.net LSTM tutorial's variant, without peepholes).

    a_t = x_t W + h_{t-1} U + b                    (n_examples, 4 n_units): the four gates at once
    i_t = sigmoid(a_t[:, 0n:1n])                   input gate
    f_t = sigmoid(a_t[:, 1n:2n])                   forget gate
    o_t = sigmoid(a_t[:, 2n:3n])                   output gate
    g_t = activation(a_t[:, 3n:4n])                candidate cell
    c_t = f_t * c_{t-1} + i_t * g_t                memory cell
    h_t = o_t * activation(c_t)                    output
    on a padded step (mask 0):  c_t = c_{t-1},  h_t = h_{t-1}

x `(n_examples, n_timesteps, n_units)` (e.g. an EmbeddingLayer's output), mask
`(n_examples, n_timesteps)` float (or None: every step is real), output h
`(n_examples, n_timesteps, n_units)`; c_0 = h_0 = 0.  x W + b is computed for
every step before the scan, so a step costs one product, h_{t-1} U.  W and U
`(n_units, 4 n_units)` start as four orthogonal blocks, b at zero.  Pool the
output over the valid steps with `DL.pooling.mean_pool(lstm.output, mask)`.

On PyTensor with the tanh activation the loop over time runs as one fused Op
(`LSTMRecurrence`: forward and backward passes compiled with Numba in
`DL/numba_lstm.py`, the gates kept for the backward one), 2.5x faster than a scan
with its first, NumPy kernels and faster again with these; it runs on the C,
Numba and JAX engines (JAX, like any JAX graph, needs inputs of fixed shape).
`fused=False` uses the scan, as other activations and legacy Theano do.

params: `[W, U, b]`; L1 and L2 cover W and U.  No dropout inside, so
`output_deterministic` is `output`.
"""
import numpy

from DL import activations
from DL.activations import sigmoid
from DL.backend import BACKEND, T, on_first_compile
from DL.init import orthogonal, zeros
from DL.models.RNN import scan_over_time, sequence_input, sequence_mask
from DL.models.base import Layer, check_size, make_param, sub_params

GATE_ORDER = "ifoc"  # the column blocks of W, U and b: input, forget, output gate, candidate cell
N_GATES = len(GATE_ORDER)


def gate_blocks(rng, n_units):
    """(n_units, 4 n_units): one orthogonal block per gate."""
    return numpy.concatenate([orthogonal(rng, n_units) for _ in range(N_GATES)], axis=1)


def lstm_step(input_part_t, h_tm1, c_tm1, U, activation):
    """One LSTM step from the hoisted x_t W + b; returns (h_t, c_t)."""
    n = U.shape[0]
    gates = input_part_t + T.dot(h_tm1, U)
    squashed = sigmoid(gates[:, :3 * n])  # the three gates in one elementwise pass
    input_gate, forget_gate, output_gate = squashed[:, :n], squashed[:, n:2 * n], squashed[:, 2 * n:]
    candidate = activation(gates[:, 3 * n:])
    c_t = forget_gate * c_tm1 + input_gate * candidate
    return output_gate * activation(c_t), c_t


class LSTM(Layer):

    GATE_ORDER = GATE_ORDER

    def __init__(self, rng, input, mask, n_units, activation="tanh", params=None, name="LSTM", fused=None):
        self.name = name
        self.n_units = n_units = check_size(n_units, "%s: n_units" % name)
        self.activation = activations.get(activation)
        self.input = sequence_input(input, "%s: input" % name, n_units)
        self.mask = sequence_mask(mask, self.input, name)

        W_value, U_value, b_value = sub_params(params, 3, name)
        self.W = make_param(W_value, (n_units, N_GATES * n_units), "W", name, lambda: gate_blocks(rng, n_units))
        self.U = make_param(U_value, (n_units, N_GATES * n_units), "U", name, lambda: gate_blocks(rng, n_units))
        self.b = make_param(b_value, (N_GATES * n_units,), "b", name, lambda: zeros(N_GATES * n_units))

        input_part = T.dot(self.input, self.W) + self.b  # every step's x_t W + b, before the scan
        can_fuse = BACKEND == "pytensor" and self.activation is activations.get("tanh")
        if fused and not can_fuse:
            raise ValueError("%s: fused=True needs PyTensor and the tanh activation" % name)
        self.fused = can_fuse if fused is None else bool(fused)
        if self.fused:
            self.h, self.c = self._fused_recurrence(input_part)
        else:
            start = T.zeros((self.input.shape[0], n_units), dtype=input_part.dtype)

            def step(input_part_t, h_tm1, c_tm1, U):
                return lstm_step(input_part_t, h_tm1, c_tm1, U, self.activation)

            self.h, self.c = scan_over_time(step, [input_part], [start, start], [self.U], self.mask,
                                            name=name + ".scan")
        self.output = self.output_deterministic = self.h

    def _fused_recurrence(self, input_part):
        """h and c `(n_examples, n_timesteps, n_units)` from the fused Op (same results as the scan)."""
        dtype = numpy.promote_types(input_part.dtype, self.U.dtype).name
        time_major = T.cast(input_part, dtype).dimshuffle(1, 0, 2)  # (the kernels copy it to C order)
        if self.mask is None:
            mask = T.ones((time_major.shape[0], time_major.shape[1]), dtype=dtype)
        else:
            mask = T.cast(self.mask, dtype).T
        h, c, _ = LSTMRecurrence()(time_major, mask, T.cast(self.U, dtype))
        return h.dimshuffle(1, 0, 2), c.dimshuffle(1, 0, 2)

    @property
    def weights(self):
        return [self.W, self.U]

    @property
    def params(self):
        return [self.W, self.U, self.b]


# --- the fused recurrence (PyTensor) --------------------------------------------
# The whole loop over time as one Op, forward and backward, compiled with Numba
# (DL.numba_lstm, whose docstring has the equations): a step is one BLAS product
# and three vectorized loops over the gates.  Scan runs the same step with its
# own per-step machinery, and its backward pass recomputes every gate; that made
# the LSTM ~3x slower than an eager framework.  The Op keeps the gates of the
# forward pass for the backward one.  Used for the tanh activation on PyTensor
# (C, Numba and, through the lax.scan versions at the end, JAX); other
# activations, legacy Theano and `fused=False` use the scan.

def _kernels():
    """DL.numba_lstm's (forward, backward) and the `fast` flag they take:
    imported on first use, so that importing DL does not import Numba."""
    from DL import numba_lstm
    from DL.numba_kernels import fast_tanh_enabled
    return numba_lstm.kernels() + (fast_tanh_enabled(),)


if BACKEND == "pytensor":
    from pytensor.gradient import DisconnectedType, grad_not_implemented
    from pytensor.graph.basic import Apply
    from pytensor.graph.op import Op
    from pytensor.tensor.type import TensorType

    def _tensor(dtype, ndim):
        return TensorType(dtype, shape=(None,) * ndim)()

    class LSTMRecurrence(Op):
        """(input_part, mask, U) -> (h, c, gates), time major: see DL.numba_lstm."""
        __props__ = ()

        def make_node(self, input_part, mask, U):
            input_part, mask, U = (T.as_tensor_variable(v) for v in (input_part, mask, U))
            dtype = input_part.dtype
            if (input_part.ndim, mask.ndim, U.ndim) != (3, 2, 2) or {mask.dtype, U.dtype} != {dtype}:
                raise TypeError("LSTMRecurrence: (3-D input part, 2-D mask, 2-D U) of one dtype")
            return Apply(self, [input_part, mask, U], [_tensor(dtype, 3) for _ in range(3)])

        def perform(self, node, inputs, outputs):
            forward, _, fast = _kernels()
            for storage, value in zip(outputs, forward(*inputs, fast)):
                storage[0] = value

        def infer_shape(self, fgraph, node, shapes):
            (steps, examples, four_n), _, _ = shapes
            return [(steps, examples, four_n // N_GATES)] * 2 + [(steps, examples, four_n)]

        def pullback(self, inputs, outputs, output_grads):
            input_part, mask, U = inputs
            H, C, G = outputs
            dH, dC, dG = output_grads
            if not isinstance(dG.type, DisconnectedType):
                return [grad_not_implemented(self, i, v, "the gates output has no gradient")
                        for i, v in enumerate(inputs)]
            if isinstance(dH.type, DisconnectedType):
                dH = T.zeros_like(H)
            if isinstance(dC.type, DisconnectedType):
                dC = T.zeros_like(C)
            dA, dU, dmask = LSTMRecurrenceGrad()(mask, U, H, C, G, dH, dC)
            return [dA, dmask, dU]

    class LSTMRecurrenceGrad(Op):
        """(mask, U, h, c, gates, dh, dc) -> (d input_part, d U, d mask): see DL.numba_lstm."""
        __props__ = ()

        def make_node(self, *inputs):
            mask, U, H, C, G, dH, dC = (T.as_tensor_variable(v) for v in inputs)
            dtype = G.dtype
            dH, dC = T.cast(dH, dtype), T.cast(dC, dtype)
            return Apply(self, [mask, U, H, C, G, dH, dC],
                         [_tensor(dtype, 3), _tensor(dtype, 2), _tensor(dtype, 2)])

        def perform(self, node, inputs, outputs):
            _, backward, fast = _kernels()
            for storage, value in zip(outputs, backward(*inputs, fast)):
                storage[0] = value

        def infer_shape(self, fgraph, node, shapes):
            mask, U, _, _, G = shapes[:5]
            return [G, U, mask]

        def pullback(self, inputs, outputs, output_grads):
            return [grad_not_implemented(self, i, v, "second derivatives of the fused LSTM")
                    for i, v in enumerate(inputs)]

    # The Numba and JAX versions are registered when that engine first compiles a
    # graph (DL.backend.on_first_compile), so importing DL imports neither.

    def _register_numba():
        """The Numba engine calls the same compiled kernels, in nopython mode."""
        from pytensor.link.numba.dispatch.basic import numba_njit, register_funcify_and_cache_key
        from DL.numba_lstm import source_digest

        def _cache_key(op, node, fast):
            # PyTensor caches the compiled graph, kernels included, under this key: it
            # names the kernels' sources.  Numba keys on the inputs' types itself.
            return "DL.%s.%s.fast=%s.%s" % (type(op).__name__, node.outputs[0].dtype, fast, source_digest())

        @register_funcify_and_cache_key(LSTMRecurrence)
        def _numba_lstm_recurrence(op, node, **kwargs):
            forward, _, fast = _kernels()

            @numba_njit
            def lstm_recurrence(input_part, mask, U):
                return forward(input_part, mask, U, fast)

            return lstm_recurrence, _cache_key(op, node, fast)

        @register_funcify_and_cache_key(LSTMRecurrenceGrad)
        def _numba_lstm_recurrence_grad(op, node, **kwargs):
            _, backward, fast = _kernels()

            @numba_njit
            def lstm_recurrence_grad(mask, U, H, C, G, dH, dC):
                return backward(mask, U, H, C, G, dH, dC, fast)

            return lstm_recurrence_grad, _cache_key(op, node, fast)

    def _register_jax():
        """The JAX engine (and so GPUs): the same two passes as lax.scan loops, traced once."""
        import jax
        import jax.numpy as jnp
        from pytensor.link.jax.dispatch import jax_funcify

        @jax_funcify.register(LSTMRecurrence)
        def _jax_lstm_recurrence(op, **kwargs):
            def lstm_recurrence_jax(input_part, mask, U):
                n = U.shape[0]
                start = jnp.zeros((input_part.shape[1], n), input_part.dtype)

                def step(carry, inputs):
                    h_prev, c_prev = carry
                    part, keep = inputs
                    a = part + h_prev @ U
                    gates = jnp.concatenate([jax.nn.sigmoid(a[:, :3 * n]), jnp.tanh(a[:, 3 * n:])], axis=1)
                    c_new = gates[:, n:2 * n] * c_prev + gates[:, :n] * gates[:, 3 * n:]
                    h_new = gates[:, 2 * n:3 * n] * jnp.tanh(c_new)
                    keep = keep[:, None]
                    c = keep * c_new + (1 - keep) * c_prev
                    h = keep * h_new + (1 - keep) * h_prev
                    return (h, c), (h, c, gates)

                _, (H, C, G) = jax.lax.scan(step, (start, start), (input_part, mask))
                return H, C, G

            return lstm_recurrence_jax

        @jax_funcify.register(LSTMRecurrenceGrad)
        def _jax_lstm_recurrence_grad(op, **kwargs):
            def lstm_recurrence_grad_jax(mask, U, H, C, G, dH, dC):
                n = U.shape[0]
                zero = jnp.zeros_like(H[:1])
                H_prev = jnp.concatenate([zero, H[:-1]])
                C_prev = jnp.concatenate([zero, C[:-1]])

                def step(carry, inputs):
                    dh, dc = carry
                    gates, h_prev, c_prev, keep, dh_t, dc_t = inputs
                    dh, dc = dh + dh_t, dc + dc_t
                    input_gate, forget_gate = gates[:, :n], gates[:, n:2 * n]
                    output_gate, candidate = gates[:, 2 * n:3 * n], gates[:, 3 * n:]
                    c_new = forget_gate * c_prev + input_gate * candidate
                    tanh_c = jnp.tanh(c_new)
                    h_new = output_gate * tanh_c
                    dmask = jnp.sum(dh * (h_new - h_prev), axis=1) + jnp.sum(dc * (c_new - c_prev), axis=1)
                    keep = keep[:, None]
                    dh_new = keep * dh
                    dc_new = keep * dc + dh_new * output_gate * (1 - tanh_c * tanh_c)
                    squashed = gates[:, :3 * n]
                    da = jnp.concatenate([
                        jnp.concatenate([dc_new * candidate, dc_new * c_prev, dh_new * tanh_c], axis=1)
                        * squashed * (1 - squashed),
                        dc_new * input_gate * (1 - candidate * candidate)], axis=1)
                    dc = dc_new * forget_gate + (1 - keep) * dc
                    dh = da @ U.T + (1 - keep) * dh
                    return (dh, dc), (da, dmask)

                start = jnp.zeros_like(H[0])
                _, (dA, dmask) = jax.lax.scan(step, (start, start), (G, H_prev, C_prev, mask, dH, dC),
                                              reverse=True)
                dU = H_prev.reshape(-1, n).T @ dA.reshape(-1, 4 * n)
                return dA, dU, dmask

            return lstm_recurrence_grad_jax

    on_first_compile("numba", _register_numba)
    on_first_compile("jax", _register_jax)
