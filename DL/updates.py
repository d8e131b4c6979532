"""Update rules: pure functions `(params, grads, **hyper) -> [(shared, new_value), ...]`.

`params` is a flat list of shared variables; `grads` the matching list of
symbolic gradients (or a scalar loss, whose gradients are then taken).  The
returned pairs go to `theano.function(..., updates=...)`.  A rule's state
(velocities, running averages, step counters) lives in new shared variables,
initialized to zero, that appear in the returned list beside the params.

With g the gradient, lr the learning rate and all operations elementwise:

    sgd                p <- p - lr g
    momentum           v <- m v - lr g;  p <- p + v
    nesterov_momentum  v <- m v - lr g;  p <- p + m v - lr g
    rmsprop            n <- rho n + (1 - rho) g^2;  a <- rho a + (1 - rho) g;
                       d <- m d - lr g / sqrt(n - a^2 + eps);  p <- p + d
                       (Graves 2013, eq. 38-41: the original package's rmsprop, with
                       its constants as defaults: lr 1e-4, rho 0.95, m 0.9, eps 1e-4;
                       also named rmsprop_graves)
    rmsprop_tieleman   r <- rho r + (1 - rho) g^2;  p <- p - lr g / sqrt(r + eps)
                       (Tieleman and Hinton 2012, the form most libraries call RMSprop)
    adadelta           r <- rho r + (1 - rho) g^2;  u = g sqrt(s + eps) / sqrt(r + eps);
                       p <- p - lr u;  s <- rho s + (1 - rho) u^2      (Zeiler 2012)
    adam               m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;
                       p <- p - lr sqrt(1 - b2^t) / (1 - b1^t) m / (sqrt(v) + eps)
                       (Kingma and Ba 2015)
"""
import numbers

import numpy

from DL.backend import T, grad, shared, floatX


def _check(params, grads):
    params = list(params)
    if not params:
        raise ValueError("params is empty: pass the model's flat parameter list "
                         "(DL.utils.flatten(model.params))")
    for param in params:
        if not hasattr(param, "get_value"):
            raise TypeError("params must be shared variables, got %r" % (param,))
    if hasattr(grads, "ndim") and not isinstance(grads, (list, tuple)):
        if grads.ndim != 0:
            raise ValueError("a loss passed instead of gradients must be a scalar, got %d-D" % grads.ndim)
        grads = grad(grads, params)
    grads = list(grads)
    if len(grads) != len(params):
        raise ValueError("got %d gradients for %d params" % (len(grads), len(params)))
    return params, grads


def _symbolic(value):
    """A shared variable or expression (a schedule, say) is checked by its user."""
    return hasattr(value, "type") and hasattr(value, "owner")


def _number(name, value):
    """`value` if it is a real number (a bool is not), else a TypeError naming it."""
    if _symbolic(value):
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError("%s must be a number, got %r" % (name, value))
    return value


def _positive(name, value):
    if _symbolic(_number(name, value)):
        return value
    if not value > 0:
        raise ValueError("%s must be positive, got %r" % (name, value))
    return value


def _fraction(name, value):
    if _symbolic(_number(name, value)):
        return value
    if not 0 <= value < 1:
        raise ValueError("%s must be in [0, 1), got %r" % (name, value))
    return value


def _zeros_like(param, role):
    value = param.get_value(borrow=True)
    return shared(numpy.zeros(value.shape, dtype=value.dtype),
                  name="%s.%s" % (param.name or "param", role))


def _as(value, param):
    """Cast a result back to the param's dtype, so float32 stays float32."""
    return T.cast(value, param.dtype)


def sgd(params, grads, learning_rate=0.01):
    params, grads = _check(params, grads)
    _positive("learning_rate", learning_rate)
    return [(p, _as(p - learning_rate * g, p)) for p, g in zip(params, grads)]


def momentum(params, grads, learning_rate=0.01, momentum=0.9):
    params, grads = _check(params, grads)
    _positive("learning_rate", learning_rate)
    _fraction("momentum", momentum)
    updates = []
    for p, g in zip(params, grads):
        velocity = _zeros_like(p, "velocity")
        new_velocity = momentum * velocity - learning_rate * g
        updates += [(velocity, _as(new_velocity, p)), (p, _as(p + new_velocity, p))]
    return updates


def nesterov_momentum(params, grads, learning_rate=0.01, momentum=0.9):
    params, grads = _check(params, grads)
    _positive("learning_rate", learning_rate)
    _fraction("momentum", momentum)
    updates = []
    for p, g in zip(params, grads):
        velocity = _zeros_like(p, "velocity")
        new_velocity = momentum * velocity - learning_rate * g
        updates += [(velocity, _as(new_velocity, p)),
                    (p, _as(p + momentum * new_velocity - learning_rate * g, p))]
    return updates


def rmsprop_tieleman(params, grads, learning_rate=0.001, rho=0.9, epsilon=1e-6):
    params, grads = _check(params, grads)
    _positive("learning_rate", learning_rate)
    _fraction("rho", rho)
    _positive("epsilon", epsilon)
    updates = []
    for p, g in zip(params, grads):
        mean_square = _zeros_like(p, "mean_square")
        new_mean_square = rho * mean_square + (1 - rho) * g ** 2
        updates += [(mean_square, _as(new_mean_square, p)),
                    (p, _as(p - learning_rate * g / T.sqrt(new_mean_square + epsilon), p))]
    return updates


