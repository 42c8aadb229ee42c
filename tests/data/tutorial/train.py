# The tutorial's train.py (§2.1.1, §2.1.3): the snippets verbatim, with the
# imports they need.
import os
from typing import Any, List, Tuple

from interface import Estimator

from sedna.algorithms.seen_task_learning.artifact import Task
from sedna.algorithms.seen_task_learning.task_definition.base_task_definition import BaseTaskDefinition
from sedna.common.class_factory import ClassFactory, ClassType
from sedna.common.config import BaseConfig, Context
from sedna.core.lifelong_learning import LifelongLearning
from sedna.datasources import BaseDataSource, TxtDataParse


@ClassFactory.register(ClassType.STP)
class TaskDefinitionByOrigin(BaseTaskDefinition):
    """
    Dividing datasets based on the their origins.
    Parameters
    ----------
    attr_filed Tuple[Metadata]
        metadata is usually a class feature label with a finite values.
    """

    def __init__(self, **kwargs):
        super(TaskDefinitionByOrigin, self).__init__()
        self.attribute = kwargs.get("attribute").split(", ")
        self.city = kwargs.get("city")

    def __call__(self,
                 samples: BaseDataSource, **kwargs) -> Tuple[List[Task],
                                                             Any,
                                                             BaseDataSource]:

        tasks = []
        d_type = samples.data_type

        task_index = dict(zip(self.attribute, range(len(self.attribute))))
        sample_index = range(samples.num_examples())

        _idx = [i for i in sample_index if self.city in samples.y[i]]
        _y = samples.y[_idx]
        _x = samples.x[_idx]
        _sample = BaseDataSource(data_type=d_type)
        _sample.x, _sample.y = _x, _y

        g_attr = f"{self.attribute[0]}.model"
        task_obj = Task(entry=g_attr, samples=_sample,
                        meta_attr=self.attribute[0])
        tasks.append(task_obj)

        _idx = list(set(sample_index) - set(_idx))
        _y = samples.y[_idx]
        _x = samples.x[_idx]
        _sample = BaseDataSource(data_type=d_type)
        _sample.x, _sample.y = _x, _y

        g_attr = f"{self.attribute[-1]}.model"
        task_obj = Task(entry=g_attr, samples=_sample,
                        meta_attr=self.attribute[-1])
        tasks.append(task_obj)

        return tasks, task_index, samples


def train(estimator, train_data):
    task_definition = {
        "method": "TaskDefinitionByOrigin",
        "param": {
            "attribute": Context.get_parameters("attribute"),
            "city": Context.get_parameters("city")
        }
    }

    task_allocation = {
        "method": "TaskAllocationByOrigin"
    }

    ll_job = LifelongLearning(estimator,
                              task_definition=task_definition,
                              task_relationship_discovery=None,
                              task_allocation=task_allocation,
                              task_remodeling=None,
                              inference_integrate=None,
                              task_update_decision=None,
                              unseen_task_allocation=None,
                              unseen_sample_recognition=None,
                              unseen_sample_re_recognition=None
                              )

    ll_job.train(train_data)


def _load_txt_dataset(dataset_url):
    # use original dataset url
    original_dataset_url = Context.get_parameters('original_dataset_url', "")
    dataset_urls = dataset_url.split()
    dataset_urls = [
        os.path.join(
            os.path.dirname(original_dataset_url),
            dataset_url) for dataset_url in dataset_urls]
    return dataset_urls[:-1], dataset_urls[-1]


def run():
    estimator = Estimator(num_class=int(Context.get_parameters("num_class", 24)),
                      epochs=int(Context.get_parameters("epoches", 1)))
    train_dataset_url = BaseConfig.train_dataset_url
    train_data = TxtDataParse(data_type="train", func=_load_txt_dataset)
    train_data.parse(train_dataset_url, use_raw=False)

    train(estimator, train_data)


if __name__ == '__main__':
    run()
