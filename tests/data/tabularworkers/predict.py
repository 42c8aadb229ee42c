"""The inference worker, in the original's style: it follows a CSV file
(``infer_dataset_url``) line by line, feeds each record to
``CSVDataParse.parse(<dict>)`` and appends the prediction to
``<INFERENCE_RESULT_DIR>/out.csv``."""

import csv
import json
import os
import signal
import time

from interface import DATACONF, Estimator, feature_process
from sedna.common.config import Context
from sedna.core.lifelong_learning import LifelongLearning
from sedna.datasources import CSVDataParse

running = True


def stop(*_):
    global running
    running = False


def main():
    signal.signal(signal.SIGTERM, stop)
    attribute = json.dumps({"attribute": DATACONF["ATTRIBUTES"]})
    task_allocation = {
        "method": "TaskAllocationByDataAttr",
        "param": attribute
    }
    ll_job = LifelongLearning(
        estimator=Estimator,
        task_definition=None,
        task_relationship_discovery=None,
        task_allocation=task_allocation,
        task_remodeling=None,
        inference_integrate=None,
        task_update_decision=None,
        unseen_task_allocation=None,
        unseen_sample_recognition=None,
        unseen_sample_re_recognition=None)

    infer_dataset_url = Context.get_parameters('infer_dataset_url')
    out_dir = Context.get_parameters("INFERENCE_RESULT_DIR")
    os.makedirs(out_dir, exist_ok=True)
    while running and not os.path.exists(infer_dataset_url):
        time.sleep(0.2)
    file_handle = open(infer_dataset_url, "r", encoding="utf-8")
    header = list(csv.reader([file_handle.readline().strip()]))[0]
    infer_data = CSVDataParse(data_type="test", func=feature_process)
    out_name = os.path.join(out_dir, f"out-{os.environ.get('WORKER_NAME', 'worker')}.csv")
    output_sample = open(out_name, "w", encoding="utf-8")
    output_sample.write(",".join(header + ['pred']) + "\n")
    output_sample.flush()

    while running:
        where = file_handle.tell()
        line = file_handle.readline()
        if not line or not line.endswith("\n"):
            time.sleep(0.2)
            file_handle.seek(where)
            continue
        rows = list(csv.reader([line.strip()]))[0]
        data = dict(zip(header, rows))
        infer_data.parse(data, label=DATACONF["LABEL"])
        rsl, is_unseen, target_task = ll_job.inference(infer_data)
        rows.append(str(list(rsl)[0]))
        output_sample.write(",".join(rows) + "\n")
        output_sample.flush()


if __name__ == '__main__':
    main()
