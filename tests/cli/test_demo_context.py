"""`sedna demo` leaves the user's sedna config alone: its control plane records
its context inside the demo's folder, so the current context is the user's
before, during and after the demo, also when the demo is interrupted. When it
ends without --keep it says that the dashboard it printed is gone."""

import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest
import yaml

from sedna.cli import examples

MINE = {"current-context": "mine",
        "contexts": {"mine": {"server": "http://127.0.0.1:1", "token-file": "/nonexistent", "state-dir": "/x"}}}


def write_config(xdg):
    os.makedirs(xdg / "sedna", exist_ok=True)
    (xdg / "sedna" / "config.yaml").write_text(yaml.safe_dump(MINE))


def read_config(xdg):
    return yaml.safe_load((xdg / "sedna" / "config.yaml").read_text())


def answers(url):
    try:
        urllib.request.urlopen(url.replace("/ui/", "/healthz"), timeout=2).close()
        return True
    except OSError:
        return False


def test_an_interrupted_demo_keeps_the_users_context_and_stops_its_server(tmp_path, user_config, wait_for):
    pytest.importorskip("torch")
    pytest.importorskip("PIL")
    write_config(user_config)
    work = tmp_path / "demo"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "SEDNA_"))}
    env["PYTHONUNBUFFERED"] = "1"  # the dashboard line reaches the log while the demo runs, not at its end
    log = open(tmp_path / "demo.log", "w+")
    # a test run started in the background by a shell without job control (`.ci/run &`) ignores
    # SIGINT, and a child inherits that: the demo gets Ctrl-C's default handling, as in a terminal
    proc = subprocess.Popen([sys.executable, "-m", "sedna.cli", "demo", "--workdir", str(work), "--frames", "12",
                             "--epochs", "1", "--size", "32x64"], stdout=log, stderr=subprocess.STDOUT, env=env,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        def dashboard():
            text = (tmp_path / "demo.log").read_text()
            return next((ln.split("dashboard: ", 1)[1].split()[0] for ln in text.splitlines()
                         if "dashboard: http" in ln), None)

        url = wait_for(dashboard, timeout=300, interval=0.2, what="the demo's dashboard line")
        assert answers(url)
        # while the demo runs, the user's context is still current; the demo's is in its own folder
        assert read_config(user_config) == MINE
        demo_ctx = yaml.safe_load((work / "config" / "sedna" / "config.yaml").read_text())
        assert demo_ctx["contexts"][demo_ctx["current-context"]]["state-dir"] == str(work / "state")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=120) == 130
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    text = (tmp_path / "demo.log").read_text()
    assert f"sedna: interrupted; the demo's control plane was stopped, so the dashboard at {url} is gone" in text
    assert read_config(user_config) == MINE
    deadline = time.monotonic() + 30
    while answers(url) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not answers(url)


def test_a_demo_that_ends_says_its_dashboard_is_gone(tmp_path, monkeypatch, capsys, user_config):
    """The demo itself replaced by a stand-in that prints what the demo prints and
    records which config folder a `sedna up` it started would have written to."""
    import argparse

    from sedna.examples.robo import demo

    pytest.importorskip("torch")
    pytest.importorskip("PIL")
    pytest.importorskip("fastapi")
    seen = {}

    def fake_run_demo(workdir, out=print, **kw):
        seen["xdg"] = os.environ["XDG_CONFIG_HOME"]
        out("[   0.1s] dashboard: http://127.0.0.1:5555/ui/ (log in with the token in /w/state/token)")

    monkeypatch.setattr(demo, "run_demo", fake_run_demo)
    args = argparse.Namespace(manifests=None, size="32x64", frames=12, epochs=1, keep=False,
                              workdir=str(tmp_path / "demo"))
    assert examples._cmd_demo(args) == 0
    assert seen["xdg"] == str(tmp_path / "demo" / "config")
    assert os.environ["XDG_CONFIG_HOME"] == str(user_config)  # put back
    out = capsys.readouterr().out
    assert "the demo's control plane has stopped: the dashboard at http://127.0.0.1:5555/ui/ is gone" in out

    args.keep = True
    assert examples._cmd_demo(args) == 0
    assert "is gone" not in capsys.readouterr().out
