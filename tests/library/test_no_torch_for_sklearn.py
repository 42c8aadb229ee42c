"""A scikit-learn job never pays for torch: the engine finds out whether an
estimator is a torch model by looking at the modules already imported, never by
importing torch (importing it costs more than a second, far more than the train
overhead of a small job)."""

import importlib.util
import os
import subprocess
import sys

import pytest

CODE = r"""
import sys
from sklearn.linear_model import LogisticRegression
from sedna.core.lifelong_learning import LifelongLearning
from sedna.examples.digits import DigitsDomains

data = DigitsDomains()
ll = LifelongLearning(LogisticRegression(max_iter=200), task_definition={"method": "TaskDefinitionByDataAttr"},
                      output_url=sys.argv[1])
res = ll.train(data.source(["plain", "inverted", "flipped"], rows=data.train_rows[:120]))
assert res["version"] == 1 and len(res["tasks"]) == 3, res
pred, unseen, _ = ll.inference(data.source(["plain"], "test", data_type="test", rows=data.test_rows[:20]))
assert len(pred) == 20
print("torch imported:", "torch" in sys.modules)
"""


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch is not installed: nothing to avoid")
def test_a_scikit_learn_job_trains_and_infers_without_importing_torch(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("LC_SERVER", "OUTPUT_URL")}
    env["OMP_NUM_THREADS"] = "1"
    p = subprocess.run([sys.executable, "-c", CODE, str(tmp_path / "kb")], capture_output=True, text=True,
                       timeout=300, env=env)
    assert p.returncode == 0, p.stderr[-2000:]
    assert "torch imported: False" in p.stdout
    # torch is importable here: the job simply did not need it
    assert "No module named" not in p.stderr
