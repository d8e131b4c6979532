"""`theano.config` on PyTensor: PyTensor's flags, read and set under Theano's names.

Theano's nested sections (`theano.config.blas.ldflags`) are PyTensor's flags
joined by `__` (`blas__ldflags`).  The flags Theano had and PyTensor dropped
read as Theano's CPU values (`device` is "cpu": DL runs on the CPU, and on
accelerators through JAX, `mode='JAX'`); setting one of them to anything else
raises, saying what to use instead, as a value DL cannot honour must not be
silently ignored.
"""
import pytensor

# Theano's flag -> (its value on DL, what to use to change it)
FIXED = {
    "device": ("cpu", "DL computes on the CPU; for a GPU compile with mode='JAX' on a jax[cuda] install"),
    "force_device": (False, "DL computes on the CPU; for a GPU compile with mode='JAX'"),
    "init_gpu_device": ("", "DL computes on the CPU; for a GPU compile with mode='JAX'"),
    "contexts": ("", "DL computes on the CPU; for a GPU compile with mode='JAX'"),
    "compute_test_value": ("off", "PyTensor has no test values; evaluate a variable with .eval({x: value}) "
                                  "or print its graph with theano.printing.debugprint"),
    "print_test_value": (False, "PyTensor has no test values; use .eval({x: value})"),
    "deterministic": ("default", "DL's CPU engines are deterministic for a fixed number of BLAS threads"),
}


class ConfigView(object):
    """PyTensor's config under Theano's names; `prefix` is a section (`blas__`)."""

    def __init__(self, prefix=""):
        object.__setattr__(self, "_prefix", prefix)

    def __getattr__(self, name):
        key = self._prefix + name
        if key in FIXED:
            return FIXED[key][0]
        if hasattr(pytensor.config, key):
            return getattr(pytensor.config, key)
        if any(flag.startswith(key + "__") for flag in dir(pytensor.config)):
            return ConfigView(key + "__")  # a section: theano.config.blas
        raise AttributeError("theano.config has no flag %r on PyTensor (its flags: pytensor.config; "
                             "sections are joined by '__', e.g. blas__ldflags)" % key.replace("__", "."))

    def __setattr__(self, name, value):
        key = self._prefix + name
        if key in FIXED:
            if value != FIXED[key][0]:
                raise ValueError("theano.config.%s = %r cannot be honoured: %s"
                                 % (key.replace("__", "."), value, FIXED[key][1]))
            return
        if not hasattr(pytensor.config, key):
            getattr(self, name)  # raises the AttributeError that names the flag
        setattr(pytensor.config, key, value)

    def __dir__(self):
        names = [flag[len(self._prefix):] for flag in dir(pytensor.config) if flag.startswith(self._prefix)]
        return sorted(set(names) | (set(FIXED) if not self._prefix else set()))

    def __repr__(self):
        return "<theano.config view of pytensor.config%s>" % (" section " + self._prefix if self._prefix else "")


config = ConfigView()
