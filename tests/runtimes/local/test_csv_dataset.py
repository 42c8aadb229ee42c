"""CSV Datasets in the control plane, as the original handles them: the header
line is not a sample, every round file carries the header (so the eval split
does not start on a data row), and round files are named by format
(``data.csv`` for CSV, ``data.txt`` for txt)."""

import os

import pytest

from sedna.control.reconcile import round_paths
from sedna.control.rounds import IndexWatcher, RoundFiles, WatchState, round_file_name

from support.ctlplane import ControlPlane, manifests, write_yaml
from support.waiting import wait_for

HEADER = "season,temperature,humidity,label"


def rows(n, start=0, season="summer"):
    return [f"{season},{20 + (i % 7)},{40 + i % 11},{i % 2}" for i in range(start, start + n)]


def write(path, lines, mode="a"):
    with open(path, mode, encoding="utf-8") as f:
        f.write("".join(ln + "\n" for ln in lines))


# ------------------------------------------------------------------ the watcher
def test_the_header_is_not_a_sample(tmp_path):
    index = tmp_path / "data.csv"
    write(index, [HEADER] + rows(5), "w")
    lines, state, event = IndexWatcher().poll(index, None, header=True)
    assert event is None
    assert lines == rows(5) and state.lines_total == 5
    assert state.header == HEADER
    write(index, rows(3, 5))
    lines, state, _ = IndexWatcher().poll(index, WatchState.from_dict(state.to_dict()), header=True)
    assert lines == rows(3, 5) and state.lines_total == 8 and state.header == HEADER


def test_a_header_written_before_any_row_is_kept_for_later_rows(tmp_path):
    index = tmp_path / "data.csv"
    write(index, [HEADER], "w")
    lines, state, _ = IndexWatcher().poll(index, None, header=True)
    assert lines == [] and state.lines_total == 0 and state.header == HEADER
    write(index, rows(2))
    lines, state, _ = IndexWatcher().poll(index, state, header=True)
    assert lines == rows(2) and state.lines_total == 2 and state.header == HEADER


def test_a_replaced_csv_index_has_its_header_read_again(tmp_path):
    index = tmp_path / "data.csv"
    write(index, [HEADER] + rows(4), "w")
    _, state, _ = IndexWatcher().poll(index, None, header=True)
    other = tmp_path / "other.csv"
    write(other, ["season,temp,hum,label"] + rows(4), "w")
    os.replace(other, index)
    _, state, event = IndexWatcher().poll(index, state, header=True)
    assert event == "Replaced" and state.header == "season,temp,hum,label"


def test_a_txt_index_counts_its_first_line(tmp_path):
    index = tmp_path / "data.txt"
    write(index, ["a.npy 1", "b.npy 0"], "w")
    lines, state, _ = IndexWatcher().poll(index, None)
    assert lines == ["a.npy 1", "b.npy 0"] and state.lines_total == 2 and state.header == ""


# ----------------------------------------------------------------- round files
def test_round_files_are_named_by_format_and_carry_the_header(tmp_path):
    assert round_file_name("csv") == round_file_name("CSV") == "data.csv"
    assert round_file_name("txt") == "data.txt"
    rf = RoundFiles(tmp_path / "out", "csv")
    train, ev = rf.write(1, rows(4), [], header=HEADER)
    assert train == str(tmp_path / "out" / "data" / "train" / "1" / "data.csv")
    assert ev == str(tmp_path / "out" / "data" / "eval" / "1" / "data.csv")
    assert open(train).read().splitlines() == [HEADER] + rows(4)
    assert open(ev).read().splitlines() == [HEADER]  # an empty split still parses: it has the columns
    assert round_paths(str(tmp_path / "out"), 1, "csv")["eval_index"] == ev
    assert round_paths(str(tmp_path / "out"), 1)["train_index"].endswith("data.txt")


# -------------------------------------------------------------- the control plane
@pytest.fixture
def plane(tmp_path):
    cp = ControlPlane(str(tmp_path)).start()
    yield cp
    cp.stop()


def test_a_csv_dataset_through_the_control_plane(plane, tmp_path):
    """Real `sedna up`: the Dataset counts rows, not the header; round 1's files
    are data.csv with the header on both splits; the eval split starts on a row."""
    data = tmp_path / "data"
    data.mkdir()
    index = str(data / "data.csv")
    write(index, [HEADER], "w")
    out = str(tmp_path / "output" / "digits-ll")
    docs = manifests(index, out, str(tmp_path / "t"), str(tmp_path / "r"), threshold=15)
    docs[0]["spec"]["format"] = "csv"
    plane.cli("apply", "-f", write_yaml(str(tmp_path / "job.yaml"), docs), check=True)
    write(index, rows(10))
    wait_for(lambda: plane.get("ds", "digits")["status"].get("numberOfSamples") == 10, what="10 rows counted")
    write(index, rows(10, 10))
    wait_for(lambda: plane.get("ds", "digits")["status"].get("numberOfSamples") == 20, what="20 rows counted")
    train = os.path.join(out, "data", "train", "1", "data.csv")
    ev = os.path.join(out, "data", "eval", "1", "data.csv")
    wait_for(lambda: os.path.exists(ev), timeout=60, what="round 1's files")
    train_lines, eval_lines = open(train).read().splitlines(), open(ev).read().splitlines()
    assert train_lines[0] == HEADER and eval_lines[0] == HEADER
    assert (len(train_lines) - 1, len(eval_lines) - 1) == (16, 4)
    assert sorted(train_lines[1:] + eval_lines[1:]) == sorted(rows(20))
    assert not os.path.exists(os.path.join(out, "data", "train", "1", "data.txt"))
    # the train worker is given the round's CSV (what it does with it is the worker's business)
    w = wait_for(lambda: [w for w in plane.workers() if w["stage"] == "train"], what="the train worker")[0]
    assert w["round"] == 1
