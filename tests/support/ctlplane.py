"""Test helpers: a real `sedna up` process on a free loopback port, the digits
written as .npy samples, and a txt index that tests append to."""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import numpy as np

from support.paths import DATA
from support.waiting import wait_for

WORKERS = str(DATA / "ctlworkers")
IMAGE = "sedna-test/digits-ll:v1"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_process(proc, grace=15):
    """Terminate ``proc`` (a Popen), killing it when it has not exited within ``grace`` seconds."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


class ControlPlane:
    """`sedna up` as a subprocess, with a CLI runner bound to its state folder."""

    def __init__(self, tmp, extra_args=()):
        self.tmp = tmp
        self.state_dir = os.path.join(tmp, "state")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.extra = list(extra_args)
        self.proc = None
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("LC_")}
        self.env["PYTHONPATH"] = os.pathsep.join(filter(None, [WORKERS, os.environ.get("PYTHONPATH")]))

    def start(self):
        log = open(os.path.join(self.tmp, f"up-{time.time_ns()}.log"), "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sedna.cli", "up", "--state-dir", self.state_dir, "--port", str(self.port),
             "--image", f"{IMAGE}={WORKERS}", *self.extra],
            stdout=log, stderr=subprocess.STDOUT, env=self.env, start_new_session=True)
        wait_for(self.healthy, timeout=30, what="the control plane to answer /healthz")
        return self

    def healthy(self):
        with urllib.request.urlopen(self.url + "/healthz", timeout=2) as r:
            return json.load(r)["status"] == "ok"

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.cli("down")
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def cli(self, *args, check=False, input=None):
        p = subprocess.run([sys.executable, "-m", "sedna.cli", *args, "--state-dir", self.state_dir],
                           capture_output=True, text=True, timeout=60, env=self.env, input=input)
        if check:
            assert p.returncode == 0, f"sedna {' '.join(args)} failed: {p.stderr}"
        return p

    def get(self, kind, name, ns="default"):
        p = self.cli("get", kind, name, "-n", ns, "-o", "json", check=True)
        return json.loads(p.stdout)

    def workers(self):
        return json.loads(self.cli("get", "workers", "-o", "json", check=True).stdout)["items"]


class DigitsIndex:
    """Digits as `<domain>/<n>.npy <label>` lines in `root/data.txt`."""

    def __init__(self, root):
        from sedna.examples.digits import DigitsDomains, transform

        self.root = root
        os.makedirs(root, exist_ok=True)
        self.index = os.path.join(root, "data.txt")
        open(self.index, "a").close()
        d = DigitsDomains()
        self.x, self.y, self.transform = d.x, d.y, transform
        self.next = {}

    def lines(self, domain, n):
        os.makedirs(os.path.join(self.root, domain), exist_ok=True)
        start = self.next.get(domain, 0)
        out = []
        feats = self.transform(domain, self.x[start:start + n])
        for i, (f, label) in enumerate(zip(feats, self.y[start:start + n])):
            rel = f"{domain}/{start + i:05d}.npy"
            np.save(os.path.join(self.root, rel), f)
            out.append(f"{rel} {int(label)}")
        self.next[domain] = start + n
        return out

    def append(self, lines):
        with open(self.index, "a") as f:
            f.write("".join(ln + "\n" for ln in lines))


def manifests(index, output_dir, test_data, results, threshold=100, period=1, extra_env=None):
    env = [{"name": k, "value": v} for k, v in (extra_env or {}).items()]
    container = lambda name, script, more=(): {  # noqa: E731
        "name": name, "image": IMAGE, "imagePullPolicy": "IfNotPresent", "args": [script],
        "env": env + list(more), "resources": {"limits": {"memory": "2Gi"}}}
    return [
        {"apiVersion": "sedna.io/v1alpha1", "kind": "Dataset", "metadata": {"name": "digits"},
         "spec": {"url": index, "format": "txt", "nodeName": "localhost"}},
        {"apiVersion": "sedna.io/v1alpha1", "kind": "LifelongLearningJob", "metadata": {"name": "digits-ll"},
         "spec": {"dataset": {"name": "digits", "trainProb": 0.8},
                  "trainSpec": {"template": {"spec": {"containers": [container("train-worker", "train.py")]}},
                                "trigger": {"checkPeriodSeconds": period, "timer": {"start": "00:00", "end": "24:00"},
                                            "condition": {"operator": ">", "threshold": threshold,
                                                          "metric": "num_of_samples"}}},
                  "evalSpec": {"template": {"spec": {"containers": [container("eval-worker", "evaluate.py", [
                      {"name": "operator", "value": "<"}, {"name": "model_threshold", "value": "0"}])]}}},
                  "deploySpec": {"template": {"spec": {"containers": [container("infer-worker", "predict.py", [
                      {"name": "test_data", "value": test_data}, {"name": "INFERENCE_RESULT_DIR", "value": results},
                      {"name": "MODEL_POLL_PERIOD_SECONDS", "value": "1"},
                      {"name": "unseen_save_url", "value": results + "/unseen"}])]}}},
                  "outputDir": output_dir}},
    ]


def write_yaml(path, docs):
    import yaml

    with open(path, "w") as f:
        yaml.safe_dump_all(docs, f, sort_keys=False)
    return path


def last_round(job):
    rounds = (job.get("status") or {}).get("rounds") or []
    return rounds[-1] if rounds else {}


@contextlib.contextmanager
def moto_s3(log_dir):
    """moto's S3 server as a real process on loopback, with the S3 env a worker
    reads set for the duration; yields its URL."""
    port = free_port()
    log = open(os.path.join(str(log_dir), "moto.log"), "wb")
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    env = {"S3_ENDPOINT_URL": url, "ACCESS_KEY_ID": "test", "SECRET_ACCESS_KEY": "test"}
    old = {k: os.environ.get(k) for k in env}
    try:
        wait_for(lambda: urllib.request.urlopen(url, timeout=2).close() or True, timeout=60,
                 what="moto's S3 server")
        os.environ.update(env)
        import s3fs

        s3fs.S3FileSystem.clear_instance_cache()
        yield url
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        proc.terminate()
        proc.wait(timeout=10)
        log.close()
