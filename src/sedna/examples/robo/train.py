"""Train worker of the robot-dog job (tutorial §2.1.1, §2.1.3).

One task per scene (the origin and city/style in each frame's path:
``real/<city>/...``, ``sim/<style>/...``), so every city is a task of its own
and the tutorial's ``city`` variable (which split "real" in two) is not
needed; ``attribute`` lists the origins the job expects. Frames are allocated to a task, and
flagged unseen, from their appearance (the ``robo_image_stats`` plugin), so
the robot needs no scene label at run time.
"""

import os

from interface import Estimator

import sedna.examples.robo.plugins  # noqa: F401  - registers robo_image_stats
from sedna.common.config import BaseConfig, Context
from sedna.common.log import setup
from sedna.core.lifelong_learning import LifelongLearning
from sedna.datasources import TxtDataParse
from sedna.examples.robo.datagen import domain_of

from sedna.examples.robo.jobspec import (TASK_ALLOCATION, TASK_DEFINITION, TASK_UPDATE_DECISION,  # noqa: E402
                                           UNSEEN_RECOGNITION)


def _load_txt_dataset(dataset_url):
    # use original dataset url
    original_dataset_url = Context.get_parameters('original_dataset_url', "")
    dataset_urls = dataset_url.split()
    dataset_urls = [
        os.path.join(
            os.path.dirname(original_dataset_url),
            dataset_url) for dataset_url in dataset_urls]
    return dataset_urls[:-1], dataset_urls[-1]


def with_scenes(data):
    """The scene of every frame, from its label path, as the task attribute."""
    import numpy as np

    data.meta_attr = np.array([domain_of(str(y)) for y in data.y])
    return data


def train(estimator, train_data):
    ll_job = LifelongLearning(estimator,
                              task_definition=TASK_DEFINITION,
                              task_relationship_discovery=None,
                              task_allocation=TASK_ALLOCATION,
                              task_remodeling=None,
                              inference_integrate=None,
                              task_update_decision=TASK_UPDATE_DECISION,
                              unseen_task_allocation=None,
                              unseen_sample_recognition=UNSEEN_RECOGNITION,
                              unseen_sample_re_recognition=None)
    return ll_job.train(train_data)


def run():
    setup()
    estimator = Estimator(num_class=int(Context.get_parameters("num_class", 24)),
                          epochs=int(Context.get_parameters("epoches", 1)))
    train_dataset_url = BaseConfig.train_dataset_url
    train_data = TxtDataParse(data_type="train", func=_load_txt_dataset)
    train_data.parse(train_dataset_url, use_raw=False)
    train_data = with_scenes(train_data)
    origins = [o.strip() for o in (Context.get_parameters("attribute") or "").split(",") if o.strip()]
    if origins:  # the tutorial's attribute: the origins this job learns from
        strange = sorted({d for d in train_data.meta_attr if d.split("/")[0] not in origins})
        if strange:
            print(f"warning: frames of {', '.join(strange)} are not of the origins {origins}", flush=True)
    res = train(estimator, train_data)
    print(f"knowledge base version {res['version']}: {', '.join(res['tasks'])}", flush=True)


if __name__ == '__main__':
    run()
