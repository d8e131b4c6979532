"""Flush denormal numbers to zero while DL trains: `with flushed(): ...`.

A float32 smaller in magnitude than 1.2e-38 (2.2e-308 for float64) is
denormal: the CPU represents it with a smaller exponent than its format has,
and every instruction that reads or writes one takes a slow microcode path,
tens to hundreds of times slower than the same instruction on normal numbers.
Training produces them.  In a bidirectional LSTM reading 400-word IMDB reviews
the gradient carried backwards through time shrinks step by step until it
underflows; from epoch 2.4 on every training step ran at a quarter of its
speed (6.5 minibatches a second, then 1.6; examples/bilstm-imdb.py).

x86-64 CPUs can treat them as zero instead, with two bits of the SSE control
register MXCSR: FTZ (flush to zero: a denormal result is written as 0) and DAZ
(denormals are zero: a denormal input is read as 0).  This changes a result
only where a number below 1.2e-38 (float32) would have taken part, far below
anything a model's error can see; TensorFlow sets both bits for its CPU kernels.

MXCSR is per thread and belongs to the process, not to DL, so `flushed()` sets
the two bits only inside its block, in the calling thread, and puts the
register's control bits back as they were on the way out (exceptions too).
DL's training loop (DL.optimizers.train_loop, so `optimize`) runs inside it
unless given flush_denormals=False.  Code running in that thread within the
block (the loop's callbacks) sees the flushing too; nothing outside the block
does.  The worker threads of a multithreaded BLAS keep their own register (by
default; OpenBLAS built with CONSISTENT_FPCSR copies the caller's):
products they compute are not flushed (with OPENBLAS_NUM_THREADS=1, or below
OpenBLAS's threading size, the calling thread computes them and they are).

The register is read and written by two tiny functions of x86 machine code
built with llvmlite, which PyTensor's Numba engine already brings; without
llvmlite, or on another CPU architecture, `flushed()` changes nothing and
`available()` is False.
"""
import contextlib
import ctypes
import platform

FTZ, DAZ = 0x8000, 0x0040  # MXCSR bits: flush-to-zero (15), denormals-are-zero (6)
STATUS = 0x003F            # bits 0-5: the exception flags the CPU raises (and NumPy clears)

# Two functions: read the register into a stack slot and return it, and load it from one.
_IR = r"""
declare void @llvm.x86.sse.stmxcsr({pointer})
declare void @llvm.x86.sse.ldmxcsr({pointer})

define i32 @dl_get_mxcsr() {{
  %slot = alloca i32
  {cast_slot}
  call void @llvm.x86.sse.stmxcsr({pointer} %bytes)
  %value = load i32, {i32_pointer} %slot
  ret i32 %value
}}

define void @dl_set_mxcsr(i32 %value) {{
  %slot = alloca i32
  store i32 %value, {i32_pointer} %slot
  {cast_slot}
  call void @llvm.x86.sse.ldmxcsr({pointer} %bytes)
  ret void
}}
"""
# LLVM's pointers are opaque (`ptr`) from LLVM 15 on; earlier ones are typed.
_OPAQUE = dict(pointer="ptr", i32_pointer="ptr", cast_slot="%bytes = getelementptr i8, ptr %slot, i64 0")
_TYPED = dict(pointer="i8*", i32_pointer="i32*", cast_slot="%bytes = bitcast i32* %slot to i8*")

_register = None  # (get, set, the execution engine that owns their code), built on first use


def _build():
    """(get(), set(value)) of the calling thread's MXCSR, or None where that cannot be done."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return None
    try:
        import llvmlite.binding as llvm
    except ImportError:
        return None
    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    module = llvm.parse_assembly(_IR.format(**(_OPAQUE if llvm.llvm_version_info >= (15,) else _TYPED)))
    module.verify()
    engine = llvm.create_mcjit_compiler(module, llvm.Target.from_default_triple().create_target_machine())
    engine.finalize_object()
    get = ctypes.CFUNCTYPE(ctypes.c_uint32)(engine.get_function_address("dl_get_mxcsr"))
    set_ = ctypes.CFUNCTYPE(None, ctypes.c_uint32)(engine.get_function_address("dl_set_mxcsr"))
    return get, set_, engine  # the engine must live as long as the two functions


def _functions():
    global _register
    if _register is None:
        _register = _build() or ()
    return _register[:2] if _register else None


def available():
    """True when `flushed()` can set the CPU's flush-to-zero bits here."""
    return _functions() is not None


def mxcsr():
    """The control bits of the calling thread's MXCSR register, without its exception
    flags, which every floating-point operation may raise (None where unavailable)."""
    functions = _functions()
    return functions[0]() & ~STATUS if functions else None


@contextlib.contextmanager
def flushed(enabled=True):
    """Within the block, the calling thread treats denormal floats as zero (FTZ and DAZ);
    on leaving it, the register is as before.  enabled=False: a block that changes nothing."""
    functions = _functions() if enabled else None
    if functions is None:
        yield
        return
    get, set_ = functions
    before = get()
    set_(before | FTZ | DAZ)
    try:
        yield
    finally:
        set_((before & ~STATUS) | (get() & STATUS))  # the control bits as before; the flags as they are
