"""RMSprop, the original package's rule: Graves' form (2013, eq. 38-41).

    n <- rho n + (1 - rho) g^2;  a <- rho a + (1 - rho) g
    d <- momentum d - lr g / sqrt(n - a^2 + eps);  p <- p + d

The defaults are the original package's constants.  `rmsprop_tieleman` is the
form of Tieleman and Hinton (2012), r <- rho r + (1 - rho) g^2,
p <- p - lr g / sqrt(r + eps); `rmsprop_graves` is another name for `rmsprop`.
"""
from DL.optimizers.training import optimize


def rmsprop(learning_rate=1e-4, rho=0.95, momentum=0.9, epsilon=1e-4, **kwargs):
    """optimize(..., optimizer='rmsprop'); see DL.optimizers.training.optimize."""
    return optimize(optimizer="rmsprop", learning_rate=learning_rate, rho=rho,
                    momentum=momentum, epsilon=epsilon, **kwargs)


rmsprop_graves = rmsprop


def rmsprop_tieleman(learning_rate=0.001, rho=0.9, epsilon=1e-6, **kwargs):
    """optimize(..., optimizer='rmsprop_tieleman'); see DL.optimizers.training.optimize."""
    return optimize(optimizer="rmsprop_tieleman", learning_rate=learning_rate, rho=rho,
                    epsilon=epsilon, **kwargs)
