"""pandas as a first-class data type, with the original's tabular semantics:
CSVDataParse hands its callback the whole DataFrame, TaskDefinitionByDataAttr
groups by attribute columns and drops them from each task's x, the default
allocation reads the definition's attribute, metrics come from sklearn.metrics
with metrics_param, and stored samples keep columns and dtypes without pickle."""


import numpy as np
import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("sklearn")

from sklearn.tree import DecisionTreeClassifier  # noqa: E402

from sedna.algorithms.seen_task_learning.task_allocation import TaskAllocationByDataAttr  # noqa: E402
from sedna.algorithms.seen_task_learning.task_allocation.task_allocation import TaskAllocationDefault  # noqa: E402
from sedna.algorithms.seen_task_learning.task_definition import TaskDefinitionByDataAttr  # noqa: E402
from sedna.common.exceptions import DataParseError, PluginParamError, UnknownPluginError  # noqa: E402
from sedna.core.lifelong_learning import LifelongLearning  # noqa: E402
from sedna.core.lifelong_learning.settings import metric_fns  # noqa: E402
from sedna.datasources import BaseDataSource, CSVDataParse, concat, subset  # noqa: E402

LABEL = "Thermal preference"
OFFSET = {"spring": 0.0, "summer": 4.0, "autumn": -3.0}


def frame(seasons, n, seed=0):
    """Thermal-comfort-like rows: the label depends on temperature and season."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        s = seasons[i % len(seasons)]
        t = float(np.round(rng.normal(22, 5), 2))
        rows.append({"Season": s, "City": f"c{i % 3}", "Temperature": t,
                     "Humidity": float(np.round(rng.uniform(20, 80), 1)),
                     LABEL: int(t + OFFSET[s] > 22) + int(t + OFFSET[s] > 27)})
    return pd.DataFrame(rows)


def write_csv(path, df):
    df.to_csv(path, index=False)
    return str(path)


def drop_city(df):
    """The original's callback style: takes and returns the whole DataFrame."""
    return df.drop(columns=["City"])


class Estimator:
    """An estimator in the original's style (train/predict/evaluate/save/load)."""

    def __init__(self, **kwargs):
        self.model = DecisionTreeClassifier(max_depth=4, random_state=0)

    def train(self, train_data, valid_data=None, **kwargs):
        assert isinstance(train_data.x, pd.DataFrame) and "Season" not in train_data.x.columns
        self.model.fit(train_data.x, train_data.y)
        return {}

    def predict(self, datas, **kwargs):
        return self.model.predict(datas)

    def save(self, model_path):
        import skops.io as sio

        sio.dump(self.model, model_path + ".skops")
        return model_path + ".skops"

    def load(self, model_url):
        import skops.io as sio

        untrusted = sio.get_untrusted_types(file=model_url)
        self.model = sio.load(model_url, trusted=[t for t in untrusted if t.startswith(("sklearn.", "numpy."))])


# ------------------------------------------------------------------- parsing
def test_callback_gets_the_whole_frame_and_may_drop_a_column(tmp_path):
    f = write_csv(tmp_path / "d.csv", frame(["spring", "summer"], 10))
    seen = []

    def cb(df):
        seen.append(len(df))
        return drop_city(df)

    ds = CSVDataParse("train", func=cb).parse(f, label=LABEL)
    assert seen == [10]  # once, with every row
    assert isinstance(ds.x, pd.DataFrame) and list(ds.x.columns) == ["Season", "Temperature", "Humidity"]
    assert isinstance(ds.y, pd.Series) and ds.y.name == LABEL and len(ds.y) == 10
    assert ds.x["Temperature"].dtype == np.float64 and ds.columns == list(ds.x.columns)


def test_several_files_make_one_frame_and_the_label_is_kept_for_test_data(tmp_path):
    a = write_csv(tmp_path / "a.csv", frame(["spring"], 4))
    b = write_csv(tmp_path / "b.csv", frame(["summer"], 3, seed=1))
    ds = CSVDataParse("test", func=drop_city).parse(a, b, label=LABEL)
    assert len(ds.x) == 7 and list(ds.x.index) == list(range(7)) and len(ds.y) == 7
    assert CSVDataParse("test").parse(a).y is None


def test_one_record_dict_as_the_inference_worker_feeds_it(tmp_path):
    """The original's inference worker reads a CSV line with csv.reader and passes
    dict(zip(header, row)): strings that read as numbers become numbers."""
    rec = {"Season": "summer", "City": "c1", "Temperature": "30.5", "Humidity": "40", LABEL: "2"}
    ds = CSVDataParse("test", func=drop_city).parse(rec, label=LABEL)
    assert ds.x.shape == (1, 3) and ds.x["Temperature"].dtype == np.float64 and ds.x["Season"][0] == "summer"
    assert ds.y.tolist() == [2]
    many = CSVDataParse("test").parse([rec, dict(rec, Season="spring")])
    assert len(many.x) == 2


