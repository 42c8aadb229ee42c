"""The layer contract of pyproject.toml (``[tool.importlinter]``: which package may import
which) and the shape check (``.ci/shape.py``: module and function sizes) hold for src/sedna."""

import os
import shutil
import subprocess
import sys

from support.paths import REPO, SRC


def _run(*args):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]))
    return subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)


def test_every_import_keeps_to_the_layers():
    exe = shutil.which("lint-imports", path=os.path.dirname(sys.executable)) or shutil.which("lint-imports")
    p = _run(exe, "--no-cache", "--no-logo")
    assert p.returncode == 0, p.stdout[-6000:] + p.stderr[-2000:]
    assert "0 broken" in p.stdout


def test_no_module_or_function_is_too_long():
    p = _run(sys.executable, str(REPO / ".ci" / "shape.py"))
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.strip() == "shape: ok"
