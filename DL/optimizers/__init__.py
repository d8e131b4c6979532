"""The training front doors, and the parts they are made of.

    optimize(dataset=..., inputs=..., cost=..., params=..., errors=..., optimizer='rmsprop', **rule_options)
    sgd(...), rmsprop(...), adadelta(...), adam(...)   the same with the rule fixed

`rmsprop` is the original package's rule (Graves' form); the Tieleman-Hinton
form is `rmsprop_tieleman`.

Each is also importable from its own module (`from DL.optimizers.sgd import sgd`).
The parts, to write your own loop (DL.md, "Writing your own loop"):

    compile_functions   train(i), validate(), test()            DL.optimizers.compiling
    EarlyStopping       patience, increase, threshold, frequency DL.optimizers.early_stopping
    train_loop          epochs, validation, callbacks             DL.optimizers.loop
    Progress, KeepBest, Checkpointing, NonFiniteGuard             DL.optimizers.callbacks
    RunLog              the history as JSON lines / TensorBoard   DL.optimizers.records
    Metric              what the errors measure, in its unit      DL.optimizers.metrics
"""
from DL.optimizers.training import NonFiniteCostError, OptimizeResult, optimize  # noqa: F401
from DL.optimizers.compiling import NonFiniteStep, TrainingFunctions, compile_functions  # noqa: F401
from DL.optimizers.early_stopping import EarlyStopping  # noqa: F401
from DL.optimizers.loop import LoopState, train_loop  # noqa: F401
from DL.optimizers.callbacks import Callback, Checkpointing, KeepBest, NonFiniteGuard, Progress  # noqa: F401
from DL.optimizers.records import RunLog  # noqa: F401
from DL.optimizers.metrics import Metric  # noqa: F401
from DL.optimizers.sgd import sgd  # noqa: F401
from DL.optimizers.rmsprop import rmsprop, rmsprop_graves, rmsprop_tieleman  # noqa: F401
from DL.optimizers.adadelta import adadelta  # noqa: F401
from DL.optimizers.adam import adam  # noqa: F401

optimizers = {"sgd": sgd, "rmsprop": rmsprop, "rmsprop_graves": rmsprop_graves,
              "rmsprop_tieleman": rmsprop_tieleman, "adadelta": adadelta, "adam": adam}
