"""A long-running inference worker: infers every new .npy under `test_data`,
writes `<name>.txt` (prediction, unseen flag, KB version) to INFERENCE_RESULT_DIR."""

import json
import os
import signal
import time

import numpy as np
from sklearn.linear_model import LogisticRegression

from sedna.common.config import Context
from sedna.core.lifelong_learning import LifelongLearning
from sedna.datasources import BaseDataSource

running = True


def stop(*_):
    global running
    running = False


signal.signal(signal.SIGTERM, stop)
ll = LifelongLearning(LogisticRegression(max_iter=300))
src_dir, out_dir = Context.get_parameters("test_data"), Context.get_parameters("INFERENCE_RESULT_DIR")
os.makedirs(out_dir, exist_ok=True)
done = set()
with open(os.path.join(out_dir, f"started-{os.environ['WORKER_NAME']}"), "w") as f:
    f.write(os.environ.get("MODEL_URLS", ""))
while running:
    for name in sorted(os.listdir(src_dir)) if src_dir and os.path.isdir(src_dir) else []:
        if not name.endswith(".npy") or name in done:
            continue
        d = BaseDataSource(data_type="test")
        d.x = np.load(os.path.join(src_dir, name))[None, :]
        res, unseen, tasks = ll.inference(d)
        version = ll._serving().version.doc.get("evaluation", {}).get("source_version")
        with open(os.path.join(out_dir, name + ".json"), "w") as f:
            json.dump({"result": None if res[0] is None else int(res[0]), "unseen": bool(unseen[0]),
                       "worker": os.environ["WORKER_NAME"], "kb_version": version}, f)
        done.add(name)
    time.sleep(0.1)