def test_parse_errors_name_the_file_the_line_and_the_callback(tmp_path):
    f = tmp_path / "d.csv"
    f.write_text("Season,Temperature,label\nspring,1,0\nsummer\nspring,2,1\n")
    with pytest.raises(DataParseError) as err:
        CSVDataParse("train").parse(str(f), label="label")
    assert err.value.line == 3
    with pytest.raises(DataParseError, match="label column 'nope'"):
        CSVDataParse("train").parse(str(f), label="nope", strict=False)

    def broken(df):
        raise KeyError("City")

    with pytest.raises(DataParseError, match="callback .*broken raised KeyError"):
        CSVDataParse("train", func=broken).parse(str(f), label="label", strict=False)
    with pytest.raises(DataParseError, match="expected a pandas DataFrame"):
        CSVDataParse("train", func=lambda df: df.to_numpy()).parse(str(f), label="label", strict=False)


# --------------------------------------------------------------- data ops
def test_subset_and_concat_keep_frames_series_and_dtypes():
    src = BaseDataSource("train")
    src.x, src.y = frame(["spring", "summer"], 6).drop(columns=[LABEL]), pd.Series(range(6), name="y")
    part = subset(src, [4, 1])
    assert isinstance(part.x, pd.DataFrame) and list(part.x.index) == [0, 1]
    assert part.x["Temperature"].tolist() == src.x["Temperature"].iloc[[4, 1]].tolist()
    assert part.y.tolist() == [4, 1] and part.index.tolist() == [4, 1]
    both = concat([part, subset(src, [0])])
    assert list(both.x.columns) == list(src.x.columns) and both.y.tolist() == [4, 1, 0]
    assert dict(both.x.dtypes) == dict(src.x.dtypes)


def test_a_list_x_works_where_an_array_does():
    src = BaseDataSource("train")
    src.x, src.y = ["a.png", "b.png", "c.png"], [0, 1, 0]
    part = subset(src, [2, 0])
    assert part.x.tolist() == ["c.png", "a.png"] and part.y.tolist() == [0, 0]
    assert concat([part, src]).x.tolist() == ["c.png", "a.png", "a.png", "b.png", "c.png"]


# ------------------------------------------------- definition and allocation
def _source(df):
    src = BaseDataSource("train")
    src.x, src.y = df.drop(columns=[LABEL]), df[LABEL]
    return src


def test_definition_groups_by_columns_and_drops_them_from_each_task():
    src = _source(frame(["spring", "summer"], 8))
    tasks, ext, _ = TaskDefinitionByDataAttr(attribute=["Season"])(src)
    assert [t.entry for t in tasks] == ["spring.model", "summer.model"]
    assert ext == {"kind": "attribute", "attribute": ["Season"], "base": {"spring": 0, "summer": 1}}
    for t in tasks:
        assert "Season" not in t.samples.x.columns and "City" in t.samples.x.columns
        assert set(t.samples.meta_attr.tolist()) == {t.meta_attr} and len(t.samples.y) == 4
    assert "Season" in src.x.columns  # the caller's data is left as it was
    tasks, ext, _ = TaskDefinitionByDataAttr(attribute="Season, City")(src)
    assert "spring_c0" in ext["base"] and all(t.samples.x.columns.tolist() == ["Temperature", "Humidity"]
                                              for t in tasks)


def test_definition_refuses_a_frame_without_the_attribute():
    with pytest.raises(ValueError, match=r"attribute column\(s\) \['Town'\] not in"):
        TaskDefinitionByDataAttr(attribute=["Town"])(_source(frame(["spring"], 3)))


def test_the_default_allocation_inherits_the_definition_attribute():
    src = _source(frame(["spring", "summer"], 8))
    tasks, ext, _ = TaskDefinitionByDataAttr(attribute=["Season"])(src)
    alloc = TaskAllocationDefault(ext)
    ext = alloc.fit(tasks, ext)
    assert ext["kind"] == "attribute"  # no classifier fitted over the attribute
    new = _source(frame(["summer", "autumn", "spring"], 3))
    samples, ids = TaskAllocationDefault(ext)(new)
    assert list(ids) == [1, -1, 0]
    assert "Season" not in samples.x.columns and samples.meta_attr.tolist() == ["summer", "autumn", "spring"]
    # allocating again (columns already moved to meta_attr) gives the same answer
    assert list(TaskAllocationByDataAttr(ext)(samples)[1]) == [1, -1, 0]


