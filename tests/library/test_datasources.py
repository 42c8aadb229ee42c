"""sedna.datasources: the tutorial's TxtDataParse semantics, CSV and JSON."""

import json
import logging
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sedna.common.class_factory import ClassFactory, ClassType
from sedna.common.config import Context
from sedna.common.exceptions import DataFileNotFoundError, DataParseError, UnknownPluginError
from sedna.datasources import BaseDataSource, CSVDataParse, JSONDataParse, TxtDataParse
from sedna.datasources import _txtscan


# ---------------------------------------------------------------- tutorial code
def _load_txt_dataset(dataset_url):
    # use original dataset url
    original_dataset_url = Context.get_parameters('original_dataset_url', "")
    dataset_urls = dataset_url.split()
    dataset_urls = [
        os.path.join(
            os.path.dirname(original_dataset_url),
            dataset_url) for dataset_url in dataset_urls]
    return dataset_urls[:-1], dataset_urls[-1]


def reference_parse(files, data_type="train", use_raw=False):
    """The tutorial's TxtDataParse.parse loop (no callback), for comparison."""
    x_data, y_data = [], []
    for f in files:
        if not (f and os.path.exists(f)):
            continue
        with open(f, encoding="utf-8") as fin:
            res = [line.strip().split() for line in fin.readlines()]
        for tup in res:
            if not len(tup):
                continue
            if use_raw:
                x_data.append(tup)
            else:
                x_data.append(tup[0])
                if data_type != "test":
                    y_data.append(tup[1] if len(tup) > 1 else 0)
    return x_data, y_data


def write(path, text, mode="w"):
    if mode == "wb":
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return str(path)


def assert_same(arr, expected):
    ref = np.array(expected)
    assert arr.dtype == ref.dtype, (arr.dtype, ref.dtype)
    assert arr.shape == ref.shape
    assert arr.tolist() == ref.tolist()


# ------------------------------------------------------------------- txt basics
def test_txt_first_and_second_field(tmp_path):
    f = write(tmp_path / "i.txt", "a.png b.png c.png\nd.png e.png\n\n  f.png  \n")
    ds = TxtDataParse(data_type="train").parse(f)
    assert ds.x.tolist() == ["a.png", "d.png", "f.png"]
    assert ds.y.tolist() == ["b.png", "e.png", "0"]
    assert ds.y.dtype == np.array(["b.png", 0]).dtype  # '<U21', as np.array gives
    assert len(ds) == ds.num_examples() == 3
    assert ds.meta_attr is None and ds.process_func is None


def test_txt_only_one_field_gives_integer_zero_labels(tmp_path):
    f = write(tmp_path / "i.txt", "a\nb\n")
    ds = TxtDataParse("eval").parse(f)
    assert_same(ds.y, [0, 0])


def test_txt_test_data_has_no_labels(tmp_path):
    f = write(tmp_path / "i.txt", "a.png b.png\nc.png d.png\n")
    ds = TxtDataParse("test").parse(f)
    assert ds.is_test_data
    assert ds.x.tolist() == ["a.png", "c.png"]
    assert ds.y.size == 0


def test_txt_use_raw(tmp_path):
    f = write(tmp_path / "i.txt", "a b c\nd e f\n")
    ds = TxtDataParse("train").parse(f, use_raw=True)
    assert_same(ds.x, [["a", "b", "c"], ["d", "e", "f"]])
    assert ds.y.size == 0
    g = write(tmp_path / "j.txt", "a b c\nd e\n")
    ragged = TxtDataParse("train").parse(g, use_raw=True)
    assert ragged.x.dtype == object
    assert ragged.x.tolist() == [["a", "b", "c"], ["d", "e"]]


