"""DL.optimizers.notice: a first call that compiles for long says so, and how long it took."""
import time

from DL.optimizers.notice import FirstCalls, first_call


def test_a_long_first_call_says_it_is_compiling_and_how_long_it_took():
    lines = []
    with first_call("the training step", lines.append, after=0.05, every=0.1):
        time.sleep(0.35)
    assert lines[0].startswith("DL: compiling the training step for this machine (the first run only")
    assert any("s so far" in line for line in lines[1:-1])
    assert lines[-1].startswith("DL: compiled the training step in ")
    assert 0.3 <= float(lines[-1].split(" in ")[1].rstrip(" s")) < 30


def test_a_quick_call_says_nothing():
    lines = []
    with first_call("the training step", lines.append, after=5.0):
        pass
    assert lines == []


def test_only_the_first_call_of_each_function_is_watched():
    lines = []
    calls = FirstCalls(lines.append, after=0.02, every=10.0)
    for _ in range(2):
        with calls("the training step"):
            time.sleep(0.1)
    assert len(lines) == 2  # the first call's two lines, nothing for the second
    with calls("the valid set's error function"):
        time.sleep(0.1)
    assert len(lines) == 4 and "valid set" in lines[-1]


def test_silent_without_a_writer():
    with FirstCalls(None)("the training step"):
        time.sleep(0.01)


def test_an_exception_in_the_call_still_ends_the_watch():
    lines = []
    try:
        with first_call("the training step", lines.append, after=0.02):
            time.sleep(0.1)
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert lines[-1].startswith("DL: compiled the training step in ")
