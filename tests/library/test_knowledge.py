"""The knowledge base on real folders, real SQLite and real threads."""

import json
import os
import subprocess
import sys
import textwrap
import threading
import uuid

import pytest

from sedna.common.exceptions import (CorruptKnowledgeBaseError, DataFileNotFoundError,
                                     KnowledgeBaseError)
from sedna.knowledge import (INDEX_NAME, INDEX_SCHEMA_VERSION, EdgeKBCache, KBVersion,
                             KnowledgeBase, VersionWriter)
from support.paths import SRC
from support.waiting import wait_for


def write_version(kb, tag, parent=None, groups=("g0", "g1"), samples=None):
    """Commit one version whose model files contain ``tag``."""
    w = kb.begin_version(parent=parent)
    doc_groups = []
    for i, entry in enumerate(groups):
        with open(w.path(f"models/{entry}.model"), "w") as f:
            f.write(f"{tag}:{entry}")
        doc_groups.append({
            "entry": entry,
            "model": {"url": f"models/{entry}.model", "metrics": {"acc": 0.5 + i / 10}},
            "tasks": [{"entry": f"{entry}-t{j}", "meta_attr": f"city-{j}", "n_samples": 10 + j}
                      for j in range(2)],
        })
    return w.commit({"task_groups": doc_groups, "note": tag}, samples=samples)


def model_text(version, entry="g0"):
    with open(version.local_path(f"models/{entry}.model")) as f:
        return f.read()


@pytest.fixture
def kb(tmp_path):
    return KnowledgeBase(str(tmp_path / "kb"))


# ------------------------------------------------------------ write and read
def test_two_versions_latest_and_current(kb):
    assert kb.versions() == [] and kb.latest() is None and kb.current() is None
    v1 = write_version(kb, "one")
    v2 = write_version(kb, "two", parent=v1)
    assert (v1.number, v2.number) == (1, 2)
    assert kb.versions() == [1, 2]
    assert kb.latest().number == 2 and kb.current().number == 2
    assert v2.parent_version == 1 and v1.parent_version is None
    assert v2.doc["schema_version"] == INDEX_SCHEMA_VERSION and v2.doc["note"] == "two"
    assert v2.created_at.endswith("+00:00")
    assert model_text(kb.load(1)) == "one:g0" and model_text(kb.load()) == "two:g0"
    assert kb.load(2).resolve("models/g1.model") == \
        os.path.join(kb.root_url, "versions", "0002", "models", "g1.model")
    assert kb.load(2).resolve("/abs/x") == "/abs/x"
    assert kb.load(2).resolve("s3://b/x") == "s3://b/x"
    assert os.path.isdir(os.path.join(kb.root_url, "versions", "0001"))
    # no staging left behind
    assert [n for n in os.listdir(os.path.join(kb.root_url, "versions")) if n.startswith(".")] == []


def test_root_pointer_is_an_index_with_base_url(kb):
    v1 = write_version(kb, "one")
    pointer = KnowledgeBase.open_index(kb.index_url)
    assert pointer.number == 1
    assert pointer.base_url == v1.base_url
    assert pointer.url == kb.index_url
    assert model_text(pointer) == "one:g0"
    assert pointer == v1  # same number, created_at, base_url


def test_artifact_dir_and_version_numbering(kb):
    v1 = write_version(kb, "one")
    w = kb.begin_version(parent=v1)
    assert isinstance(w, VersionWriter) and w.number == 2
    d = w.artifact_dir("models/real.model")
    assert os.path.isdir(d)
    assert os.path.basename(os.path.dirname(os.path.dirname(d))).startswith(".tmp-")
    with open(os.path.join(d, "weights.bin"), "wb") as f:
        f.write(b"w")
    v2 = w.commit({"task_groups": [{"entry": "real", "model": {"url": "models/real.model"}}]})
    assert os.path.isfile(v2.local_path("models/real.model/weights.bin"))
    # a parent with a higher number pushes numbering past it
    fake_parent = KBVersion("x", "/nowhere", {"version": 7, "task_groups": []})
    assert kb.begin_version(parent=fake_parent).number == 8