def rmsprop(params, grads, learning_rate=1e-4, rho=0.95, momentum=0.9, epsilon=1e-4):
    params, grads = _check(params, grads)
    _positive("learning_rate", learning_rate)
    _fraction("rho", rho)
    _fraction("momentum", momentum)
    _positive("epsilon", epsilon)
    updates = []
    for p, g in zip(params, grads):
        mean_grad = _zeros_like(p, "mean_grad")
        mean_square = _zeros_like(p, "mean_square")
        step = _zeros_like(p, "step")
        new_mean_grad = rho * mean_grad + (1 - rho) * g
        new_mean_square = rho * mean_square + (1 - rho) * g ** 2
        new_step = momentum * step - learning_rate * g / T.sqrt(
            new_mean_square - new_mean_grad ** 2 + epsilon)
        updates += [(mean_grad, _as(new_mean_grad, p)), (mean_square, _as(new_mean_square, p)),
                    (step, _as(new_step, p)), (p, _as(p + new_step, p))]
    return updates


rmsprop_graves = rmsprop  # the name DL gave the original's rule before it took back `rmsprop`


def adadelta(params, grads, learning_rate=1.0, rho=0.95, epsilon=1e-6):
    params, grads = _check(params, grads)
    _positive("learning_rate", learning_rate)
    _fraction("rho", rho)
    _positive("epsilon", epsilon)
    updates = []
    for p, g in zip(params, grads):
        mean_square = _zeros_like(p, "mean_square")
        mean_square_step = _zeros_like(p, "mean_square_step")
        new_mean_square = rho * mean_square + (1 - rho) * g ** 2
        step = g * T.sqrt(mean_square_step + epsilon) / T.sqrt(new_mean_square + epsilon)
        updates += [(mean_square, _as(new_mean_square, p)),
                    (p, _as(p - learning_rate * step, p)),
                    (mean_square_step, _as(rho * mean_square_step + (1 - rho) * step ** 2, p))]
    return updates


def adam(params, grads, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8):
    params, grads = _check(params, grads)
    _positive("learning_rate", learning_rate)
    _fraction("beta1", beta1)
    _fraction("beta2", beta2)
    _positive("epsilon", epsilon)
    # The step count and bias correction stay in float64: in float32,
    # 1 - 0.999 ** t is off by 1e-5 relative at t = 1.
    step_count = shared(numpy.asarray(0.0, dtype="float64"), name="adam.t")
    t = step_count + 1
    b1, b2 = (T.constant(numpy.asarray(b, dtype="float64")) for b in (beta1, beta2))
    corrected_rate = learning_rate * T.sqrt(1 - b2 ** t) / (1 - b1 ** t)
    updates = [(step_count, _as(t, step_count))]
    for p, g in zip(params, grads):
        first_moment = _zeros_like(p, "first_moment")
        second_moment = _zeros_like(p, "second_moment")
        new_first = beta1 * first_moment + (1 - beta1) * g
        new_second = beta2 * second_moment + (1 - beta2) * g ** 2
        updates += [(first_moment, _as(new_first, p)), (second_moment, _as(new_second, p)),
                    (p, _as(p - T.cast(corrected_rate, p.dtype) * new_first / (T.sqrt(new_second) + epsilon), p))]
    return updates


def total_norm_constraint(grads, max_norm):
    """Scale all gradients together so their joint L2 norm is at most `max_norm`.

    scale = max_norm / max(norm, max_norm): exactly 1 when the norm is within
    the bound, so the clipped norm is min(norm, max_norm) up to rounding.  No
    epsilon is needed (max_norm > 0 keeps the divisor positive), and none
    shrinks small gradients or leaves the clipped norm short of the bound."""
    _positive("max_grad_norm", max_norm)
    norm = T.sqrt(sum(T.sum(g ** 2) for g in grads))
    scale = max_norm / T.maximum(norm, max_norm)
    return [g * T.cast(scale, g.dtype) for g in grads]


def exponential_decay(learning_rate, decay, steps_per_epoch):
    """A learning-rate schedule: learning_rate * decay ** (steps / steps_per_epoch).

    Returns (rate, updates): `rate` is a symbolic scalar to pass as a rule's
    learning_rate, and `updates` advances its step counter (a new shared
    variable) by one; add them to the training function's updates, e.g.
    optimize(..., updates=model.updates + updates, learning_rate=rate).
    The rate decays smoothly, by a factor `decay` over each epoch."""
    _positive("learning_rate", learning_rate)
    if not (isinstance(_number("decay", decay), numbers.Real) and 0 < decay <= 1):
        raise ValueError("decay must be in (0, 1] (1: a constant rate), got %r" % (decay,))
    if not (isinstance(steps_per_epoch, numbers.Integral) and steps_per_epoch > 0):
        raise ValueError("steps_per_epoch must be a positive integer, got %r" % (steps_per_epoch,))
    steps = shared(numpy.array(0.0, dtype=floatX), name="learning_rate_steps")
    rate = T.cast(learning_rate * decay ** (steps / steps_per_epoch), floatX)
    return rate, [(steps, steps + 1)]


rules = {
    "sgd": sgd,
    "momentum": momentum,
    "nesterov_momentum": nesterov_momentum,
    "rmsprop": rmsprop,
    "rmsprop_graves": rmsprop_graves,
    "rmsprop_tieleman": rmsprop_tieleman,
    "adadelta": adadelta,
    "adam": adam,
}


def get(name):
    try:
        return rules[name]
    except (KeyError, TypeError):
        raise ValueError("unknown optimizer %r; valid ones are: %s"
                         % (name, ", ".join(sorted(rules)))) from None