def test_txt_several_files_missing_skipped(tmp_path, caplog):
    f = write(tmp_path / "a.txt", "x1 y1\n")
    g = write(tmp_path / "b.txt", "x2 y2\n")
    with caplog.at_level(logging.WARNING, logger="sedna"):
        ds = TxtDataParse("train").parse(f, "", None, str(tmp_path / "nope.txt"), g)
    assert ds.x.tolist() == ["x1", "x2"] and ds.y.tolist() == ["y1", "y2"]
    assert any("nope.txt" in r.getMessage() for r in caplog.records)


def test_txt_no_existing_file_is_an_error(tmp_path):
    missing = str(tmp_path / "missing.txt")
    with pytest.raises(DataFileNotFoundError) as err:
        TxtDataParse("train").parse(missing, "")
    assert "missing.txt" in str(err.value)
    with pytest.raises(DataFileNotFoundError):
        TxtDataParse("train").parse()
    assert isinstance(err.value, FileNotFoundError)


def test_txt_empty_file(tmp_path):
    f = write(tmp_path / "e.txt", "\n\n")
    ds = TxtDataParse("train").parse(f)
    assert len(ds) == 0 and ds.x.size == 0 and ds.y.size == 0


def test_txt_file_url(tmp_path):
    f = write(tmp_path / "i.txt", "a b\n")
    ds = TxtDataParse("train").parse("file://" + f)
    assert ds.x.tolist() == ["a"]


# ------------------------------------------------------------- tutorial callback
def test_tutorial_callback(tmp_path, monkeypatch):
    root = tmp_path / "dataset"
    root.mkdir()
    index = write(root / "index.txt",
                  "real/berlin/img_1.png real/berlin/depth_1.png real/berlin/label_1.png\n"
                  "real/bochum/img_2.png real/bochum/depth_2.png real/bochum/label_2.png\n"
                  "\n")  # a blank last line: skipped, not passed to the callback
    monkeypatch.setenv("ORIGINAL_DATASET_URL", index)
    train_data = TxtDataParse(data_type="train", func=_load_txt_dataset)
    train_data.parse(index, use_raw=False)
    base = str(root)
    assert train_data.x.shape == (2, 2)
    assert train_data.x.tolist() == [
        [os.path.join(base, "real/berlin/img_1.png"), os.path.join(base, "real/berlin/depth_1.png")],
        [os.path.join(base, "real/bochum/img_2.png"), os.path.join(base, "real/bochum/depth_2.png")]]
    assert train_data.y.tolist() == [os.path.join(base, "real/berlin/label_1.png"),
                                     os.path.join(base, "real/bochum/label_2.png")]


def test_registered_callback_by_name(tmp_path):
    @ClassFactory.register(ClassType.CALLBACK, alias="test_ds_upper_cb")
    class Upper:
        def __call__(self, line):
            a, b = line.split()
            return a.upper(), b

    try:
        f = write(tmp_path / "i.txt", "a b\nc d\n")
        ds = TxtDataParse("train", func="test_ds_upper_cb").parse(f)
        assert ds.x.tolist() == ["A", "C"] and ds.y.tolist() == ["b", "d"]
    finally:
        ClassFactory.unregister(ClassType.CALLBACK, "test_ds_upper_cb")


def test_unknown_callback_name_lists_registered(tmp_path):
    def keep(line):
        return line.split()

    ClassFactory.register_cls(keep, ClassType.CALLBACK, alias="test_ds_keep_cb")
    try:
        with pytest.raises(UnknownPluginError) as err:
            TxtDataParse("train", func="no_such_callback")
        assert "no_such_callback" in str(err.value)
        assert "test_ds_keep_cb" in str(err.value)
        # a registered plain function is used as is
        ds = TxtDataParse("train", func="test_ds_keep_cb")
        assert ds.process_func is keep
    finally:
        ClassFactory.unregister(ClassType.CALLBACK, "test_ds_keep_cb")


# --------------------------------------------------------------- malformed lines
def _strict_cb(line):
    parts = line.split()
    if parts[0] == "bad":
        raise ValueError("bad sample")
    if parts[0] == "str":
        return "oops"
    if parts[0] == "empty":
        return ()
    return parts[0], parts[-1]


