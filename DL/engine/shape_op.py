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
JAX code are registered for this class only, the first time a graph holds one, by
the registry of DL's own Ops (DL.engine.conv_op.own_op, as the image Ops).
"""
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op
from pytensor.tensor.shape import specify_shape
from pytensor.tensor.type import TensorType

from DL.backend import T
from DL.engine.conv_op import own_op, register_for_graph


@own_op
class UnfixOnes(Op):
    """x -> x, typed with its sizes of 1 unknown (the module's docstring)."""
    __props__ = ()
    view_map = {0: [0]}
    kernel_module = __name__  # (its Numba code is here: the cache key names this file)

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

    def numba_code(self, node):
        from pytensor.link.numba.dispatch.basic import numba_njit

        @numba_njit
        def unfix_ones(x):
            return x

        return unfix_ones

    def jax_code(self, jax):
        return lambda x: x


def unfix_ones(x):
    """`x` through UnfixOnes when some of its sizes is unknown (a later compile may fix it
    at 1); a tensor of fixed sizes is returned as it is."""
    if None not in getattr(x.type, "shape", (1,)):
        return x
    register_for_graph()
    return UnfixOnes()(x)
