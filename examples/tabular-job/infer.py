"""The inference worker: follows a CSV of rows (``infer_dataset_url``) and
appends one prediction per row to INFERENCE_RESULT_DIR/predictions.csv, with
the row's task and whether it was unseen (unseen rows are also saved to
``unseen_save_url`` for labelling). It serves the deployed knowledge base
(MODEL_URLS) and reloads it when a later round deploys."""

import csv
import os
import signal
import time

from interface import LABEL, TASK_ALLOCATION, Estimator
from sedna.common.config import BaseConfig, Context
from sedna.core.lifelong_learning import LifelongLearning
from sedna.datasources import CSVDataParse

running = True


def stop(*_):
    global running
    running = False


def lines(path):
    """Each complete line appended to ``path``, as it comes."""
    while running and not os.path.exists(path):
        time.sleep(0.5)
    with open(path, encoding="utf-8") as f:
        while running:
            where, line = f.tell(), f.readline()
            if line.endswith("\n"):
                yield line
            else:
                f.seek(where)
                time.sleep(0.5)


def main():
    signal.signal(signal.SIGTERM, stop)
    ll = LifelongLearning(estimator=Estimator, task_allocation=TASK_ALLOCATION)
    os.makedirs(BaseConfig.inference_result_dir, exist_ok=True)
    out_path = os.path.join(BaseConfig.inference_result_dir, "predictions.csv")
    rows = lines(Context.get_parameters("infer_dataset_url"))
    header = next(csv.reader([next(rows)]))
    with open(out_path, "a", encoding="utf-8") as out:
        for line in rows:
            record = dict(zip(header, next(csv.reader([line]))))
            data = CSVDataParse(data_type="test").parse(record, label=LABEL)
            result, is_unseen, tasks = ll.inference(data)
            task = tasks[0].entry if tasks[0] is not None else ""
            out.write(f"{line.strip()},{result[0]},{task},{bool(is_unseen[0])}\n")
            out.flush()


if __name__ == "__main__":
    main()
