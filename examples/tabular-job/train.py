"""The train worker: this round's training rows (TRAIN_DATASET_URL) into the
job's knowledge base (OUTPUT_URL); from round 2 on, an update of the previous
version (CLOUD_KB_INDEX). The control plane sets every variable."""

from interface import LABEL, TASK_DEFINITION, Estimator
from sedna.common.config import BaseConfig
from sedna.core.lifelong_learning import LifelongLearning
from sedna.datasources import CSVDataParse

train_data = CSVDataParse(data_type="train").parse(BaseConfig.train_dataset_url, label=LABEL)
ll = LifelongLearning(estimator=Estimator, task_definition=TASK_DEFINITION)
print(ll.train(train_data))  # reports train/completed to the control plane
