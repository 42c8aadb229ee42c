"""One knowledge base per job across rounds: round r's train worker adds
version r to ``outputDir/kb``, so `sedna kb list|show|rollback` work across
rounds on the folder the demo prints, and every other folder of the job gets a
one-line answer saying what it is and where the knowledge base is."""

import json
import os
import subprocess
import sys

import pytest

from support.ctlplane import ControlPlane, DigitsIndex, last_round, manifests, write_yaml
from support.waiting import wait_for

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


def _served(out):
    with open(os.path.join(out, "deploy", "index.json")) as f:
        return json.load(f)["evaluation"]["source_version"]


def _current(kb):
    rows = [line.split() for line in sedna("kb", "list", kb).stdout.splitlines()[1:]]
    return [r[0] for r in rows if r[1] == "*"]


def test_kb_rollback_deploy_changes_what_the_inference_worker_serves(two_rounds):
    import itertools
    import shutil
    import stat

    import numpy as np
    from sedna.examples.digits import DigitsDomains, transform

    out, kb = two_rounds, os.path.join(two_rounds, "kb")
    tmp = os.path.dirname(os.path.dirname(out))
    test_data, results = os.path.join(tmp, "test_data"), os.path.join(tmp, "results")
    x, names = DigitsDomains().x, itertools.count()

    def kb_version_of_a_new_frame():
        name = f"rollback-probe-{next(names)}.npy"
        np.save(os.path.join(test_data, name), transform("plain", x[1700:1701])[0])
        return wait_for(lambda: json.load(open(os.path.join(results, name + ".json"))), what=f"a result of {name}")[
            "kb_version"]

    assert _served(out) == 2 and kb_version_of_a_new_frame() == 2
    # without --deploy only the current pointer moves, and the CLI says what is still served
    p = sedna("kb", "rollback", kb, "1")
    assert p.returncode == 0, p.stderr
    assert "still serves version 2" in p.stdout and "--deploy" in p.stdout
    assert _current(kb) == ["1"] and _served(out) == 2

    # a version no eval output evaluated cannot be served: refused, nothing moves
    os.rename(os.path.join(out, "eval", "1"), os.path.join(out, "eval", "away"))
    try:
        one_line_error(sedna("kb", "rollback", out, "1", "--deploy"), "version 1 was never evaluated")
    finally:
        os.rename(os.path.join(out, "eval", "away"), os.path.join(out, "eval", "1"))
    assert _current(kb) == ["1"] and _served(out) == 2
    one_line_error(sedna("kb", "rollback", out, "7", "--deploy"), "no version 7", "[1, 2]")

    # --deploy (the job's outputDir names the knowledge base): version 2 current and served again
    p = sedna("kb", "rollback", out, "2", "--deploy")
    assert p.returncode == 0, p.stderr
    assert _current(kb) == ["2"] and _served(out) == 2

    # and version 1: the deployed index names it, private as the deploy stage leaves it, and the
    # running inference worker reloads it
    p = sedna("kb", "rollback", kb, "1", "--deploy")
    assert p.returncode == 0, p.stderr
    assert "current version is now 1" in p.stdout and os.path.join(out, "deploy", "index.json") in p.stdout
    assert _current(kb) == ["1"] and _served(out) == 1
    assert stat.S_IMODE(os.stat(os.path.join(out, "deploy", "index.json")).st_mode) == 0o640
    assert [n for n in os.listdir(os.path.join(out, "deploy")) if n.startswith(".")] == []  # no temp file left
    wait_for(lambda: kb_version_of_a_new_frame() == 1, timeout=60, what="the inference worker serving version 1")

    # a knowledge base outside a job has no deployed index
    lone = os.path.join(tmp, "lone-kb")
    shutil.copytree(kb, lone)
    one_line_error(sedna("kb", "rollback", lone, "2", "--deploy"), "--deploy", "not a job's knowledge base")
    assert _served(out) == 1