def test_fit_names_tasks_an_update_added():
    ext = {"kind": "attribute", "attribute": ["Season"], "base": {"spring": 0}}
    src = _source(frame(["autumn"], 2))
    tasks, _, _ = TaskDefinitionByDataAttr(attribute=["Season"])(src)
    from sedna.algorithms.seen_task_learning.artifact import Task

    fitted = TaskAllocationDefault(ext).fit([Task("spring.model", None, "spring")] + tasks, ext)
    assert fitted["base"] == {"spring": 0, "autumn": 1}


# ---------------------------------------------------------------- metrics
def test_metric_names_from_sklearn_with_metrics_param():
    fns = metric_fns("precision_score", {"average": "micro"})
    assert fns["precision_score"]([0, 1, 2, 2], [0, 1, 1, 2]) == pytest.approx(0.75)
    fns = metric_fns(["accuracy", "f1_score"], '{"average": "macro"}')
    assert set(fns) == {"accuracy", "f1_score"}
    with pytest.raises(UnknownPluginError):
        metric_fns("no_such_metric")
    with pytest.raises(PluginParamError, match="metrics_param.average"):
        metric_fns("accuracy", {"average": "micro"})


# ------------------------------------------------------------- the engine
@pytest.fixture
def rounds(tmp_path):
    paths = {}
    for name, seasons, n, seed in (("r1", ["spring", "summer"], 160, 0),
                                   ("r2", ["spring", "summer", "autumn"], 240, 1),
                                   ("ev", ["spring", "summer", "autumn"], 90, 2)):
        paths[name] = write_csv(tmp_path / f"{name}.csv", frame(seasons, n, seed))
    return paths


def _parse(path, data_type="train"):
    return CSVDataParse(data_type, func=drop_city).parse(path, label=LABEL)


def test_two_rounds_evaluate_and_infer_through_the_engine(tmp_path, rounds, monkeypatch):
    """train -> evaluate (precision_score, micro) -> update with a new season ->
    evaluate -> inference in input order; stored samples keep their columns."""
    monkeypatch.setenv("OUTPUT_URL", str(tmp_path / "kb"))
    td = {"method": "TaskDefinitionByDataAttr", "param": {"attribute": ["Season"]}}
    res = LifelongLearning(estimator=Estimator, task_definition=td).train(_parse(rounds["r1"]))
    assert set(res["tasks"]) == {"spring.model", "summer.model"}
    ev = LifelongLearning(estimator=Estimator).evaluate(_parse(rounds["ev"], "test"), metrics="precision_score",
                                                        metrics_param={"average": "micro"})
    assert ev["unallocated_samples"] == 30  # autumn: no task yet
    assert all(ev["tasks"][t]["precision_score"] > 0.8 for t in ("spring.model", "summer.model"))

    monkeypatch.setenv("HAS_COMPLETED_INITIAL_TRAINING", "true")
    res = LifelongLearning(estimator=Estimator, task_definition=td).train(_parse(rounds["r2"]))
    assert res["strategies"]["autumn.model"] == "new"
    ev = LifelongLearning(estimator=Estimator).evaluate(_parse(rounds["ev"], "test"), metrics="precision_score",
                                                        metrics_param={"average": "micro"})
    assert ev["unallocated_samples"] == 0 and ev["tasks"]["autumn.model"]["n_samples"] == 30
    assert all(v["precision_score"] > 0.8 for v in ev["tasks"].values())

    # stored samples: a DataFrame again, attribute columns gone, dtypes kept
    from sedna.core.lifelong_learning.training import stored_samples
    from sedna.knowledge import KnowledgeBase

    version = KnowledgeBase(str(tmp_path / "kb")).current()
    gd = next(g for g in version.doc["task_groups"] if g["entry"] == "autumn.model")
    stored = stored_samples(version, gd)
    assert list(stored.x.columns) == ["Temperature", "Humidity"] and stored.x["Temperature"].dtype == np.float64
    assert isinstance(stored.y, pd.Series) and stored.y.name == LABEL and len(stored.y) == 80
    with open(version.local_path(gd["samples_url"]), "rb") as f:
        assert b"pickle" not in f.read()

    data = _parse(rounds["ev"], "test")
    want = data.y.to_numpy()
    result, unseen, _ = LifelongLearning(estimator=Estimator).inference(data)
    assert len(result) == 90 and not np.asarray(unseen).any()
    assert (np.asarray(result) == want).mean() > 0.85  # in input order


