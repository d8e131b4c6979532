"""The training front doors.

    optimize(dataset=..., inputs=..., cost=..., params=..., errors=..., optimizer='rmsprop', **rule_options)
    sgd(...), rmsprop(...), adadelta(...), adam(...)   the same with the rule fixed

`rmsprop` is the original package's rule (Graves' form); the Tieleman-Hinton
form is `rmsprop_tieleman`.

Each is also importable from its own module (`from DL.optimizers.sgd import sgd`).
"""
from DL.optimizers.training import NonFiniteCostError, OptimizeResult, optimize  # noqa: F401
from DL.optimizers.sgd import sgd  # noqa: F401
from DL.optimizers.rmsprop import rmsprop, rmsprop_graves, rmsprop_tieleman  # noqa: F401
from DL.optimizers.adadelta import adadelta  # noqa: F401
from DL.optimizers.adam import adam  # noqa: F401

optimizers = {"sgd": sgd, "rmsprop": rmsprop, "rmsprop_graves": rmsprop_graves,
              "rmsprop_tieleman": rmsprop_tieleman, "adadelta": adadelta, "adam": adam}
