"""Characters of a real text that every Python installation has offline.

The text is the Python reference documentation's topic pages (about 465,000
characters of English prose with code examples; PSF license), which CPython
ships as `pydoc_data.topics` for `help()`.  The topics are joined in the order
of their names, so the text is fixed for a given Python version.

    python_docs_text()            the text, a str
    char_sequences(text, n_timesteps, validation_ratio, test_ratio)
        -> [train, valid, test], alphabet

Each set is `[inputs, targets]`, int64 `(n_sequences, n_timesteps)` arrays of
character ids (indices into `alphabet`); targets are the inputs shifted by one
character (the next character).  The text is cut into consecutive chunks: the
first share trains, the next validates, the last tests.
"""
import numpy


def python_docs_text():
    """The topic pages of the Python docs that ship with CPython, joined by name."""
    from pydoc_data.topics import topics
    return "".join(topics[name] for name in sorted(topics))


def char_sequences(text, n_timesteps=100, validation_ratio=0.05, test_ratio=0.05):
    """Next-character prediction data from `text`; see the module docstring."""
    if not isinstance(n_timesteps, int) or n_timesteps < 1:
        raise ValueError("n_timesteps must be a positive integer, got %r" % (n_timesteps,))
    if not (0 < validation_ratio < 1 and 0 < test_ratio < 1 and validation_ratio + test_ratio < 1):
        raise ValueError("validation_ratio and test_ratio must be in (0, 1) with a sum below 1, "
                         "got %r and %r" % (validation_ratio, test_ratio))
    alphabet = "".join(sorted(set(text)))
    ids = numpy.searchsorted(numpy.array(list(alphabet)), numpy.array(list(text))).astype("int64")
    n_sequences = (len(ids) - 1) // n_timesteps
    n_valid, n_test = int(n_sequences * validation_ratio), int(n_sequences * test_ratio)
    n_train = n_sequences - n_valid - n_test
    if min(n_train, n_valid, n_test) < 1:
        raise ValueError("a text of %d characters makes %d sequences of %d steps: too few to split "
                         "into train, validation and test; use a longer text or shorter sequences"
                         % (len(text), n_sequences, n_timesteps))
    used = n_sequences * n_timesteps
    inputs = ids[:used].reshape(n_sequences, n_timesteps)
    targets = ids[1:used + 1].reshape(n_sequences, n_timesteps)
    cuts = [0, n_train, n_train + n_valid, n_sequences]
    sets = [[inputs[a:b], targets[a:b]] for a, b in zip(cuts[:-1], cuts[1:])]
    return sets, alphabet
