"""PyTensor's C engine linked to the OpenBLAS that SciPy ships, for DL's functions in a C mode.

PyTensor's C code (the CVM mode: `mode="CVM"`, or the C linker) calls BLAS with the
link flags of `config.blas__ldflags`.  Installed from pip, PyTensor finds no BLAS to
link and warns on the first C compile: "PyTensor could not link to a BLAS
installation ... severely degraded"; its matrix-vector product and outer product
then run NumPy's or Python's code.  Yet SciPy's wheel carries OpenBLAS: under other
names (`scipy_sgemm_` for `sgemm_`), in a file whose name holds a hash.  DL's
default mode, Numba, calls SciPy's BLAS from Numba and never reads these flags.

For a function DL compiles in a C mode (`DL.backend.function`), when neither the user
(PYTENSOR_FLAGS, .pytensorrc) nor PyTensor's own search chose flags, `linked(mode)` sets
`blas__ldflags` to SciPy's OpenBLAS while that function compiles:

    -L<folder> -lscipy_openblas -Wl,-rpath,<folder> -Wl,-rpath,<scipy.libs>
    -Dsgemm_=scipy_sgemm_ -Ddgemm_=scipy_dgemm_ ...   (each name PyTensor's BLAS header declares)

`<folder>` (`dl_blas` in PyTensor's compile folder) holds a link named
`libscipy_openblas.so` to SciPy's file.  `config.change_flags` gives the setting back
when the function is compiled: other code's functions compile as PyTensor does, and
PyTensor's search runs with its warning silenced (the warning only, not the search).
PyTensor's compiled-module cache keys hold the link and compile flags, so modules
linked to BLAS and modules without are kept apart.  DL_C_BLAS=0 turns this off.
"""
import contextlib
import functools
import glob
import inspect
import os
import re
import warnings

from pytensor import config

from DL.engine import switched_off

_UNLINKED = "PyTensor could not link to a BLAS installation"


@functools.lru_cache(maxsize=None)
def scipy_openblas():
    """The path of the OpenBLAS library in SciPy's wheel, or None (SciPy built otherwise)."""
    import scipy
    found = sorted(glob.glob(os.path.join(os.path.dirname(scipy.__file__) + ".libs", "libscipy_openblas*.so")))
    return found[0] if found else None


@functools.lru_cache(maxsize=None)
def blas_names():
    """The Fortran BLAS names PyTensor's C header declares (`sgemm_`, `dgemv_`, ...)."""
    from pytensor.tensor import blas_headers
    return sorted(set(re.findall(r"\b([sdcz][a-z0-9]+_)\s*\(", inspect.getsource(blas_headers))))


def ldflags(library):
    """`blas__ldflags` that link PyTensor's C code to SciPy's OpenBLAS at `library`."""
    folder = os.path.join(str(config.base_compiledir), "dl_blas")
    os.makedirs(folder, exist_ok=True)
    link = os.path.join(folder, "libscipy_openblas.so")
    if os.path.realpath(link) != os.path.realpath(library):
        temporary = "%s.%d" % (link, os.getpid())
        os.symlink(library, temporary)
        os.replace(temporary, link)  # (atomic: another process may be compiling beside)
    renames = " ".join("-D%s=scipy_%s" % (name, name) for name in blas_names())
    return "-L%s -lscipy_openblas -Wl,-rpath,%s -Wl,-rpath,%s %s" % (
        folder, folder, os.path.dirname(library), renames)


def _pytensor_links_none():
    """True when blas__ldflags is empty and not the user's setting."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_UNLINKED)
        value = config.blas__ldflags  # (PyTensor's search runs at the first read, or the user's value)
    # the setting's `is_default` turns False when its value came from PYTENSOR_FLAGS or .pytensorrc
    return value == "" and config._config_var_dict["blas__ldflags"].is_default


def linked(mode):
    """A context in which a function compiled in `mode` links PyTensor's C code to SciPy's
    OpenBLAS (the module's docstring); a context that changes nothing when `mode` compiles no
    C code, the user or PyTensor chose flags, DL_C_BLAS=0, or SciPy ships no OpenBLAS."""
    if not _uses_c(mode) or switched_off("DL_C_BLAS") or not _pytensor_links_none():
        return contextlib.nullcontext()
    library = scipy_openblas()
    if library is None:
        return contextlib.nullcontext()
    return config.change_flags(blas__ldflags=ldflags(library))


def _uses_c(mode):
    """True when `mode` (a name or a Mode) compiles code with PyTensor's C compiler."""
    from pytensor.compile.mode import get_mode
    from pytensor.link.c.basic import CLinker, OpWiseCLinker
    from pytensor.link.vm import VMLinker
    linker = getattr(get_mode(mode), "linker", None)
    return isinstance(linker, (CLinker, OpWiseCLinker)) or (isinstance(linker, VMLinker) and linker.c_thunks)
