"""Files a worker writes are hostile input (issue 19, findings 5 and 6), against a real
`sedna up`: a FIFO as the job's ``kb/index.json`` never blocks a dashboard view (60 views,
more than the server's thread pool, then ``/healthz`` within a second), and sparse gigabyte
files as the index and as the unseen list are refused or read up to a bound, so the server
stays within 300 MiB of its figure before."""

import json
import os
import urllib.request

from support.ctlplane import ControlPlane
from support.dashboard import http_session
from support.hostile import rss_mib
from support.waiting import wait_for
from test_server_access import API, call, dataset, job

GIB = 1 << 30


def _page(opener, cp, path):
    with opener.open(cp.url + path, timeout=10) as r:
        assert r.status == 200
        return r.read().decode()


def test_fifos_and_sparse_files_a_worker_writes_never_block_or_swell_the_server(tmp_path):
    cp = ControlPlane(str(tmp_path)).start()
    try:
        cp.token = open(os.path.join(cp.state_dir, "token")).read().strip()
        out, unseen = tmp_path / "out", tmp_path / "unseen"
        (out / "kb").mkdir(parents=True)
        unseen.mkdir()
        assert call(cp, "PUT", f"{API}/namespaces/default/datasets/ds", dataset("ds"))[0] == 200
        spec = job("hostile", "default", str(out))
        spec["spec"]["deploySpec"]["template"]["spec"]["containers"][0]["env"] = [
            {"name": "unseen_save_url", "value": str(unseen)}]
        assert call(cp, "PUT", f"{API}/namespaces/default/lifelonglearningjobs/hostile", spec)[0] == 200
        index = out / "kb" / "index.json"
        os.mkfifo(index)
        browser = http_session(cp)
        for _ in range(60):
            assert "FIFO" in _page(browser, cp, "/ui/jobs/default/hostile")
        with urllib.request.urlopen(cp.url + "/healthz", timeout=1) as r:
            assert json.load(r)["status"] == "ok"

        before = rss_mib(cp.proc.pid)
        os.unlink(index)
        for path in (index, unseen / "unseen.txt"):
            with open(path, "wb") as f:
                f.truncate(GIB)
        for _ in range(3):
            assert "over the" in _page(browser, cp, "/ui/jobs/default/hostile")

        def counted():
            got = call(cp, "GET", f"{API}/namespaces/default/lifelonglearningjobs/hostile")[1]
            return ((got.get("status") or {}).get("knowledgeBase") or {}).get("samples", {}).get("unseenSamples")
        wait_for(lambda: counted() is not None, timeout=30, what="the controller to count the unseen list")
        assert rss_mib(cp.proc.pid) - before < 300
    finally:
        cp.stop()
