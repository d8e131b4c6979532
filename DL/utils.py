"""Small helpers, and the names the original package's scripts import.

`from DL.utils import *` gives, as in the original: `load_data`, `flatten`,
`layers_params`, `onehot`, `datasets`, the losses (`nll_multiclass`, `pred_error`, ...), the
activations and the regularizers.
"""
import time

import numpy

from DL import datasets  # noqa: F401  (the original's scripts use `datasets` from here)
from DL.activations import activations, cappedrelu, linear, relu, sigmoid, softmax, tanh  # noqa: F401
from DL.backend import T, shared, floatX
from DL.losses import (mse, nll_binary, nll_multiclass, nll_multiclass_timeseries,  # noqa: F401
                       pred_binary, pred_error, pred_multiclass)
from DL.regularization import L1, L2_sqr, compute_L1, compute_L2_sqr, layers_L1, layers_L2_sqr  # noqa: F401
from DL.dropout import dropout  # noqa: F401
from DL.datasets.sequences import (dataset_pad_and_mask, datasetPadAndMask,  # noqa: F401
                                   pad_and_mask, padAndMask)


def flatten(nested):
    """The leaves of nested lists/tuples, in order: `flatten(mlp.params)`."""
    leaves = []
    for item in nested:
        if isinstance(item, (list, tuple)):
            leaves.extend(flatten(item))
        else:
            leaves.append(item)
    return leaves


def onehot(value, length):
    """A list of `length` zeros with a one at `value`."""
    if not 0 <= value < length:
        raise ValueError("onehot: value %r is outside 0 .. %d" % (value, length - 1))
    vector = [0] * length
    vector[value] = 1
    return vector


def onehot_array(ids, length):
    """One-hot rows (float32) for an integer array of any shape: shape + (length,)."""
    ids = numpy.asarray(ids, dtype="int64")
    if ids.size and (ids.min() < 0 or ids.max() >= length):
        raise ValueError("onehot_array: ids must be in 0 .. %d, got %d .. %d"
                         % (length - 1, ids.min(), ids.max()))
    return numpy.eye(length, dtype=floatX)[ids]


def _as_array(values, where):
    try:
        array = numpy.asarray(values, dtype=floatX)
    except (ValueError, TypeError):
        raise ValueError("%s is ragged or not numeric; pad sequences first "
                         "(DL.datasets.dataset_pad_and_mask)" % where) from None
    if array.ndim == 0:
        raise ValueError("%s is a scalar; each set holds arrays with examples on axis 0" % where)
    return array


def _target_dtype(output):
    """`output=` of load_data as a NumPy dtype name, or a clear error."""
    try:
        dtype = numpy.dtype(output)
    except TypeError:
        dtype = None
    if dtype is None or dtype.kind not in "iuf":
        raise ValueError("load_data: output= names the targets' dtype, e.g. 'int32' (class "
                         "ids) or 'float32'; got %r" % (output,))
    return dtype.name


def load_data(dataset, output=None):
    """Move `[train, valid, test]` to shared variables, in floatX.

    Each set is a list of arrays (inputs, targets, masks...) whose first axis
    counts examples.  Data moves to the device once; the optimizers slice
    minibatches out of it and cast each slice to its input's dtype.

    `output=` (the original package's argument) is the dtype the last array of
    each set, the targets, is read as: they are stored in floatX like the rest,
    and with `output="int32"` each set holds `T.cast(targets, "int32")` instead,
    so class ids come back as integers; `output="float32"` (or floatX) keeps them
    as they are.  (The original cast to int32 when `output` was not given; its
    later versions and DL leave that to the input variable: `T.ivector` or
    `t.astype("int32")`.)"""
    if not isinstance(dataset, (list, tuple)) or len(dataset) != 3:
        raise ValueError("dataset must be [train, valid, test], got %s"
                         % (type(dataset).__name__ if not isinstance(dataset, (list, tuple))
                            else "%d sets" % len(dataset)))
    target_dtype = None if output is None else _target_dtype(output)
    names = ("train", "valid", "test")
    moved = []
    for name, data_set in zip(names, dataset):
        arrays = [_as_array(values, "%s set, element %d" % (name, i)) for i, values in enumerate(data_set)]
        lengths = set(len(array) for array in arrays)
        if len(lengths) > 1:
            raise ValueError("the %s set's arrays differ in length (%s); each needs one row per example"
                             % (name, ", ".join(str(len(a)) for a in arrays)))
        on_device = [shared(array, borrow=True) for array in arrays]
        if target_dtype is not None and on_device and target_dtype != on_device[-1].dtype:
            on_device[-1] = T.cast(on_device[-1], target_dtype)
        moved.append(on_device)
    return moved


def layers_params(layers):
    """`[layer.params for layer in layers]`: the nested params of a list of layers
    (the original package's helper; `flatten` gives the flat list)."""
    return [layer.params for layer in layers]


def fmt(x):
    return "{:12.8f}".format(x)


def startTimer(name):
    """Start a timer; the returned function prints and returns the seconds since."""
    start = time.time()

    def stop():
        seconds = time.time() - start
        print("  %s took %0.3f s" % (name, seconds))
        return seconds
    return stop


def maybe(func, otherwise=None):
    try:
        return func()
    except (IndexError, KeyError, TypeError):
        return otherwise