def test_artifact_paths_cannot_escape_the_version(kb):
    w = kb.begin_version()
    for bad in ("../x", "/etc/passwd", "a/../../x", INDEX_NAME):
        with pytest.raises(ValueError):
            w.path(bad)
    w.abort()
    assert kb.versions() == []


def test_commit_refuses_invalid_documents(kb):
    w = kb.begin_version()
    with pytest.raises(CorruptKnowledgeBaseError, match="task_groups"):
        w.commit({"groups": []})
    with pytest.raises(CorruptKnowledgeBaseError, match="model"):
        w.commit({"task_groups": [{"entry": "g"}]})
    with pytest.raises(CorruptKnowledgeBaseError, match="not written"):
        w.commit({"task_groups": [{"entry": "g", "model": {"url": "models/none.model"}}]})
    with pytest.raises(KnowledgeBaseError):
        w.commit({"task_groups": [], "bad": object()})
    assert kb.versions() == [] and kb.current() is None
    w.abort()
    assert [n for n in os.listdir(os.path.join(kb.root_url, "versions"))
            if not n.endswith(".lock")] == []


def test_absolute_model_urls_reuse_older_artifacts(kb):
    v1 = write_version(kb, "one")
    w = kb.begin_version(parent=v1)
    v2 = w.commit({"task_groups": [{"entry": "g0",
                                    "model": {"url": v1.resolve("models/g0.model")}}]})
    with open(v2.local_path(v2.task_groups[0]["model"]["url"])) as f:
        assert f.read() == "one:g0"
    assert v2.model_urls() == {"g0": v1.resolve("models/g0.model")}
    w = kb.begin_version(parent=v2)
    w.copy_from(v1, "models/g1.model")
    w.copy_from(v1, "models", "old-models")
    v3 = w.commit({"task_groups": [{"entry": "g1", "model": {"url": "models/g1.model"}},
                                   {"entry": "g0", "model": {"url": "old-models/g0.model"}}]})
    assert model_text(v3, "g1") == "one:g1"
    assert open(v3.local_path("old-models/g0.model")).read() == "one:g0"


def test_writer_context_manager_aborts_on_error(kb):
    with pytest.raises(RuntimeError):
        with kb.begin_version() as w:
            open(w.path("m.bin"), "wb").close()
            raise RuntimeError("training failed")
    assert not os.path.exists(w.staging)


# ------------------------------------------------------------------- rollback
def test_rollback_in_one_call(kb):
    v1 = write_version(kb, "one")
    write_version(kb, "two", parent=v1)
    back = kb.rollback(1)
    assert back.number == 1
    assert kb.current().number == 1
    assert kb.latest().number == 2
    assert kb.versions() == [1, 2]
    assert model_text(kb.load()) == "one:g0"
    assert KnowledgeBase.open_index(kb.index_url).number == 1
    # next version continues after the highest, not after the current one
    v3 = write_version(kb, "three", parent=kb.current())
    assert v3.number == 3 and v3.parent_version == 1
    with pytest.raises((DataFileNotFoundError, CorruptKnowledgeBaseError)):
        kb.rollback(9)
    assert kb.current().number == 3


