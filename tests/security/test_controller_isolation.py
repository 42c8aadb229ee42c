"""One bad object never stops the others (issue 8, findings 1 and 4, and the
deploy copy of finding 1), with a real `sedna up`, real files and real FIFOs.

Each broken object below used to stop every job sorted after it: an
exception ended the controller's whole pass, or ``open()`` of a FIFO blocked
its thread for ever. Now the broken object gets a condition that names the
problem, is retried with backoff, and the next job still starts its round.

Objects that validation now refuses (a huge ``checkPeriodSeconds``, a status
that is not a list of conditions, an env value with NUL) are written into the
state database before the server starts, as an older version would have
stored them."""

import os
import stat
import threading

import pytest

from support.ctlplane import ControlPlane, DigitsIndex, manifests
from support.waiting import wait_for
from sedna.runtimes.local.store import Store

pytest.importorskip("sklearn")

JOB, DATASET = "LifelongLearningJob", "Dataset"


# ------------------------------------------------------------------ helpers

def _docs(tmp_path, prefix, threshold, **kw):
    """A Dataset ``<prefix>-data`` and a job ``<prefix>-job`` on the digits workers."""
    data = DigitsIndex(str(tmp_path / prefix / "data"))
    results = str(tmp_path / prefix / "results")
    os.makedirs(tmp_path / prefix / "test_data", exist_ok=True)
    ds, job = manifests(data.index, str(tmp_path / prefix / "out"), str(tmp_path / prefix / "test_data"), results,
                        threshold=threshold, **kw)
    ds["metadata"]["name"] = f"{prefix}-data"
    job["metadata"]["name"] = f"{prefix}-job"
    job["spec"]["dataset"]["name"] = f"{prefix}-data"
    return data, ds, job


def _seed(cp, objects, statuses=()):
    """Store ``objects`` (as given: no validation) and ``(kind, name, status, state)`` before `sedna up`."""
    from sedna.control.resources import validate

    os.makedirs(cp.state_dir, mode=0o700, exist_ok=True)
    store = Store(os.path.join(cp.state_dir, "state.db"))
    try:
        for obj in objects:
            try:
                obj = validate(obj)
            except ValueError:
                pass  # what an older version accepted: stored as it is
            obj["metadata"].setdefault("namespace", "default")
            store.apply(obj)
        for kind, name, status, state in statuses:
            store.update_status(kind, "default", name, status, state)
    finally:
        store.close()


def _conditions(cp, kind, name):
    """The object's conditions that are mappings (a broken status may hold others)."""
    return [c for c in (cp.get(kind, name).get("status") or {}).get("conditions") or [] if isinstance(c, dict)]


def _round_one_started(cp, job):
    worker = f"{job}-train-1"
    return lambda: any(w["name"] == worker for w in cp.workers()) and any(
        c.get("reason") == "TriggerFired" for c in _conditions(cp, "ll", job))


def _condition(cp, kind, name, ctype, *fragments):
    def check():
        for c in _conditions(cp, kind, name):
            if c.get("type") == ctype and all(f in c.get("message", "") for f in fragments):
                return c
        return None
    return check


# ------------------------------------------------------------------ one broken object, the next job goes on

def _break(case, tmp_path, bad_ds, bad_job):
    """Break the ``aa`` objects in one way; returns (statuses to seed, what to wait for on the broken one)."""
    if case == "dataset-url-is-a-folder":
        folder = str(tmp_path / "a-folder")
        os.makedirs(folder)
        bad_ds["spec"]["url"] = folder
        return [], ("ds", "aa-data", "IndexUnreadable", folder, "is a folder")
    if case == "dataset-url-is-a-fifo":
        fifo = str(tmp_path / "index.fifo")
        os.mkfifo(fifo)
        bad_ds["spec"]["url"] = fifo
        return [], ("ds", "aa-data", "IndexUnreadable", fifo, "FIFO")
    if case == "unseen-txt-is-a-fifo":
        unseen = tmp_path / "aa" / "unseen"
        os.makedirs(unseen)
        os.mkfifo(unseen / "unseen.txt")  # what any inference worker can leave in its unseen_save_url
        env = bad_job["spec"]["deploySpec"]["template"]["spec"]["containers"][0]["env"]
        next(e for e in env if e["name"] == "unseen_save_url")["value"] = str(unseen)
        return [], ("ll", "aa-job", "ReconcileError", str(unseen / "unseen.txt"), "FIFO", "next try in")
    if case == "status-conditions-not-mappings":
        return [(JOB, "aa-job", {"conditions": [42]}, {})], \
            ("ll", "aa-job", "ReconcileError", "status.conditions[0]: must be a mapping", "next try in")
    if case == "check-period-overflows":
        bad_job["spec"]["trainSpec"]["trigger"]["checkPeriodSeconds"] = 10 ** 14
        return [(JOB, "aa-job", {}, {"round": 0, "attempt": 0, "last_check": "2026-01-01T00:00:00Z"})], \
            ("ll", "aa-job", "ReconcileError", "checkPeriodSeconds", "31536000", "next try in")
    raise AssertionError(case)


