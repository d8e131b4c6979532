"""`theano.tensor.nnet` on PyTensor: Theano 1.0's functions with Theano's meanings.

PyTensor has no `nnet` module: some of these moved (`sigmoid`, `softplus` to the
tensor module, `softmax` to `special` with an axis), the others are gone.  Each
one here computes what Theano 1.0's did, from the same formula; where Theano's
was an Op with its own gradient (sigmoid_binary_crossentropy), the gradient is
Theano's too.  Convolution (`conv2d`) is DL's, in DL.engine.conv, and batch
normalization (`bn`) is in DL.engine.theano_view.bn; the view wires both in.

Shapes: `x` is any tensor for the elementwise functions; softmax and the
categorical cross-entropies work on rows, `(n_examples, n_classes)`, as in Theano.
"""
import numpy
import pytensor.tensor as pt

sigmoid = pt.sigmoid      # 1 / (1 + exp(-x))
softplus = pt.softplus    # log(1 + exp(x))


def ultra_fast_sigmoid(x):
    """Theano's piecewise approximation of sigmoid (within 0.03 of it):
    0.5 (1 + z(x / 2)), z an approximation of tanh that is odd and, for u >= 0,
    1.5 u / (1 + u) below 1.7, linear up to 3, then 0.99505475368673."""
    x = pt.as_tensor_variable(x)
    dtype = x.dtype if x.dtype.startswith("float") else "float64"

    def constant(value):  # in x's precision, as Theano's C code compared x's own floats
        return numpy.asarray(value, dtype=dtype)

    half = constant(0.5) * x
    u = abs(half)
    z = pt.switch(u < constant(1.7), constant(1.5) * u / (1 + u),
                  pt.switch(u < constant(3), constant(0.935409070603099) + constant(0.0458812946797165) * (
                      u - constant(1.7)), constant(0.99505475368673)))
    return constant(0.5) * (pt.sign(half) * z + 1)


def hard_sigmoid(x):
    """clip(0.2 x + 0.5, 0, 1): Theano's cheaper approximation of sigmoid."""
    x = pt.as_tensor_variable(x)
    dtype = x.dtype if x.dtype.startswith("float") else "float64"
    return pt.clip(x * numpy.asarray(0.2, dtype) + numpy.asarray(0.5, dtype), 0, 1)


def softsign(x):
    """x / (1 + |x|)."""
    return x / (1.0 + abs(x))


def relu(x, alpha=0):
    """max(x, alpha x), written as Theano wrote it: 0.5 (x + |x|) when alpha is 0,
    else (1 + alpha) / 2 x + (1 - alpha) / 2 |x| (so its gradient at 0 is Theano's)."""
    if isinstance(alpha, (int, float)) and alpha == 0:
        return 0.5 * (x + abs(x))
    alpha = pt.as_tensor_variable(alpha)
    return 0.5 * (1 + alpha) * x + 0.5 * (1 - alpha) * abs(x)


def elu(x, alpha=1):
    """x where x > 0, else alpha (exp(x) - 1)  (Clevert et al. 2015)."""
    return pt.switch(x > 0, x, alpha * pt.expm1(x))


def selu(x):
    """scale * elu(x, alpha) with the self-normalizing constants (Klambauer et al. 2017)."""
    alpha = 1.6732632423543772848170429916717
    scale = 1.0507009873554804934193349852946
    return scale * elu(x, alpha)


def _rows(x, name):
    """`x` as Theano's row-wise Ops took it: a matrix, or a vector as a single row."""
    x = pt.as_tensor_variable(x)
    if x.ndim == 1:
        return pt.shape_padleft(x)  # Theano 1.0 padded a vector to (1, n)
    if x.ndim != 2:
        raise ValueError("T.nnet.%s works on rows: x must be 1-d or 2-d, got %d-d; for the last axis "
                         "of any tensor use DL.backend.%s" % (name, x.ndim, name.replace("logsoftmax",
                                                                                         "log_softmax")))
    return x


def softmax(x):
    """exp(x_ij) / sum_k exp(x_ik), over each row of x `(n_examples, n_classes)`."""
    return pt.special.softmax(_rows(x, "softmax"), axis=-1)


def logsoftmax(x):
    """log softmax(x), over each row, computed stably."""
    return pt.special.log_softmax(_rows(x, "logsoftmax"), axis=-1)


log_softmax = logsoftmax  # the name PyTensor (and DL before this view) used


