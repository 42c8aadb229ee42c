"""The CLI's side of hardening (issue 8): a corrupt state database stops `sedna up`
in one line and `--repair` gets past it; long logs and long lists arrive whole
through the bounded API; the beyond-loopback warning reaches the terminal."""

import json
import os
import subprocess
import sys
import urllib.request

import pytest

from support.ctlplane import ControlPlane, free_port
from support.waiting import wait_for


def sedna(*args, env=None, timeout=60):
    return subprocess.run([sys.executable, "-m", "sedna.cli", *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


def test_a_corrupt_state_database_stops_up_in_one_line_and_repair_gets_past_it(tmp_path):
    cp = ControlPlane(str(tmp_path)).start()
    cp.stop()
    db = os.path.join(cp.state_dir, "state.db")
    with open(db, "r+b") as f:
        f.write(b"not a database at all" * 8)
    port = str(free_port())
    p = sedna("up", "--state-dir", cp.state_dir, "--port", port)
    assert p.returncode == 2 and "corrupt" in p.stderr and "--repair" in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1 and "Traceback" not in p.stderr
    p = sedna("up", "--state-dir", cp.state_dir, "--port", port, "--repair", "--detach")
    try:
        assert p.returncode == 0, p.stderr
        assert "kept as" in p.stdout and any(n.startswith("state.db.corrupt-") for n in os.listdir(cp.state_dir))
        assert sedna("get", "ds", "--state-dir", cp.state_dir).returncode == 0
    finally:
        sedna("down", "--state-dir", cp.state_dir)


def test_long_logs_and_long_lists_arrive_whole(tmp_path):
    from sedna.runtimes.local.store import Store

    cp = ControlPlane(str(tmp_path)).start()
    try:
        token = open(os.path.join(cp.state_dir, "token")).read().strip()
        log = tmp_path / "w.log"
        body = b"".join(b"line %07d\n" % i for i in range(300_000))  # 3.6 MB: four chunks
        log.write_bytes(body)
        store = Store(os.path.join(cp.state_dir, "state.db"))
        store.add_worker("default", "chatty", "none", "train", 1, {"log_path": str(log)})
        store.close()
        p = cp.cli("logs", "chatty")
        assert p.returncode == 0 and p.stdout.encode() == body
        for i in range(505):  # more than one page of the API (500)
            doc = {"apiVersion": "sedna.io/v1alpha1", "kind": "Dataset", "metadata": {"name": f"d{i:03d}"},
                   "spec": {"url": "/tmp/none/data.txt", "format": "txt", "nodeName": "localhost"}}
            req = urllib.request.Request(f"{cp.url}/apis/sedna.io/v1alpha1/namespaces/default/datasets/d{i:03d}",
                                         data=json.dumps(doc).encode(), method="PUT",
                                         headers={"Authorization": f"Bearer {token}",
                                                  "Content-Type": "application/json"})
            urllib.request.urlopen(req, timeout=10).read()
        items = json.loads(cp.cli("get", "ds", "-o", "json", check=True).stdout)["items"]
        assert len(items) == 505 and len({o["metadata"]["name"] for o in items}) == 505
    finally:
        cp.stop()


def test_the_beyond_loopback_warning_reaches_the_terminal_with_detach(tmp_path):
    state = str(tmp_path / "state")
    for host, warned in (("127.0.0.2", False), ("0.0.0.0", True)):
        p = sedna("up", "--state-dir", state, "--host", host, "--port", str(free_port()), "--detach")
        try:
            assert p.returncode == 0, p.stderr
            assert ("beyond loopback" in p.stderr) is warned, (host, p.stderr)
        finally:
            sedna("down", "--state-dir", state)
            wait_for(lambda: not os.path.exists(os.path.join(state, "server.json")), timeout=30,
                     what="the server to stop")


def _refused_in_one_line(state_dir, says):
    p = sedna("up", "--state-dir", state_dir, "--port", str(free_port()), timeout=60)
    assert p.returncode != 0 and says in p.stderr, p.stderr
    assert len(p.stderr.strip().splitlines()) == 1 and "Traceback" not in p.stderr
    return p


def test_a_state_folder_another_user_planted_is_refused(tmp_path):
    """Issue 19, finding 3: another local user makes the folder and its token before the admin's
    first `sedna up`; the server must not adopt them (as root it could chmod anything)."""
    if os.geteuid() != 0:
        pytest.skip("making a folder another user owns needs root")
    planted = tmp_path / "shared" / "state"
    planted.mkdir(parents=True)
    (planted / "token").write_text("known-to-the-other-user")
    for path in (planted, planted / "token"):
        os.chown(path, 65534, 65534)
    os.chmod(planted, 0o777)
    _refused_in_one_line(str(planted), "belongs to uid 65534")
    assert (planted / "token").read_text() == "known-to-the-other-user"  # nothing adopted or rewritten


def test_a_state_folder_others_may_write_in_is_refused(tmp_path):
    loose = tmp_path / "loose"
    loose.mkdir()
    os.chmod(loose, 0o777)
    _refused_in_one_line(str(loose), "writable by others (mode 0777)")
    assert not (loose / "token").exists()


def test_the_kubectl_key_is_made_private_again_on_every_start(tmp_path):
    cp = ControlPlane(str(tmp_path)).start()
    cp.stop()
    key = os.path.join(cp.state_dir, "kube-tls.key")
    if not os.path.exists(key):
        pytest.skip("no kubectl listener here (neither cryptography nor openssl)")
    os.chmod(key, 0o644)
    cp.start()
    try:
        assert os.stat(key).st_mode & 0o777 == 0o600
    finally:
        cp.stop()