BAD_INDEX = "a 1\nbad 2\nstr 3\n\nempty 4\nb 5\n"


def test_malformed_line_strict(tmp_path):
    f = write(tmp_path / "i.txt", BAD_INDEX)
    with pytest.raises(DataParseError) as err:
        TxtDataParse("train", func=_strict_cb).parse(f)
    assert err.value.path == f and err.value.line == 2
    assert "bad sample" in str(err.value) and f in str(err.value)
    for text, line, word in (("a 1\nstr 3\n", 2, "str"), ("a 1\n\nempty 4\n", 3, "empty")):
        g = write(tmp_path / "j.txt", text)
        with pytest.raises(DataParseError) as err:
            TxtDataParse("train", func=_strict_cb).parse(g)
        assert err.value.line == line and word in err.value.reason


def test_malformed_lines_lenient(tmp_path, caplog):
    f = write(tmp_path / "i.txt", BAD_INDEX)
    with caplog.at_level(logging.WARNING, logger="sedna"):
        ds = TxtDataParse("train", func=_strict_cb).parse(f, strict=False)
    assert ds.x.tolist() == ["a", "b"] and ds.y.tolist() == ["1", "5"]
    assert [(p, n) for p, n, _ in ds.skipped] == [(f, 2), (f, 3), (f, 5)]
    warnings = [r for r in caplog.records if "skipped 3" in r.getMessage()]
    assert len(warnings) == 1


def test_invalid_utf8_is_a_parse_error(tmp_path):
    f = write(tmp_path / "i.txt", b"a b\nc \xff\xfe d\n", mode="wb")
    with pytest.raises(DataParseError) as err:
        TxtDataParse("train").parse(f)
    assert err.value.line == 2


# ------------------------------------------------- vectorised path == reference
PIECES = ["a", "bb", "img_01.png", "x/y/z.png", "é", "ü/ß.png", "日本", " ", "  ", "\t",
          "\n", "\r\n", "\r", "\x0b", "\x1c", "\xa0", "\u3000", "\x07", "\n\n", "0"]


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(PIECES), max_size=40), st.sampled_from(["train", "test"]),
       st.integers(min_value=4, max_value=64))
def test_fast_path_matches_reference(tmp_path_factory, monkeypatch, pieces, data_type, chunk):
    monkeypatch.setattr(_txtscan, "CHUNK", chunk)
    d = tmp_path_factory.mktemp("h")
    f = write(d / "i.txt", "".join(pieces))
    x_ref, y_ref = reference_parse([f], data_type)
    if not x_ref:
        ds = TxtDataParse(data_type).parse(f)
        assert ds.x.size == 0 and ds.y.size == 0
        return
    ds = TxtDataParse(data_type).parse(f)
    assert_same(ds.x, x_ref)
    if data_type == "test":
        assert ds.y.size == 0
    else:
        assert_same(ds.y, y_ref)
    raw = TxtDataParse(data_type).parse(f, use_raw=True)
    raw_ref, _ = reference_parse([f], data_type, use_raw=True)
    if len({len(r) for r in raw_ref}) == 1:
        assert_same(raw.x, raw_ref)
    else:
        assert raw.x.tolist() == raw_ref


TOKENS = st.text(alphabet="abz09/._-é", min_size=1, max_size=12)
LINES = st.lists(st.lists(TOKENS, min_size=1, max_size=4), max_size=30)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(LINES, st.sampled_from([" ", "\t", " ", "  "]), st.sampled_from(["\n", "\r\n", "\n"]),
       st.booleans(), st.integers(min_value=8, max_value=200))
