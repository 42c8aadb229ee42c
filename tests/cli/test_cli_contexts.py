"""CLI contexts like kubectl's (issue 9): `sedna up` records the current context
in $XDG_CONFIG_HOME/sedna/config.yaml and every command finds the server from
any folder; the resolution order (flags, SEDNA_SERVER/SEDNA_TOKEN, ./.sedna, the
context); one server per state folder (a lock that kill -9 releases); `sedna
down` from anywhere. Real `sedna up` processes, real HTTP."""

import json
import os
import signal
import stat

import pytest
import yaml

from support.ctlplane import free_port


def _up(sedna, state, *extra, cwd=None):
    p = sedna("up", "--detach", "--state-dir", state, "--port", free_port(), *extra, cwd=cwd)
    assert p.returncode == 0, p.stderr
    return json.load(open(os.path.join(state, "server.json")))


def _dataset(sedna, name, *where, cwd=None, env=None):
    doc = {"apiVersion": "sedna.io/v1alpha1", "kind": "Dataset", "metadata": {"name": name},
           "spec": {"url": "/tmp/none/data.txt", "format": "txt", "nodeName": "localhost"}}
    p = sedna("apply", "-f", "-", *where, input=yaml.safe_dump(doc), cwd=cwd, env=env)
    assert p.returncode == 0, p.stderr


def _names(p):
    assert p.returncode == 0, p.stderr
    return {line.split()[0] for line in p.stdout.splitlines()[1:] if line.strip()}


@pytest.fixture
def servers(tmp_path, sedna):
    """Two control planes: `a` (proj-a/.sedna) and then `b` (proj-b/state), so b is the current context."""
    started = []

    def start(state, *extra):
        info = _up(sedna, state, *extra)
        started.append(state)
        return info

    yield start
    for state in started:
        sedna("down", "--state-dir", state)


def test_up_records_the_current_context_with_private_modes(tmp_path, sedna, servers, user_config):
    state = tmp_path / "proj" / ".sedna"
    info = servers(str(state))
    cfg = user_config / "sedna" / "config.yaml"
    assert stat.S_IMODE(os.stat(cfg).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(cfg.parent).st_mode) == 0o700
    doc = yaml.safe_load(cfg.read_text())
    assert doc["current-context"] == "proj"  # named after the folder holding .sedna
    assert doc["contexts"]["proj"] == {"server": info["url"], "token-file": str(state / "token"),
                                       "state-dir": str(state)}
    listing = sedna("context")
    assert listing.returncode == 0 and "proj" in listing.stdout and info["url"] in listing.stdout


def test_every_command_finds_the_server_from_any_folder(tmp_path, sedna, servers):
    state = tmp_path / "proj" / ".sedna"
    servers(str(state))
    sub = tmp_path / "proj" / "deep" / "sub"
    elsewhere = tmp_path / "elsewhere"
    sub.mkdir(parents=True)
    elsewhere.mkdir()
    _dataset(sedna, "from-sub", cwd=sub)
    for cwd in (sub, elsewhere, tmp_path / "proj"):
        assert "from-sub" in _names(sedna("get", "ds", cwd=cwd))
    d = sedna("describe", "ds", "from-sub", cwd=elsewhere)
    assert d.returncode == 0 and "Name:         from-sub" in d.stdout
    assert sedna("delete", "ds", "from-sub", cwd=elsewhere).returncode == 0
    down = sedna("down", cwd=elsewhere)
    assert down.returncode == 0 and "stopped" in down.stdout, down.stderr
    assert not (state / "server.json").exists()


