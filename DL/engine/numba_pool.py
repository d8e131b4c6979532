"""The pooling Ops (`DL.engine.pool_op`) compiled with Numba: one loop over the windows.

`x (..., height, width)` is seen as planes `(n_planes, height, width)`, flat; each
output pixel reduces one window of its plane, the padding (never real zeros)
left out, so that max pooling never sees a padded zero.  `mode` is one of the
constants below, `ignore_border` 0 or 1.  A window is rows
[y stride_h - pad_h, y stride_h - pad_h + window_h) (and so for columns); its
divisor is 1 (sum), the pixels of the image it holds (average_exc_pad) or the
pixels of the padded image it holds (average_inc_pad: the whole window, but in
a partial window at the edge when ignore_border=False, as Theano's).

The gradient of max pooling goes to one input per window: the first maximum in
row-major order within it (strictly greater replaces), as PyTorch's.
"""
import numpy
from numba import uint64

from DL.engine.numba_linker import njit

MAX, SUM, AVERAGE_INC_PAD, AVERAGE_EXC_PAD = 0, 1, 2, 3


@njit(cache=True)
def _pooled_size(size, window, stride, pad, ignore_border):
    """The output's height (or width), as Theano's Pool.out_shape."""
    padded = size + 2 * pad
    if ignore_border:
        n = (padded - window) // stride + 1
    elif stride >= window:
        n = (padded - 1) // stride + 1
    else:
        n = max(0, (padded - 1 - window + stride) // stride) + 1
    if n <= 0:
        raise ValueError("pool_2d: the window is larger than the padded image")
    return n


@njit(cache=True)
def _window(position, stride, pad, window, size):
    """(first, end) of a window's pixels inside the image, and its length inside the padded image."""
    start = position * stride - pad
    end = start + window
    return max(start, 0), min(end, size), min(end, size + pad) - start


@njit(cache=True)
def _planes(x, window_h, window_w, stride_h, stride_w, pad_h, pad_w, ignore_border):
    """x as one flat C-ordered array of planes `(n_planes, height, width)`, the number of
    planes, and the output's height and width."""
    height, width = x.shape[-2], x.shape[-1]
    pixels = numpy.ascontiguousarray(x).reshape(x.size)
    return (pixels, x.size // (height * width), _pooled_size(height, window_h, stride_h, pad_h, ignore_border),
            _pooled_size(width, window_w, stride_w, pad_w, ignore_border))


# The loops index flat arrays with unsigned integers: Numba then needs no check for
# negative indices (as in DL.engine.numba_conv), which made the max pool gradient 5x faster.

@njit(cache=True)
def pool_forward(x, window_h, window_w, stride_h, stride_w, pad_h, pad_w, ignore_border, mode):
    """out `(..., out_h, out_w)`: each window's max, sum or average."""
    pixels, n_planes, out_h, out_w = _planes(x, window_h, window_w, stride_h, stride_w, pad_h, pad_w,
                                             ignore_border)
    height, width = x.shape[-2], x.shape[-1]
    out = numpy.empty(n_planes * out_h * out_w, x.dtype)
    for p in range(n_planes):
        for y in range(out_h):
            y0, y1, padded_h = _window(y, stride_h, pad_h, window_h, height)
            for column in range(out_w):
                x0, x1, padded_w = _window(column, stride_w, pad_w, window_w, width)
                first = (p * height + y0) * width + x0
                total = pixels[uint64(first)]
                if mode == MAX:
                    for i in range(y1 - y0):
                        for j in range(x1 - x0):
                            total = max(total, pixels[uint64(first + i * width + j)])
                else:
                    total = total * 0
                    for i in range(y1 - y0):
                        for j in range(x1 - x0):
                            total += pixels[uint64(first + i * width + j)]
                    if mode == AVERAGE_INC_PAD:
                        total /= padded_h * padded_w
                    elif mode == AVERAGE_EXC_PAD:
                        total /= (y1 - y0) * (x1 - x0)
                out[uint64((p * out_h + y) * out_w + column)] = total
    return out.reshape(x.shape[:-2] + (out_h, out_w))


@njit(cache=True)
def pool_grad(x, d_out, window_h, window_w, stride_h, stride_w, pad_h, pad_w, ignore_border, mode):
    """dx `(..., height, width)`: each window's d_out to its first maximum (max), or spread
    over its pixels by the divisor of the forward pass."""
    pixels, n_planes, out_h, out_w = _planes(x, window_h, window_w, stride_h, stride_w, pad_h, pad_w,
                                             ignore_border)
    height, width = x.shape[-2], x.shape[-1]
    d_out = numpy.ascontiguousarray(d_out).reshape(d_out.size)
    dx = numpy.zeros(x.size, x.dtype)
    for p in range(n_planes):
        for y in range(out_h):
            y0, y1, padded_h = _window(y, stride_h, pad_h, window_h, height)
            for column in range(out_w):
                x0, x1, padded_w = _window(column, stride_w, pad_w, window_w, width)
                first = (p * height + y0) * width + x0
                g = d_out[uint64((p * out_h + y) * out_w + column)]
                if mode == MAX:  # (selects, not branches: random data mispredicts them)
                    best, best_value = first, pixels[uint64(first)]
                    for i in range(y1 - y0):
                        for j in range(x1 - x0):
                            at = first + i * width + j
                            value = pixels[uint64(at)]
                            better = value > best_value
                            best = at if better else best
                            best_value = value if better else best_value
                    dx[uint64(best)] += g
                    continue
                if mode == AVERAGE_INC_PAD:
                    g /= padded_h * padded_w
                elif mode == AVERAGE_EXC_PAD:
                    g /= (y1 - y0) * (x1 - x0)
                for i in range(y1 - y0):
                    for j in range(x1 - x0):
                        dx[uint64(first + i * width + j)] += g
    return dx.reshape(x.shape)
