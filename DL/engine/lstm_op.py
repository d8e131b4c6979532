"""The fused LSTM recurrence: the whole loop over time as one Op, forward and backward.

`DL.models.LSTM` defines the maths (its scan step); this Op computes the same
thing, time major, with kernels compiled by Numba (`DL.engine.numba_lstm`, whose
docstring has the equations): a step is one BLAS product and three vectorized
loops over the gates.  Scan runs the same step with its own per-step machinery,
and its backward pass recomputes every gate; the Op keeps the gates of the
forward pass for the backward one.  `tests/test_lstm.py` checks it against the
scan, forward and backward.

    LSTMRecurrence()(input_part, mask, U) -> (h, c, gates)
        input_part (n_timesteps, n_examples, 4 n_units)   x_t W + b, every step
        mask       (n_timesteps, n_examples)              1 real step, 0 padding
        U          (n_units, 4 n_units)
        h, c       (n_timesteps, n_examples, n_units);  gates (n_timesteps, n_examples, 4 n_units)

Its code for PyTensor's engines is registered for these two Op classes only
(DL's own), the first time a graph that holds one is compiled: `register()`
(Numba, and JAX when JAX is in use), so importing DL imports neither.
"""
import sys

from pytensor.gradient import DisconnectedType, grad_not_implemented
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op
from pytensor.tensor.type import TensorType

from DL.backend import T

N_GATES = 4  # the column blocks of U and the gates: input, forget, output gate, candidate cell


def _kernels():
    """DL.engine.numba_lstm's (forward, backward) and the `fast` flag they take:
    imported on first use, so that importing DL does not import Numba."""
    from DL.engine import numba_lstm
    from DL.engine.numba_kernels import fast_tanh_enabled
    return numba_lstm.kernels() + (fast_tanh_enabled(),)


def _tensor(dtype, ndim):
    return TensorType(dtype, shape=(None,) * ndim)()

class LSTMRecurrence(Op):
    """(input_part, mask, U) -> (h, c, gates), time major: see DL.engine.numba_lstm."""
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
        dA, dU, dmask = LSTMRecurrenceGrad()(input_part, mask, U, H, C, G, dH, dC)
        return [dA, dmask, dU]

class LSTMRecurrenceGrad(Op):
    """(input_part, mask, U, h, c, gates, dh, dc) -> (d input_part, d U, d mask).

    The Numba kernel (DL.engine.numba_lstm) reads the kept gates and ignores
    input_part; the JAX code differentiates its own forward pass (`jax.vjp`),
    which starts from input_part."""
    __props__ = ()

    def make_node(self, *inputs):
        input_part, mask, U, H, C, G, dH, dC = (T.as_tensor_variable(v) for v in inputs)
        dtype = G.dtype
        dH, dC = T.cast(dH, dtype), T.cast(dC, dtype)
        return Apply(self, [input_part, mask, U, H, C, G, dH, dC],
                     [_tensor(dtype, 3), _tensor(dtype, 2), _tensor(dtype, 2)])

    def perform(self, node, inputs, outputs):
        _, backward, fast = _kernels()
        for storage, value in zip(outputs, backward(*inputs[1:], fast)):
            storage[0] = value

    def infer_shape(self, fgraph, node, shapes):
        input_part, mask, U = shapes[:3]
        return [input_part, U, mask]

    def pullback(self, inputs, outputs, output_grads):
        return [grad_not_implemented(self, i, v, "second derivatives of the fused LSTM")
                for i, v in enumerate(inputs)]


def register_numba():
    """The Numba engine calls the same compiled kernels, in nopython mode."""
    from pytensor.link.numba.dispatch.basic import numba_njit, register_funcify_and_cache_key
    from DL.engine.numba_lstm import source_digest

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
        def lstm_recurrence_grad(input_part, mask, U, H, C, G, dH, dC):
            return backward(mask, U, H, C, G, dH, dC, fast)

        return lstm_recurrence_grad, _cache_key(op, node, fast)

def register_jax():
    """The JAX engine (and so GPUs): the forward pass as a lax.scan of the step, traced
    once; the backward pass is `jax.vjp` of that forward pass, so the maths is written once."""
    import jax
    import jax.numpy as jnp
    from pytensor.link.jax.dispatch import jax_funcify

    def lstm_recurrence_jax(input_part, mask, U):
        """(h, c, gates), time major, as LSTMRecurrence: DL.models.LSTM.lstm_step with tanh."""
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

    def lstm_recurrence_grad_jax(input_part, mask, U, H, C, G, dH, dC):
        """(d input_part, d U, d mask): the pullback of `lstm_recurrence_jax` at its inputs."""
        _, pullback = jax.vjp(lstm_recurrence_jax, input_part, mask, U)
        dA, dmask, dU = pullback((dH, dC, jnp.zeros_like(G)))
        return dA, dU, dmask

    @jax_funcify.register(LSTMRecurrence)
    def _jax_lstm_recurrence(op, **kwargs):
        return lstm_recurrence_jax

    @jax_funcify.register(LSTMRecurrenceGrad)
    def _jax_lstm_recurrence_grad(op, **kwargs):
        return lstm_recurrence_grad_jax


_registered = set()


def register(engine="numba"):
    """Give PyTensor's `engine` ('numba' or 'jax') the code of the two Ops (once)."""
    if engine in _registered:
        return
    _registered.add(engine)
    {"numba": register_numba, "jax": register_jax}[engine]()


def register_for_graph():
    """Register for Numba, and for JAX if JAX is already imported (a JAX user)."""
    register("numba")
    if "jax" in sys.modules:
        register("jax")
