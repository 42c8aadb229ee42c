"""A CSV read for training without naming its label column stops at the parse,
with an error that says so and lists the columns, instead of reaching
scikit-learn as "inconsistent numbers of samples"."""

import pytest

pytest.importorskip("pandas")

from sedna.common.exceptions import DataParseError  # noqa: E402
from sedna.datasources import CSVDataParse  # noqa: E402


@pytest.fixture
def rooms(tmp_path):
    path = tmp_path / "rooms.csv"
    path.write_text("site,temp,comfortable\nnorth,18.5,1\nsouth,21.0,0\n")
    return str(path)


@pytest.mark.parametrize("data_type", ["train", "eval"])
def test_train_or_eval_data_without_a_label_names_the_missing_column(rooms, data_type):
    with pytest.raises(DataParseError) as err:
        CSVDataParse(data_type=data_type).parse(rooms)
    msg = str(err.value)
    assert "rooms.csv" in msg and "label=" in msg
    assert "['site', 'temp', 'comfortable']" in msg


def test_a_misspelt_label_names_it_and_the_columns(rooms):
    with pytest.raises(DataParseError, match=r"label column 'comfort' not among the columns \['site'"):
        CSVDataParse(data_type="train").parse(rooms, label="comfort")


def test_test_data_needs_no_label_and_named_label_splits_it_off(rooms):
    test = CSVDataParse(data_type="test").parse(rooms)
    assert test.y is None and list(test.x.columns) == ["site", "temp", "comfortable"]
    train = CSVDataParse(data_type="train").parse(rooms, label="comfortable")
    assert list(train.x.columns) == ["site", "temp"] and list(train.y) == [1, 0]