def test_structured_lines_match_reference(tmp_path_factory, monkeypatch, lines, sep, eol,
                                          final_eol, chunk):
    monkeypatch.setattr(_txtscan, "CHUNK", chunk)
    text = eol.join(sep.join(tokens) for tokens in lines) + (eol if final_eol else "")
    f = write(tmp_path_factory.mktemp("s") / "i.txt", text)
    x_ref, y_ref = reference_parse([f])
    ds = TxtDataParse("train").parse(f)
    if not x_ref:
        assert ds.x.size == 0
        return
    assert_same(ds.x, x_ref)
    assert_same(ds.y, y_ref)
    raw_ref, _ = reference_parse([f], use_raw=True)
    raw = TxtDataParse("train").parse(f, use_raw=True)
    if len({len(r) for r in raw_ref}) == 1:
        assert_same(raw.x, raw_ref)
    else:
        assert raw.x.tolist() == raw_ref


def test_regular_and_irregular_chunks_mixed(tmp_path, monkeypatch):
    monkeypatch.setattr(_txtscan, "CHUNK", 64)
    lines = []
    for i in range(300):
        if i % 37 == 0:
            lines.append(f"  spaced_{i}\t\tlab_{i}  ")
        elif i % 53 == 0:
            lines.append(f"únï_{i} lab_{i}")
        elif i % 41 == 0:
            lines.append(f"single_{i}")
        else:
            lines.append(f"p/img_{i}.png p/lab_{i}.png p/extra_{i}.png")
    f = write(tmp_path / "i.txt", "\r\n".join(lines))
    x_ref, y_ref = reference_parse([f])
    ds = TxtDataParse("train").parse(f, f)
    assert_same(ds.x, x_ref * 2)
    assert_same(ds.y, y_ref * 2)


def test_long_line_longer_than_chunk(tmp_path, monkeypatch):
    monkeypatch.setattr(_txtscan, "CHUNK", 16)
    long = "L" * 200
    f = write(tmp_path / "i.txt", f"a b\n{long} {long}x\nc d")
    ds = TxtDataParse("train").parse(f)
    assert ds.x.tolist() == ["a", long, "c"]
    assert ds.y.tolist() == ["b", long + "x", "d"]


# ------------------------------------------------------------------------ save
def test_save_and_load_without_pickle(tmp_path):
    f = write(tmp_path / "i.txt", "a b\nc d\n")
    ds = TxtDataParse("eval").parse(f)
    out = ds.save(str(tmp_path / "ds.npz"))
    with np.load(out, allow_pickle=False) as z:  # would fail on pickled content
        assert z["x"].tolist() == ["a", "c"]
    back = BaseDataSource.load(out)
    assert back.x.tolist() == ["a", "c"] and back.y.tolist() == ["b", "d"]
    assert back.data_type == "eval"
    g = write(tmp_path / "r.txt", "a b c\nd e\n")
    ragged = TxtDataParse("train").parse(g, use_raw=True)
    out = ragged.save(str(tmp_path / "r.npz"))
    assert BaseDataSource.load(out).x.tolist() == [["a", "b", "c"], ["d", "e"]]
    out = ragged.save(str(tmp_path / "r.json"))
    assert json.loads((tmp_path / "r.json").read_text())["x"] == [["a", "b", "c"], ["d", "e"]]


def test_base_parse_not_implemented():
    with pytest.raises(NotImplementedError):
        BaseDataSource().parse("x")


# ------------------------------------------------------------------------- CSV
def test_csv_numeric_features_and_label(tmp_path):
    """As the original: x a DataFrame, y a Series (more in test_tabular.py)."""
    f = write(tmp_path / "d.csv", "a,b,label\n1,2.5,0\n3,4,1\n")
    ds = CSVDataParse("train").parse(f, label="label")
    assert ds.columns == ["a", "b"] and list(ds.x.columns) == ["a", "b"]
    assert ds.x.to_numpy().tolist() == [[1.0, 2.5], [3.0, 4.0]] and ds.x["b"].dtype == np.float64
    assert ds.y.tolist() == [0, 1] and ds.y.dtype == np.int64
    assert ds.meta_attr is None


