"""`sedna up --image IMAGE=DIR` with a folder that is not there is refused in
one line naming it, before anything starts (foreground and --detach alike)."""

import os

import pytest

from support.ctlplane import free_port


@pytest.mark.parametrize("detach", [False, True])
def test_a_missing_image_folder_is_refused_naming_it(sedna, tmp_path, detach):
    state = tmp_path / "state"
    args = ["up", "--state-dir", state, "--port", free_port(), "--image", "sedna/robo:v1=./missing"]
    p = sedna(*args, *(["--detach"] if detach else []), cwd=tmp_path, timeout=60)
    assert p.returncode == 2, p.stdout + p.stderr
    err = p.stderr.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert f"image sedna/robo:v1: {tmp_path / 'missing'} does not exist" in err
    assert not (state / "server.json").exists()


def test_a_file_where_a_folder_belongs_and_a_config_file_entry(sedna, tmp_path):
    (tmp_path / "train.py").write_text("print('hi')\n")
    p = sedna("up", "--state-dir", tmp_path / "s", "--port", free_port(), "--image", f"x={tmp_path / 'train.py'}",
              cwd=tmp_path)
    assert p.returncode == 2 and f"{tmp_path / 'train.py'} is not a folder" in p.stderr
    (tmp_path / "images.yaml").write_text("images:\n  sedna/robo:v1: workers\n")
    p = sedna("up", "--state-dir", tmp_path / "s", "--port", free_port(), "--config", tmp_path / "images.yaml",
              cwd=tmp_path)
    assert p.returncode == 2 and f"{tmp_path / 'workers'} does not exist" in p.stderr


def test_an_existing_folder_is_accepted(sedna, tmp_path):
    os.mkdir(tmp_path / "workers")
    # --backoff 0 is refused just after the images are checked: the folder passed
    p = sedna("up", "--state-dir", tmp_path / "s", "--port", free_port(), "--image", "x=workers", "--backoff", "0",
              cwd=tmp_path)
    assert p.returncode == 2 and "--backoff must be > 0" in p.stderr, p.stderr
