# An eval worker in the tutorial's style: parse TEST_DATASET_URL, evaluate the
# knowledge base named by MODEL_URLS, with the operator/model_threshold rule.
import os

from interface import Estimator

from sedna.common.config import BaseConfig, Context
from sedna.core.lifelong_learning import LifelongLearning
from sedna.datasources import TxtDataParse


def _load_txt_dataset(dataset_url):
    original_dataset_url = Context.get_parameters('original_dataset_url', "")
    dataset_urls = dataset_url.split()
    dataset_urls = [os.path.join(os.path.dirname(original_dataset_url), u) for u in dataset_urls]
    return dataset_urls[:-1], dataset_urls[-1]


def run():
    estimator = Estimator(num_class=int(Context.get_parameters("num_class", 24)))
    eval_data = TxtDataParse(data_type="eval", func=_load_txt_dataset)
    eval_data.parse(BaseConfig.test_dataset_url, use_raw=False)
    ll_job = LifelongLearning(estimator, task_definition=None, task_relationship_discovery=None,
                              task_allocation={"method": "TaskAllocationByOrigin"}, task_remodeling=None,
                              inference_integrate=None, task_update_decision=None,
                              unseen_task_allocation=None, unseen_sample_recognition=None,
                              unseen_sample_re_recognition=None)
    ll_job.evaluate(eval_data)


if __name__ == '__main__':
    run()