@pytest.mark.parametrize("case", ["dataset-url-is-a-folder", "dataset-url-is-a-fifo", "unseen-txt-is-a-fifo",
                                  "status-conditions-not-mappings", "check-period-overflows"])
def test_a_broken_object_sorted_first_never_stops_the_next_job(tmp_path, case):
    _, bad_ds, bad_job = _docs(tmp_path, "aa", threshold=10)
    good, good_ds, good_job = _docs(tmp_path, "zz", threshold=10)
    statuses, (kind, name, ctype, *fragments) = _break(case, tmp_path, bad_ds, bad_job)
    good.append(good.lines("plain", 20))  # 16 new training samples > 10: round 1 at the first look
    cp = ControlPlane(str(tmp_path))
    _seed(cp, [bad_ds, bad_job, good_ds, good_job], statuses)
    cp.start()
    try:
        wait_for(_round_one_started(cp, "zz-job"), timeout=120, what="round 1 of the job sorted after the broken one")
        cond = wait_for(_condition(cp, kind, name, ctype, *fragments), timeout=60,
                        what=f"a {ctype} condition on {name} naming the problem")
        assert cond["status"] == "True"
        assert cp.healthy()
    finally:
        cp.stop()


def test_a_job_recovers_once_the_fifo_is_gone(tmp_path):
    data, ds, job = _docs(tmp_path, "aa", threshold=10)
    statuses, _ = _break("unseen-txt-is-a-fifo", tmp_path, ds, job)
    data.append(data.lines("plain", 20))
    cp = ControlPlane(str(tmp_path))
    _seed(cp, [ds, job], statuses)
    cp.start()
    try:
        fifo = str(tmp_path / "aa" / "unseen" / "unseen.txt")
        wait_for(_condition(cp, "ll", "aa-job", "ReconcileError", fifo), timeout=60, what="the error condition")
        os.unlink(fifo)
        wait_for(_round_one_started(cp, "aa-job"), timeout=120, what="the job to go on once the FIFO is gone")
        err = [c for c in _conditions(cp, "ll", "aa-job") if c["type"] == "ReconcileError"]
        assert len(err) == 1 and err[0]["status"] == "False" and err[0]["reason"] == "Recovered"
    finally:
        cp.stop()


# ------------------------------------------------------------------ a worker that cannot start

def test_a_worker_that_cannot_start_fails_with_the_reason_instead_of_pending_for_ever(tmp_path):
    """An env value with NUL (refused at apply now, stored by an older version) cannot reach execve."""
    data, ds, job = _docs(tmp_path, "nul", threshold=10, extra_env={"TOKEN": "abc\x00def"})
    data.append(data.lines("plain", 20))
    cp = ControlPlane(str(tmp_path))
    _seed(cp, [ds, job])
    cp.start()
    try:
        cond = wait_for(_condition(cp, "ll", "nul-job", "Failed", "nul-job-train-1 could not start", "null byte"),
                        timeout=120, what="a Failed condition that says why the worker could not start")
        assert cond["stage"] == "Train" and cond["reason"] == "Retrying"
        w = [w for w in cp.workers() if w["name"] == "nul-job-train-1"][0]
        assert w["phase"] == "Failed"
    finally:
        cp.stop()


# ------------------------------------------------------------------ files the controller reads

def _within(seconds, fn):
    """``fn()``'s result, or AssertionError if it blocks longer than ``seconds`` (a FIFO open would)."""
    out = {}
    t = threading.Thread(target=lambda: out.setdefault("r", _catch(fn)), daemon=True)
    t.start()
    t.join(seconds)
    assert "r" in out, f"blocked for more than {seconds}s"
    return out["r"]


def _catch(fn):
    try:
        return fn()
    except Exception as e:  # noqa: BLE001 - returned for the assertion
        return e


def test_the_index_watcher_refuses_a_fifo_a_folder_and_a_device_without_blocking(tmp_path):
    from sedna.control.rounds import IndexWatcher

    fifo = str(tmp_path / "fifo")
    os.mkfifo(fifo)
    for path, words in ((fifo, "FIFO"), (str(tmp_path), "folder"), ("/dev/null", "character device")):
        lines, _, event = _within(30, lambda path=path: IndexWatcher().poll(path))
        assert lines == [] and event == "NotRegular" and path in event.message and words in event.message


