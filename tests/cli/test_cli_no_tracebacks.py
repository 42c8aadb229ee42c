"""No tracebacks anywhere in the CLI (issue 9): every command and subcommand
with bad input (unknown names, missing files, non-UTF-8 files, YAML errors, no
server running, bad flags) fails with one line on stderr and a non-zero code;
`sedna describe ... | head` ends quietly. A command added to the parser without
cases here fails :func:`test_every_command_has_bad_input_cases`."""

import os
import subprocess
import sys

import pytest

from support.ctlplane import free_port

NO_SERVER = ("--server", "http://127.0.0.1:9")  # nothing listens on port 9 (discard)
MISSING = "/nonexistent/sedna-test/missing.yaml"


def files(tmp):
    """Hostile inputs, written once per test."""
    out = {"latin1": tmp / "latin1.yaml", "yaml": tmp / "bad.yaml", "empty": tmp / "empty.yaml",
           "invalid": tmp / "invalid.yaml", "emptydir": tmp / "emptydir", "badconfig": tmp / "xdg-bad"}
    out["latin1"].write_bytes("kind: Dataset\nmetadata: {name: caf\u00e9}\n".encode("latin-1"))
    out["yaml"].write_text("kind: Dataset\nmetadata: {name: x\n")
    out["empty"].write_text("")
    out["invalid"].write_text("apiVersion: sedna.io/v1alpha1\nkind: Dataset\nmetadata: {name: x}\n"
                              "spec: {url: /d.txt, format: xls, nodeName: n}\n")
    out["emptydir"].mkdir()
    (out["badconfig"] / "sedna").mkdir(parents=True)
    (out["badconfig"] / "sedna" / "config.yaml").write_bytes(b"contexts: [\n\xff\n")
    return out


# (command, [args...], text expected in the one line, "a|b" for either); "{x}" names a file of files()
CASES = [
    ("", ["--bogus"], "unrecognized arguments"),
    ("", ["nosuchcommand"], "invalid choice"),
    ("version", ["version", "--bogus"], "unrecognized arguments"),
    ("crds", ["crds", "--bogus"], "unrecognized arguments"),
    ("crds", ["crds", "--output-dir", "{latin1}"], "cannot write"),
    ("operator", ["operator", "--bogus"], "unrecognized arguments"),
    ("agent", ["agent", "--port", "http"], "invalid int value"),
    ("quickstart", ["quickstart", "--unseen", "nope"], "unknown domain|needs scikit-learn"),
    ("demo", ["demo", "--size", "big"], "--size|the demo needs"),
    ("demo", ["demo", "--frames", "many"], "invalid int value"),
    ("label", ["label", "--unseen", "/nonexistent/u", "--index", "/nonexistent/i"], "--truth"),
    ("plugins", ["plugins", "no_such_slot"], "unknown plugin type 'no_such_slot'"),
    ("kb", ["kb", "nope"], "invalid choice"),
    ("kb list", ["kb", "list", "/nonexistent/kb"], "/nonexistent/kb"),
    ("kb show", ["kb", "show", "/nonexistent/kb"], "/nonexistent/kb"),
    ("kb show", ["kb", "show", "/nonexistent/kb", "notanumber"], "invalid int value"),
    ("kb rollback", ["kb", "rollback", "/nonexistent/kb", "3"], "/nonexistent/kb"),
    ("up", ["up", "--port", "99999"], "not a port"),
    ("up", ["up", "--port", "http"], "not a port number"),
    ("up", ["up", "--config", MISSING, "--port", "{port}", "--state-dir", "{tmp}/st"], "missing.yaml"),
    ("up", ["up", "--config", "{latin1}", "--port", "{port}", "--state-dir", "{tmp}/st"], "latin1.yaml"),
    ("up", ["up", "--image", "no-equals-sign", "--port", "{port}", "--state-dir", "{tmp}/st"], "no-equals-sign"),
    ("down", ["down", "--state-dir", "{tmp}/nothing"], "no control plane running"),
    ("down", ["down", *NO_SERVER], "no sedna control plane at http://127.0.0.1:9"),
    ("down", ["down", "--context", "nope"], "context 'nope'"),
    ("apply", ["apply", "-f", MISSING], "No such file"),
    ("apply", ["apply", "-f", "{latin1}", *NO_SERVER], "not UTF-8"),
    ("apply", ["apply", "-f", "{yaml}", *NO_SERVER], "bad.yaml:3: invalid YAML"),
    ("apply", ["apply", "-f", "{empty}", *NO_SERVER], "no manifests found"),
    ("apply", ["apply", "-f", "{emptydir}", *NO_SERVER], "no manifests found"),
    ("apply", ["apply", "-f", "{invalid}", *NO_SERVER], "spec.format"),
    ("apply", ["apply", "-f", "{yaml}", "--server", "not a url"], "bad.yaml:3"),
    ("apply", ["apply"], "required: -f/--filename"),
    ("get", ["get", "gadgets"], "unknown resource type 'gadgets'"),
    ("get", ["get", "ll", *NO_SERVER], "no sedna control plane at http://127.0.0.1:9"),
    ("get", ["get", "ll", "--server", "not a url"], "not a server URL"),
    ("get", ["get", "ll", "-o", "xml"], "invalid choice"),
    ("get", ["get", "ll", "--state-dir", "{tmp}/nothing"], "no control plane running from"),
    ("describe", ["describe", "ll", "x", *NO_SERVER], "no sedna control plane at"),
    ("describe", ["describe", "gadgets", "x"], "unknown resource type"),
    ("logs", ["logs", "w", *NO_SERVER], "no sedna control plane at"),
    ("logs", ["logs"], "required: worker"),
    ("delete", ["delete", *NO_SERVER], "give TYPE NAME... or -f FILE"),
    ("delete", ["delete", "-f", MISSING, *NO_SERVER], "No such file"),
    ("delete", ["delete", "-f", "{yaml}", *NO_SERVER], "bad.yaml:3: invalid YAML"),
    ("delete", ["delete", "ll", "x", *NO_SERVER], "no sedna control plane at"),
    ("context", ["context", "nope"], "no context 'nope'"),
    ("context", ["context", "@XDG={badconfig}"], "cannot read the sedna config"),
]


