"""UnfixOnes: x -> x, with its sizes of 1 unknown to the graph's types.

    UnfixOnes()(x) -> y,   y = x;   x.type.shape (1, 20, None) -> y.type.shape (None, 20, None)

Why.  PyTensor's scan checks, when it is built, that each outer input's type fits
the inner graph's: a sequence `(n_timesteps, n_examples, n)` built for any number
of examples meets an inner step `(n_examples, n)` with the examples' size unknown.
A JAX function traces one program per input shape (DL.backend.PerShape), so it
compiles the graph again with the inputs' sizes fixed, and a size fixed at 1 (one
sequence through a recurrent net: an example script's own prediction) makes that
axis broadcastable; the scan, rebuilt over the fixed inputs, then refuses its
sequence ("the broadcast pattern of the output of scan ... is inconsistent").
DL.recurrence.scan_over_time passes its sequences and initial states through this
Op, so the scan sees the types it was built for whatever sizes the inputs are
given.  The graph still knows the sizes: `infer_shape` hands the input's shape
on, so a size computed from the loop's result is the constant 1 again after
PyTensor's shape rewrites, which JAX needs (its reshapes take constant sizes).

It computes nothing: on every engine the output is the input (a view).  Its
gradient is the output's gradient, given the input's type back.  Its Numba and
JAX code are registered for this class only, the first time a graph holds one.
"""
import hashlib
import sys

from pytensor.graph.basic import Apply
from pytensor.graph.op import Op
from pytensor.tensor.shape import specify_shape
from pytensor.tensor.type import TensorType

import DL.engine.recurrence_op as recurrence_op
from DL.backend import T


class UnfixOnes(Op):
    """x -> x, typed with its sizes of 1 unknown (the module's docstring)."""
    __props__ = ()
    view_map = {0: [0]}

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        shape = tuple(None if size == 1 else size for size in x.type.shape)
        return Apply(self, [x], [TensorType(x.dtype, shape=shape)()])

    def perform(self, node, inputs, outputs):
        outputs[0][0] = inputs[0]

    def infer_shape(self, fgraph, node, shapes):
        return shapes

    def pullback(self, inputs, outputs, output_grads):
        return [specify_shape(output_grads[0], inputs[0].type.shape)]

    def L_op(self, inputs, outputs, output_grads):
        return self.pullback(inputs, outputs, output_grads)


def unfix_ones(x):
    """`x` through UnfixOnes when some of its sizes is unknown (a later compile may fix it
    at 1); a tensor of fixed sizes is returned as it is."""
    if None not in getattr(x.type, "shape", (1,)):
        return x
    registry.register_for_graph()
    return UnfixOnes()(x)


class _Registry(object):
    """The Numba and JAX code of UnfixOnes, registered once per engine."""

    def __init__(self):
        self.registered = set()

    def register(self, engine="numba"):
        if engine in self.registered:
            return
        self.registered.add(engine)
        if engine == "numba":
            from pytensor.link.numba.dispatch.basic import numba_njit, register_funcify_and_cache_key

            @register_funcify_and_cache_key(UnfixOnes)
            def _numba_code(op, node, **kwargs):
                @numba_njit
                def unfix_ones(x):
                    return x

                return unfix_ones, "DL.UnfixOnes." + hashlib.sha256(b"identity").hexdigest()
            return
        from pytensor.link.jax.dispatch import jax_funcify
        jax_funcify.register(UnfixOnes)(lambda op, **kwargs: lambda x: x)

    def register_for_graph(self):
        """Register for Numba, and for JAX if JAX is already imported (a JAX user)."""
        self.register("numba")
        if "jax" in sys.modules:
            self.register("jax")


registry = _Registry()
recurrence_op._all_engines.append(registry)  # (DL.backend.function registers JAX's code)
