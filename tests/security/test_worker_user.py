"""A control plane that runs as root starts its workers as an unprivileged user with
``sedna up --worker-user`` (issue 19, finding 1, the root case). Against a real `sedna up`
without Landlock (``--no-confine``), so that only the user stands between a worker and
the server: the hostile worker runs as ``nobody``, reads no secret by any path tried and
cannot signal the server, and its honest work (output, report) goes through; a digits job
runs its round; a folder the user cannot enter is named in one line; a user that cannot
be taken (root, an unknown name) is refused in one line; handing folders over never follows
a link a worker planted. Where this Python lives in a folder
the user cannot enter (``/root/.pyenv``), no worker can run as it: those tests say so and skip."""

import json
import os
import pwd
import re
import subprocess
import sys
import tempfile

import pytest

from support.ctlplane import ControlPlane, DigitsIndex, last_round, manifests, write_yaml
from support.paths import DATA
from support.waiting import wait_for
from sedna.runtimes.local.sandbox import hand_over, unreachable
from test_worker_confinement import IMAGE, _run

NOBODY = pwd.getpwnam("nobody").pw_uid
PYTHON_DIR = os.path.dirname(os.path.realpath(sys.executable))
pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="only root can start workers as another user")
needs_python = pytest.mark.skipif(
    unreachable(PYTHON_DIR, NOBODY, NOBODY) is not None,
    reason=f"nobody cannot enter this Python's folder ({unreachable(PYTHON_DIR, NOBODY, NOBODY)}), "
           "so no worker can run as nobody here")


@pytest.fixture
def open_tmp():
    """A folder ``nobody`` can enter (pytest's own are root's, mode 0700)."""
    with tempfile.TemporaryDirectory(prefix="sedna-user-test-") as d:
        os.chmod(d, 0o755)
        from pathlib import Path

        yield Path(d)


def _plane(tmp, *extra):
    return ControlPlane(str(tmp), extra_args=["--image", f"{IMAGE}={DATA / 'snoopworker'}",
                                              "--worker-user", "nobody", *extra]).start()


@needs_python
def test_a_worker_run_as_nobody_reads_no_secret_and_cannot_signal_the_server(open_tmp):
    cp = _plane(open_tmp, "--no-confine")
    try:
        admin = open(os.path.join(cp.state_dir, "token")).read().strip()
        other = open_tmp / "other-job-out"
        other.mkdir(mode=0o700)
        (other / "secret.txt").write_text("another job's model")
        config = os.path.join(os.environ["XDG_CONFIG_HOME"], "sedna", "config.yaml")
        seen = _run(cp, open_tmp, {"state_dir": cp.state_dir, "config": config,
                                   "other_job": str(other / "secret.txt")})
        assert seen["uid"] == NOBODY
        leaked = [s for s in seen["seen"] if "read" in s and s["read"]]
        assert not leaked, leaked
        assert all(admin not in json.dumps(s) for s in seen["seen"])
        assert seen["signal"] == "PermissionError"
        w = wait_for(lambda: [w for w in cp.workers() if w["stage"] == "train" and w["report"]],
                     timeout=60, what="the worker's report")[0]
        assert w["report"]["status"] == "completed"
        assert os.stat(open_tmp / "out" / "kb" / "seen.json").st_uid == NOBODY
    finally:
        cp.stop()


@needs_python
def test_a_digits_job_runs_its_round_as_nobody(open_tmp):
    pytest.importorskip("sklearn")
    data = DigitsIndex(str(open_tmp / "data"))
    out = str(open_tmp / "output")
    os.makedirs(open_tmp / "test_data")
    docs = manifests(data.index, out, str(open_tmp / "test_data"), str(open_tmp / "results"), threshold=10)
    cp = _plane(open_tmp)
    try:
        cp.cli("apply", "-f", write_yaml(str(open_tmp / "job.yaml"), docs), check=True)
        data.append(data.lines("plain", 40))
        job = wait_for(lambda: last_round(cp.get("ll", "digits-ll")).get("round") == 1 and cp.get("ll", "digits-ll"),
                       timeout=120, what="round 1")
        assert last_round(job)["phase"] == "Succeeded"
        assert os.stat(os.path.join(out, "kb", "versions", "0001", "index.json")).st_uid == NOBODY
    finally:
        cp.stop()