def _commands():
    """Every command and subcommand the parser has, as 'kb list' etc."""
    import argparse

    from sedna.cli import build_parser

    def walk(parser, prefix):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    yield f"{prefix}{name}"
                    yield from walk(sub, f"{prefix}{name} ")

    return set(walk(build_parser(), ""))


def test_every_command_has_bad_input_cases():
    assert _commands() <= {c for c, _, _ in CASES}


@pytest.mark.parametrize("command, args, text", CASES, ids=[" ".join(a)[:60] for _, a, _ in CASES])
def test_bad_input_is_one_line_never_a_traceback(tmp_path, sedna, command, args, text):
    f = files(tmp_path)
    env = {}
    real = []
    for a in args:
        if a.startswith("@XDG="):
            env["XDG_CONFIG_HOME"] = str(f["badconfig"])
            continue
        real.append(a.format(tmp=tmp_path, port=free_port(), **f))
    p = sedna(*real, cwd=tmp_path, env=env, timeout=60)
    assert p.returncode != 0, (args, p.stdout)
    assert "Traceback" not in p.stderr, p.stderr
    assert len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert any(t in p.stderr for t in text.split("|")), p.stderr
    assert "<input>" not in p.stderr and ": : " not in p.stderr


def test_describe_into_head_ends_quietly(control_plane, tmp_path):
    """`sedna describe ds | head -1`: the reader leaves early; no BrokenPipeError."""
    docs = "".join(f"---\napiVersion: sedna.io/v1alpha1\nkind: Dataset\nmetadata: {{name: d{i:02d}}}\n"
                   f"spec: {{url: /data/{'x' * 1500}/{i}.txt, format: txt, nodeName: n}}\n" for i in range(60))
    control_plane.cli("apply", "-f", "-", input=docs, check=True)
    cmd = (f"{sys.executable} -m sedna.cli describe ds --state-dir {control_plane.state_dir} | head -1; "
           "exit ${PIPESTATUS[0]}")
    p = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, timeout=60, env=control_plane.env)
    assert p.stdout.startswith("Name:") and p.stderr == "", p.stderr
    assert p.returncode in (0, 141)  # 141: the usual code of a writer whose reader left


def test_plugins_by_slot_with_defaults(sedna):
    p = sedna("plugins")
    assert p.returncode == 0
    slots = [line[:-1] for line in p.stdout.splitlines() if not line.startswith(" ")]
    assert slots == ["task_definition", "task_relationship_discovery", "task_allocation", "task_remodeling",
                     "inference_integrate", "task_update_decision", "unseen_task_allocation",
                     "unseen_sample_recognition", "unseen_sample_re_recognition"]
    p = sedna("plugins", "task_allocation")
    assert p.returncode == 0
    lines = p.stdout.splitlines()
    assert lines[0] == "task_allocation:" and lines[1].split()[:2] == ["TaskAllocationDefault", "(default)"]
    assert {"TaskAllocationByOrigin", "TaskAllocationByDataAttr"} <= {ln.split()[0] for ln in lines[1:]}
    assert not any("TaskDefinition" in ln for ln in lines)  # only this slot's plugins
    re_rec = sedna("plugins", "unseen_sample_re_recognition").stdout
    assert "SampleReRegonitionDefault" in re_rec and "(alias of SampleReRecognitionDefault)" in re_rec


def test_logs_of_a_job_name_lists_its_workers(control_plane):
    """`sedna logs <job>`: the job's workers and the command that prints one's log."""
    from sedna.runtimes.local.store import Store

    store = Store(os.path.join(control_plane.state_dir, "state.db"))
    store.add_worker("default", "myjob-train-1", "myjob", "train", 1, {"log_path": "/nonexistent/log"})
    store.close()
    p = control_plane.cli("logs", "myjob")
    assert p.returncode == 0, p.stderr
    assert "myjob is a job; its workers:" in p.stdout and "sedna logs myjob-train-1" in p.stdout
    p = control_plane.cli("logs", "nobody")
    assert p.returncode == 2 and "worker 'nobody' not found" in p.stderr
