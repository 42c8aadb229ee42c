"""The eval worker: this round's knowledge base (MODEL_URLS) scored on this
round's eval rows (TEST_DATASET_URL); writes the deployable index to OUTPUT_URL."""

from interface import LABEL, TASK_ALLOCATION, Estimator
from sedna.common.config import BaseConfig
from sedna.core.lifelong_learning import LifelongLearning
from sedna.datasources import CSVDataParse

eval_data = CSVDataParse(data_type="eval").parse(BaseConfig.test_dataset_url, label=LABEL)
ll = LifelongLearning(estimator=Estimator, task_allocation=TASK_ALLOCATION)
print(ll.evaluate(eval_data)["tasks"])  # reports eval/completed with each task's accuracy
