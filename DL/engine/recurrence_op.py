"""What DL's fused recurrences share as PyTensor Ops (`DL.engine.lstm_op`, `DL.engine.gru_op`).

A fused recurrence is the whole loop over time as one Op, time major:

    Recurrence()(input_part, mask, U) -> (*states, gates)
        input_part (n_timesteps, n_examples, n_gates n_units)   x_t W + b, every step
        mask       (n_timesteps, n_examples)                    1 real step, 0 padding
        U          (n_units, n_gates n_units)
        each state (n_timesteps, n_examples, n_units);  gates (n_timesteps, n_examples, n_gates n_units)

The gates are kept for the backward pass, which a second Op computes:

    Recurrence.grad_op()(input_part, mask, U, *states, gates, *d_states) -> (d input_part, d U, d mask)

A fused recurrence's module declares its Recurrence subclass with the class
decorator `fused_recurrence` (its kernels' module, its numbers of gates and
states, its JAX forward pass), which makes the gradient Op and the `Engines`.

Both call the Numba kernels of their `kernel_module` (entry point 0 forward, 1
backward; see DL.engine.numba_recurrence): from `perform` on the C and Python
engines, and as Numba code on the Numba engine.  The JAX engine gets a lax.scan
of the step for the forward Op, and `jax.vjp` of that for the gradient Op, so
the maths is written once for JAX.

The engines' code is registered for DL's own Op classes only, the first time a
graph that holds one is built (`Engines.register_for_graph`: the engines
`engines_for_graph` names) or DL.backend.function compiles for that engine, so
importing DL imports neither Numba nor JAX.
"""
import importlib
import sys

from pytensor.gradient import DisconnectedType, grad_not_implemented
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op
from pytensor.tensor.type import TensorType

from DL.backend import T


def tensor(dtype, ndim=None, shape=None):
    """A symbolic tensor of `ndim` axes of any length, or of a `shape` (None where not known)."""
    return TensorType(dtype, shape=(None,) * ndim if shape is None else tuple(shape))()


def entry_point(op):
    """(the compiled kernel `op` calls, the `fast` flag it takes), imported on first use."""
    from DL.engine.numba_kernels import fast_tanh_enabled
    kernels = importlib.import_module(op.kernel_module).kernels()
    return kernels[op.kernel_index], fast_tanh_enabled()


class KernelOp(Op):
    """An Op computed by one of `kernel_module`'s kernels, from all its inputs but the
    first `unread_inputs` (inputs that only the JAX code reads)."""
    __props__ = ()
    kernel_module = None  # e.g. "DL.engine.numba_lstm"
    kernel_index = 0      # 0 the forward kernel, 1 the backward one
    unread_inputs = 0

    def perform(self, node, inputs, outputs):
        kernel, fast = entry_point(self)
        for storage, value in zip(outputs, kernel(*inputs[self.unread_inputs:], fast)):
            storage[0] = value


class RecurrenceGrad(KernelOp):
    """(input_part, mask, U, *states, gates, *d_states) -> (d input_part, d U, d mask).

    The Numba kernel reads the kept gates and ignores input_part; the JAX code
    differentiates its own forward pass, which starts from input_part."""
    kernel_index = 1
    unread_inputs = 1

    def make_node(self, *inputs):
        inputs = [T.as_tensor_variable(v) for v in inputs]
        n_states = (len(inputs) - 4) // 2  # (3 inputs, the states and the gates, their gradients)
        dtype = inputs[3 + n_states].dtype  # the gates'
        d_states = [T.cast(d, dtype) for d in inputs[-n_states:]]
        return Apply(self, inputs[:-n_states] + d_states, [tensor(dtype, 3), tensor(dtype, 2), tensor(dtype, 2)])

    def infer_shape(self, fgraph, node, shapes):
        input_part, mask, U = shapes[:3]
        return [input_part, U, mask]

    def pullback(self, inputs, outputs, output_grads):
        return [grad_not_implemented(self, i, v, "second derivatives of a fused recurrence")
                for i, v in enumerate(inputs)]


