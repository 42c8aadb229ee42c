"""On Kubernetes too, a job whose Dataset's index cannot be read says why it waits: the
node agent's pass puts the watcher's finding on the Dataset, the operator's observation
carries it into reconcile (the agent's and the operator's own functions, no API server)."""

from sedna.control.conditions import wallclock
from sedna.control.reconcile import reconcile
from sedna.control.rounds import IndexWatcher
from sedna.runtimes.kubernetes import samples
from sedna.runtimes.kubernetes.jobs import _dataset_obs


def test_the_waiting_job_names_the_missing_index_then_counts_again(tmp_path):
    index = tmp_path / "data.txt"
    ds = {"metadata": {"name": "d", "namespace": "default"}, "spec": {"url": str(index), "format": "txt"}}
    job = {"metadata": {"name": "j", "namespace": "default", "generation": 1},
           "spec": {"dataset": {"name": "d"}, "outputDir": str(tmp_path / "out"),
                    "trainSpec": {"trigger": {"condition": {"operator": ">", "threshold": 10}}}}}
    watcher = IndexWatcher()

    def agent_pass():
        patch, _, _ = samples.advance(watcher, ds, str(tmp_path / "agent"))
        ds["status"] = dict(ds.get("status") or {}, **patch)

    def waiting():
        res = reconcile(dict(job, status={}, state={}), _dataset_obs(job, ds, {}), [], wallclock())
        return res.status["conditions"][-1]["message"]

    agent_pass()
    assert ds["status"]["conditions"][-1]["type"] == "IndexMissing"
    assert waiting() == f"waiting for training samples: the Dataset's index file {index} does not exist"
    index.write_text("a\nb\n")
    agent_pass()
    assert ds["status"]["conditions"][-1]["status"] == "False"
    assert waiting() == "waiting for training samples: 2 new, trains when > 10"
