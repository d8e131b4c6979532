"""2-D pooling as PyTensor Ops of DL's own, with their gradient, on every engine.

    Pool2d(ws, stride, pad, ignore_border, mode)(x) -> out
        x   (..., height, width)            the last two axes are pooled
        out (..., out_h, out_w)             ignore_border=True: out_h = (height + 2 pad_h - ws_h) // stride_h + 1

    Pool2dGrad(same props)(x, d_out) -> d x

Theano's meanings (theano.tensor.signal.pool.pool_2d): windows `ws` moved by
`stride`, on the image padded by `pad` on each side; `mode` "max", "sum",
"average_inc_pad" (the padding counts in the average) or "average_exc_pad" (it
does not).  The padding is never a value: a max never sees a padded zero.
ignore_border=False keeps the partial windows at the bottom and right edges
(padding must then be 0, as in Theano), and their average divides by the
pixels they hold.

Max pooling's gradient goes, in each window, to ONE input: the first maximum in
row-major order within the window, as PyTorch's max_pool2d (Theano 1.0's CPU
code gave the whole gradient to every input equal to the maximum).  The Numba
code, `perform` and the JAX engine (whose `jax.vjp` of `reduce_window` picks the
first maximum as well) agree on it exactly: tests/test_pool.py.

Engines: on Numba the kernels of DL.engine.numba_pool; on JAX
`jax.lax.reduce_window`, the gradient by `jax.vjp` of it; on the C and Python
engines `perform`, in NumPy (a loop over the output pixels).  Registration as
for the convolution Ops (DL.engine.conv_op).
"""
import numpy
from pytensor.gradient import DisconnectedType, grad_not_implemented
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op

from DL.engine.conv_op import float_inputs, own_op
from DL.engine.recurrence_op import tensor

MODES = ("max", "sum", "average_inc_pad", "average_exc_pad")  # numba_pool's constants, in order