def test_a_folder_the_user_cannot_enter_is_named(open_tmp, tmp_path):
    closed = tmp_path / "closed"  # beneath pytest's own folders, mode 0700: nobody cannot enter them
    closed.mkdir()
    cp = _plane(open_tmp, "--image", f"sedna-test/closed:v1={closed}")
    try:
        (closed / "train.py").write_text("print('never runs')\n")
        doc = {"apiVersion": "sedna.io/v1alpha1", "kind": "LifelongLearningJob", "metadata": {"name": "closed"},
               "spec": {"dataset": {"name": "ds"}, "outputDir": str(open_tmp / "closed-out"),
                        "trainSpec": {"template": {"spec": {"containers": [
                            {"name": "w", "image": "sedna-test/closed:v1", "args": ["train.py"]}]}},
                            "trigger": {"checkPeriodSeconds": 1, "condition": {
                                "operator": ">", "threshold": 1, "metric": "num_of_samples"}}},
                        "evalSpec": {"template": {"spec": {"containers": [{"name": "w", "image": "x"}]}}},
                        "deploySpec": {"template": {"spec": {"containers": [{"name": "w", "image": "x"}]}}}}}
        (open_tmp / "data.txt").write_text("".join(f"a{i}.npy 0\n" for i in range(5)))
        ds = {"apiVersion": "sedna.io/v1alpha1", "kind": "Dataset", "metadata": {"name": "ds"},
              "spec": {"url": str(open_tmp / "data.txt"), "format": "txt", "nodeName": "localhost"}}
        cp.cli("apply", "-f", write_yaml(str(open_tmp / "closed.yaml"), [ds, doc]), check=True)

        def said():
            job = cp.get("ll", "closed")
            text = json.dumps(job.get("status") or {})
            return "cannot enter" in text and text
        text = wait_for(said, timeout=60, what="the job to say why its worker cannot start")
        found = re.search(r"cannot enter (/\S*) \(mode 0700", text)
        assert found and str(closed).startswith(found.group(1)) and "chmod o+x" in text, text
    finally:
        cp.stop()


@pytest.mark.parametrize("user, why", [("root", "not an unprivileged user"), ("no-such-user-here", "no user")])
def test_a_user_that_cannot_be_taken_is_refused_in_one_line(tmp_path, user, why):
    p = subprocess.run([sys.executable, "-m", "sedna.cli", "up", "--state-dir", str(tmp_path / "state"),
                        "--worker-user", user, "--detach"], capture_output=True, text=True, timeout=60)
    assert p.returncode != 0
    assert p.stderr.strip().count("\n") == 0 and why in p.stderr, p.stderr


def test_handing_over_never_follows_a_link_a_worker_planted(tmp_path):
    """A worker running as nobody may leave links in its output folder; when the next worker
    starts, the server gives that folder to nobody again, and must give the links, not what
    they point at (a root file, a root folder)."""
    out = tmp_path / "out"
    (out / "kb").mkdir(parents=True)
    secret, folder = tmp_path / "root-file", tmp_path / "root-folder"
    secret.write_text("root's")
    folder.mkdir()
    (out / "kb" / "to-file").symlink_to(secret)
    (out / "to-folder").symlink_to(folder)
    named = tmp_path / "named"
    (named / "real").mkdir(parents=True)
    (tmp_path / "via-link").symlink_to(named / "real")
    hand_over((NOBODY, NOBODY), str(out), [("SOME_DIR", str(tmp_path / "via-link"))], [])
    assert os.stat(out / "kb").st_uid == NOBODY and os.lstat(out / "kb" / "to-file").st_uid == NOBODY
    assert os.stat(secret).st_uid == 0 and os.stat(folder).st_uid == 0
    assert os.stat(named / "real").st_uid == 0  # named through a link: not given
