"""Issue 19's attacks at once, against a real `sedna up`: a hostile job whose train worker
(``tests/data/snoopworker/hostile.py``) writes a FIFO as its knowledge base's index, a sparse
gigabyte as its unseen list, millions of lines into its Dataset's index, a report naming
60,000 tasks and a flood of 2.4 MB reports, beside a healthy digits job that must finish two
rounds. Meanwhile a prober asks for ``/healthz``, the healthy job through the API, both jobs'
dashboard pages and ``/metrics``, and samples the server's memory.

Used by ``tests/security/test_hostile_beside_healthy.py`` (what must hold) and
``benchmarks/bench_hardening.py`` part (f) (the latencies and memory, as a table)."""

import json
import os
import threading
import time
import urllib.error
import urllib.request

from support.ctlplane import ControlPlane, DigitsIndex, last_round, manifests, write_yaml
from support.dashboard import http_session, token_of
from support.paths import DATA
from support.waiting import wait_for

HOSTILE_IMAGE = "sedna-test/snoop:v1"
API = "/apis/sedna.io/v1alpha1/namespaces/default"


def cpu_seconds(pid):
    """User plus system CPU time process ``pid`` has used."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024


class Prober(threading.Thread):
    """Asks each of ``targets`` (``name -> (opener, url)``) in turn, every ``period`` s, until
    stopped; keeps ``(name, seconds, status or error)`` and the server's RSS in MiB."""

    def __init__(self, targets, pid, period=0.25, timeout=30):
        super().__init__(daemon=True)
        self.targets, self.pid, self.period, self.timeout = targets, pid, period, timeout
        self.answers, self.rss = [], []
        self._done = threading.Event()

    def run(self):
        while not self._done.is_set():
            for name, (opener, url) in self.targets.items():
                t = time.perf_counter()
                try:
                    with opener.open(url, timeout=self.timeout) as r:
                        r.read()
                        got = r.status
                except urllib.error.HTTPError as e:
                    got = e.code
                except OSError as e:
                    got = f"{type(e).__name__}: {e}"
                self.answers.append((name, time.perf_counter() - t, got))
            self.rss.append(rss_mib(self.pid))
            self._done.wait(self.period)

    def stop(self):
        self._done.set()
        self.join(self.timeout + 5)


def hostile_manifests(tmp, lines, flood):
    data = os.path.join(tmp, "hostile-data")
    os.makedirs(data, exist_ok=True)
    index = os.path.join(data, "data.txt")
    with open(index, "w", encoding="utf-8") as f:
        f.write("".join(f"x/{i}.npy {i % 10}\n" for i in range(20)))
    env = [{"name": "unseen_save_url", "value": os.path.join(tmp, "hostile-unseen")},
           {"name": "HOSTILE_LINES", "value": str(lines)}, {"name": "HOSTILE_FLOOD", "value": str(flood)}]
    tpl = {"template": {"spec": {"containers": [{"name": "w", "image": HOSTILE_IMAGE, "args": ["hostile.py"],
                                                 "env": env}]}}}
    return [{"apiVersion": "sedna.io/v1alpha1", "kind": "Dataset", "metadata": {"name": "hostile-ds"},
             "spec": {"url": index, "format": "txt", "nodeName": "localhost"}},
            {"apiVersion": "sedna.io/v1alpha1", "kind": "LifelongLearningJob", "metadata": {"name": "hostile"},
             "spec": {"dataset": {"name": "hostile-ds", "trainProb": 0.8},
                      "outputDir": os.path.join(tmp, "hostile-out"),
                      "trainSpec": dict(tpl, trigger={"checkPeriodSeconds": 1, "condition": {
                          "operator": ">", "threshold": 5, "metric": "num_of_samples"}}),
                      "evalSpec": tpl, "deploySpec": tpl}}]


def _opener(token):
    opener = urllib.request.build_opener()
    opener.addheaders = [("Authorization", "Bearer " + token)]
    return opener


def _round(cp, n):
    return last_round(cp.get("ll", "digits-ll")).get("round") == n


def run(tmp, lines=2_000_000, flood=40):
    """The scenario in folder ``tmp``; a dict: ``idle_mib`` (the server's RSS with both jobs
    applied, before the attack), ``prober`` (a stopped :class:`Prober`), ``hostile`` (the
    worker's ``hostile.json``: the answers to its reports), ``rounds`` (the healthy job's
    rounds), ``seconds`` (from the attack to the healthy job's second round), ``cpu_after`` (the
    server's CPU, in cores, over 10 s once every line is ingested, the prober still asking)."""
    tmp = str(tmp)
    cp = ControlPlane(tmp, extra_args=["--image", f"{HOSTILE_IMAGE}={DATA / 'snoopworker'}"]).start()
    try:
        return _attack(cp, tmp, lines, flood)
    finally:
        cp.stop()


def _attack(cp, tmp, lines, flood):
    prober = None
    try:
        digits = DigitsIndex(os.path.join(tmp, "data"))
        os.makedirs(os.path.join(tmp, "test_data"))
        docs = manifests(digits.index, os.path.join(tmp, "output"), os.path.join(tmp, "test_data"),
                         os.path.join(tmp, "results"), threshold=30)
        cp.cli("apply", "-f", write_yaml(os.path.join(tmp, "healthy.yaml"), docs), check=True)
        admin = _opener(token_of(cp))
        browser = http_session(cp)
        prober = Prober({"healthz": (admin, cp.url + "/healthz"),
                         "api: healthy job": (admin, cp.url + API + "/lifelonglearningjobs/digits-ll"),
                         "dashboard: healthy job": (browser, cp.url + "/ui/jobs/default/digits-ll"),
                         "dashboard: hostile job": (browser, cp.url + "/ui/jobs/default/hostile"),
                         "metrics": (admin, cp.url + "/metrics")}, cp.proc.pid)
        time.sleep(2)
        idle = rss_mib(cp.proc.pid)
        start = time.monotonic()
        cp.cli("apply", "-f", write_yaml(os.path.join(tmp, "hostile.yaml"), hostile_manifests(tmp, lines, flood)),
               check=True)
        prober.start()
        digits.append(digits.lines("plain", 40))
        wait_for(lambda: _round(cp, 1), timeout=300, what="the healthy job's round 1")
        digits.append(digits.lines("inverted", 40))
        wait_for(lambda: _round(cp, 2), timeout=300, what="the healthy job's round 2")
        seconds = time.monotonic() - start
        answers = os.path.join(tmp, "hostile-out", "kb", "hostile.json")
        hostile = wait_for(lambda: json.load(open(answers, encoding="utf-8")), timeout=300,
                           what="the hostile worker to finish its attack")
        wait_for(lambda: (cp.get("dataset", "hostile-ds").get("status") or {}).get("numberOfSamples", 0) >= lines + 20,
                 timeout=600, interval=1, what="the hostile Dataset's lines to be ingested")
        cpu, t = cpu_seconds(cp.proc.pid), time.monotonic()
        time.sleep(10)  # the prober sees the server after the attack too
        after = (cpu_seconds(cp.proc.pid) - cpu) / (time.monotonic() - t)
        prober.stop()
        return {"idle_mib": idle, "prober": prober, "hostile": hostile, "seconds": seconds,
                "cpu_after": after, "rounds": cp.get("ll", "digits-ll")["status"]["rounds"]}
    finally:
        if prober is not None and prober.is_alive():
            prober.stop()