# -------------------------------------------------------------------- crashes
def test_exception_before_publish_keeps_previous_version(kb):
    v1 = write_version(kb, "one")

    def crash(writer):
        raise RuntimeError("power cut")

    kb._before_publish = crash
    w = kb.begin_version(parent=v1)
    open(w.path("models/g0.model"), "w").write("two:g0")
    with pytest.raises(RuntimeError, match="power cut"):
        w.commit({"task_groups": [{"entry": "g0", "model": {"url": "models/g0.model"}}]})
    kb._before_publish = None
    assert kb.versions() == [1]
    assert kb.current().number == 1 and model_text(kb.load()) == "one:g0"
    # the writer is still alive (its staging is locked), so begin_version keeps it
    w2 = kb.begin_version(parent=v1)
    assert os.path.isdir(w.staging)
    w.abort()
    assert not os.path.exists(w.staging)
    open(w2.path("models/g0.model"), "w").write("two:g0")
    v2 = w2.commit({"task_groups": [{"entry": "g0", "model": {"url": "models/g0.model"}}]})
    assert v2.number == 2 and kb.current().number == 2


def test_process_killed_between_staging_and_publish(kb):
    write_version(kb, "one")
    script = textwrap.dedent(f"""
        import os
        from sedna.knowledge import KnowledgeBase
        kb = KnowledgeBase({kb.root_url!r})
        kb._before_publish = lambda writer: os._exit(3)
        w = kb.begin_version()
        with open(w.path("models/g0.model"), "w") as f:
            f.write("two:g0")
        w.commit({{"task_groups": [{{"entry": "g0", "model": {{"url": "models/g0.model"}}}}]}})
        os._exit(0)
    """)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run([sys.executable, "-c", script], timeout=60, env=env)
    assert proc.returncode == 3
    versions_dir = os.path.join(kb.root_url, "versions")
    leftovers = [n for n in os.listdir(versions_dir) if n.startswith(".tmp-")
                 and not n.endswith(".lock")]
    assert len(leftovers) == 1  # the dead writer's complete staging, index.json included
    assert os.path.exists(os.path.join(versions_dir, leftovers[0], INDEX_NAME))
    assert kb.versions() == [1]
    assert kb.current().number == 1 and model_text(kb.load()) == "one:g0"
    w = kb.begin_version()  # cleans the dead writer's staging
    assert w.number == 2
    assert not os.path.exists(os.path.join(versions_dir, leftovers[0]))
    open(w.path("models/g0.model"), "w").write("two:g0")
    w.commit({"task_groups": [{"entry": "g0", "model": {"url": "models/g0.model"}}]})
    assert kb.current().number == 2 and kb.versions() == [1, 2]


