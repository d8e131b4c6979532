"""The convolution Ops (`DL.engine.conv_op`) compiled with Numba: im2col + GEMM.

Cross-correlation of an image `x (n_examples, n_in, height, width)` zero padded
by (pad_h, pad_w) with filters `W (n_out, n_in, filter_h, filter_w)`, stride
(stride_h, stride_w)::

    out[e, k, y, x] = sum over c, i, j of W[k, c, i, j] xpad[e, c, y stride_h + i, x stride_w + j]

Per example the image becomes the matrix of its patches (im2col),
`cols (n_in filter_h filter_w, out_h out_w)`, row `(c, i, j)` holding the
pixels that filter tap meets; then every product is one BLAS call:

    forward        out[e]   = W2 . cols            W2 = W as (n_out, n_in filter_h filter_w)
    d filters      dW2     += d_out[e] . cols^T
    d input        d_cols   = W2^T . d_out[e],  then col2im adds each tap back where it came from

One example at a time, so that its patch matrix stays in the cache between
im2col and BLAS (examples side by side, for wider products, measured slower).
The padding is never stored: im2col writes its zeros, col2im skips it.  The
copies index flat arrays with unsigned integers, so that they vectorize.  The
kernels are few and small, copy with plain loops (Numba compiles slice
assignments of arrays slowly: 26 s cold before, 9 s after), and are cached on
disk by Numba (cache=True).
"""
import numpy
from numba import uint64

from DL.engine.numba_linker import njit


@njit(cache=True)
def output_size(size, filter_size, stride, pad):
    """The output's height (or width): the positions a filter takes in the padded image."""
    if size + 2 * pad < filter_size:
        raise ValueError("conv2d: a filter is larger than the padded image")
    return (size + 2 * pad - filter_size) // stride + 1


