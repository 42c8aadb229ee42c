"""`sedna up --detach` / `down`, and user mistakes at the command line."""

import json
import os
import subprocess
import sys

from support.ctlplane import free_port
from support.waiting import wait_for


def sedna(*args, cwd=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "SEDNA_"))}
    return subprocess.run([sys.executable, "-m", "sedna.cli", *args], capture_output=True, text=True,
                          timeout=60, cwd=cwd, env=env)


def test_up_detached_then_down_stops_it(tmp_path):
    state = str(tmp_path / "st")
    port = free_port()
    p = sedna("up", "--detach", "--state-dir", state, "--port", str(port))
    assert p.returncode == 0, p.stderr
    assert f"http://127.0.0.1:{port}" in p.stdout
    info = json.load(open(os.path.join(state, "server.json")))
    assert sedna("get", "ll", "--state-dir", state).stdout.strip() == "No resources found in default namespace."
    down = sedna("down", "--state-dir", state)
    assert down.returncode == 0 and "stopped" in down.stdout

    def gone():
        try:
            os.kill(info["pid"], 0)
        except ProcessLookupError:
            return True
        return open(f"/proc/{info['pid']}/stat").read().rsplit(")", 1)[1].split()[0] == "Z"
    wait_for(gone, what="the control plane process to end")
    assert not os.path.exists(os.path.join(state, "server.json"))


def test_commands_without_a_control_plane_say_so_in_one_line(tmp_path):
    state = str(tmp_path / "none")
    for args in (["get", "ll"], ["describe", "ll", "x"], ["logs", "w"], ["delete", "ll", "x"]):
        p = sedna(*args, "--state-dir", state, "--server", f"http://127.0.0.1:{free_port()}")
        assert p.returncode == 2, (args, p.stderr)
        assert "no sedna control plane at" in p.stderr and "Traceback" not in p.stderr
        assert len(p.stderr.strip().splitlines()) == 1


def test_apply_mistakes_are_one_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: Dataset\nmetadata: {name: x\n")
    for args, msg in ((["apply", "-f", str(tmp_path / "missing.yaml")], "No such file"),
                      (["apply", "-f", str(bad)], "bad.yaml"),
                      (["get", "gadgets"], "unknown resource type 'gadgets'"),
                      (["down", "--state-dir", str(tmp_path / "nothing")], "no control plane running")):
        p = sedna(*args)
        assert p.returncode == 2 and msg in p.stderr and "Traceback" not in p.stderr, (args, p.stderr)


def test_logs_follow_streams_until_the_worker_ends(tmp_path):
    from support.ctlplane import ControlPlane, DigitsIndex, manifests, write_yaml

    cp = ControlPlane(str(tmp_path)).start()
    try:
        data = DigitsIndex(str(tmp_path / "data"))
        os.makedirs(tmp_path / "td")
        docs = manifests(data.index, str(tmp_path / "out"), str(tmp_path / "td"), str(tmp_path / "res"),
                         threshold=5, extra_env={"WORKER_SLEEP": "1"})
        cp.cli("apply", "-f", write_yaml(str(tmp_path / "j.yaml"), docs), check=True)
        data.append(data.lines("plain", 20))
        wait_for(lambda: any(w["name"] == "digits-ll-train-1" for w in cp.workers()), what="the train worker")
        p = cp.cli("logs", "-f", "digits-ll-train-1")
        assert p.returncode == 0
        assert "train worker digits-ll-train-1" in p.stdout and "knowledge base version 1" in p.stdout
    finally:
        cp.stop()


def test_up_on_a_port_in_use_says_so(tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        p = sedna("up", "--state-dir", str(tmp_path / "st"), "--port", str(port))
    assert p.returncode == 2 and f"port {port} on 127.0.0.1 is in use" in p.stderr
    assert "Traceback" not in p.stderr