def binary_crossentropy(output, target):
    """-(t log(o) + (1 - t) log(1 - o)), elementwise (not summed); 0 < o < 1."""
    return -(target * pt.log(output) + (1.0 - target) * pt.log(1.0 - output))


def sigmoid_binary_crossentropy(output, target):
    """binary_crossentropy(sigmoid(output), target) from the logits `output`:
    softplus(o) - o t, the same numbers as Theano's softplus(-|o|) + o ((o > 0) - t),
    stable for any o, with Theano's gradient sigmoid(o) - t everywhere (o = 0 too,
    where the gradient of Theano's formula would not be; Theano overrode it)."""
    return pt.softplus(output) - output * target


def crossentropy_categorical_1hot(coding_dist, true_one_of_n):
    """-log(coding_dist[i, t_i]) for each row i: coding_dist `(n_examples, n_classes)`,
    true_one_of_n `(n_examples,)` integer class indices."""
    coding_dist = pt.as_tensor_variable(coding_dist)
    true_one_of_n = pt.as_tensor_variable(true_one_of_n)
    if coding_dist.ndim != 2:
        raise TypeError("crossentropy_categorical_1hot: coding_dist must be a matrix "
                        "(n_examples, n_classes), got %d-d" % coding_dist.ndim)
    if true_one_of_n.ndim != 1 or not true_one_of_n.dtype.startswith(("int", "uint")):
        raise TypeError("crossentropy_categorical_1hot: true_one_of_n must be an integer vector of "
                        "class indices, got %s" % true_one_of_n.type)
    return -pt.log(coding_dist[pt.arange(true_one_of_n.shape[0]), true_one_of_n])


def categorical_crossentropy(coding_dist, true_dist):
    """-sum_j p_ij log(q_ij) over each row, q = coding_dist: true_dist is either
    distributions of the same shape, or one integer class index per row (1-hot)."""
    coding_dist, true_dist = pt.as_tensor_variable(coding_dist), pt.as_tensor_variable(true_dist)
    if true_dist.ndim == coding_dist.ndim:
        return -pt.sum(true_dist * pt.log(coding_dist), axis=coding_dist.ndim - 1)
    if true_dist.ndim == coding_dist.ndim - 1:
        return crossentropy_categorical_1hot(coding_dist, true_dist)
    raise TypeError("categorical_crossentropy: rank mismatch between coding (%d-d) and true "
                    "distributions (%d-d); pass distributions of the same rank or one class index "
                    "per row" % (coding_dist.ndim, true_dist.ndim))


def h_softmax(x, batch_size, n_outputs, n_classes, n_outputs_per_class, W1, b1, W2, b2, target=None):
    """Two-level hierarchical softmax (Goodman 2001), as Theano's.

    x `(batch_size, n_features)`; W1 `(n_features, n_classes)`, b1 `(n_classes,)`;
    W2 `(n_classes, n_features, n_outputs_per_class)`, b2 `(n_classes, n_outputs_per_class)`.
    p(output o) = p(class c(o) | x) p(o | c(o), x), output o in class o // n_outputs_per_class.
    Without `target`: `(batch_size, n_outputs)`, every output's probability; with
    `target` `(batch_size,)` (or `(batch_size, 1)`): `(batch_size,)`, the targets' ones."""
    class_probs = softmax(pt.dot(x, W1) + b1)
    if target is None:
        activations = pt.tensordot(x, W2, (1, 1)) + b2        # (batch, n_classes, per_class)
        output_probs = softmax(activations.reshape((-1, n_outputs_per_class)))
        output_probs = output_probs.reshape((batch_size, n_classes, -1))
        output_probs = class_probs.dimshuffle(0, 1, "x") * output_probs
        return output_probs.reshape((batch_size, -1))[:, :n_outputs]
    target = target.flatten()
    target_classes = target // n_outputs_per_class
    target_outputs_in_class = target % n_outputs_per_class
    activations = pt.matmul(x[:, None, :], W2[target_classes])[:, 0, :] + b2[target_classes]  # (batch, per_class)
    rows = pt.arange(batch_size)
    return class_probs[rows, target_classes] * softmax(activations)[rows, target_outputs_in_class]


__all__ = ["sigmoid", "softplus", "ultra_fast_sigmoid", "hard_sigmoid", "softsign", "relu", "elu", "selu",
           "softmax", "logsoftmax", "log_softmax", "binary_crossentropy", "sigmoid_binary_crossentropy",
           "crossentropy_categorical_1hot", "categorical_crossentropy", "h_softmax"]