def test_csv_strings_usecols_test_and_func(tmp_path):
    f = write(tmp_path / "d.csv", "city,img,label\nberlin,a.png,x\nbochum,b.png,y\n")
    ds = CSVDataParse("train").parse(f, label="label", usecols="img,label")
    assert ds.columns == ["img"] and ds.x["img"].tolist() == ["a.png", "b.png"]
    assert ds.y.tolist() == ["x", "y"]
    test = CSVDataParse("test").parse(f)
    assert test.x.shape == (2, 3) and test.y is None

    def only_berlin(df):  # the callback gets the whole DataFrame
        return df[df["city"] == "berlin"]

    ds = CSVDataParse("train", func=only_berlin).parse(f, label="label")
    assert ds.x.to_numpy().tolist() == [["berlin", "a.png"]] and ds.y.tolist() == ["x"]


def test_csv_wrong_column_count(tmp_path):
    f = write(tmp_path / "d.csv", "a,b,label\n1,2,0\n1,2\n3,4,1\n")
    with pytest.raises(DataParseError) as err:
        CSVDataParse("train").parse(f, label="label")
    assert err.value.line == 3 and err.value.path == f
    ds = CSVDataParse("train").parse(f, label="label", strict=False)
    assert ds.x.to_numpy().tolist() == [[1, 2], [3, 4]] and len(ds.skipped) == 1


def test_csv_missing_file(tmp_path):
    with pytest.raises(DataFileNotFoundError):
        CSVDataParse("train").parse(str(tmp_path / "nope.csv"))


# ------------------------------------------------------------------------ JSON
def test_json_lines_and_array(tmp_path):
    f = write(tmp_path / "d.jsonl", '{"x": [1, 2], "y": 0}\n\n{"x": [3, 4], "y": 1}\n')
    ds = JSONDataParse("train").parse(f)
    assert ds.x.tolist() == [[1, 2], [3, 4]] and ds.y.tolist() == [0, 1]
    g = write(tmp_path / "d.json", json.dumps([{"a": 1, "b": 2, "cls": "u"},
                                               {"a": 3, "b": 4, "cls": "v"}]))
    ds = JSONDataParse("train").parse(g, label="cls")
    assert ds.columns == ["a", "b"] and ds.x.tolist() == [[1, 2], [3, 4]]
    assert ds.y.tolist() == ["u", "v"]
    test = JSONDataParse("test").parse(g, label="cls")
    assert test.y.size == 0


def test_json_func(tmp_path):
    f = write(tmp_path / "d.jsonl", '{"img": "a.png", "lab": "b.png"}\n')
    ds = JSONDataParse("train", func=lambda r: (r["img"], r["lab"])).parse(f)
    assert ds.x.tolist() == ["a.png"] and ds.y.tolist() == ["b.png"]


def test_json_malformed(tmp_path):
    f = write(tmp_path / "d.jsonl", '{"x": 1, "y": 0}\n{"x": 2, \n{"x": 3, "y": 1}\n')
    with pytest.raises(DataParseError) as err:
        JSONDataParse("train").parse(f)
    assert err.value.line == 2
    ds = JSONDataParse("train").parse(f, strict=False)
    assert ds.x.tolist() == [1, 3] and len(ds.skipped) == 1
    g = write(tmp_path / "d.json", '[{"x": 1},\n {"x": }]')
    with pytest.raises(DataParseError) as err:
        JSONDataParse("train").parse(g)
    assert err.value.line == 2


# ---------------------------------------------------------------------- remote
def test_txt_over_http(tmp_path, monkeypatch):
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    for k in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(k, raising=False)
    write(tmp_path / "index.txt", "a.png b.png\nc.png d.png\n")

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0),
                                functools.partial(Quiet, directory=str(tmp_path)))
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{httpd.server_address[1]}"
        ds = TxtDataParse("train").parse(f"{base}/index.txt")
        assert ds.x.tolist() == ["a.png", "c.png"] and ds.y.tolist() == ["b.png", "d.png"]
        with pytest.raises(DataFileNotFoundError):
            TxtDataParse("train").parse(f"{base}/missing.txt")
    finally:
        httpd.shutdown()
        httpd.server_close()
