"""A job on the local runtime says why it waits when its Dataset's index cannot be read,
and says it no more once the index is back (the controller on its real SQLite store)."""

from datetime import datetime, timedelta, timezone

from sedna.runtimes.local.controller import Controller
from sedna.runtimes.local.store import Store

NS = "default"
T0 = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)


def manifests(url, out):
    ds = {"apiVersion": "sedna.io/v1alpha1", "kind": "Dataset", "metadata": {"name": "d"},
          "spec": {"url": str(url), "format": "txt", "nodeName": "localhost"}}
    job = {"apiVersion": "sedna.io/v1alpha1", "kind": "LifelongLearningJob", "metadata": {"name": "j"},
           "spec": {"dataset": {"name": "d", "trainProb": 0.8}, "outputDir": str(out),
                    "trainSpec": {"template": {"spec": {"containers": [{"name": "w", "image": "x"}]}},
                                  "trigger": {"checkPeriodSeconds": 1,
                                              "condition": {"operator": ">", "threshold": 100,
                                                            "metric": "num_of_samples"}}}}}
    return ds, job


def waiting_message(store, minute):
    """One pass of a (fresh) controller at T0 + ``minute`` minutes; the job's last condition."""
    Controller(store, None, "http://127.0.0.1:1", "t", clock=lambda: T0 + timedelta(minutes=minute)).tick()
    cond = store.get("LifelongLearningJob", NS, "j")["status"]["conditions"][-1]
    return cond["type"], cond["message"]


def test_a_job_says_its_datasets_index_is_missing_then_counts_again(tmp_path):
    index = tmp_path / "nowhere" / "data.txt"
    store = Store(str(tmp_path / "state.db"))
    for doc in manifests(index, tmp_path / "out"):
        store.apply(doc)
    assert waiting_message(store, 0) == (
        "Waiting", f"waiting for training samples: the Dataset's index file {index} does not exist")
    index.parent.mkdir()
    index.write_text("a 1\nb 2\n")
    assert waiting_message(store, 1) == ("Waiting", "waiting for training samples: 2 new, trains when > 100")
    index.unlink()
    index.mkdir()  # not a file: unreadable, and said so
    kind, message = waiting_message(store, 2)
    assert kind == "Waiting" and message.startswith(f"waiting for training samples: the Dataset's index file {index}")
    assert "not a regular file" in message
