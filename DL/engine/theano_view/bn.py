"""`theano.tensor.nnet.bn` on PyTensor: batch normalization with Theano 1.0's
signatures and meanings (Ioffe & Szegedy 2015), as plain symbolic code.

    out = (x - mean) * gamma / sqrt(var + epsilon) + beta

Training normalizes by the minibatch's own mean and (biased) variance over
`axes` and can return running averages to update; inference uses given ones.
`axes`: 'per-activation' = (0,), one mean per unit of `(n_examples, n_units)`
or per position of `(n_examples, n_channels, height, width)`; 'spatial' =
(0, 2, 3, ...), one mean per channel; or a tuple.  gamma, beta and the running
statistics either have x's number of dimensions (size 1 on `axes`) or only the
other axes, e.g. `(n_channels,)` for 'spatial' on images.
"""
import numpy
import pytensor.tensor as pt
from pytensor import config


def _normalization_axes(axes, ndim):
    """(axes normalized over, the other axes), as Theano parsed them."""
    if isinstance(axes, str) and axes == "per-activation":
        axes = (0,)
    elif isinstance(axes, str) and axes == "spatial":
        axes = (0,) + tuple(range(2, ndim))
    elif isinstance(axes, (tuple, list, numpy.ndarray)):
        axes = tuple(sorted(int(a) for a in axes))
    else:
        raise ValueError("axes must be 'per-activation', 'spatial' or a tuple of ints, got %r" % (axes,))
    if not axes:
        raise ValueError("there should be at least one normalization axis")
    if min(axes) < 0 or max(axes) >= ndim:
        raise ValueError("axes should be less than ndim (<%d), but %s given" % (ndim, axes))
    return axes, tuple(i for i in range(ndim) if i not in axes)


def _check_epsilon(epsilon):
    # Theano's floor (cuDNN's), checked after the cast as Theano did: float32(1e-5) < 1e-5
    if numpy.asarray(epsilon, dtype=config.floatX) < 1e-5:
        raise ValueError("epsilon must be at least 1e-5, got %s" % epsilon)


def _as_inputs_layout(names_and_params, ndim, axes, kept_axes):
    """Each parameter with x's number of dimensions, broadcastable on `axes`."""
    laid_out = []
    for name, param in names_and_params:
        param = pt.as_tensor_variable(param)
        if param.ndim == len(kept_axes) and param.ndim != ndim:
            pattern = ["x"] * ndim
            for i, axis in enumerate(kept_axes):
                pattern[axis] = i
            param = param.dimshuffle(pattern)
        elif param.ndim == ndim:
            param = pt.specify_broadcastable(param, *axes)
        else:
            raise ValueError("%s must have %d dimensions (the non-normalized axes) or %d (as the inputs), "
                             "got %d" % (name, len(kept_axes), ndim, param.ndim))
        laid_out.append(param)
    return laid_out


def _in_params_layout(variable, ndim, kept_axes, params_ndim):
    """`variable` (keepdims over `axes`) back in the parameters' layout."""
    return variable.dimshuffle(kept_axes) if params_ndim != ndim else variable


def batch_normalization(inputs, gamma, beta, mean, std, mode="low_mem"):
    """(inputs - mean) * (gamma / std) + beta, every argument broadcastable against
    `inputs`; `mode` ('low_mem' or 'high_mem') chose Theano's implementation,
    which computes the same numbers."""
    if mode not in ("low_mem", "high_mem"):
        raise ValueError('mode must be either "low_mem", "high_mem"')
    return (inputs - mean) * (gamma / std) + beta


def batch_normalization_train(inputs, gamma, beta, axes="per-activation", epsilon=1e-4,
                              running_average_factor=0.1, running_mean=None, running_var=None):
    """The minibatch normalized by its own statistics over `axes`.

    Returns (out, mean, invstd), invstd = 1 / sqrt(var + epsilon); with
    running_mean and running_var also (new_running_mean, new_running_var):
    running * (1 - factor) + statistic * factor, the variance unbiased by
    m / (m - 1), m the number of values averaged.  mean, invstd and the running
    statistics come back in gamma's layout."""
    inputs = pt.as_tensor_variable(inputs)
    ndim = inputs.ndim
    axes, kept_axes = _normalization_axes(axes, ndim)
    _check_epsilon(epsilon)
    if (running_mean is None) != (running_var is None):
        raise ValueError("running_mean and running_var must either both be given or both be None")
    params_ndim = pt.as_tensor_variable(gamma).ndim
    gamma, beta = _as_inputs_layout([("gamma", gamma), ("beta", beta)], ndim, axes, kept_axes)
    mean = inputs.mean(axes, keepdims=True)
    var = inputs.var(axes, keepdims=True)
    invstd = 1.0 / pt.sqrt(var + numpy.asarray(epsilon, dtype=var.dtype))
    out = (inputs - mean) * (gamma * invstd) + beta
    results = [out, mean, invstd]
    if running_mean is not None:
        running_mean, running_var = _as_inputs_layout(
            [("running_mean", running_mean), ("running_var", running_var)], ndim, axes, kept_axes)
        factor = running_average_factor
        m = pt.cast(pt.prod([inputs.shape[axis] for axis in axes]), config.floatX)
        results.append(running_mean * (1.0 - factor) + mean * factor)
        results.append(running_var * (1.0 - factor) + (m / (m - 1)) * var * factor)
    return tuple([out] + [_in_params_layout(r, ndim, kept_axes, params_ndim) for r in results[1:]])


def batch_normalization_test(inputs, gamma, beta, mean, var, axes="per-activation", epsilon=1e-4):
    """The inputs normalized by given statistics (the running averages):
    (inputs - mean) * gamma / sqrt(var + epsilon) + beta."""
    inputs = pt.as_tensor_variable(inputs)
    ndim = inputs.ndim
    axes, kept_axes = _normalization_axes(axes, ndim)
    _check_epsilon(epsilon)
    gamma, beta, mean, var = _as_inputs_layout(
        [("gamma", gamma), ("beta", beta), ("mean", mean), ("var", var)], ndim, axes, kept_axes)
    return (inputs - mean) * (gamma / pt.sqrt(var + numpy.asarray(epsilon, dtype=var.dtype))) + beta


__all__ = ["batch_normalization", "batch_normalization_train", "batch_normalization_test"]
