"""Both runtimes hand a round the same lines of a Dataset's index.

The same index history — an invalid UTF-8 line, a file rewritten shorter
(truncated), a Dataset whose ``url`` moves to another file — is fed to the
local runtime's controller (SQLite store) and to the Kubernetes runtime's
node agent and operator (sample log, claims in the job's status); each opens
three rounds, and the round files the two write are compared, line by line,
with each other and with what the index watcher's policy hands out."""

import os

import pytest

from sedna.control import pool
from sedna.control.reconcile import Action, ActionKind
from sedna.control.rounds import IndexWatcher
from sedna.runtimes.kubernetes import samples as k8s_samples
from sedna.runtimes.kubernetes.jobs import JobReconciler
from sedna.runtimes.local.controller import Controller
from sedna.runtimes.local.store import Store

NS = "default"


def manifests(url, out, fmt):
    ds = {"apiVersion": "sedna.io/v1alpha1", "kind": "Dataset", "metadata": {"name": "d", "namespace": NS},
          "spec": {"url": str(url), "format": fmt, "nodeName": "n1"}}
    job = {"apiVersion": "sedna.io/v1alpha1", "kind": "LifelongLearningJob", "metadata": {"name": "j", "namespace": NS},
           "spec": {"dataset": {"name": "d", "trainProb": 0.5}, "outputDir": str(out)}}
    return ds, job


def start_round(r):
    return Action(kind=ActionKind.START_ROUND, round=r)


class Local:
    """The local runtime: its controller watches the index into its store and writes round files."""

    def __init__(self, tmp, url, fmt):
        self.out = tmp / "local-out"
        self.store = Store(str(tmp / "state.db"))
        self.ctl = Controller(self.store, None, "http://127.0.0.1:1", "t")
        self.ds, self.job = manifests(url, self.out, fmt)
        self.store.apply(self.ds)
        self.store.apply(self.job)

    def move(self, url):
        self.ds["spec"]["url"] = str(url)
        self.store.apply(self.ds)

    def poll(self):
        self.ctl.check_dataset(self.store.get("Dataset", NS, "d"))

    def open_round(self, r):
        job = self.store.get("LifelongLearningJob", NS, "j", with_state=True)
        n = self.store.get("Dataset", NS, "d")["status"]["numberOfSamples"]
        state = pool.apply_actions(dict(job["state"], data_format=self.ds["spec"]["format"]), [start_round(r)], n,
                                   pool.train_prob(job))
        self.store.update_status("LifelongLearningJob", NS, "j", job["status"], state)
        self.ctl._execute(dict(job, state=state), start_round(r))
        return n


class Kube:
    """The Kubernetes runtime: the node agent logs the samples, the operator writes round files."""

    def __init__(self, tmp, url, fmt):
        self.out = tmp / "kube-out"
        self.state_dir = tmp / "agent-state"
        self.watcher = IndexWatcher()
        self.ds, self.job = manifests(url, self.out, fmt)
        self.state = {"data_format": fmt}
        self.operator = JobReconciler(api=None)

    def move(self, url):
        self.ds["spec"]["url"] = str(url)

    def poll(self):
        patch, _, _ = k8s_samples.advance(self.watcher, self.ds, str(self.state_dir))
        self.ds["status"] = dict(self.ds.get("status") or {}, **patch)  # the agent's status patch

    def open_round(self, r):
        n = self.ds["status"]["numberOfSamples"]
        self.state = pool.apply_actions(self.state, [start_round(r)], n, pool.train_prob(self.job))
        self.operator._write_round(self.job, self.ds, self.state, r)
        return n


def round_files(out, r, fmt):
    name = "data.csv" if fmt == "csv" else "data.txt"
    return [(out / "data" / split / str(r) / name).read_text().splitlines() for split in ("train", "eval")]


@pytest.mark.parametrize("fmt", ["txt", "csv"])
def test_both_runtimes_hand_each_round_the_same_lines(tmp_path, fmt):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    head = b"x,y\n" if fmt == "csv" else b""
    a.write_bytes(head + b"a1\na2\n\xff\xfe not utf-8\na3\n")
    runtimes = [Local(tmp_path, a, fmt), Kube(tmp_path, a, fmt)]

    def poll():
        for rt in runtimes:
            rt.poll()

    def append(path, data):
        with open(path, "ab") as f:
            f.write(data)

    poll()
    append(a, b"a4\n")
    poll()
    assert [rt.open_round(1) for rt in runtimes] == [4, 4]  # the invalid line is no sample
    append(a, b"a5\n")
    poll()  # a5 waits in the pool
    a.write_bytes(head + b"t1\n")  # rewritten shorter: its content is not counted
    os.utime(a)
    poll()
    append(a, b"t2\nt3\n")
    poll()
    assert [rt.open_round(2) for rt in runtimes] == [7, 7]
    b.write_bytes(head + b"b1\nb2\nb3\n")
    for rt in runtimes:
        rt.move(b)
    poll()
    assert [rt.open_round(3) for rt in runtimes] == [10, 10]
    expected = {1: [["a1", "a3"], ["a2", "a4"]], 2: [["a5", "t3"], ["t2"]], 3: [["b2"], ["b1", "b3"]]}
    for r, (train, evals) in expected.items():
        if fmt == "csv":
            train, evals = ["x,y", *train], ["x,y", *evals]
        local, kube = (round_files(rt.out, r, fmt) for rt in runtimes)
        assert local == kube == [train, evals], f"round {r}"
