"""Worker subprocesses of the local runtime: real processes, bounded waits."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sedna.common.exceptions import WorkerError
from sedna.runtimes.local.workers import (ImageMap, LocalLauncher, WorkerRecord, WorkerSpec, follow_log,
                                          parse_memory, process_start_time)
from support.paths import DATA
from support.waiting import wait_for

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the local runtime is Linux only")

SCRIPTS = DATA / "workerscripts"
IMAGE = "example.io/sedna/worker:v1"


def template(args, env=None, command=None, **container):
    c = {"name": "worker", "image": IMAGE, "args": args}
    if command is not None:
        c["command"] = command
    if env:
        c["env"] = [{"name": k, "value": v} for k, v in env.items()]
    volumes = container.pop("volumes", None)
    c.update(container)
    spec = {"containers": [c]}
    if volumes:
        spec["volumes"] = volumes
    return {"spec": spec}


@pytest.fixture
def launcher(tmp_path):
    la = LocalLauncher(tmp_path / "state", ImageMap({IMAGE: str(SCRIPTS)}))
    started = []
    orig = la.start

    def start(spec):
        rec = orig(spec)
        started.append(rec)
        return rec

    la.start = start
    yield la
    for rec in started:
        la.stop(rec, grace=1.0)


def finished(la, rec, timeout=20.0):
    return wait_for(lambda: (lambda s: s if s.phase != "Running" else None)(la.poll(rec)), timeout)


def printed_json(la, rec):
    for line in la.read_log(rec).splitlines():
        if line.startswith("{"):
            return json.loads(line)
    raise AssertionError(la.read_log(rec))


# ------------------------------------------------------------------ quantities and image map

@pytest.mark.parametrize("text,expected", [
    ("12Gi", 12 * 1024 ** 3), ("256Mi", 256 * 1024 ** 2), ("1G", 10 ** 9), ("500k", 500_000),
    ("1Ki", 1024), ("2Ti", 2 * 1024 ** 4), ("1M", 10 ** 6), ("1T", 10 ** 12), ("1024", 1024),
    (2048, 2048), ("1.5Gi", int(1.5 * 1024 ** 3)), ("1e9", 10 ** 9),
])
def test_parse_memory(text, expected):
    assert parse_memory(text) == expected


@pytest.mark.parametrize("bad", ["", "12Gb", "abc", "-1Gi", "1.2.3Mi", "Gi", -5, True])
def test_parse_memory_rejects(bad):
    with pytest.raises(WorkerError):
        parse_memory(bad)


def test_image_map_resolution(tmp_path):
    a, b, c, d = (tmp_path / n for n in "abcd")
    for p in (a, b, c, d):
        p.mkdir()
    m = ImageMap({"repo/x:v1": str(a), "repo/y": str(b), "localhost:5000/z": str(d)})
    assert m.resolve("repo/x:v1") == a  # exact
    assert m.resolve("repo/y:v7") == b  # without tag
    assert m.resolve("repo/y@sha256:abcd") == b  # without digest
    assert m.resolve("localhost:5000/z:v2") == d  # a registry port is not a tag
    with pytest.raises(WorkerError) as e:
        m.resolve("repo/x:v2")
    assert "repo/x:v2" in str(e.value) and "--image" in str(e.value)
    star = m.merge(ImageMap({"*": str(c)}))
    assert star.resolve("other/image:1") == c  # default
    assert star.resolve("repo/x:v1") == a
    # workingDir wins over the map when it is a folder; otherwise the map is used
    assert m.resolve("repo/x:v1", working_dir=str(d)) == d
    assert m.resolve("repo/x:v1", working_dir=str(tmp_path / "missing")) == a
    # a mapped folder that does not exist
    with pytest.raises(WorkerError, match="not a folder"):
        ImageMap({"i": str(tmp_path / "nope")}).resolve("i")


def test_image_map_from_args_and_file(tmp_path, monkeypatch):
    (tmp_path / "w").mkdir()
    monkeypatch.chdir(tmp_path)
    m = ImageMap.from_args(["img:1=w", "other=/abs/x"])
    assert m.lookup("img:1") == tmp_path / "w" and m.lookup("other:3") == Path("/abs/x")
    with pytest.raises(WorkerError, match="IMAGE=DIR"):
        ImageMap.from_args(["no-equals-sign"])
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    (cfg / "sedna.yaml").write_text("images:\n  img: ../w\n  '*': /default\n")
    f = ImageMap.from_file(cfg / "sedna.yaml")
    assert f.lookup("img:9") == tmp_path / "w" and f.lookup("zzz") == Path("/default")
    (cfg / "images.json").write_text(json.dumps({"images": {"img": "/json"}}))
    j = ImageMap.from_file(cfg / "images.json")
    merged = f.merge(j)
    assert merged.lookup("img") == Path("/json") and merged.lookup("q") == Path("/default")
    (cfg / "bad.yaml").write_text("images: [1, 2]\n")
    with pytest.raises(WorkerError):
        ImageMap.from_file(cfg / "bad.yaml")


# ------------------------------------------------------------------ running workers

def test_success_env_and_python(launcher, tmp_path):
    contract = {"NAMESPACE": "default", "JOB_NAME": "job1", "WORKER_NAME": "job1-train-1",
                "LC_SERVER": "http://127.0.0.1:9100", "OUTPUT_URL": "/out/train/1"}
    tpl = template(["printenv.py"], env={"num_class": "24", "WORKER_NAME": "hijack", "OUTPUT_URL": "/mine"})
    rec = launcher.start(WorkerSpec("job1-train-1", "default", "job1", "train", 1, tpl, contract))
    assert rec.pid > 0 and rec.start_time > 0
    st = finished(launcher, rec)
    assert (st.phase, st.exit_code) == ("Succeeded", 0), launcher.read_log(rec)
    out = printed_json(launcher, rec)
    env = out["env"]
    assert env["num_class"] == "24"  # template env added
    assert env["JOB_NAME"] == "job1" and env["LC_SERVER"] == "http://127.0.0.1:9100"  # contract injected
    assert env["WORKER_NAME"] == "job1-train-1"  # contract wins for protected names
    assert env["OUTPUT_URL"] == "/mine"  # template wins otherwise
    assert "_SEDNA_WORKER_PYTHONPATH" not in env
    assert out["cwd"] == str(SCRIPTS)
    assert os.path.realpath(out["exe"]) == os.path.realpath(sys.executable)  # args ["train.py"]-style
    assert out["argv"][0] == str(SCRIPTS / "printenv.py")
    assert rec.log_path.endswith("default_job1-train-1.log")
    rec2 = WorkerRecord.from_dict(json.loads(json.dumps(rec.to_dict())))
    assert rec2 == rec


def test_command_python_and_clean_env(tmp_path, monkeypatch):
    monkeypatch.setenv("SOME_CONTROLLER_SECRET", "x")
    monkeypatch.setenv("OMP_NUM_THREADS", "3")  # the thread count the user chose is passed on
    la = LocalLauncher(tmp_path / "s", ImageMap({"*": str(SCRIPTS)}))
    rec = la.start(WorkerSpec("w", "ns1", template=template(["printenv.py", "--flag"], command=["python3"])))
    assert finished(la, rec).phase == "Succeeded"
    out = printed_json(la, rec)
    assert "SOME_CONTROLLER_SECRET" not in out["env"]
    assert out["env"]["OMP_NUM_THREADS"] == "3"
    assert out["env"]["OMP_WAIT_POLICY"] == "PASSIVE"  # idle OpenMP threads sleep: no spinning on busy cores
    assert out["argv"][1:] == ["--flag"]
    assert rec.log_path.endswith("ns1_w.log")


def test_failure_exit_code_and_log_tail(launcher):
    rec = launcher.start(WorkerSpec("bad", template=template(["fail.py"])))
    st = finished(launcher, rec)
    assert (st.phase, st.exit_code) == ("Failed", 1)
    assert "boom: something went wrong" in st.log_tail and "fail.py starting" in st.log_tail
    # a second start appends to the same log, and the tail only shows the new run
    rec2 = launcher.start(WorkerSpec("bad", template=template(["printenv.py"])))
    st2 = finished(launcher, rec2)
    assert st2.phase == "Succeeded" and "boom" not in st2.log_tail
    log = launcher.read_log("bad")
    assert log.count("===== ") == 2 and "boom" in log
    assert launcher.read_log(rec2, tail=1).startswith("{")


@pytest.mark.parametrize("tpl,message", [
    (template(["missing.py"]), "missing.py not found"),
    (template(["printenv.py"], image="unmapped/image:3"), "--image unmapped/image:3=DIR"),
    ({"spec": {"containers": [{"name": "w", "image": IMAGE, "args": ["printenv.py"],
                               "env": [{"name": "X", "valueFrom": {"secretKeyRef": {}}}]}]}},
     "not supported locally"),
    (template([], command=["no-such-command-xyz"]), "not found on PATH"),
    (template([]), "neither command nor args"),
    ({"spec": {}}, "no containers"),
    (template(["printenv.py"], volumeMounts=[{"name": "v", "mountPath": "/x"}]), "unknown volume"),
    (template(["printenv.py"], volumeMounts=[{"name": "v", "mountPath": "/x"}],
              volumes=[{"name": "v", "configMap": {"name": "c"}}]), "not supported"),
    (template(["printenv.py"], resources={"limits": {"memory": "lots"}}), "invalid memory quantity"),
])
def test_start_errors(launcher, tpl, message):
    with pytest.raises(WorkerError) as e:
        launcher.start(WorkerSpec("w", template=tpl))
    assert message in str(e.value)
    assert not list((launcher.state_dir / "tmp").iterdir())


def test_working_dir_wins(tmp_path):
    wd = tmp_path / "wd"
    wd.mkdir()
    (wd / "printenv.py").write_text((SCRIPTS / "printenv.py").read_text())
    la = LocalLauncher(tmp_path / "s", ImageMap({IMAGE: str(SCRIPTS)}))
    rec = la.start(WorkerSpec("w", template=template(["printenv.py"], workingDir=str(wd))))
    assert finished(la, rec).phase == "Succeeded"
    assert printed_json(la, rec)["cwd"] == str(wd)


def test_host_path_rewrite_and_empty_dir(launcher, tmp_path):
    host = tmp_path / "host" / "unseen"
    tpl = template(
        ["sleeper.py"],
        env={"unseen_save_url": "/data/unseen_samples", "RESULTS": "/data/unseen_samples/r1;/other/x",
             "NOT_UNDER": "/data/unseen_samples_other", "CACHE": "/cache/sub", "CHILD_PID_FILE": "/cache/pids"},
        volumeMounts=[{"name": "unseen", "mountPath": "/data/unseen_samples"},
                      {"name": "cache", "mountPath": "/cache"},
                      {"name": "shm", "mountPath": "/dev/shm"}],
        volumes=[{"name": "unseen", "hostPath": {"path": str(host), "type": "DirectoryOrCreate"}},
                 {"name": "cache", "emptyDir": {}},
                 {"name": "shm", "emptyDir": {"medium": "Memory", "sizeLimit": "256Mi"}}])
    rec = launcher.start(WorkerSpec("infer", template=tpl))
    assert host.is_dir()  # DirectoryOrCreate
    assert len(rec.temp_dirs) == 3 and all(os.path.isdir(d) for d in rec.temp_dirs)  # 2 emptyDirs, its scratch HOME
    cache = [d for d in rec.temp_dirs if d.endswith("cache")][0]
    wait_for(lambda: os.path.exists(os.path.join(cache, "pids")))  # the worker wrote into the emptyDir
    worker_pid = int(Path(cache, "pids").read_text().split()[0])
    env = dict(kv.split("=", 1) for kv in Path(f"/proc/{worker_pid}/environ").read_text().split("\0") if "=" in kv)
    assert env["unseen_save_url"] == str(host)
    assert env["RESULTS"] == f"{host}/r1;/other/x"
    assert env["NOT_UNDER"] == "/data/unseen_samples_other"  # path-component boundary
    assert env["CACHE"] == os.path.join(cache, "sub")
    launcher.stop(rec, grace=2.0)
    assert not any(os.path.exists(d) for d in rec.temp_dirs)
    assert host.is_dir()  # host paths are kept
    assert launcher.poll(rec).phase == "Failed"
    launcher.stop(rec)  # idempotent


def test_memory_limit(launcher):
    small = launcher.start(WorkerSpec("small", template=template(
        ["alloc.py"], env={"ALLOC_MB": "600"}, resources={"limits": {"memory": "300Mi"}})))
    big = launcher.start(WorkerSpec("big", template=template(
        ["alloc.py"], env={"ALLOC_MB": "600"}, resources={"limits": {"memory": "2Gi"}})))
    s_small, s_big = finished(launcher, small), finished(launcher, big)
    assert s_small.phase == "Failed" and s_small.exit_code != 0 and "MemoryError" in s_small.log_tail
    assert (s_big.phase, s_big.exit_code) == ("Succeeded", 0), s_big.log_tail
    assert small.memory_limit == 300 * 1024 ** 2


def test_tiny_memory_limit_is_clamped(launcher, caplog):
    rec = launcher.start(WorkerSpec("tiny", template=template(
        ["printenv.py"], resources={"limits": {"memory": "10Mi"}})))
    assert rec.memory_limit == 256 * 1024 ** 2
    assert "raised to 256Mi" in caplog.text
    assert finished(launcher, rec).phase == "Succeeded"


def _gone(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except OSError:
        return True


def test_stop_kills_worker_and_children(launcher, tmp_path):
    (tmp_path / "out").mkdir()  # a folder of the worker's own: the one above holds the state folder
    pidfile = tmp_path / "out" / "pids"
    rec = launcher.start(WorkerSpec("sleepy", template=template(["sleeper.py"], env={"CHILD_PID_FILE": str(pidfile)})))
    wait_for(pidfile.exists)
    worker, child = map(int, pidfile.read_text().split())
    assert launcher.poll(rec).phase == "Running"
    t0 = time.monotonic()
    launcher.stop(rec, grace=5.0)
    assert time.monotonic() - t0 < 5.0  # SIGTERM sufficed
    wait_for(lambda: _gone(worker) and _gone(child) and _gone(rec.pid), timeout=5)
    st = launcher.poll(rec)
    assert (st.phase, st.exit_code) == ("Failed", -15)


def test_stop_escalates_to_sigkill(launcher, tmp_path):
    script = tmp_path / "stubborn.py"
    script.write_text("import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                      "print('ready', flush=True)\ntime.sleep(60)\n")
    la = LocalLauncher(launcher.state_dir, ImageMap({IMAGE: str(tmp_path)}))
    rec = la.start(WorkerSpec("stubborn", template=template(["stubborn.py"])))
    wait_for(lambda: "ready" in la.read_log(rec))
    la.stop(rec, grace=0.3)
    assert _gone(rec.pid)
    assert la.poll(rec).phase == "Failed"


def test_adoption_after_restart(tmp_path):
    state = tmp_path / "state"
    go = tmp_path / "go"
    a = LocalLauncher(state, ImageMap({IMAGE: str(SCRIPTS)}))
    rec = a.start(WorkerSpec("adoptee", template=template(["waitgo.py"], env={"GO_FILE": str(go), "EXIT_CODE": "3"})))
    wait_for(lambda: "waiting for" in a.read_log(rec))
    stored = json.loads(json.dumps(rec.to_dict()))  # as kept in the database

    b = LocalLauncher(state, ImageMap({}))  # a restarted controller
    loaded = WorkerRecord.from_dict(stored)
    assert b.adopt(loaded) is True
    assert b.poll(loaded).phase == "Running"
    go.write_text("")
    st = wait_for(lambda: (lambda s: s if s.phase != "Running" else None)(b.poll(loaded)))
    assert (st.phase, st.exit_code) == ("Failed", 3)
    assert "go" in st.log_tail
    assert b.adopt(loaded) is True  # finished with a known exit code
    a.poll(rec)  # reap the zombie

    # the same with a worker that succeeds
    go2 = tmp_path / "go2"
    rec2 = a.start(WorkerSpec("adoptee2", template=template(["waitgo.py"], env={"GO_FILE": str(go2)})))
    loaded2 = WorkerRecord.from_dict(rec2.to_dict())
    c = LocalLauncher(state)
    assert c.adopt(loaded2) and c.poll(loaded2).phase == "Running"
    go2.write_text("")
    st2 = wait_for(lambda: (lambda s: s if s.phase != "Running" else None)(c.poll(loaded2)))
    assert (st2.phase, st2.exit_code) == ("Succeeded", 0)
    a.poll(rec2)


def test_adopted_stop(tmp_path):
    (tmp_path / "out").mkdir()  # a folder of the worker's own: the one above holds the state folder
    pidfile = tmp_path / "out" / "pids"
    a = LocalLauncher(tmp_path / "state", ImageMap({IMAGE: str(SCRIPTS)}))
    rec = a.start(WorkerSpec("s", template=template(["sleeper.py"], env={"CHILD_PID_FILE": str(pidfile)})))
    wait_for(pidfile.exists)
    worker, child = map(int, pidfile.read_text().split())
    b = LocalLauncher(tmp_path / "state")
    loaded = WorkerRecord.from_dict(rec.to_dict())
    assert b.adopt(loaded)
    b.stop(loaded, grace=5.0)
    a.poll(rec)
    wait_for(lambda: _gone(worker) and _gone(child) and _gone(rec.pid), timeout=5)
    st = b.poll(loaded)
    assert st.phase == "Failed" and st.exit_code in (-15, -9)


def test_unknown_when_pid_absent_or_reused(tmp_path):
    la = LocalLauncher(tmp_path / "state")
    p = subprocess.Popen(["true"])
    dead_start = process_start_time(p.pid)
    p.wait()
    base = dict(name="ghost", namespace="default", log_path=str(tmp_path / "none.log"), cwd=str(tmp_path),
                argv=["x"], created_at=time.time(), exit_file=str(tmp_path / "none.exit"))
    absent = WorkerRecord(pid=p.pid, start_time=dead_start or 1, **base)
    assert la.poll(absent).phase == "Unknown" and la.adopt(absent) is False
    # a pid now used by another process (ours), with another start time
    reused = WorkerRecord(pid=os.getpid(), start_time=process_start_time(os.getpid()) + 1, **base)
    assert la.poll(reused).phase == "Unknown" and la.adopt(reused) is False
    la.stop(reused, grace=0.1)  # must not signal the unrelated process (this test process survives)
    # another boot
    other_boot = WorkerRecord(pid=os.getpid(), start_time=process_start_time(os.getpid()), boot_id="x", **base)
    assert la.poll(other_boot).phase == "Unknown"


def test_follow_log(tmp_path):
    path = tmp_path / "f.log"
    lines = []
    state = {"n": 0}

    def should_stop():
        state["n"] += 1
        if state["n"] == 2:
            path.write_text("one\ntwo\n")
        elif state["n"] == 4:
            with open(path, "a") as f:
                f.write("three\npartial")
        return len(lines) >= 3 and state["n"] > 5

    for line in follow_log(path, should_stop=should_stop, poll_interval=0.001):
        lines.append(line)
    assert lines == ["one", "two", "three", "partial"]


def test_follow_running_worker(launcher, tmp_path):
    go = tmp_path / "go"
    rec = launcher.start(WorkerSpec("f", template=template(["waitgo.py"], env={"GO_FILE": str(go)})))
    seen = []

    def should_stop():
        if any("waiting for" in s for s in seen) and not go.exists():
            go.write_text("")
        return launcher.poll(rec).phase != "Running"

    for line in launcher.follow_log(rec, should_stop=should_stop, poll_interval=0.01):
        seen.append(line)
    assert any(s == "go" for s in seen)
