"""RMSprop (Tieleman and Hinton 2012); `rmsprop_graves` is the original package's form."""
from DL.optimizers.training import optimize


def rmsprop(learning_rate=0.001, rho=0.9, epsilon=1e-6, **kwargs):
    """optimize(..., optimizer='rmsprop'); see DL.optimizers.training.optimize."""
    return optimize(optimizer="rmsprop", learning_rate=learning_rate, rho=rho, epsilon=epsilon, **kwargs)


def rmsprop_graves(learning_rate=1e-4, rho=0.95, momentum=0.9, epsilon=1e-4, **kwargs):
    """optimize(..., optimizer='rmsprop_graves'); see DL.optimizers.training.optimize."""
    return optimize(optimizer="rmsprop_graves", learning_rate=learning_rate, rho=rho,
                    momentum=momentum, epsilon=epsilon, **kwargs)
