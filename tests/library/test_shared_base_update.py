"""With ``update_base=True`` the shared base learns in every update: the previous base continues on the round's
new rows with as many old rows replayed from the tasks' buffers (``base_replay``), and a
new task starts from it. Small torch nets that record what each training saw."""

import pytest

pytest.importorskip("torch")

from test_backward_transfer import CountingNet, _ll, _tasks  # noqa: E402

from sedna.core.lifelong_learning import kb_doc  # noqa: E402


@pytest.fixture(autouse=True)
def _no_lc(monkeypatch):
    monkeypatch.delenv("LC_SERVER", raising=False)


def _round1(tmp_path, **kw):
    ll = _ll(tmp_path, CountingNet(epochs=4), **kw)
    return ll.train(_tasks(("a", 40, 0.0), ("b", 40, 0.3)))["index_url"]


def _update(tmp_path, index, **kw):
    kw.setdefault("update_base", True)
    ll = _ll(tmp_path, CountingNet(epochs=4), **kw)
    CountingNet.trainings.clear()
    ll.update(_tasks(("c", 40, 0.6)), index_url=index)
    return ll._serving().doc


def _base_trainings():
    """The trainings that saw every task (a refresh sees one old task and the new one)."""
    return [(metas, n, warm) for metas, n, warm in CountingNet.trainings if metas == ("a", "b", "c")]


def test_an_update_continues_the_base_on_the_new_rows_and_as_many_old_ones(tmp_path):
    doc = _update(tmp_path, _round1(tmp_path), base_replay=1.0)
    ((metas, rows, warm),) = _base_trainings()
    assert metas == ("a", "b", "c")  # old tasks' rows replayed with the new task's
    assert rows == 2 * 40  # the 40 new rows and 40 replayed (base_replay 1.0)
    assert warm  # continued from the previous base, not from scratch
    base = doc["base_model"]
    assert base["trained_version"] == 2 and base["n_samples"] == 80 and base["init_from"] == kb_doc.BASE_ENTRY


def test_a_new_task_starts_from_the_base_that_learned_its_rows(tmp_path):
    doc = _update(tmp_path, _round1(tmp_path))
    (c,) = [g for g in doc["task_groups"] if g["entry"].startswith("c.")]
    assert c["model"]["init_from"] == kb_doc.BASE_ENTRY
    order = [metas for metas, _, _ in CountingNet.trainings]
    assert order.index(("a", "b", "c")) < order.index(("c",))  # the base first, then the task from it


def test_by_default_an_updated_base_replays_every_stored_row(tmp_path):
    doc = _update(tmp_path, _round1(tmp_path))
    ((_, rows, _),) = _base_trainings()
    assert rows == doc["base_model"]["n_samples"] > 80  # a's and b's buffers whole, minus held-out rows
    with pytest.raises(ValueError, match="base_replay"):
        _ll(tmp_path, CountingNet(), base_replay=-1)


def test_without_update_base_the_default_the_first_rounds_base_is_kept(tmp_path):
    doc = _update(tmp_path, _round1(tmp_path), update_base=False)
    assert not _base_trainings()
    assert doc["base_model"]["trained_version"] == 1