class Recurrence(KernelOp):
    """(input_part, mask, U) -> (*states, gates), time major (the module's docstring).

    A subclass is completed by the `fused_recurrence` decorator, which names what differs."""
    n_gates = None
    n_states = 1
    grad_op = None
    engines = None

    def make_node(self, input_part, mask, U):
        input_part, mask, U = (T.as_tensor_variable(v) for v in (input_part, mask, U))
        dtype = input_part.dtype
        if (input_part.ndim, mask.ndim, U.ndim) != (3, 2, 2) or {mask.dtype, U.dtype} != {dtype}:
            raise TypeError("%s: (3-D input part, 2-D mask, 2-D U) of one dtype" % type(self).__name__)
        return Apply(self, [input_part, mask, U], [tensor(dtype, 3) for _ in range(self.n_states + 1)])

    def infer_shape(self, fgraph, node, shapes):
        (steps, examples, width), _, _ = shapes
        return [(steps, examples, width // self.n_gates)] * self.n_states + [(steps, examples, width)]

    def pullback(self, inputs, outputs, output_grads):
        *d_states, d_gates = output_grads
        if not isinstance(d_gates.type, DisconnectedType):
            return [grad_not_implemented(self, i, v, "the gates output has no gradient")
                    for i, v in enumerate(inputs)]
        d_states = [T.zeros_like(state) if isinstance(d.type, DisconnectedType) else d
                    for state, d in zip(outputs, d_states)]
        d_input_part, dU, dmask = self.grad_op()(*inputs, *outputs, *d_states)
        return [d_input_part, dmask, dU]


def fused_recurrence(kernel_module, cell, jax_forward):
    """A class decorator that completes a Recurrence subclass:

        @fused_recurrence("DL.engine.numba_gru", DL.models.GRU.CELL, jax_forward=gru_recurrence_jax)
        class GRURecurrence(Recurrent): ...

    `kernel_module` holds its Numba kernels, `cell` (a DL.recurrence.Cell) is the step
    it computes, whose layout gives the Op's numbers of gates and states, and
    `jax_forward(jax, jax.numpy)` returns the JAX function of its forward pass.  The
    class gets its gradient Op, `grad_op` (a RecurrenceGrad subclass named like it with
    "Grad"), and its `engines` (an Engines)."""

    def complete(cls):
        cls.kernel_module, cls.cell = kernel_module, cell
        cls.n_gates, cls.n_states = cell.n_gates, cell.n_states
        # (reachable as <module>.<class>.grad_op, so that graphs holding it pickle)
        cls.grad_op = type(cls.__name__ + "Grad", (RecurrenceGrad,), {
            "kernel_module": kernel_module, "__module__": cls.__module__,
            "__qualname__": cls.__qualname__ + ".grad_op",
            "__doc__": "The gradient Op of %s (RecurrenceGrad)." % cls.__name__})
        cls.engines = Engines(cls, cls.grad_op, jax_forward)
        return cls

    return complete


def _register_numba(op_class):
    """The Numba engine calls the same compiled kernels, in nopython mode."""
    from pytensor.link.numba.dispatch.basic import numba_njit, register_funcify_and_cache_key
    from DL.engine.numba_recurrence import source_digest

    @register_funcify_and_cache_key(op_class)
    def _numba_kernel_op(op, node, **kwargs):
        kernel, fast = entry_point(op)
        unread = op.unread_inputs

        @numba_njit
        def kernel_op(*inputs):
            return kernel(*inputs[unread:], fast)

        # PyTensor caches the compiled graph, kernels included, under this key: it
        # names the kernels' sources.  Numba keys on the inputs' types itself.
        return kernel_op, "DL.%s.%s.fast=%s.%s" % (type(op).__name__, node.outputs[0].dtype, fast,
                                                  source_digest(op.kernel_module))


def _vjp_gradient(forward):
    """The JAX code of a RecurrenceGrad: the pullback of the JAX `forward` at its inputs."""
    import jax
    import jax.numpy as jnp

    def gradient(input_part, mask, U, *rest):
        n_states = (len(rest) - 1) // 2
        gates, d_states = rest[n_states], rest[n_states + 1:]
        _, pullback = jax.vjp(forward, input_part, mask, U)
        d_input_part, dmask, dU = pullback((*d_states, jnp.zeros_like(gates)))
        return d_input_part, dU, dmask

    return gradient


_all_engines = []


class Engines(object):
    """Registers the engines' code of one fused recurrence's (Recurrence, RecurrenceGrad)
    classes, once per engine.  `jax_forward(jax, jax.numpy)` returns the JAX function of
    the forward Op (called only when JAX is in use: importing JAX takes seconds)."""

    def __init__(self, recurrence, recurrence_grad, jax_forward):
        self.op_classes = (recurrence, recurrence_grad)
        self.jax_forward = jax_forward
        self.registered = set()
        _all_engines.append(self)

    def register(self, engine="numba"):
        """Give PyTensor's `engine` ('numba' or 'jax') the code of the two Ops (once)."""
        if engine in self.registered:
            return
        self.registered.add(engine)
        if engine == "numba":
            for op_class in self.op_classes:
                _register_numba(op_class)
            return
        import jax
        import jax.numpy as jnp
        from pytensor.link.jax.dispatch import jax_funcify
        forward = self.jax_forward(jax, jnp)
        for op_class, code in zip(self.op_classes, (forward, _vjp_gradient(forward))):
            jax_funcify.register(op_class)(lambda op, code=code, **kwargs: code)

    def register_for_graph(self):
        """Register for the engines `engines_for_graph` names."""
        for engine in engines_for_graph():
            self.register(engine)


def engines_for_graph():
    """The engines whose code DL's Ops get when a graph holding one is built: JAX's once
    JAX is imported (a JAX user), Numba's unless DL's functions compile for JAX
    ($DL_MODE=JAX, or PyTensor's configured mode) and PyTensor's Numba code is not
    imported yet (importing it takes 0.3-0.4 s of a JAX run's start).  DL.backend.function
    registers the engine it compiles for, so a graph built before still compiles there."""
    from DL.backend import static_shapes
    engines = []
    if "pytensor.link.numba.dispatch" in sys.modules or not static_shapes():
        engines.append("numba")
    if "jax" in sys.modules:
        engines.append("jax")
    return engines


def register_all(engine):
    """Register `engine`'s code for every fused recurrence imported so far."""
    for engines in _all_engines:
        engines.register(engine)
