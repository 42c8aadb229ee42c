import os
import sys
import time

START = time.time()
if os.environ.get("START_LOG"):
    with open(os.environ["START_LOG"], "a") as f:
        f.write(f"{os.environ.get('WORKER_NAME')} {START}\n")
if os.environ.get("FAIL_TRAIN"):
    print("train worker: failing on purpose (FAIL_TRAIN)", file=sys.stderr)
    sys.exit(int(os.environ["FAIL_TRAIN"]))

from sklearn.linear_model import LogisticRegression  # noqa: E402

from common import load, stall  # noqa: E402
from sedna.common.config import BaseConfig  # noqa: E402
from sedna.core.lifelong_learning import LifelongLearning  # noqa: E402

stall()
data = load(BaseConfig.train_dataset_url)
print(f"train worker {BaseConfig.worker_name}: {len(data.x)} samples, domains {sorted(set(data.meta_attr))}")
ll = LifelongLearning(LogisticRegression(max_iter=300), task_definition={"method": "TaskDefinitionByDataAttr"})
res = ll.train(data)
print(f"knowledge base version {res['version']} at {res['index_url']}")