# --------------------------------------------------------------- corruption
def _corrupt_truncate(index_path, version_dir):
    data = open(index_path, "rb").read()
    open(index_path, "wb").write(data[: len(data) // 2])


def _corrupt_bad_json(index_path, version_dir):
    open(index_path, "w").write("{not json")


def _corrupt_schema(index_path, version_dir):
    doc = json.load(open(index_path))
    doc["schema_version"] = 99
    json.dump(doc, open(index_path, "w"))


def _corrupt_no_groups(index_path, version_dir):
    doc = json.load(open(index_path))
    del doc["task_groups"]
    json.dump(doc, open(index_path, "w"))


def _corrupt_missing_model(index_path, version_dir):
    os.remove(os.path.join(version_dir, "models", "g1.model"))


@pytest.mark.parametrize("corrupt, reason", [
    (_corrupt_truncate, "JSON"),
    (_corrupt_bad_json, "JSON"),
    (_corrupt_schema, "schema_version"),
    (_corrupt_no_groups, "task_groups"),
    (_corrupt_missing_model, "g1"),
])
def test_corrupt_version_is_reported_and_skipped(kb, corrupt, reason):
    v1 = write_version(kb, "one")
    v2 = write_version(kb, "two", parent=v1)
    corrupt(v2.url, v2.base_url)
    with pytest.raises(CorruptKnowledgeBaseError) as info:
        KnowledgeBase.open_index(v2.url)
    assert v2.url in str(info.value) and reason in str(info.value)
    with pytest.raises(CorruptKnowledgeBaseError):
        kb.load(2)
    assert kb.versions() == [1]
    assert kb.latest().number == 1
    assert kb.sync_catalog().version_numbers() == {1}  # the mirror drops it too
    assert KnowledgeBase(kb.root_url).catalog.version_numbers() == {1}
    # a new version is numbered after the corrupt folder, never overwriting it
    assert write_version(kb, "three", parent=kb.latest()).number == 3


def test_open_index_missing_file(tmp_path):
    with pytest.raises((DataFileNotFoundError, CorruptKnowledgeBaseError), match="nothing.json"):
        KnowledgeBase.open_index(str(tmp_path / "nothing.json"))


# ------------------------------------------------------------------- catalog
SAMPLES = {"g0-t0": (["a.png", "b.png"], ["a_lbl.png", "b_lbl.png"]),
           "g1-t1": ([["x1", "x2"]], [None])}


def test_catalog_queries(kb):
    v1 = write_version(kb, "one", samples=SAMPLES)
    write_version(kb, "two", parent=v1, groups=("g0",))
    cat = kb.catalog
    assert [r["number"] for r in cat.versions()] == [1, 2]
    assert cat.versions()[1]["parent"] == 1
    models = cat.models(1)
    assert [m["entry"] for m in models] == ["g0", "g1"]
    assert models[1]["metrics"] == {"acc": 0.6}
    assert models[0]["url"] == v1.resolve("models/g0.model")
    assert [g["n_samples"] for g in cat.task_groups(1)] == [21, 21]
    tasks = cat.tasks(1)
    assert len(tasks) == 4
    assert tasks[0] == {"group_entry": "g0", "entry": "g0-t0", "meta_attr": "city-0",
                        "n_samples": 10}
    assert cat.relations(1)[:2] == [{"group_entry": "g0", "task_entry": "g0-t0"},
                                    {"group_entry": "g0", "task_entry": "g0-t1"}]
    assert len(cat.tasks(2)) == 2 and len(cat.models(2)) == 1
    assert cat.models()[0]["url"].endswith(os.path.join("0002", "models", "g0.model"))
    assert cat.samples(1, "g0-t0") == [
        {"task_entry": "g0-t0", "x": "a.png", "y": "a_lbl.png"},
        {"task_entry": "g0-t0", "x": "b.png", "y": "b_lbl.png"}]
    assert cat.samples(1, "g1-t1") == [{"task_entry": "g1-t1", "x": '["x1", "x2"]', "y": None}]
    assert len(cat.samples(1)) == 3 and cat.samples(2) == []


def test_catalog_rebuild_after_deleting_the_file(kb):
    write_version(kb, "one", samples=SAMPLES)
    write_version(kb, "two")
    before = (kb.catalog.models(1), kb.catalog.tasks(2), kb.catalog.samples(1))
    os.remove(kb.catalog_path)
    fresh = KnowledgeBase(kb.root_url)  # a new process would see the same
    assert (fresh.catalog.models(1), fresh.catalog.tasks(2), fresh.catalog.samples(1)) == before
    assert os.path.exists(kb.catalog_path)
    cat = kb.rebuild_catalog()
    assert (cat.models(1), cat.tasks(2), cat.samples(1)) == before


def test_corrupt_catalog_is_rebuilt(kb):
    write_version(kb, "one", samples=SAMPLES)
    with open(kb.catalog_path, "wb") as f:
        f.write(b"this is not an sqlite database" * 100)
    fresh = KnowledgeBase(kb.root_url)
    assert [m["entry"] for m in fresh.catalog.models(1)] == ["g0", "g1"]
    assert len(fresh.catalog.samples(1)) == 3


# -------------------------------------------------------------- remote root
def test_remote_root_through_fsspec(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    root = f"memory://kb-{uuid.uuid4().hex}"
    kb = KnowledgeBase(root)
    assert kb.catalog_path.startswith(str(tmp_path / "cache"))
    v1 = write_version(kb, "one", samples=SAMPLES)
    v2 = write_version(kb, "two", parent=v1)
    assert v2.base_url == root + "/versions/0002"
    assert kb.versions() == [1, 2] and kb.current().number == 2
    local = v2.local_path("models/g0.model")
    assert local.startswith(str(tmp_path / "cache")) and model_text(v2) == "two:g0"
    kb.rollback(1)
    assert KnowledgeBase.open_index(kb.index_url).number == 1
    assert kb.catalog.samples(1, "g0-t0")[0]["x"] == "a.png"
    assert KnowledgeBase(root, catalog_path=str(tmp_path / "c2.sqlite")).catalog.models(2)


# --------------------------------------------------------------- edge cache
def _loader(calls):
    def load(version):
        calls.append(version.number)
        return {"number": version.number, "model": model_text(version)}
    return load


def test_edge_cache_check_swaps_to_new_version(kb):
    v1 = write_version(kb, "one")
    calls, swaps = [], []
    cache = EdgeKBCache(kb.index_url, _loader(calls), on_swap=lambda v, o: swaps.append(v.number))
    version, obj = cache.load()
    assert version.number == 1 and obj["model"] == "one:g0"
    assert cache.current == (version, obj)
    assert cache.check() is False and calls == [1]  # unchanged: nothing reloaded
    write_version(kb, "two", parent=v1)
    assert cache.check() is True
    assert cache.current[0].number == 2 and cache.current[1]["model"] == "two:g0"
    assert swaps == [2]
    assert cache.check() is False
    kb.rollback(1)
    assert cache.check() is True and cache.current[1]["model"] == "one:g0"


def test_edge_cache_loader_failure_keeps_old_version(kb):
    v1 = write_version(kb, "one")

    def loader(version):
        if version.number == 2:
            raise OSError("model file unreadable")
        return version.number

    cache = EdgeKBCache(kb.index_url, loader)
    cache.load()
    write_version(kb, "two", parent=v1)
    assert cache.check() is False
    assert cache.current[0].number == 1 and cache.current[1] == 1


def test_edge_cache_corrupt_index_keeps_old_version(kb):
    write_version(kb, "one")
    cache = EdgeKBCache(kb.index_url, lambda v: v.number)
    cache.load()
    with open(kb.index_url, "w") as f:
        f.write("{broken")
    assert cache.check() is False and cache.current[1] == 1


def test_edge_cache_polling_thread(kb, monkeypatch):
    v1 = write_version(kb, "one")
    monkeypatch.setenv("MODEL_POLL_PERIOD_SECONDS", "0.02")
    calls = []
    cache = EdgeKBCache(kb.index_url, _loader(calls))
    cache.start()
    try:
        assert cache._thread.daemon
        assert wait_for(lambda: cache.current is not None)  # first load happens at once
        assert cache.current[0].number == 1
        write_version(kb, "two", parent=v1)
        assert wait_for(lambda: cache.current[0].number == 2)
        assert cache.current[1]["model"] == "two:g0"
    finally:
        thread = cache._thread
        cache.stop(timeout=5)
    assert not thread.is_alive() and not cache.running


def test_edge_cache_readers_always_see_consistent_pairs(kb):
    v = write_version(kb, "one")
    cache = EdgeKBCache(kb.index_url, lambda ver: ("model", ver.number), poll_period=0.005)
    cache.load()
    bad = []
    stop = threading.Event()

    def reader():
        while not stop.is_set():
            version, obj = cache.current
            if obj[1] != version.number:
                bad.append((version.number, obj))

    readers = [threading.Thread(target=reader, daemon=True) for _ in range(2)]
    for r in readers:
        r.start()
    cache.start()
    try:
        for i in range(3):
            v = write_version(kb, f"v{i}", parent=v, groups=("g0",))
            assert wait_for(lambda n=v.number: cache.current[0].number == n)
    finally:
        cache.stop(timeout=5)
        stop.set()
        for r in readers:
            r.join(5)
    assert bad == []
