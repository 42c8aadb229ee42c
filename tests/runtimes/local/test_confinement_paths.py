"""Which folders a confined worker gets (``sedna.runtimes.local.confinement``): what its job
names, never ``/`` or a top-level folder, never the state folder, even beneath a granted one."""

import os

from sedna.runtimes.local.confinement import named_paths, worker_paths


def test_named_paths_grant_what_the_job_names_and_never_a_top_level_folder(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "index.txt").write_text("")
    named = [("OUTPUT_URL", str(tmp_path / "out")), ("DATA", f"file://{tmp_path}/data/index.txt"),
             ("ROOT", "/"), ("TOP", "/tmp"), ("URL", "http://x/y"), ("REL", "train.py"),
             ("NEW", str(tmp_path / "out" / "new" / "deep"))]
    folders, to_make = named_paths(named)
    assert folders == {str(tmp_path / "out"), str(tmp_path / "data")} and not to_make


def test_beside_the_state_folder_a_missing_path_is_made_for_the_worker(tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    named = [("RESULTS", str(tmp_path / "results")), ("GO_FILE", str(tmp_path / "go")),
             ("MODEL", str(tmp_path / "models" / "m.pth"))]
    folders, to_make = named_paths(named, [str(state)])
    assert to_make == {str(tmp_path / "results"), str(tmp_path / "models")}  # not the GO_FILE: a file
    assert to_make <= folders


def test_a_granted_folder_holding_the_state_folder_is_granted_but_that_branch(tmp_path):
    for d in ("state/logs", "data", "out"):
        (tmp_path / d).mkdir(parents=True)
    (tmp_path / "state" / "token").write_text("secret")
    (tmp_path / "index.txt").write_text("")
    read, write = worker_paths([("ORIGINAL_DATASET_URL", str(tmp_path / "index.txt"))], "", str(tmp_path / "data"),
                               [], str(tmp_path / "state" / "tmp" / "w.home"), [str(tmp_path / "state")])
    granted = read + write
    assert str(tmp_path / "data") in write and str(tmp_path / "out") in write and str(tmp_path / "index.txt") in write
    assert not any(p == str(tmp_path) or p.startswith(str(tmp_path / "state") + os.sep + "logs") or
                   p in (str(tmp_path / "state"), str(tmp_path / "state" / "token")) for p in granted)
