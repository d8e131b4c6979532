#!/usr/bin/env python
"""The simple baselines DL's results stand beside, on exactly the data those results use.

    IMDB     majority class and a bag-of-words logistic regression (word counts,
             scikit-learn), on the split, vocabulary and truncation of
             examples/lstm-imdb.py: DL.datasets.imdb(validation_ratio=0.1,
             vocabulary_size, maxlen, seed=1234); the regularization is chosen
             on the validation set, the test error is on the test reviews kept
    MNIST    multinomial logistic regression on the raw pixels (scikit-learn,
             trained on the 50,000 training digits), test error on the 10,000
    text     bits per character of the unigram and bigram models of
             examples/mrnn-text.py's text and split (add-one smoothed counts
             of the training text, scored on the test text)
    dice     the exact Bayes filter (DL.datasets.bayes_posterior) on
             examples/sse-dice.py's test sequences: correct after the last roll,
             and the best a memoryless predictor (the last symbol alone) can do

The functions are importable, so tests and other benchmarks reuse them:

    from benchmarks.baselines import imdb_baselines, unigram_bits, bigram_bits

    python benchmarks/baselines.py                     # the table (about a minute)
    python benchmarks/baselines.py --only text dice    # some rows
    python benchmarks/baselines.py --imdb 20000:200    # IMDB at another vocabulary:maxlen
"""
import argparse
import os
import sys

import numpy

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # run from a checkout without installing

from DL import datasets  # noqa: E402
from DL.datasets._dice import DICE, DICE_BY_PAIRS  # noqa: E402


# --- classification ----------------------------------------------------------------

def majority_error(train_labels, test_labels):
    """Test error (a fraction) of always answering the training set's most frequent label."""
    majority = numpy.bincount(numpy.asarray(train_labels).ravel()).argmax()
    return float(numpy.mean(numpy.asarray(test_labels).ravel() != majority))


def bag_of_words(reviews, vocabulary_size):
    """A sparse `(n_reviews, vocabulary_size)` matrix of word counts from lists of word ids."""
    from scipy.sparse import csr_matrix
    lengths = [len(review) for review in reviews]
    rows = numpy.repeat(numpy.arange(len(reviews)), lengths)
    columns = numpy.concatenate([numpy.asarray(review, dtype="int64") for review in reviews])
    return csr_matrix((numpy.ones(len(columns)), (rows, columns)), shape=(len(reviews), vocabulary_size))


def logistic_regression_error(train, valid, test, Cs=(0.01, 0.03, 0.1, 0.3, 1.0)):
    """Test error of scikit-learn's logistic regression, its C chosen on `valid`; each set is (x, labels)."""
    from sklearn.linear_model import LogisticRegression
    best = None
    for C in Cs:
        model = LogisticRegression(C=C, max_iter=1000).fit(*train)
        valid_error = numpy.mean(model.predict(valid[0]) != valid[1])
        if best is None or valid_error < best[0]:
            best = (valid_error, model)
    return float(numpy.mean(best[1].predict(test[0]) != test[1]))


def imdb_baselines(vocabulary_size=10000, maxlen=100, seed=1234):
    """{'majority': error, 'bag_of_words': error} (fractions) on lstm-imdb.py's data."""
    sets = datasets.imdb(validation_ratio=0.1, vocabulary_size=vocabulary_size, maxlen=maxlen, seed=seed)
    counts = [(bag_of_words(reviews, vocabulary_size), labels) for reviews, labels in sets]
    return {"majority": majority_error(sets[0][1], sets[2][1]),
            "bag_of_words": logistic_regression_error(*counts)}


def mnist_logistic_error():
    """Test error (a fraction) of a multinomial logistic regression on MNIST's pixels."""
    from sklearn.linear_model import LogisticRegression
    (train_x, train_t), _, (test_x, test_t) = datasets.mnist()
    model = LogisticRegression(C=1.0, max_iter=200, tol=1e-3).fit(train_x, train_t)
    return float(numpy.mean(model.predict(test_x) != test_t))


# --- sequences -----------------------------------------------------------------------

def unigram_bits(train_targets, test_targets, n_symbols):
    """Bits per symbol on `test_targets` of the add-one smoothed symbol frequencies of `train_targets`."""
    counts = numpy.bincount(numpy.ravel(train_targets), minlength=n_symbols) + 1.0
    return float(-numpy.mean(numpy.log2(counts / counts.sum())[numpy.ravel(test_targets)]))


