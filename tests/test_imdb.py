"""DL.datasets.imdb on small files in the classic layout (two pickles, train then
test) that the tests write, the real file when it is there, and padding with masks."""
import gzip
import os
import pickle

import numpy
import pytest
from numpy.testing import assert_array_equal

from DL import datasets
from DL.datasets import DataFileError, dataset_pad_and_mask, pad_and_mask

TRAIN = ([[2, 3], [4, 5, 6, 7, 8, 9], [12, 2, 3, 4], [5], [6, 20, 7], [8, 9, 10], [2, 2, 2, 2, 2], [3, 4]],
         [1, 0, 1, 0, 1, 0, 1, 0])
TEST = ([[7, 7, 7], [30, 2], [2, 3, 4, 5, 6, 7, 8], [9]], [0, 1, 1, 0])


def write_classic(folder, name="imdb.pkl", sets=(TRAIN, TEST), opener=open):
    """Pickles one after the other in one file, as the LSTM tutorial's imdb.pkl."""
    with opener(os.path.join(folder, name), "wb") as stream:
        for data_set in sets:
            pickle.dump(data_set, stream, protocol=2)


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("DL_DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)  # ./datasets/ must not find a real copy
    return tmp_path


def reviews_of(data_set):
    return [list(review) for review in data_set[0]]


@pytest.mark.parametrize("name, opener", [("imdb.pkl", open), ("imdb.pkl.gz", gzip.open)])
def test_reads_train_then_test_filters_maps_splits_and_sorts(data_dir, name, opener):
    write_classic(str(data_dir), name, opener=opener)
    train, valid, test = datasets.imdb(validation_ratio=0.25, vocabulary_size=10, maxlen=4, seed=3)
    # The test set comes from the second pickle: reviews of at most 4 words, ids >= 10 -> 1, by length.
    assert reviews_of(test) == [[9], [1, 2], [7, 7, 7]]
    assert_array_equal(test[1], [0, 1, 0])
    # Training reviews of <= 4 words, mapped, split 4 + 2 (validation_ratio 0.25 of 6), each sorted.
    kept = {(2, 3): 1, (1, 2, 3, 4): 1, (5,): 0, (6, 1, 7): 1, (8, 9, 1): 0, (3, 4): 0}
    assert len(train[0]) == 4 and len(valid[0]) == 2
    for data_set in (train, valid):
        lengths = [len(review) for review in data_set[0]]
        assert lengths == sorted(lengths)
        for review, label in zip(data_set[0], data_set[1]):
            assert kept[tuple(review)] == label and review.dtype == numpy.int64
    together = sorted(map(tuple, reviews_of(train) + reviews_of(valid)))
    assert together == sorted(kept)


def test_the_split_depends_on_the_seed_only(data_dir):
    write_classic(str(data_dir))
    first = datasets.imdb(validation_ratio=0.25, vocabulary_size=10, maxlen=4, seed=3)
    again = datasets.imdb(validation_ratio=0.25, vocabulary_size=10, maxlen=4, seed=3)
    assert reviews_of(first[1]) == reviews_of(again[1])
    others = [reviews_of(datasets.imdb(validation_ratio=0.25, vocabulary_size=10, maxlen=4, seed=s)[1])
              for s in range(6)]
    assert len({str(split) for split in others}) > 1


def test_maxlen_none_keeps_every_review(data_dir):
    write_classic(str(data_dir))
    train, valid, test = datasets.imdb(validation_ratio=0.25, vocabulary_size=100, maxlen=None)
    assert len(train[0]) + len(valid[0]) == len(TRAIN[0]) and len(test[0]) == len(TEST[0])


def test_a_maxlen_that_keeps_nothing_is_an_error(data_dir):
    write_classic(str(data_dir), sets=(TRAIN, ([[2, 3, 4]], [1])))
    with pytest.raises(ValueError, match="maxlen=2 leaves no test reviews: the shortest has 3 words"):
        datasets.imdb(maxlen=2)
    with pytest.raises(ValueError, match="validation_ratio"):
        datasets.imdb(validation_ratio=0)
    with pytest.raises(ValueError, match="vocabulary_size"):
        datasets.imdb(vocabulary_size=1)


def test_a_file_with_one_pickle_is_reported(data_dir):
    write_classic(str(data_dir), sets=(TRAIN,))
    with pytest.raises(DataFileError, match="corrupt or truncated"):
        datasets.imdb()


def test_a_missing_file_names_where_to_put_it(data_dir):
    with pytest.raises(DataFileError, match=r"imdb\.pkl was not found.*downloads are turned off"):
        datasets.imdb(download=False)


@pytest.mark.slow
def test_the_real_file(monkeypatch):
    folder = os.environ.get("DL_DATA_DIR", "")
    if not os.path.isfile(os.path.join(folder, "imdb.pkl.gz")):
        pytest.skip("the real imdb.pkl.gz is not in DL_DATA_DIR")
    train, valid, test = datasets.imdb(validation_ratio=0.1, vocabulary_size=10000, maxlen=100)
    # 2293 training and 2412 test reviews have at most 100 words; a tenth of the first validates.
    assert (len(train[0]), len(valid[0]), len(test[0])) == (2064, 229, 2412)
    assert max(review.max() for review in train[0]) < 10000
    assert set(numpy.unique(test[1])) == {0, 1}


# --- padding -----------------------------------------------------------------------------

def test_pad_and_mask():
    padded, mask = pad_and_mask([[5, 3, 9], [4], []])
    assert_array_equal(padded, [[5, 3, 9], [4, 0, 0], [0, 0, 0]])
    assert_array_equal(mask, [[1, 1, 1], [1, 0, 0], [0, 0, 0]])
    assert padded.dtype == numpy.int64 and mask.dtype.kind == "f"
    with pytest.raises(ValueError, match="flat list of ids; sequence 1"):
        pad_and_mask([[1, 2], [[1], [2]]])
    with pytest.raises(ValueError, match="integer ids; sequence 0 has dtype float64"):
        pad_and_mask([[1.5, 2.0]])


def test_dataset_pad_and_mask_appends_the_mask_in_place():
    train = [[[1, 2], [3]], numpy.array([1, 0])]
    dataset = [train, ([[4]], numpy.array([1])), [[[5, 6, 7]], numpy.array([0])]]
    assert dataset_pad_and_mask(dataset, 0) is dataset
    assert dataset[0] is train and len(train) == 3
    assert_array_equal(train[0], [[1, 2], [3, 0]])
    assert_array_equal(train[2], [[1, 1], [1, 0]])
    assert_array_equal(dataset[1][0], [[4]]) and isinstance(dataset[1], list)
    assert dataset[2][0].shape == dataset[2][2].shape == (1, 3)
    with pytest.raises(ValueError, match="set 0 has no element 5"):
        dataset_pad_and_mask([[[[1]], [1]]], 5)
    with pytest.raises(TypeError, match="in place"):
        dataset_pad_and_mask(tuple(dataset))