def test_counting_unseen_samples_refuses_a_fifo_without_blocking(tmp_path):
    from sedna.core.unseen_store import count_unseen

    (tmp_path / "unseen.jsonl").write_text('{"n": 3}\n')
    os.mkfifo(tmp_path / "unseen.txt")
    err = _within(30, lambda: count_unseen(str(tmp_path)))
    assert isinstance(err, OSError) and "unseen.txt" in str(err) and "FIFO" in str(err)
    os.unlink(tmp_path / "unseen.txt")
    (tmp_path / "unseen.txt").write_text("a\nb\n")
    assert count_unseen(str(tmp_path)) == 5


# ------------------------------------------------------------------ the deployed index

class _Launcher:
    """Starts nothing; remembers what it was asked to start."""

    def __init__(self):
        self.started = []

    def start(self, spec):
        self.started.append(spec.name)
        return {"name": spec.name, "namespace": spec.namespace}

    def stop(self, record):
        pass


def _job_after_eval(tmp_path, evaluated_index):
    """A store with job ``j`` whose round 1 eval just completed with ``evaluated_index``."""
    from sedna.control.resources import validate
    from sedna.runtimes.local.controller import Controller

    _, _, job = _docs(tmp_path, "j", threshold=10)
    job["metadata"]["name"] = "j"
    out = job["spec"]["outputDir"]
    os.makedirs(out, exist_ok=True)
    store = Store(str(tmp_path / "state.db"))
    store.apply(validate(job))
    done = {"type": "Completed", "status": "True", "stage": "Eval", "reason": "WorkerSucceeded", "message": "j-eval-1",
            "lastTransitionTime": "2026-01-01T00:00:00Z", "lastHeartbeatTime": "2026-01-01T00:00:00Z", "round": 1}
    store.update_status(JOB, "default", "j", {"conditions": [done]},
                        {"round": 1, "attempt": 0, "evaluated_index": evaluated_index, "trained_index": None})
    launcher = _Launcher()
    return store, Controller(store, launcher, "http://127.0.0.1:1", "t"), launcher, out


def _reconcile_twice(store, ctl):
    for _ in range(2):
        ctl.reconcile_job(store.get(JOB, "default", "j", with_state=True))
    return store.get(JOB, "default", "j")["status"]["conditions"]


@pytest.mark.parametrize("source", ["/etc/passwd", "outside", "symlink-inside"])
def test_a_report_pointing_outside_output_dir_is_never_deployed(tmp_path, source):
    secret = tmp_path / "secret.json"
    secret.write_text('{"stolen": true}')
    if source == "outside":
        source = str(secret)
    elif source == "symlink-inside":
        link = tmp_path / "j" / "out" / "eval" / "1" / "index.json"
        link.parent.mkdir(parents=True)
        link.symlink_to(secret)
        source = str(link)
    store, ctl, launcher, out = _job_after_eval(tmp_path, source)
    conds = _reconcile_twice(store, ctl)
    target = os.path.join(out, "deploy", "index.json")
    assert not os.path.lexists(target), "a file from outside outputDir was deployed"
    assert launcher.started == [], "the inference worker was started on it"
    msg = conds[-1]["message"]
    assert conds[-1]["stage"] == "Deploy" and conds[-1]["type"] == "Failed"
    assert "j-deploy-1 could not start: refusing to deploy" in msg and "outside the job's outputDir" in msg
    assert [w["phase"] for w in store.workers("default", "j")] == ["Failed"]


def test_the_deployed_index_is_copied_from_output_dir_with_mode_0640(tmp_path):
    src = tmp_path / "j" / "out" / "eval" / "1" / "index.json"
    src.parent.mkdir(parents=True)
    src.write_text('{"version": 1}')
    os.chmod(src, 0o644)
    old_umask = os.umask(0o022)
    try:
        store, ctl, launcher, out = _job_after_eval(tmp_path, str(src))
        target = os.path.join(out, "deploy", "index.json")
        os.makedirs(os.path.dirname(target))
        with open(target, "w") as f:  # a world-readable leftover is replaced, not kept
            f.write("{}")
        _reconcile_twice(store, ctl)
    finally:
        os.umask(old_umask)
    assert open(target).read() == '{"version": 1}'
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640
    assert launcher.started == ["j-deploy-1"]
    assert [n for n in os.listdir(os.path.dirname(target)) if n != "index.json"] == []  # no temp file left
