"""Theano 1.0's convolution and pooling functions, on DL's engines.

    conv2d(input, filters, input_shape=None, filter_shape=None, border_mode="valid",
           subsample=(1, 1), filter_flip=True, filter_dilation=(1, 1))
        input   (n_examples, n_in, height, width)
        filters (n_out, n_in, filter_h, filter_w)
        ->      (n_examples, n_out, out_h, out_w),  out_h = (height + 2 pad_h - filter_h) // subsample_h + 1

    pool_2d(input, ws, ignore_border=True, stride=None, pad=(0, 0), mode="max")
        input (..., height, width) -> (..., out_h, out_w)

with Theano's meanings (theano.tensor.nnet.conv2d, theano.tensor.signal.pool.pool_2d):

- border_mode: "valid" (no padding), "full" (filter size - 1 zeros on each side),
  "half" (filter size // 2), an int or a pair (pad_h, pad_w) of zeros.
- filter_flip=True (Theano's default) is true convolution, the filters turned
  by 180 degrees; False is cross-correlation, what torch.nn.Conv2d and DL's
  layers compute.
- input_shape / filter_shape: optional shapes (None for an unknown axis), used
  here to check the arguments before anything runs.
- pool_2d modes: "max", "sum", "average_inc_pad", "average_exc_pad"; stride
  defaults to ws; ignore_border=False keeps the partial windows at the bottom
  and right edges; the padding is never a value (a max never sees a zero of it).

On PyTensor they build DL's own Ops (DL.engine.conv_op, DL.engine.pool_op),
which run on the Numba, JAX, C and Python engines with their gradients; on
legacy Theano (DL_BACKEND=theano) they call Theano's own functions with the
same arguments.  Bad arguments raise at once, saying what to change.
"""
import numbers

from DL.backend import BACKEND, T

BORDER_MODES = ("valid", "full", "half")
POOL_MODES = ("max", "sum", "average_inc_pad", "average_exc_pad")


def _pair(value, name, owner, minimum):
    """`value` (an int or a pair of ints) as a pair of ints >= `minimum`, or a ValueError."""
    pair = (value, value) if isinstance(value, numbers.Integral) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, numbers.Integral) and v >= minimum for v in pair):
        raise ValueError("%s: %s must be an int or a pair of ints >= %d (height, width), got %r"
                         % (owner, name, minimum, value))
    return tuple(int(v) for v in pair)


def _tensor(value, what, owner, ndim, or_more=False):
    """`value` as a tensor of `ndim` axes (`or_more`: at least), or a TypeError naming `what`."""
    variable = T.as_tensor_variable(value)
    if variable.ndim < ndim if or_more else variable.ndim != ndim:
        raise TypeError("%s: %s must have %d axes%s, got %d" % (owner, what, ndim, " or more" if or_more else "",
                                                                 variable.ndim))
    return variable


def static_shape(variable, given=None):
    """What is known of `variable`'s shape before it runs (None for an unknown axis): the
    `given` shape, its type's, a constant's or a shared variable's current value's."""
    known = list(given) if given is not None else [None] * variable.ndim
    value = getattr(variable, "data", None)
    if value is None and hasattr(variable, "get_value"):
        value = variable.get_value(borrow=True)
    # (legacy Theano's types carry no shape, only broadcastable flags)
    for source in (getattr(variable.type, "shape", None), getattr(value, "shape", None)):
        if source is not None and len(source) == variable.ndim:
            known = [k if k is not None else s for k, s in zip(known, source)]
    return known


def check_fits(owner, what, image_shape, window, pad):
    """A ValueError if `window` (a filter's or a pool's) is larger than the padded image."""
    for axis, name in ((0, "height"), (1, "width")):
        size = image_shape[axis]
        if size is not None and window[axis] is not None and window[axis] > size + 2 * pad[axis]:
            raise ValueError("%s: the %s (%s %d) is larger than the padded image (%s %d + 2 x %d padding); "
                             "use a smaller %s or more padding" % (owner, what, name, window[axis], name, size,
                                                                   pad[axis], what))


