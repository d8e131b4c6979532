"""2-D convolution as PyTensor Ops of DL's own, with their gradients, on every engine.

    Conv2d(border_mode, subsample)(x, W) -> out
        x   (n_examples, n_in, height, width)
        W   (n_out, n_in, filter_h, filter_w)
        out (n_examples, n_out, out_h, out_w),  out_h = (height + 2 pad_h - filter_h) // stride_h + 1

    out[e, k, y, x] = sum over c, i, j of W[k, c, i, j] xpad[e, c, y stride_h + i, x stride_w + j]

cross-correlation (as torch.nn.Conv2d) of x zero padded by (pad_h, pad_w) on
each side.  `border_mode` is Theano's: "valid" (no padding), "full" (filter
size - 1), "half" (filter size // 2) or a pair of ints; `subsample` the strides.
True convolution (Theano's filter_flip=True) is this Op on flipped filters:
DL.engine.conv.conv2d slices them, so the flip has its gradient for free.

Its gradients are two more Ops of the same props, each of (x, W, d_out):

    Conv2dGradInput(...)(x, W, d_out)   -> d x    (x read for its shape only)
    Conv2dGradFilters(...)(x, W, d_out) -> d W    (W read for its shape only)

and each of those has its own gradient (second derivatives) in these three Ops.

Engines: on Numba the kernels of DL.engine.numba_conv (im2col + BLAS); on JAX
`jax.lax.conv_general_dilated`, the gradients by `jax.vjp` of it; on the C and
Python engines `perform`, in NumPy (a loop over the filter taps, each a
tensordot).  The Numba and JAX code is registered for DL's own Op classes only,
the first time a graph holding one is built (`register_for_graph`), so
importing DL imports neither, and PyTensor's dispatch for its own Ops is left
alone (tests/test_isolation.py).
"""
import hashlib

import numpy
from pytensor.gradient import DisconnectedType
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op
from pytensor.scalar import upcast

import DL.engine.recurrence_op as recurrence_op
from DL.backend import T, floatX
from DL.engine.recurrence_op import tensor


def float_inputs(*variables):
    """`variables` as tensors of one float dtype: their common one, floatX for integers."""
    variables = [T.as_tensor_variable(v) for v in variables]
    dtype = upcast(*[v.dtype for v in variables])
    if not dtype.startswith("float"):
        dtype = floatX
    return [v if v.dtype == dtype else T.cast(v, dtype) for v in variables]