@njit(cache=True)
def _inside(offset, stride, size, out_size):
    """(first, end): the output positions p whose input position p stride + offset is
    inside [0, size)."""
    first = max(0, (stride - 1 - offset) // stride)
    end = max(0, (size - offset + stride - 1) // stride)
    return min(first, out_size), min(end, out_size)


@njit(cache=True)
def im2col(image, cols, filter_h, filter_w, stride_h, stride_w, pad_h, pad_w, out_h, out_w):
    """Write the patches of one image `(n_in, height, width)` into `cols`: row (c, i, j),
    column y out_w + x holds the padded image's pixel (c, y stride_h + i, x stride_w + j),
    0 in the padding.  (Flat arrays and unsigned indices: Numba then needs no check for
    negative indices, and the copies vectorize, ten times faster on LeNet's shapes.)"""
    n_in, height, width = image.shape
    pixels, size = image.reshape(n_in * height * width), out_h * out_w
    flat = cols.reshape(cols.shape[0] * size)
    flat[:] = 0
    for c in range(n_in):
        for i in range(filter_h):
            y_first, y_end = _inside(i - pad_h, stride_h, height, out_h)
            for j in range(filter_w):
                x_first, x_end = _inside(j - pad_w, stride_w, width, out_w)
                target = ((c * filter_h + i) * filter_w + j) * size + x_first
                source = (c * height + i - pad_h) * width + x_first * stride_w + j - pad_w
                for y in range(y_first, y_end):
                    t, s = target + y * out_w, source + y * stride_h * width
                    for x in range(x_end - x_first):
                        flat[uint64(t + x)] = pixels[uint64(s + x * stride_w)]


@njit(cache=True)
def col2im(cols, image, filter_h, filter_w, stride_h, stride_w, pad_h, pad_w, out_h, out_w):
    """The transpose of im2col: add each entry of `cols` to the pixel of `image`
    `(n_in, height, width)`, C-contiguous, it was taken from (none for padding)."""
    n_in, height, width = image.shape
    pixels, size = image.reshape(n_in * height * width), out_h * out_w
    flat = cols.reshape(cols.shape[0] * size)
    for c in range(n_in):
        for i in range(filter_h):
            y_first, y_end = _inside(i - pad_h, stride_h, height, out_h)
            for j in range(filter_w):
                x_first, x_end = _inside(j - pad_w, stride_w, width, out_w)
                source = ((c * filter_h + i) * filter_w + j) * size + x_first
                target = (c * height + i - pad_h) * width + x_first * stride_w + j - pad_w
                for y in range(y_first, y_end):
                    s, t = source + y * out_w, target + y * stride_h * width
                    for x in range(x_end - x_first):
                        pixels[uint64(t + x * stride_w)] += flat[uint64(s + x)]


@njit(cache=True)
def _geometry(x_shape, W_shape, stride_h, stride_w, pad_h, pad_w):
    """(out_h, out_w, the patch matrix's rows and columns)."""
    if W_shape[1] != x_shape[1]:
        raise ValueError("conv2d: the filters' n_in (axis 1) differs from the input's channels (axis 1)")
    out_h = output_size(x_shape[2], W_shape[2], stride_h, pad_h)
    out_w = output_size(x_shape[3], W_shape[3], stride_w, pad_w)
    return out_h, out_w, x_shape[1] * W_shape[2] * W_shape[3], out_h * out_w


@njit(cache=True)
def conv_forward(x, W, stride_h, stride_w, pad_h, pad_w):
    """out `(n_examples, n_out, out_h, out_w)`: the module's cross-correlation."""
    x, W = numpy.ascontiguousarray(x), numpy.ascontiguousarray(W)
    out_h, out_w, n_rows, size = _geometry(x.shape, W.shape, stride_h, stride_w, pad_h, pad_w)
    n_examples, n_out = x.shape[0], W.shape[0]
    W2 = W.reshape((n_out, n_rows))
    out = numpy.empty((n_examples, n_out, size), x.dtype)
    cols = numpy.empty((n_rows, size), x.dtype)
    for e in range(n_examples):
        im2col(x[e], cols, W.shape[2], W.shape[3], stride_h, stride_w, pad_h, pad_w, out_h, out_w)
        numpy.dot(W2, cols, out[e])
    return out.reshape((n_examples, n_out, out_h, out_w))


@njit(cache=True)
def conv_grad_filters(x, W, d_out, stride_h, stride_w, pad_h, pad_w):
    """dW `(n_out, n_in, filter_h, filter_w)` = the sum over examples of d_out[e] . cols[e]^T
    (W is read for its shape only)."""
    x = numpy.ascontiguousarray(x)
    out_h, out_w, n_rows, size = _geometry(x.shape, W.shape, stride_h, stride_w, pad_h, pad_w)
    n_examples, n_out = x.shape[0], W.shape[0]
    d_out = numpy.ascontiguousarray(d_out).reshape((n_examples, n_out, size))
    dW2 = numpy.zeros((n_out, n_rows), x.dtype)
    product = numpy.empty_like(dW2)
    total, added = dW2.reshape(dW2.size), product.reshape(product.size)
    cols = numpy.empty((n_rows, size), x.dtype)
    for e in range(n_examples):
        im2col(x[e], cols, W.shape[2], W.shape[3], stride_h, stride_w, pad_h, pad_w, out_h, out_w)
        numpy.dot(d_out[e], cols.T, product)
        for r in range(total.size):
            total[uint64(r)] += added[uint64(r)]
    return dW2.reshape(W.shape)


@njit(cache=True)
def conv_grad_input(x, W, d_out, stride_h, stride_w, pad_h, pad_w):
    """dx `(n_examples, n_in, height, width)`: col2im of W2^T . d_out[e] (x is read for
    its shape only)."""
    W = numpy.ascontiguousarray(W)
    out_h, out_w, n_rows, size = _geometry(x.shape, W.shape, stride_h, stride_w, pad_h, pad_w)
    n_examples, n_out = x.shape[0], W.shape[0]
    W2t = W.reshape((n_out, n_rows)).T
    d_out = numpy.ascontiguousarray(d_out).reshape((n_examples, n_out, size))
    dx = numpy.zeros(x.shape, W.dtype)
    cols = numpy.empty((n_rows, size), W.dtype)
    for e in range(n_examples):
        numpy.dot(W2t, d_out[e], cols)
        col2im(cols, dx[e], W.shape[2], W.shape[3], stride_h, stride_w, pad_h, pad_w, out_h, out_w)
    return dx
