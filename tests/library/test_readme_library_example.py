"""The README's library example, as pasted: its python block written to a fresh
folder and run there in a subprocess. It must train two sites, flag a third
one as unseen, and stop flagging it once `update` has learned it."""

import os
import re
import subprocess
import sys

import pytest

pytest.importorskip("pandas")
pytest.importorskip("sklearn")
pytest.importorskip("skops")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def library_example():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        md = f.read()
    section = md.split("\n## Your own job\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"^```python\n(.*?)^```", section, flags=re.S | re.M)
    assert len(blocks) == 1, "one python block in the README's 'Your own job'"
    return blocks[0]


def own_model_class():
    """The estimator class docs/library.md offers in place of the README's scikit-learn model."""
    with open(os.path.join(ROOT, "docs", "library.md"), encoding="utf-8") as f:
        md = f.read()
    section = md.split("\n## Your own model\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"^```python\n(.*?)^```", section, flags=re.S | re.M)
    assert len(blocks) == 1, "one python block in the library page's 'Your own model'"
    return blocks[0]


def test_the_readme_library_example_runs_as_pasted(tmp_path):
    code = library_example()
    assert 'label="comfortable"' in code  # the label column is named
    assert len([line for line in code.splitlines() if line.strip()]) <= 20
    for method in ("train(data)", "predict(x)", "evaluate(data)", "save(path)", "load(url)"):
        assert method in code  # the five methods of one's own model are named
    run_and_check(code, tmp_path)


def test_the_documented_estimator_class_runs_the_readme_example(tmp_path):
    model = "LogisticRegression(max_iter=500)"
    code = library_example()
    assert model in code
    code = own_model_class() + "\n" + code.replace(model, "Estimator", 1)
    for method in ("def train", "def predict", "def evaluate", "def save", "def load"):
        assert method in code
    run_and_check(code, tmp_path)
    assert list((tmp_path / "kb").rglob("*.skops"))


def run_and_check(code, tmp_path):
    (tmp_path / "example.py").write_text(code)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "SEDNA_")) and k not in (
        "OUTPUT_URL", "MODEL_URLS", "CLOUD_KB_INDEX", "HAS_COMPLETED_INITIAL_TRAINING", "unseen_save_url")}
    p = subprocess.run([sys.executable, "example.py"], cwd=tmp_path, capture_output=True, text=True,
                       timeout=300, env=env)
    assert p.returncode == 0, p.stderr[-3000:]
    lines = p.stdout.splitlines()
    scores = eval(lines[0], {})  # noqa: S307 - the dict the example printed
    assert set(scores) == {"north.model", "south.model"}
    assert all(t["accuracy"] > 0.9 for t in scores.values()), scores
    assert lines[1] == "east flagged unseen: 1.0"
    assert lines[2] == "after the update: 0.0"
    assert (tmp_path / "kb" / "index.json").exists()
