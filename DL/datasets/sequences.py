"""Padding variable-length sequences into one array, with a mask.

    pad_and_mask([[5, 3, 9], [4]])  ->  padded [[5, 3, 9], [4, 0, 0]]   (int64)
                                        mask   [[1, 1, 1], [1, 0, 0]]   (floatX)

Sequences end up left-aligned: real steps first, then padding with id 0 up
to the longest sequence.  `dataset_pad_and_mask(dataset, index)` pads the
sequences at `index` of each set in place and appends the mask, so each set
`[sequences, targets]` becomes `[padded_sequences, targets, mask]`: the order
`inputs = [x, t, mask]` of a training script.
"""
import numpy

from DL.backend import floatX

PAD = 0


def pad_and_mask(sequences):
    """(padded `(n_examples, longest)` int64 array, float mask of the same shape)."""
    sequences = [numpy.asarray(sequence) for sequence in sequences]
    if not sequences:
        raise ValueError("pad_and_mask: there are no sequences to pad")
    for i, sequence in enumerate(sequences):
        if sequence.ndim != 1:
            raise ValueError("pad_and_mask: each sequence must be a flat list of ids; sequence %d "
                             "has shape %s" % (i, sequence.shape))
        if sequence.size and not numpy.issubdtype(sequence.dtype, numpy.integer):
            raise ValueError("pad_and_mask: sequences hold integer ids; sequence %d has dtype %s"
                             % (i, sequence.dtype))
    lengths = numpy.array([len(sequence) for sequence in sequences])
    padded = numpy.full((len(sequences), max(lengths.max(), 1)), PAD, dtype="int64")
    mask = numpy.zeros(padded.shape, dtype=floatX)
    for i, sequence in enumerate(sequences):
        padded[i, :lengths[i]] = sequence
        mask[i, :lengths[i]] = 1
    return padded, mask


def dataset_pad_and_mask(dataset, index=0):
    """Pad element `index` of each set of `[train, valid, test]` in place; append its mask."""
    if not isinstance(dataset, list):
        raise TypeError("dataset_pad_and_mask changes the dataset in place: pass a list of sets, "
                        "got %s" % type(dataset).__name__)
    for i, data_set in enumerate(dataset):
        if not isinstance(data_set, (list, tuple)) or not -len(data_set) <= index < len(data_set):
            raise ValueError("dataset_pad_and_mask: set %d has no element %d to pad" % (i, index))
        if not isinstance(data_set, list):  # a tuple cannot change: replace it by a list
            data_set = dataset[i] = list(data_set)
        data_set[index], mask = pad_and_mask(data_set[index])
        data_set.append(mask)
    return dataset


# the original package's names
padAndMask = pad_and_mask
datasetPadAndMask = dataset_pad_and_mask