def pad_size(full, half, explicit, filter_size):
    """The zeros added on each side for one border mode's terms (`padding_terms`), plain
    enough for Numba to compile too."""
    return full * (filter_size - 1) + half * (filter_size // 2) + explicit


def padding_terms(border_mode):
    """(full, half, explicit_h, explicit_w): the padding is `pad_size` of these."""
    if border_mode == "full":
        return 1, 0, 0, 0
    if border_mode == "half":
        return 0, 1, 0, 0
    if border_mode == "valid":
        return 0, 0, 0, 0
    return (0, 0) + tuple(border_mode)


def padding(border_mode, filter_h, filter_w):
    """(pad_h, pad_w) for filters of (filter_h, filter_w)."""
    full, half, explicit_h, explicit_w = padding_terms(border_mode)
    return pad_size(full, half, explicit_h, filter_h), pad_size(full, half, explicit_w, filter_w)


def conv_output_size(size, filter_size, stride, pad):
    """How many positions a filter takes along an axis of the padded image."""
    return (size + 2 * pad - filter_size) // stride + 1


# --- the engines' code, registered for DL's own Op classes only ------------------

_op_classes = []


def own_op(cls):
    """A class decorator: the Op class gets its Numba and JAX code from its own
    `numba_code(node)` and `jax_code(jax)` when `register` runs."""
    _op_classes.append(cls)
    return cls


def _register_numba(op_class):
    from pytensor.link.numba.dispatch.basic import register_funcify_and_cache_key
    from DL.engine.numba_recurrence import source_digest

    @register_funcify_and_cache_key(op_class)
    def _numba_code(op, node, **kwargs):
        # PyTensor caches the compiled graph under this key (and names files with it, so
        # it is a digest): the props are constants in the code, the sources name the
        # kernels and the Op's own code that calls them.  Numba keys on the inputs' types.
        named = "%r.%s.%s.%s" % (op._props(), node.outputs[0].dtype, source_digest(op.kernel_module),
                                 source_digest(type(op).__module__))
        return op.numba_code(node), "DL.%s.%s" % (type(op).__name__, hashlib.sha256(named.encode()).hexdigest())


def _register_jax(op_class):
    import jax
    from pytensor.link.jax.dispatch import jax_funcify

    @jax_funcify.register(op_class)
    def _jax_code(op, **kwargs):
        return op.jax_code(jax)


class _Registry(object):
    """Which engines have the code of DL's own Ops (the image Ops, shape_op's UnfixOnes;
    once per engine and class)."""

    def __init__(self):
        self.registered = set()

    def register(self, engine="numba"):
        """Give PyTensor's `engine` ('numba' or 'jax') the code of every own_op class."""
        register_one = _register_numba if engine == "numba" else _register_jax
        for op_class in _op_classes:
            if (engine, op_class) not in self.registered:
                self.registered.add((engine, op_class))
                register_one(op_class)

    def register_for_graph(self):
        """Register for the engines `recurrence_op.engines_for_graph` names."""
        for engine in recurrence_op.engines_for_graph():
            self.register(engine)


registry = _Registry()
# DL.backend.function registers the code of the fused recurrences it knows of for the
# engine it compiles for; the image Ops join that list, so a graph built before that
# engine's code was registered still compiles there.
recurrence_op._all_engines.append(registry)
register_for_graph = registry.register_for_graph


# --- the Ops -------------------------------------------------------------------

class ConvOp(Op):
    """What the three convolution Ops share: Theano's props and the padding they mean."""
    __props__ = ("border_mode", "subsample")
    kernel_module = "DL.engine.numba_conv"

    def __init__(self, border_mode="valid", subsample=(1, 1)):
        self.border_mode = border_mode if isinstance(border_mode, str) else tuple(int(p) for p in border_mode)
        self.subsample = tuple(int(s) for s in subsample)

    def pads(self, W_shape):
        return padding(self.border_mode, W_shape[2], W_shape[3])

    def output_shape(self, x_shape, W_shape):
        pad_h, pad_w = self.pads(W_shape)
        return (x_shape[0], W_shape[0], conv_output_size(x_shape[2], W_shape[2], self.subsample[0], pad_h),
                conv_output_size(x_shape[3], W_shape[3], self.subsample[1], pad_w))

    def static_output_shape(self, x_shape, W_shape):
        """`output_shape` from the inputs' static shapes, None where an axis is not known (so
        that sizes computed from the output, a flattened feature count, are constants)."""
        full, half, explicit_h, explicit_w = padding_terms(self.border_mode)

        def size(axis, explicit):
            if x_shape[axis] is None or W_shape[axis] is None:
                return None
            pad = pad_size(full, half, explicit, W_shape[axis])
            return conv_output_size(x_shape[axis], W_shape[axis], self.subsample[axis - 2], pad)

        return (x_shape[0], W_shape[0], size(2, explicit_h), size(3, explicit_w))

    def numba_code(self, node):
        """A Numba function of the node's inputs that calls `self.kernel` of numba_conv
        with the strides and the padding (constants, but the filters' size)."""
        import DL.engine.numba_conv as kernels
        from pytensor.link.numba.dispatch.basic import numba_njit
        kernel = getattr(kernels, self.kernel)
        stride_h, stride_w = self.subsample
        full, half, explicit_h, explicit_w = padding_terms(self.border_mode)
        pad = numba_njit(pad_size)

        @numba_njit
        def geometry(W):
            return (stride_h, stride_w, pad(full, half, explicit_h, W.shape[2]),
                    pad(full, half, explicit_w, W.shape[3]))

        @numba_njit
        def convolution(x, W):
            return kernel(x, W, *geometry(W))

        @numba_njit
        def convolution_gradient(x, W, d_out):
            return kernel(x, W, d_out, *geometry(W))

        return convolution if len(node.inputs) == 2 else convolution_gradient

    def jax_forward(self, jax):
        """The JAX function of Conv2d with these props."""
        def convolve(x, W):
            return jax.lax.conv_general_dilated(x, W, self.subsample, [(p, p) for p in self.pads(W.shape)],
                                                dimension_numbers=("NCHW", "OIHW", "NCHW"))
        return convolve


def _taps(padded, filter_h, filter_w, stride_h, stride_w, out_h, out_w):
    """(i, j, view): for each filter tap, the `(n_examples, n_in, out_h, out_w)` view of the
    padded images that it meets (NumPy, for `perform`)."""
    for i in range(filter_h):
        for j in range(filter_w):
            yield i, j, padded[:, :, i:i + stride_h * (out_h - 1) + 1:stride_h,
                               j:j + stride_w * (out_w - 1) + 1:stride_w]


def _numpy_geometry(op, x_shape, W_shape):
    """(pad_h, pad_w, out shape, the taps' arguments but the image) for NumPy code."""
    if x_shape[1] != W_shape[1]:
        raise ValueError("conv2d: the filters' n_in (axis 1 of %s) differs from the input's channels "
                         "(axis 1 of %s)" % (W_shape, x_shape))
    pad_h, pad_w = op.pads(W_shape)
    out_shape = op.output_shape(x_shape, W_shape)
    if min(out_shape) <= 0:
        raise ValueError("conv2d: filters %s are larger than the padded images %s"
                         % (W_shape, x_shape[:2] + (x_shape[2] + 2 * pad_h, x_shape[3] + 2 * pad_w)))
    return pad_h, pad_w, out_shape, (W_shape[2], W_shape[3]) + op.subsample + out_shape[2:]


def _pad(x, pad_h, pad_w):
    return numpy.pad(x, ((0, 0), (0, 0), (pad_h, pad_h), (pad_w, pad_w)))


@own_op
class Conv2d(ConvOp):
    """(x, W) -> out: cross-correlation with zero padding and strides (the module's docstring)."""
    kernel = "conv_forward"

    def make_node(self, x, W):
        x, W = float_inputs(x, W)
        if (x.ndim, W.ndim) != (4, 4):
            raise TypeError("Conv2d: 4-D input (n_examples, n_in, height, width) and 4-D filters "
                            "(n_out, n_in, filter_h, filter_w), got %d-D and %d-D" % (x.ndim, W.ndim))
        return Apply(self, [x, W], [tensor(x.dtype, shape=self.static_output_shape(x.type.shape, W.type.shape))])

    # (No infer_shape: the output's shape is then read from the output itself, which
    # JAX knows while it traces; arithmetic on the input's shape would be traced.)

    def perform(self, node, inputs, outputs):
        x, W = inputs
        pad_h, pad_w, out_shape, geometry = _numpy_geometry(self, x.shape, W.shape)
        out = numpy.zeros((out_shape[0],) + out_shape[2:] + (out_shape[1],), x.dtype)
        for i, j, view in _taps(_pad(x, pad_h, pad_w), *geometry):
            out += numpy.tensordot(view, W[:, :, i, j], axes=([1], [1]))
        outputs[0][0] = numpy.ascontiguousarray(out.transpose(0, 3, 1, 2))

    def pullback(self, inputs, outputs, output_grads):
        x, W = inputs
        d_out, = output_grads
        return [Conv2dGradInput(*self._props())(x, W, d_out), Conv2dGradFilters(*self._props())(x, W, d_out)]

    def jax_code(self, jax):
        return self.jax_forward(jax)


class ConvGrad(ConvOp):
    """(x, W, d_out) -> the gradient of sum(out * d_out) w.r.t. x or W (`wrt`, 0 or 1)."""
    wrt = None

    def make_node(self, x, W, d_out):
        x, W, d_out = float_inputs(x, W, d_out)
        return Apply(self, [x, W, d_out], [tensor(x.dtype, shape=(x, W)[self.wrt].type.shape)])

    def infer_shape(self, fgraph, node, shapes):
        return [shapes[self.wrt]]

    def connection_pattern(self, node):
        return [[i != self.wrt] for i in range(3)]

    def jax_code(self, jax):
        forward, wrt = self.jax_forward(jax), self.wrt

        def gradient(x, W, d_out):
            inputs = [x, W]

            def of_one(value):
                inputs[wrt] = value
                return forward(*inputs)

            return jax.vjp(of_one, inputs[wrt])[1](d_out)[0]

        return gradient


@own_op
class Conv2dGradInput(ConvGrad):
    """(x, W, d_out) -> d x `(n_examples, n_in, height, width)`; x is read for its shape."""
    kernel = "conv_grad_input"
    wrt = 0

    def perform(self, node, inputs, outputs):
        x, W, d_out = inputs
        pad_h, pad_w, _, geometry = _numpy_geometry(self, x.shape, W.shape)
        padded = _pad(numpy.zeros_like(x), pad_h, pad_w)
        for i, j, view in _taps(padded, *geometry):
            view += numpy.tensordot(W[:, :, i, j], d_out, axes=([0], [1])).transpose(1, 0, 2, 3)
        outputs[0][0] = numpy.ascontiguousarray(padded[:, :, pad_h:pad_h + x.shape[2], pad_w:pad_w + x.shape[3]])

    def pullback(self, inputs, outputs, output_grads):
        # d x = conv^T(d_out, W), linear in W and in d_out
        x, W, d_out = inputs
        u, = output_grads
        return [DisconnectedType()(), Conv2dGradFilters(*self._props())(u, W, d_out),
                Conv2d(*self._props())(u, W)]


@own_op
class Conv2dGradFilters(ConvGrad):
    """(x, W, d_out) -> d W `(n_out, n_in, filter_h, filter_w)`; W is read for its shape."""
    kernel = "conv_grad_filters"
    wrt = 1

    def perform(self, node, inputs, outputs):
        x, W, d_out = inputs
        pad_h, pad_w, _, geometry = _numpy_geometry(self, x.shape, W.shape)
        dW = numpy.empty_like(W)
        for i, j, view in _taps(_pad(x, pad_h, pad_w), *geometry):
            dW[:, :, i, j] = numpy.tensordot(d_out, view, axes=([0, 2, 3], [0, 2, 3]))
        outputs[0][0] = dW

    def pullback(self, inputs, outputs, output_grads):
        # d W = corr(x, d_out), linear in x and in d_out
        x, W, d_out = inputs
        v, = output_grads
        return [Conv2dGradInput(*self._props())(x, v, d_out), DisconnectedType()(),
                Conv2d(*self._props())(x, v)]