def conv2d(input, filters, input_shape=None, filter_shape=None, border_mode="valid", subsample=(1, 1),
           filter_flip=True, filter_dilation=(1, 1)):
    """The 2-D convolution of `input` with `filters`, as Theano 1.0's (the module's docstring)."""
    owner = "conv2d"
    if isinstance(border_mode, str):
        if border_mode not in BORDER_MODES:
            raise ValueError("conv2d: border_mode must be one of %s, an int or a pair of ints, got %r"
                             % (", ".join(BORDER_MODES), border_mode))
    else:
        border_mode = _pair(border_mode, "border_mode (the zero padding)", owner, 0)
    subsample = _pair(subsample, "subsample (the strides)", owner, 1)
    input = _tensor(input, "input (n_examples, n_in, height, width)", owner, 4)
    filters = _tensor(filters, "filters (n_out, n_in, filter_h, filter_w)", owner, 4)
    if BACKEND == "theano":
        from theano.tensor.nnet import conv2d as theano_conv2d
        return theano_conv2d(input, filters, input_shape=input_shape, filter_shape=filter_shape,
                              border_mode=border_mode, subsample=subsample, filter_flip=filter_flip,
                              filter_dilation=filter_dilation)
    if tuple(filter_dilation) != (1, 1):
        raise NotImplementedError("conv2d: filter_dilation other than (1, 1) is not implemented by DL's Ops; "
                                  "dilate the filters with zeros instead")
    from DL.engine.conv_op import Conv2d, padding, register_for_graph
    image, kernel = static_shape(input, input_shape), static_shape(filters, filter_shape)
    if None not in (image[1], kernel[1]) and image[1] != kernel[1]:
        raise ValueError("conv2d: the input has %d channels (axis 1) but the filters expect n_in = %d "
                         "(their axis 1); make them equal" % (image[1], kernel[1]))
    if None not in kernel[2:]:
        check_fits(owner, "filter", image[2:], kernel[2:], padding(border_mode, *kernel[2:]))
    register_for_graph()
    if filter_flip:
        filters = filters[:, :, ::-1, ::-1]
    return Conv2d(border_mode, subsample)(input, filters)


def pool_2d(input, ws, ignore_border=True, stride=None, pad=(0, 0), mode="max"):
    """Pooling of `input`'s last two axes, as Theano 1.0's pool_2d (the module's docstring)."""
    owner = "pool_2d"
    ws = _pair(ws, "ws (the window)", owner, 1)
    stride = ws if stride is None else _pair(stride, "stride", owner, 1)
    pad = _pair(pad, "pad", owner, 0)
    if mode not in POOL_MODES:
        raise ValueError("pool_2d: mode must be one of %s, got %r" % (", ".join(POOL_MODES), mode))
    if pad != (0, 0) and not ignore_border:
        raise ValueError("pool_2d: padding works only with ignore_border=True (as in Theano)")
    if pad[0] >= ws[0] or pad[1] >= ws[1]:
        raise ValueError("pool_2d: pad %s must be smaller than the window ws %s (as in Theano)" % (pad, ws))
    input = _tensor(input, "input (..., height, width)", owner, 2, or_more=True)
    if BACKEND == "theano":
        from theano.tensor.signal.pool import pool_2d as theano_pool_2d
        if mode == "average_exc_pad" and pad != (0, 0):
            # Theano 1.0 has no gradient for this (AveragePoolGrad: "padding must be zero"):
            # the windows' sums over the image pixels they hold
            count = theano_pool_2d(T.ones(input.shape[-2:], dtype=input.dtype), ws=ws, ignore_border=True,
                                   stride=stride, pad=pad, mode="sum")
            return theano_pool_2d(input, ws=ws, ignore_border=True, stride=stride, pad=pad, mode="sum") / count
        return theano_pool_2d(input, ws=ws, ignore_border=ignore_border, stride=stride, pad=pad, mode=mode)
    from DL.engine.conv_op import register_for_graph
    from DL.engine.pool_op import Pool2d
    if ignore_border:
        check_fits(owner, "window", static_shape(input)[-2:], ws, pad)
    register_for_graph()
    return Pool2d(ws, stride, pad, ignore_border, mode)(input)