def pooled_size(size, window, stride, pad, ignore_border):
    """The output's height (or width) for an image axis of `size`, as Theano's Pool.out_shape
    (and DL.engine.numba_pool's)."""
    padded = size + 2 * pad
    if ignore_border:
        return (padded - window) // stride + 1
    if stride >= window:
        return (padded - 1) // stride + 1
    return max(0, (padded - 1 - window + stride) // stride) + 1


class PoolOp(Op):
    """What the two pooling Ops share: Theano's props."""
    __props__ = ("ws", "stride", "pad", "ignore_border", "mode")
    kernel_module = "DL.engine.numba_pool"

    def __init__(self, ws, stride, pad=(0, 0), ignore_border=True, mode="max"):
        self.ws, self.stride, self.pad = (tuple(int(v) for v in pair) for pair in (ws, stride, pad))
        self.ignore_border = bool(ignore_border)
        self.mode = mode

    def output_shape(self, x_shape):
        return tuple(x_shape[:-2]) + tuple(
            pooled_size(x_shape[axis - 2], self.ws[axis], self.stride[axis], self.pad[axis], self.ignore_border)
            for axis in (0, 1))

    def windows(self, height, width):
        """(y, x, rows, columns, divisor) of each output pixel (NumPy, for `perform`):
        the window's slices of the image and what its sum is divided by."""
        out_h, out_w = self.output_shape((height, width))
        if min(out_h, out_w) <= 0:
            raise ValueError("pool_2d: windows %s are larger than the padded image (%d, %d)"
                             % (self.ws, height + 2 * self.pad[0], width + 2 * self.pad[1]))
        for y in range(out_h):
            for x in range(out_w):
                bounds = []
                for position, axis, size in ((y, 0, height), (x, 1, width)):
                    start = position * self.stride[axis] - self.pad[axis]
                    end = start + self.ws[axis]
                    bounds.append((slice(max(start, 0), min(end, size)), min(end, size + self.pad[axis]) - start))
                (rows, padded_h), (columns, padded_w) = bounds
                divisor = {"sum": 1, "average_inc_pad": padded_h * padded_w,
                           "average_exc_pad": (rows.stop - rows.start) * (columns.stop - columns.start)}
                yield y, x, rows, columns, divisor.get(self.mode)

    def numba_code(self, node):
        """A Numba function of the node's inputs that calls numba_pool's kernel, the props constants."""
        import DL.engine.numba_pool as kernels
        from pytensor.link.numba.dispatch.basic import numba_njit
        props = self.ws + self.stride + self.pad + (int(self.ignore_border), MODES.index(self.mode))
        forward, gradient = kernels.pool_forward, kernels.pool_grad

        @numba_njit
        def pooling(x):
            return forward(x, *props)

        @numba_njit
        def pooling_gradient(x, d_out):
            return gradient(x, d_out, *props)

        return pooling if len(node.inputs) == 1 else pooling_gradient

    def jax_forward(self, jax):
        """The JAX function of Pool2d with these props: lax.reduce_window over the padded
        image (extended at the bottom and right for partial windows)."""
        import jax.numpy as jnp
        lax, ws, stride, pad, mode = jax.lax, self.ws, self.stride, self.pad, self.mode

        def reduce_windows(x, initial, operation, padding):
            lead = x.ndim - 2
            return lax.reduce_window(x, initial, operation, (1,) * lead + ws, (1,) * lead + stride,
                                     ((0, 0),) * lead + tuple(padding))

        def pool(x):
            height, width = x.shape[-2:]
            out_h, out_w = self.output_shape((height, width))
            extra = [max(0, (n - 1) * s + w - (size + 2 * p))
                     for n, s, w, size, p in zip((out_h, out_w), stride, ws, (height, width), pad)]
            padding = [(p, p + e) for p, e in zip(pad, extra)]
            if mode == "max":
                return reduce_windows(x, numpy.array(-numpy.inf, x.dtype), lax.max, padding)
            total = reduce_windows(x, numpy.array(0, x.dtype), lax.add, padding)
            if mode == "sum":
                return total
            if mode == "average_exc_pad":
                count = reduce_windows(jnp.ones((height, width), x.dtype), numpy.array(0, x.dtype), lax.add,
                                       padding)
            else:  # the padded image's pixels count, those beyond it (partial windows) do not
                count = reduce_windows(jnp.ones((height + 2 * pad[0], width + 2 * pad[1]), x.dtype),
                                       numpy.array(0, x.dtype), lax.add, [(0, e) for e in extra])
            return total / count

        return pool


@own_op
class Pool2d(PoolOp):
    """x `(..., height, width)` -> out `(..., out_h, out_w)` (the module's docstring)."""

    def make_node(self, x):
        x, = float_inputs(x)
        if x.ndim < 2:
            raise TypeError("Pool2d: the input needs 2 or more axes (..., height, width), got %d" % x.ndim)
        height, width = x.type.shape[-2:]
        known = height is not None and width is not None
        shape = self.output_shape(x.type.shape) if known else tuple(x.type.shape[:-2]) + (None, None)
        return Apply(self, [x], [tensor(x.dtype, shape=shape)])

    # (No infer_shape, as Conv2d: JAX reads the shape of the output while it traces.)

    def perform(self, node, inputs, outputs):
        x, = inputs
        out = numpy.empty(self.output_shape(x.shape), x.dtype)
        for y, column, rows, columns, divisor in self.windows(*x.shape[-2:]):
            window = x[..., rows, columns]
            if self.mode == "max":
                out[..., y, column] = window.max(axis=(-2, -1))
            else:
                out[..., y, column] = window.sum(axis=(-2, -1)) / x.dtype.type(divisor)
        outputs[0][0] = out

    def pullback(self, inputs, outputs, output_grads):
        x, = inputs
        return [Pool2dGrad(*self._props())(x, output_grads[0])]

    def jax_code(self, jax):
        return self.jax_forward(jax)


@own_op
class Pool2dGrad(PoolOp):
    """(x, d_out) -> d x `(..., height, width)`: max pooling's to the first maximum of each
    window, the others' spread over the window (the module's docstring)."""

    def make_node(self, x, d_out):
        x, d_out = float_inputs(x, d_out)
        return Apply(self, [x, d_out], [tensor(x.dtype, shape=x.type.shape)])

    def infer_shape(self, fgraph, node, shapes):
        return [shapes[0]]

    def perform(self, node, inputs, outputs):
        x, d_out = inputs
        dx = numpy.zeros_like(x)
        for y, column, rows, columns, divisor in self.windows(*x.shape[-2:]):
            g = d_out[..., y, column]
            if self.mode != "max":
                dx[..., rows, columns] += (g / x.dtype.type(divisor))[..., None, None]
                continue
            window = x[..., rows, columns]
            flat = window.reshape(window.shape[:-2] + (-1,))
            first_maximum = flat.argmax(axis=-1)[..., None]  # (argmax: the first, row-major)
            to_window = numpy.zeros_like(flat)
            numpy.put_along_axis(to_window, first_maximum, g[..., None], axis=-1)
            dx[..., rows, columns] += to_window.reshape(window.shape)
        outputs[0][0] = dx

    def pullback(self, inputs, outputs, output_grads):
        # d x is piecewise constant in x, and linear in d_out: the transpose of the
        # pooling, which for sums and averages is the pooling itself
        x, d_out = inputs
        u, = output_grads
        if self.mode == "max":
            return [DisconnectedType()(), grad_not_implemented(self, 1, d_out, "second derivatives of max pooling")]
        return [DisconnectedType()(), Pool2d(*self._props())(u)]

    def connection_pattern(self, node):
        return [[False], [True]]

    def jax_code(self, jax):
        forward = self.jax_forward(jax)
        return lambda x, d_out: jax.vjp(forward, x)[1](d_out)[0]
