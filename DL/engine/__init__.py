"""DL's engine internals, apart from the modules users import.

    backend.py        engine selection (PyTensor or legacy Theano); DL.backend re-exports it
    theano_view/      Theano 1.0's module tree over the engine (`theano`, `T`): DL's names
                      where DL has one (nnet, bn, rng_mrg, conv2d, ...), the engine's otherwise
    mode.py           the mode DL compiles with: the user's, plus rewrites to DL's own Ops
    numba_linker.py   DL's Numba code compiled with IEEE arithmetic (no fast-math): a cold
                      first run computes the bits a warm later run does
    numba_kernels.py  DL's Ops for PyTensor's Numba engine (tanh, dimension shuffles, sums)
                      and the scalar functions of DL's Numba code
    c_blas.py         DL's functions in PyTensor's C mode linked to the OpenBLAS SciPy ships
    recurrence_op.py  what the fused recurrences' Ops share: their gradient Op, Numba and JAX code
    numba_recurrence.py  what their Numba kernels share: gate functions, compiling and caching
    lstm_op.py        the fused LSTM recurrence as one Op (its JAX forward pass)
    numba_lstm.py     that Op's Numba kernels
    gru_op.py         the fused GRU recurrence as one Op (its JAX forward pass)
    numba_gru.py      that Op's Numba kernels
    conv.py           Theano's conv2d and pool_2d: DL's Ops on PyTensor, Theano's own on Theano
    conv_op.py        2-D convolution and its two gradients as Ops (Numba, JAX, NumPy code)
    numba_conv.py     their Numba kernels: im2col + BLAS, col2im
    pool_op.py        2-D max, sum and average pooling and its gradient as Ops
    numba_pool.py     their Numba kernels
    allocator.py      glibc keeps a training loop's freed arrays, while DL trains (per block)
    graph_cache.py    rewritten graphs kept on disk, so a known graph skips PyTensor's rewrites
    shape_op.py       UnfixOnes: an identity leaving sizes of 1 unknown, so that a loop over one
                      example traces on JAX
    denormals.py      denormal floats flushed to zero while DL trains (the CPU's MXCSR, per block)

Nothing here changes anything outside DL's own graphs unless asked: see
DL.md, section 7.
"""
import os

OFF = ("0", "false", "no", "off")
ON = ("1", "true", "yes", "on")


def switched_off(variable):
    """True when the environment variable `variable` says 0, false, no or off (any case)."""
    return os.environ.get(variable, "").strip().lower() in OFF


def switched_on(variable):
    """True when the environment variable `variable` says 1, true, yes or on (any case)."""
    return os.environ.get(variable, "").strip().lower() in ON
