"""One knowledge base per job across rounds: round r's train worker adds
version r to ``outputDir/kb``, so `sedna kb list|show|rollback` work across
rounds on the folder the demo prints, and every other folder of the job gets a
one-line answer saying what it is and where the knowledge base is."""

import json
import os
import subprocess
import sys

import pytest

from ctlplane import ControlPlane, DigitsIndex, last_round, manifests, wait_for, write_yaml

pytest.importorskip("sklearn")


def sedna(*args):
    return subprocess.run([sys.executable, "-m", "sedna.cli", *args], capture_output=True, text=True, timeout=120,
                          env={k: v for k, v in os.environ.items() if not k.startswith("LC_")})


def one_line_error(p, *words):
    assert p.returncode == 2, (p.stdout, p.stderr)
    assert "Traceback" not in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr
    for w in words:
        assert w in p.stderr, p.stderr


@pytest.fixture(scope="module")
def two_rounds(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("jobkb")
    cp = ControlPlane(str(tmp)).start()
    try:
        data = DigitsIndex(str(tmp / "data"))
        out = str(tmp / "output" / "digits-ll")
        os.makedirs(tmp / "test_data")
        docs = manifests(data.index, out, str(tmp / "test_data"), str(tmp / "results"))
        cp.cli("apply", "-f", write_yaml(str(tmp / "job.yaml"), docs), check=True)
        for r, lines in ((1, data.lines("plain", 80) + data.lines("inverted", 80)), (2, data.lines("rotated", 150))):
            data.append(lines)
            wait_for(lambda: last_round(cp.get("ll", "digits-ll")).get("round") == r, timeout=120,
                     what=f"round {r}")
            assert last_round(cp.get("ll", "digits-ll"))["phase"] == "Succeeded"
        wait_for(lambda: os.path.exists(os.path.join(out, "deploy", "index.json")), what="the deployed index")
        yield out
    finally:
        cp.stop()


def test_rounds_are_versions_of_one_knowledge_base(two_rounds):
    out = two_rounds
    kb = os.path.join(out, "kb")
    assert sorted(os.listdir(os.path.join(kb, "versions"))) == ["0001", "0002"]
    assert not os.path.exists(os.path.join(out, "train"))
    v2 = json.load(open(os.path.join(kb, "versions", "0002", "index.json")))
    assert v2["version"] == 2 and v2["parent_version"] == 1
    ev = json.load(open(os.path.join(out, "eval", "2", "index.json")))
    assert ev["evaluation"]["source_version"] == 2
    assert ev["evaluation"]["source_index"] == os.path.join(kb, "versions", "0002", "index.json")


def test_kb_list_show_rollback_across_rounds(two_rounds):
    kb = os.path.join(two_rounds, "kb")
    p = sedna("kb", "list", kb)
    assert p.returncode == 0, p.stderr
    rows = [line.split() for line in p.stdout.splitlines()[1:]]
    assert [r[0] for r in rows] == ["1", "2"] and rows[1][1] == "*" and rows[0][1] != "*"
    # the job's outputDir stands for its knowledge base
    p = sedna("kb", "list", two_rounds)
    assert p.returncode == 0 and p.stdout.splitlines()[0] == f"knowledge base {kb}"
    show = sedna("kb", "show", kb, "2")
    assert show.returncode == 0, show.stderr
    models = [line.split()[-1] for line in show.stdout.splitlines()[2:]]
    assert models and all(os.path.isabs(m) and os.path.exists(m) for m in models), show.stdout
    assert sedna("kb", "rollback", kb, "1").returncode == 0
    rows = [line.split() for line in sedna("kb", "list", kb).stdout.splitlines()[1:]]
    assert rows[0][:2] == ["1", "*"]
    assert sedna("kb", "rollback", kb, "2").returncode == 0


def test_other_folders_of_the_job_say_what_they_are(two_rounds):
    kb = os.path.join(two_rounds, "kb")
    for cmd in ("list", "show"):
        one_line_error(sedna("kb", cmd, os.path.join(two_rounds, "eval", "2")),
                       "evaluation output", "version 2", f"the knowledge base is {kb}")
        one_line_error(sedna("kb", cmd, os.path.join(two_rounds, "deploy")),
                       "deployed index", f"the knowledge base is {kb}")
    one_line_error(sedna("kb", "list", os.path.join(kb, "versions", "0001")), "version 1 of the knowledge base", kb)
    one_line_error(sedna("kb", "list", os.path.join(two_rounds, "data")), "no knowledge base")
    one_line_error(sedna("kb", "list", os.path.join(kb, "index.json")), "is a file")
    one_line_error(sedna("kb", "rollback", kb, "7"), "no version 7", "[1, 2]")
    one_line_error(sedna("kb", "show", kb, "9"), "versions: [1, 2]")
