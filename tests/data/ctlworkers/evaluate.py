from sklearn.linear_model import LogisticRegression

from common import load
from sedna.common.config import BaseConfig
from sedna.core.lifelong_learning import LifelongLearning

data = load(BaseConfig.test_dataset_url, data_type="eval")
ll = LifelongLearning(LogisticRegression(max_iter=300))
res = ll.evaluate(data)
print(f"eval worker: {res['tasks']}")