def bigram_bits(train_inputs, train_targets, test_inputs, test_targets, n_symbols):
    """Bits per symbol of p(next | current), add-one smoothed counts of the training pairs."""
    counts = numpy.ones((n_symbols, n_symbols))
    numpy.add.at(counts, (numpy.ravel(train_inputs), numpy.ravel(train_targets)), 1)
    p = counts / counts.sum(axis=1, keepdims=True)
    return float(-numpy.mean(numpy.log2(p[numpy.ravel(test_inputs), numpy.ravel(test_targets)])))


def text_baselines(chars=None, n_timesteps=50):
    """{'unigram': bits, 'bigram': bits} on mrnn-text.py's text and split."""
    sets, alphabet = datasets.char_sequences(datasets.python_docs_text()[:chars], n_timesteps=n_timesteps)
    (train_x, train_t), _, (test_x, test_t) = sets
    return {"unigram": unigram_bits(train_t, test_t, len(alphabet)),
            "bigram": bigram_bits(train_x, train_t, test_x, test_t, len(alphabet))}


def memoryless_accuracy(train_obs_ids, train_labels, test_obs_ids, test_labels, step=-1):
    """Accuracy at `step` of the best guess of the label from that step's observation alone
    (the most frequent label of each observation in training)."""
    train_obs, train_y = numpy.asarray(train_obs_ids)[:, step], numpy.asarray(train_labels)[:, step]
    n_obs, n_labels = int(max(train_obs.max(), numpy.max(test_obs_ids)) + 1), int(train_y.max() + 1)
    table = numpy.zeros((n_obs, n_labels))
    numpy.add.at(table, (train_obs, train_y), 1)
    guess = table.argmax(axis=1)[numpy.asarray(test_obs_ids)[:, step]]
    return float(numpy.mean(guess == numpy.asarray(test_labels)[:, step]))


def dice_baselines(which="original", n_train=10000, n_rolls=8, seed=1234):
    """{'bayes': accuracy, 'memoryless': accuracy} after the last roll on sse-dice.py's test set."""
    faces = DICE_BY_PAIRS if which == "pairs" else DICE[:3]
    train, _, test = datasets.seeded_sets(datasets.dice, sizes=(n_train, n_train // 10, n_train // 10),
                                          seed=seed, n_steps=n_rolls + 1, faces=faces)
    posterior = datasets.bayes_posterior(faces, test[0].argmax(-1), test[1])
    return {"bayes": float(numpy.mean(posterior[:, -1].argmax(-1) == test[2][:, -1])),
            "memoryless": memoryless_accuracy(train[0].argmax(-1), train[2], test[0].argmax(-1), test[2])}


# --- the table -------------------------------------------------------------------------

def rows(only, imdb_settings):
    """(data, baseline, figure) rows, computed one after the other."""
    if "imdb" in only:
        for vocabulary_size, maxlen in imdb_settings:
            found = imdb_baselines(vocabulary_size, maxlen)
            data = "IMDB (vocabulary %d, maxlen %d)" % (vocabulary_size, maxlen)
            yield data, "majority class", "%.2f %% test error" % (100 * found["majority"])
            yield data, "bag-of-words logistic regression", "%.2f %% test error" % (100 * found["bag_of_words"])
    if "mnist" in only:
        yield "MNIST", "multinomial logistic regression", "%.2f %% test error" % (100 * mnist_logistic_error())
    if "text" in only:
        found = text_baselines()
        yield "Python docs text (mrnn-text)", "character unigram", "%.3f bits per character" % found["unigram"]
        yield "Python docs text (mrnn-text)", "character bigram", "%.3f bits per character" % found["bigram"]
    if "dice" in only:
        for which in ("pairs", "original"):
            found = dice_baselines(which)
            data = "dice, %s (sse-dice --dice %s)" % (which, which)
            yield data, "exact Bayes filter", "%.1f %% correct after 8 rolls" % (100 * found["bayes"])
            yield data, "memoryless (last symbol)", "%.1f %% correct after 8 rolls" % (100 * found["memoryless"])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", choices=["imdb", "mnist", "text", "dice"],
                        default=["imdb", "mnist", "text", "dice"], help="which rows (default all)")
    parser.add_argument("--imdb", nargs="+", default=["10000:100"], metavar="VOCABULARY:MAXLEN",
                        help="IMDB settings (default 10000:100, lstm-imdb.py's)")
    args = parser.parse_args()
    imdb_settings = [tuple(int(part) for part in setting.split(":")) for setting in args.imdb]
    print("| data | baseline | result |")
    print("|---|---|---|")
    for row in rows(args.only, imdb_settings):
        print("| %s | %s | %s |" % row, flush=True)


if __name__ == "__main__":
    main()
