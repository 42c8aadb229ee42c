"""The `sedna` command, run as a real process."""

import os
import subprocess
import sys

import pytest


def sedna(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "sedna.cli", *args], capture_output=True, text=True,
                          timeout=300, cwd=cwd, env={k: v for k, v in os.environ.items() if k != "LC_SERVER"})


def test_quickstart_learns_the_unseen_domain_and_kb_tools_work(tmp_path):
    pytest.importorskip("sklearn")
    out = tmp_path / "qs"
    p = sedna("quickstart", "--output", str(out))
    assert p.returncode == 0, p.stderr
    rows = {line.split("|")[1].strip(): [c.strip() for c in line.split("|")[2:-1]]
            for line in p.stdout.splitlines() if line.startswith("| ") and "%" in line}
    assert rows["rotated"][1] == "100.0%"            # round 1: all flagged unseen
    # columns: in round 1, flagged r1, accuracy r1, flagged r2, accuracy r2
    assert float(rows["rotated"][3].rstrip("%")) < 10  # round 2: learnt
    assert float(rows["rotated"][4]) > 0.9
    for d in ("plain", "inverted"):
        assert float(rows[d][4]) >= float(rows[d][2]) - 0.01  # no forgetting
    listing = sedna("kb", "list", str(out))
    assert listing.returncode == 0
    lines = listing.stdout.splitlines()
    assert lines[0].split()[:3] == ["VERSION", "CURRENT", "TASKS"]
    assert lines[2].split()[:2] == ["2", "*"]
    assert sedna("kb", "rollback", str(out), "1").returncode == 0
    assert sedna("kb", "list", str(out)).stdout.splitlines()[1].split()[:2] == ["1", "*"]
    show = sedna("kb", "show", str(out), "2")
    table = {ln.split()[0]: ln for ln in show.stdout.splitlines()[1:]}
    assert "THIS VERSION" in table["TASK"] and "SERVED BY" in table["TASK"]
    assert table["rotated.model"].split()[2] == "new"  # learnt in version 2
    assert table["plain.model"].split()[2] == "kept"  # the round-1 model, unchanged
    assert "own model (" in table["plain.model"] or "shared base (" in table["plain.model"]  # the choice's scores


@pytest.mark.parametrize("args, message", [
    (["quickstart", "--unseen", "nope"], "unknown domain 'nope'"),
    (["quickstart", "--seen", "plain", "--unseen", "plain"], "also in --seen"),
    (["kb", "list", "/nonexistent/kb"], "no knowledge base at /nonexistent/kb"),
    (["plugins", "no_such_type"], "unknown plugin type 'no_such_type'"),
])
def test_user_mistakes_are_one_line_and_non_zero(args, message):
    p = sedna(*args)
    assert p.returncode == 2
    assert message in p.stderr
    assert "Traceback" not in p.stderr and len(p.stderr.strip().splitlines()) == 1


def test_plugins_lists_builtins_with_a_filter():
    p = sedna("plugins", "seen_task_processing", "--pattern", "*Origin*")
    assert p.returncode == 0
    assert p.stdout.split() == ["seen_task_processing:", "TaskAllocationByOrigin", "TaskDefinitionByOrigin"]


def test_help_on_every_command():
    for args in ([], ["quickstart"], ["plugins"], ["kb"], ["kb", "list"], ["kb", "show"], ["kb", "rollback"]):
        p = sedna(*args, "--help")
        assert p.returncode == 0 and "usage: sedna" in p.stdout
