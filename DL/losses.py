"""Losses, predictions and errors, as plain functions of symbolic tensors.

Shapes: `output` is `(n_examples, n_out)` or `(n_examples, n_timesteps, n_out)`;
multiclass `targets` drop the last axis and hold class ids; binary and real
targets have the shape of `output`.  An optional float `mask`
`(n_examples, n_timesteps)` (1 = a real step, 0 = padding) restricts every
mean to the valid steps.

    mse             mean (y - t)^2
    nll_binary      -mean [t log y + (1 - t) log(1 - y)]
    nll_multiclass  -mean log y[t]
    pred_binary     round(y)
    pred_multiclass argmax y over the last axis
    pred_error      mean [pred != t]

The negative log likelihoods are computed from the logits when `output` is a
softmax or sigmoid in the graph: log-softmax and softplus stay finite where a
saturated probability would give log(0).
"""
from DL.backend import T, floatX, log_softmax, logits_of_softmax, logits_of_sigmoid

# Probabilities that did not come from a softmax/sigmoid node are clipped
# this far from 0 and 1 before the log.
_EPSILON = 1e-7


def _masked_mean(values, mask):
    """Mean of `values` over the positions `mask` marks valid.

    `values` has the mask's shape, or the mask's shape plus trailing axes
    (units of a step), which count as part of their step."""
    if mask is None:
        return T.mean(values)
    weights = T.cast(mask, floatX)
    while weights.ndim < values.ndim:
        weights = T.shape_padright(weights)
    weights = T.ones_like(values) * weights
    return T.sum(values * weights) / T.maximum(T.sum(weights), 1)


def _named(result, metric):
    """`result`, marked with the metric it is, so that optimize() shows it in its
    unit (DL.optimizers.metrics: an error rate in percent, an mse as a number)."""
    result.tag.metric = metric
    return result


def _check_mask(mask, targets):
    if mask is not None and mask.ndim != min(targets.ndim, 2) and mask.ndim != targets.ndim:
        raise ValueError("mask must be (n_examples, n_timesteps) to match the targets; "
                         "got a %d-D mask for %d-D targets" % (mask.ndim, targets.ndim))


def _check_same_rank(output, targets, loss):
    """Elementwise losses need targets shaped like the output: broadcasting a
    (n,) target against (n, 1) output would silently compare every pair."""
    if output.ndim != targets.ndim:
        raise ValueError("%s: targets must have the output's shape; got %d-D targets for %d-D "
                         "output (reshape the targets, e.g. y.reshape((-1, 1)) for one output "
                         "unit)" % (loss, targets.ndim, output.ndim))


def mse(output, targets, mask=None):
    """Mean squared error over every element (of the valid steps)."""
    _check_same_rank(output, targets, "mse")
    _check_mask(mask, targets)
    return _named(_masked_mean((output - targets) ** 2, mask), "mse")


def nll_binary(output, targets, mask=None):
    """Binary cross-entropy, averaged over every unit (of the valid steps)."""
    _check_same_rank(output, targets, "nll_binary")
    _check_mask(mask, targets)
    targets = T.cast(targets, floatX)
    logits = logits_of_sigmoid(output)
    if logits is not None:
        # -log sigmoid(a) = softplus(-a);  -log(1 - sigmoid(a)) = softplus(a)
        per_unit = targets * T.softplus(-logits) + (1 - targets) * T.softplus(logits)
    else:
        clipped = T.clip(output, _EPSILON, 1 - _EPSILON)
        per_unit = -(targets * T.log(clipped) + (1 - targets) * T.log(1 - clipped))
    return _masked_mean(per_unit, mask)


def log_probabilities(output):
    """log(output) over the last axis, from the logits where output is a softmax."""
    logits = logits_of_softmax(output)
    if logits is not None:
        return log_softmax(logits)
    return T.log(T.clip(output, _EPSILON, 1))


def nll_multiclass(output, targets, mask=None):
    """-mean log output[..., targets]; targets hold class ids (ints or whole floats)."""
    if targets.ndim != output.ndim - 1:
        raise TypeError("multiclass targets must have one axis fewer than the output "
                        "(class ids, not one-hot): output is %d-D, targets %d-D"
                        % (output.ndim, targets.ndim))
    _check_mask(mask, targets)
    log_p = log_probabilities(output)
    n_classes = log_p.shape[-1]
    flat_log_p = log_p.reshape((-1, n_classes))
    flat_targets = T.cast(targets, "int64").flatten()
    picked = flat_log_p[T.arange(flat_targets.shape[0]), flat_targets]
    if mask is None:
        return -T.mean(picked)
    return -_masked_mean(picked, T.cast(mask, floatX).flatten())


def nll_multiclass_timeseries(output, targets, mask=None):
    """nll_multiclass for `(n_examples, n_timesteps, n_out)` outputs, mask aware."""
    return nll_multiclass(output, targets, mask)


def pred_binary(output):
    return T.round(output)


def pred_multiclass(output):
    return T.argmax(output, axis=-1)


def pred_error(pred, targets, mask=None):
    """Fraction of predictions that differ from the targets (over valid steps)."""
    if targets.ndim != pred.ndim:
        raise TypeError("targets must have the same number of dimensions as pred: "
                        "pred is %s, targets %s" % (pred.type, targets.type))
    _check_mask(mask, targets)
    wrong = T.cast(T.neq(pred, targets), floatX)
    return _named(_masked_mean(wrong, mask), "error rate")
