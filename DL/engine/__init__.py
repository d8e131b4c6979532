"""DL's engine internals, apart from the modules users import.

    backend.py        engine selection (PyTensor or legacy Theano); DL.backend re-exports it
    mode.py           the mode DL compiles with: the user's, plus rewrites to DL's own Ops
    numba_kernels.py  DL's Ops for PyTensor's Numba engine (tanh, dimension shuffles)
                      and the scalar functions of DL's Numba code
    lstm_op.py        the fused LSTM recurrence as one Op, with its Numba and JAX code
    numba_lstm.py     that Op's Numba kernels
    allocator.py      glibc malloc settings for training loops: an explicit opt-in
    graph_cache.py    rewritten graphs kept on disk, so a known graph skips PyTensor's rewrites
    denormals.py      denormal floats flushed to zero while DL trains (the CPU's MXCSR, per block)

Nothing here changes anything outside DL's own graphs unless asked: see
DL.md, section 7.
"""
import os

OFF = ("0", "false", "no", "off")


def switched_off(variable):
    """True when the environment variable `variable` says 0, false, no or off (any case)."""
    return os.environ.get(variable, "").strip().lower() in OFF