def test_the_resolution_order(tmp_path, sedna, servers):
    """--state-dir/--server, then SEDNA_SERVER/SEDNA_TOKEN, then ./.sedna, then the current context."""
    a_state, b_state = tmp_path / "a" / ".sedna", tmp_path / "b" / "state"
    a = servers(str(a_state), "--context", "alpha")
    b = servers(str(b_state))  # started last: the current context ("b")
    _dataset(sedna, "only-a", "--context", "alpha")
    _dataset(sedna, "only-b", "--state-dir", b_state)
    neutral = tmp_path / "neutral"
    neutral.mkdir()
    env_a = {"SEDNA_SERVER": a["url"], "SEDNA_TOKEN": (a_state / "token").read_text().strip()}
    assert _names(sedna("get", "ds", cwd=neutral)) == {"only-b"}                    # the current context
    assert _names(sedna("get", "ds", cwd=tmp_path / "a")) == {"only-a"}             # ./.sedna beats it
    assert _names(sedna("get", "ds", cwd=neutral, env=env_a)) == {"only-a"}         # env beats the context
    assert _names(sedna("get", "ds", "--state-dir", b_state, cwd=neutral, env=env_a)) == {"only-b"}  # flags win
    assert _names(sedna("get", "ds", "--server", b["url"], cwd=neutral)) == {"only-b"}  # token from the context
    assert _names(sedna("get", "ds", "--context", "alpha", cwd=neutral)) == {"only-a"}
    assert sedna("context", "alpha").returncode == 0
    assert _names(sedna("get", "ds", cwd=neutral)) == {"only-a"}
    # down --server (token from SEDNA_TOKEN) asks the server to stop
    down = sedna("down", "--server", a["url"], cwd=neutral, env={"SEDNA_TOKEN": env_a["SEDNA_TOKEN"]})
    assert down.returncode == 0 and f"control plane at {a['url']} stopped" in down.stdout, down.stderr


def test_errors_name_the_server_tried_and_how_to_point_elsewhere(tmp_path, sedna, servers):
    state = tmp_path / "gone"
    info = servers(str(state))
    assert sedna("down", "--state-dir", state).returncode == 0
    p = sedna("get", "ll", cwd=tmp_path)
    assert p.returncode == 2 and "Traceback" not in p.stderr and len(p.stderr.strip().splitlines()) == 1
    assert info["url"] in p.stderr and "context 'gone'" in p.stderr
    assert f"no server runs from {state}: start it with `sedna up --state-dir {state}`" in p.stderr
    assert "--server" in p.stderr and "SEDNA_SERVER" in p.stderr
    other = servers(str(tmp_path / "other"))
    p = sedna("get", "ll", cwd=tmp_path, env={"SEDNA_SERVER": other["url"], "SEDNA_TOKEN": "not-the-token"})
    assert p.returncode == 2 and "wrong token" in p.stderr and other["url"] in p.stderr and "SEDNA_SERVER" in p.stderr
    empty = tmp_path / "fresh-config"
    p = sedna("get", "ll", cwd=tmp_path, env={"XDG_CONFIG_HOME": str(empty)})
    assert p.returncode == 2 and "no current context" in p.stderr and "sedna up" in p.stderr
    p = sedna("get", "ll", "--context", "nope", cwd=tmp_path)
    assert p.returncode == 2 and "context 'nope' is not in" in p.stderr


@pytest.mark.parametrize("command", [["get", "ll"], ["describe", "ll", "x"], ["logs", "w"], ["delete", "ll", "x"],
                                     ["apply", "-f", "x.yaml"], ["down"]])
def test_help_documents_the_resolution(sedna, command):
    p = sedna(*command[:1], "--help")
    assert p.returncode == 0
    text = " ".join(p.stdout.split())
    for word in ("--server", "--state-dir", "--context", "SEDNA_SERVER", "SEDNA_TOKEN", "./.sedna",
                 "current context", "XDG_CONFIG_HOME"):
        assert word in text, (command, word)


def test_one_server_per_state_folder_and_kill_9_leaves_no_stale_lock(tmp_path, sedna, servers):
    state = tmp_path / "st"
    first = servers(str(state))
    second = sedna("up", "--detach", "--state-dir", state, "--port", free_port())
    assert second.returncode == 2 and "Traceback" not in second.stderr
    assert len(second.stderr.strip().splitlines()) == 1 and "already runs from" in second.stderr
    fg = sedna("up", "--state-dir", state, "--port", free_port(), timeout=30)  # foreground: same refusal
    assert fg.returncode == 2 and "already runs from" in fg.stderr
    assert json.load(open(state / "server.json")) == first  # not overwritten
    assert "No resources found" in sedna("get", "ll", "--state-dir", state).stdout  # the first still answers
    os.kill(first["pid"], signal.SIGKILL)
    from support.waiting import wait_for

    wait_for(lambda: sedna("up", "--detach", "--state-dir", state, "--port", free_port()).returncode == 0,
             timeout=30, what="a new server after kill -9")
    assert "No resources found" in sedna("get", "ll", "--state-dir", state).stdout
