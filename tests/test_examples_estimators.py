"""Every state-estimator example (and dbnc-mnist) runs briefly as a user runs it.

One epoch on little data: the runs show that the scripts work end to end and
print what they promise (a sparkprob row per step, then `test error: X %`);
learning itself is tested in test_use.py and measured by benchmarks/.
"""
from concurrent.futures import ThreadPoolExecutor

import pytest

from test_examples_mnist import last_test_error, run_example

RUNS = {  # name: (flags, rows printed, what a row starts with)
    "use-map1d-binary": (["--epochs", "1", "--n-train", "40", "--encoding", "binary"], 20, "observed "),
    "use-map1d-softmax": (["--epochs", "1", "--n-train", "40", "--ff-size", "8", "--n-hidden", "10"], 20, "observed "),
    "use-map1d-rmsprop": (["--epochs", "1", "--n-train", "40"], 20, "observed "),
    "muse-map1d": (["--epochs", "1"], 20, "observed "),
    "euse-map1d": (["--epochs", "1", "--n-obs", "7"], 20, "observed "),
    "sse-dice": (["--epochs", "1", "--n-train", "100", "--n-hidden", "10"], 9, "observed "),
    "dbnc-mnist": (["--epochs", "1", "--subset", "1000", "--ff-sizes", "20", "--n-parallel", "3"], 0, None),
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Every example's stdout, two runs at a time: name -> future."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        yield {name: pool.submit(run_example, name, *flags, cwd=tmp_path_factory.mktemp(name))
               for name, (flags, _, _) in RUNS.items()}


@pytest.mark.parametrize("name", sorted(RUNS))
def test_example_runs_and_prints_its_rows_and_error(name, runs):
    stdout = runs[name].result()
    _, n_rows, start = RUNS[name]
    if start is not None:
        rows = [line for line in stdout.splitlines() if line.startswith(start)]
        assert len(rows) == n_rows, stdout[-3000:]
        assert all(" | " in row for row in rows)
    assert 0 <= last_test_error(stdout) <= 100