def test_stored_frames_keep_strings_missing_values_and_categories(tmp_path):
    from sedna.datasources import frames

    df = pd.DataFrame({"s": pd.Series(["a", None, "c"], dtype="str"), "n": [1.5, np.nan, 3.0],
                       "i": np.array([1, 2, 3], dtype=np.int32), "b": [True, False, True],
                       "c": pd.Categorical(["x", "y", "x"])})
    path = str(tmp_path / "f.npz")
    np.savez(path, **frames.pack("x", df), **frames.pack("y", pd.Series(["p", "q", "r"], name="lab")))
    with np.load(path, allow_pickle=False) as z:
        back, y = frames.unpack(z, "x"), frames.unpack(z, "y")
    assert list(back.columns) == list(df.columns) and dict(back.dtypes) == dict(df.dtypes)
    assert back["s"].isna().tolist() == [False, True, False] and back["s"][2] == "c"
    assert back["c"].tolist() == ["x", "y", "x"] and y.name == "lab" and y.tolist() == ["p", "q", "r"]
    src = BaseDataSource("train")
    src.x, src.y = df, pd.Series([0, 1, 0])
    loaded = BaseDataSource.load(src.save(str(tmp_path / "ds.npz")))
    assert dict(loaded.x.dtypes) == dict(df.dtypes) and loaded.y.tolist() == [0, 1, 0]


def test_a_frame_saved_as_json_comes_back_as_a_frame(tmp_path):
    src = BaseDataSource("train")
    src.x, src.y = pd.DataFrame({"t": [1.5, 2.0], "s": ["a", "b"]}), pd.Series([0, 1])
    back = BaseDataSource.load(src.save(str(tmp_path / "ds.json")))
    assert list(back.x.columns) == ["t", "s"] and back.x["t"].tolist() == [1.5, 2.0] and back.y.tolist() == [0, 1]


def test_inference_with_the_default_recognizer_and_an_estimator_with_predict_proba(tmp_path, rounds, monkeypatch):
    monkeypatch.setenv("OUTPUT_URL", str(tmp_path / "kb"))

    class WithProba(Estimator):
        def predict_proba(self, x):
            return self.model.predict_proba(x)

    td = {"method": "TaskDefinitionByDataAttr", "param": {"attribute": ["Season"]}}
    LifelongLearning(estimator=WithProba, task_definition=td).train(_parse(rounds["r1"]))
    result, _, _ = LifelongLearning(estimator=WithProba).inference(_parse(rounds["ev"], "test"))
    assert len(result) == 90


def test_a_list_x_through_train_evaluate_and_inference(tmp_path):
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)

    def source(n, data_type="train", meta=True):
        s = BaseDataSource(data_type)
        x = rng.normal(size=(n, 3))
        s.x, s.y = x.tolist(), [int(v) for v in x[:, 0] > 0]
        s.meta_attr = ["a" if i % 2 else "b" for i in range(n)] if meta else None
        return s

    ll = LifelongLearning(LogisticRegression(), task_definition={"method": "TaskDefinitionByDataAttr"},
                          output_url=str(tmp_path / "kb"))
    assert set(ll.train(source(60))["tasks"]) == {"a.model", "b.model"}
    ev = ll.evaluate(source(20, "test"), metrics="accuracy")
    assert ev["unallocated_samples"] == 0 and all(t["accuracy"] > 0.7 for t in ev["tasks"].values())
    result, unseen, _ = ll.inference(source(10, "test", meta=False))
    assert len(result) == 10 and all(r in (0, 1) for r in result)


def test_the_default_allocation_picks_the_same_meta_columns_as_the_definition():
    src = BaseDataSource("train")
    src.x = np.zeros((4, 2))
    src.meta_attr = np.array([["x", "spring"], ["y", "summer"], ["x", "summer"], ["z", "spring"]])
    tasks, ext, _ = TaskDefinitionByDataAttr(attribute=[1])(src)
    assert [t.meta_attr for t in tasks] == ["spring", "summer"] and ext["attribute"] == [1]
    new = BaseDataSource("test")
    new.x, new.meta_attr = np.zeros((2, 2)), np.array([["q", "summer"], ["x", "winter"]])
    assert list(TaskAllocationDefault(ext)(new)[1]) == [1, -1]


def test_the_replay_reservoir_keeps_a_frame():
    from sedna.core.lifelong_learning import replay

    old, new = _source(frame(["spring"], 6)), _source(frame(["spring"], 6, seed=3))
    buf, seen = replay.reservoir(old, 60, new, 5, "spring.model@2")
    assert seen == 66 and isinstance(buf.x, pd.DataFrame) and len(buf.x) == 5
    assert list(buf.x.columns) == list(old.x.columns) and isinstance(buf.y, pd.Series) and len(buf.y) == 5


def test_unseen_dataframe_rows_are_saved_without_pickle_and_read_back(tmp_path):
    import pandas as pd

    from sedna.core.unseen_store import save_unseen
    from sedna.datasources.frames import unpack

    s = BaseDataSource("test")
    s.x = pd.DataFrame({"Season": ["autumn", "winter"], "Temp": [11.5, -2.0], "Count": [3, 4]})
    (name,) = save_unseen(s, str(tmp_path))
    with np.load(name, allow_pickle=False) as z:
        back = unpack(z, "x")
    pd.testing.assert_frame_equal(back, s.x)
