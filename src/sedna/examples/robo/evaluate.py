"""Eval worker: scores every task of the trained knowledge base on this
round's eval frames, drops tasks by the operator/model_threshold rule and
writes the deployable index (with the unseen threshold re-calibrated on these
held-out frames)."""

from interface import Estimator
from train import _load_txt_dataset, with_scenes

from sedna.examples.robo.jobspec import TASK_ALLOCATION, TASK_DEFINITION, UNSEEN_RECOGNITION

import sedna.examples.robo.plugins  # noqa: F401  - registers robo_image_stats
from sedna.common.config import BaseConfig, Context
from sedna.common.log import setup
from sedna.core.lifelong_learning import LifelongLearning
from sedna.datasources import TxtDataParse


def run():
    setup()
    estimator = Estimator(num_class=int(Context.get_parameters("num_class", 24)))
    eval_data = TxtDataParse(data_type="eval", func=_load_txt_dataset)
    eval_data.parse(BaseConfig.test_dataset_url, use_raw=False)
    ll_job = LifelongLearning(estimator, task_definition=TASK_DEFINITION, task_allocation=TASK_ALLOCATION,
                              unseen_sample_recognition=UNSEEN_RECOGNITION)
    res = ll_job.evaluate(with_scenes(eval_data))
    for task, m in res["tasks"].items():
        print(f"eval {task}: " + ", ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}"
                                           for k, v in m.items()), flush=True)


if __name__ == '__main__':
    run()
