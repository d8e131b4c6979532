"""DL's Numba code computes with IEEE arithmetic: the same bits in a script's first run as later.

PyTensor compiles its Numba code with five of LLVM's fast-math flags by default
(`config.numba__fastmath`: reassociation, reciprocals, contraction into FMAs,
approximate functions, no signed zeros).  They let LLVM compute an expression
differently depending on the code around it, and Numba puts a function's code in
two places: the function's own library, and a copy inlined into each graph that
calls it.  In the process that compiles a graph (a script's first, cold run) a
call resolves to the function's own library, compiled there first; a process
that loads the graph from the cache runs the copy.  With fast-math the two
compute different last bits: `(x * a) / b` with `a`, `b` broadcast over `x`
gives 1.2e-7 differences in 117 of 864 numbers between a cold process and a
warm one (the same in every warm one), and a small CNN's filter gradient, from
BatchNorm's backward pass, differs by up to 3.6e-7 of its largest entry.  A
training run killed in its first process and resumed in a second would then not
end where an uninterrupted run ends.

So DL compiles without fast-math: the functions DL compiles (`DLNumbaLinker`,
the linker of DL's Numba mode, DL.engine.mode) and DL's own kernels (`njit`).
Under IEEE rules LLVM may only make changes that keep every result, so both
copies of a function compute the same bits, and a cold run equals a warm one.

LLVM still vectorizes elementwise loops; what it gives up is reordering a sum
and fusing a multiply and an add by itself.  DL gives both back where they cost:
a float sum over every element (an L2 penalty, the non-finite guard) is DL's
OrderedSum, vectorized in an order its code fixes (`lane_sum`, which the fused
recurrences' backward kernels also use for the mask's gradient: a sum inside
their loop over a row kept LLVM from vectorizing it), and the float32 tanh and exp
of DL's graphs and fused gates (DL.engine.numba_kernels) write their polynomials
with explicit FMAs.  With those, an MLP's and an LSTM's steps take what they took
with fast-math (benchmarks/RESULTS.md).

`DL_FASTMATH=1` compiles DL's graphs with PyTensor's setting instead (then a cold
run may differ from later ones in the last bits).  PyTensor's setting itself is
never changed: the linker compiles inside `config.change_flags`, which gives the
setting back when it returns, and other code's functions compile as PyTensor does.
"""
from pytensor import config
from pytensor.link.numba.linker import NumbaLinker

from DL.engine import switched_on


def fast_math_chosen():
    """True when the user asked for PyTensor's fast-math setting in DL's graphs (DL_FASTMATH=1)."""
    return switched_on("DL_FASTMATH")


def njit(*args, **options):
    """PyTensor's `numba_njit`, without fast-math unless the caller asks: DL's kernels."""
    from pytensor.link.numba.dispatch.basic import numba_njit  # (imports Numba)
    options.setdefault("fastmath", False)
    return numba_njit(*args, **options)


class DLNumbaLinker(NumbaLinker):
    """PyTensor's Numba linker, compiling the graph (and every Op's code in it, PyTensor's
    and DL's) without fast-math (the module's docstring)."""

    def _setting(self):
        return config.change_flags(numba__fastmath=config.numba__fastmath and fast_math_chosen())

    def fgraph_convert(self, fgraph, **kwargs):
        with self._setting():
            return super().fgraph_convert(fgraph, **kwargs)

    def jit_compile(self, fn_and_cache):
        with self._setting():
            return super().jit_compile(fn_and_cache)
