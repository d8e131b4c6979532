"""IMDB movie reviews for sentiment (Maas et al. 2011), as the LSTM tutorial ships them.

`imdb.pkl` (or `imdb.pkl.gz`) holds two pickles, the training set then the
test set, each `(reviews, labels)`: a review is a list of word ids ranked by
frequency (2 = the most frequent word, 1 = unknown, 0 is never used: it pads),
a label is 1 (positive) or 0 (negative); 25000 reviews in each.

imdb() keeps the reviews of at most `maxlen` words (len <= maxlen) in both sets,
maps ids >= `vocabulary_size` to 1, splits a `validation_ratio` share of the
kept training reviews into a validation set (a permutation seeded by `seed`),
and sorts each set by length (so a minibatch holds reviews of similar length).
Sets come back as `[reviews, labels]`: a list of int64 arrays and an int64
array.  Then `dataset_pad_and_mask(data, 0)` makes `[padded, labels, mask]`.
"""
import numpy

from DL.datasets.files import DataFileError, load_pickles, locate

IMDB_URL = "http://www.iro.umontreal.ca/~lisa/deep/data/imdb.pkl"
# The server has the plain pickle, whose SHA-256 nobody published; the project's
# checksummed copy is gzipped (imdb.pkl.gz: 1a9d1a62...2cfff, in SHA256SUMS).
# The plain pickle inside that copy hashes to b028c0b6...bc42e0, but a fresh
# download was never compared with it, so the download is checked by reading
# it (two pickles of equal-length reviews and labels), not by a checksum.
IMDB_SHA256 = None
UNKNOWN = 1


def _check_set(data_set, name, path):
    if not (isinstance(data_set, (tuple, list)) and len(data_set) == 2
            and len(data_set[0]) == len(data_set[1])):
        raise DataFileError("%s: the %s set is not (reviews, labels) of equal lengths, as in the "
                            "classic imdb.pkl layout (two pickles: train, then test)" % (path, name))
    return data_set


def _filter_and_map(reviews, labels, maxlen, vocabulary_size):
    kept_reviews, kept_labels = [], []
    for review, label in zip(reviews, labels):
        if maxlen is None or len(review) <= maxlen:
            review = numpy.asarray(review, dtype="int64")
            kept_reviews.append(numpy.where(review >= vocabulary_size, UNKNOWN, review))
            kept_labels.append(label)
    return kept_reviews, numpy.asarray(kept_labels, dtype="int64")


def _by_length(reviews, labels):
    order = sorted(range(len(reviews)), key=lambda i: len(reviews[i]))
    return [[reviews[i] for i in order], labels[order]]


def _check_arguments(validation_ratio, vocabulary_size, maxlen):
    if not 0 < validation_ratio < 1:
        raise ValueError("validation_ratio must be in (0, 1), got %r" % (validation_ratio,))
    if not isinstance(vocabulary_size, (int, numpy.integer)) or vocabulary_size < 2:
        raise ValueError("vocabulary_size must be an integer >= 2 (ids 0 and 1 are padding and "
                         "unknown), got %r" % (vocabulary_size,))
    if maxlen is not None and (not isinstance(maxlen, (int, numpy.integer)) or maxlen < 1):
        raise ValueError("maxlen must be a positive integer or None, got %r" % (maxlen,))


def imdb(validation_ratio=0.1, vocabulary_size=10000, maxlen=100, seed=1234, download=True):
    """IMDB as `[[reviews, labels], [reviews, labels], [reviews, labels]]` (train, valid, test)."""
    _check_arguments(validation_ratio, vocabulary_size, maxlen)
    path = locate("imdb.pkl", IMDB_URL, IMDB_SHA256, alternatives=("imdb.pkl.gz",), download=download)
    train, test = [_check_set(data_set, name, path)
                   for data_set, name in zip(load_pickles(path, count=2), ("training", "test"))]

    sets = []
    for (reviews, labels), name in ((train, "training"), (test, "test")):
        kept = _filter_and_map(reviews, labels, maxlen, vocabulary_size)
        if not kept[0]:
            shortest = min((len(review) for review in reviews), default=0)
            raise ValueError("maxlen=%r leaves no %s reviews: the shortest has %d words; raise maxlen "
                             "(or pass maxlen=None to keep every review)" % (maxlen, name, shortest))
        sets.append(kept)
    (train_reviews, train_labels), test_set = sets

    order = numpy.random.RandomState(seed).permutation(len(train_reviews))
    n_valid = int(round(len(order) * validation_ratio))
    if n_valid < 1 or n_valid == len(order):
        raise ValueError("validation_ratio=%r splits the %d kept training reviews into %d for training "
                         "and %d for validation; both need at least one"
                         % (validation_ratio, len(order), len(order) - n_valid, n_valid))
    valid_index, train_index = order[:n_valid], order[n_valid:]
    pick = lambda index: ([train_reviews[i] for i in index], train_labels[index])  # noqa: E731
    return [_by_length(*pick(train_index)), _by_length(*pick(valid_index)), _by_length(*test_set)]
