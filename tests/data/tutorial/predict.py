# An inference worker in the tutorial's style: frames from `test_data`,
# results under INFERENCE_RESULT_DIR, knowledge base from MODEL_URLS.
import os

import numpy as np
from interface import Estimator

from sedna.common.config import Context
from sedna.core.lifelong_learning import LifelongLearning
from sedna.datasources import BaseDataSource


def run():
    estimator = Estimator(num_class=int(Context.get_parameters("num_class", 24)))
    ll_job = LifelongLearning(estimator, task_allocation={"method": "TaskAllocationByOrigin"})
    test_dir = Context.get_parameters("test_data")
    out_dir = Context.get_parameters("INFERENCE_RESULT_DIR")
    os.makedirs(out_dir, exist_ok=True)
    for root, _, files in sorted(os.walk(test_dir)):
        for name in sorted(files):
            if not name.startswith("rgb"):
                continue
            rgb = os.path.join(root, name)
            data = BaseDataSource(data_type="test")
            data.x = np.array([[rgb, rgb.replace("rgb", "depth")]])
            res, is_unseen, tasks = ll_job.inference(data)
            flat = os.path.relpath(rgb, test_dir).replace(os.sep, "_")
            np.save(os.path.join(out_dir, "label_" + flat), np.asarray(res[0]))
            with open(os.path.join(out_dir, "results.txt"), "a") as f:
                f.write(f"{os.path.relpath(rgb, test_dir)} {tasks[0].entry if tasks else 'unseen'}\n")


if __name__ == '__main__':
    run()
