"""What the three workers share: the columns and the estimator."""

import numpy as np
from sklearn.linear_model import LogisticRegression

from sedna.backend import sklearn_io

LABEL = "comfortable"          # the label column of the CSV
TASK_ATTRIBUTE = ["site"]      # one task (and one model) per site
TASK_DEFINITION = {"method": "TaskDefinitionByDataAttr", "param": {"attribute": TASK_ATTRIBUTE}}
TASK_ALLOCATION = {"method": "TaskAllocationByDataAttr", "param": {"attribute": TASK_ATTRIBUTE}}


class Estimator:
    """The estimator contract: train, predict, evaluate, save, load."""

    def __init__(self, **kwargs):
        self.model = LogisticRegression(max_iter=500)

    def train(self, train_data, valid_data=None, **kwargs):
        self.model.fit(train_data.x, train_data.y)
        return {"accuracy": float(self.model.score(train_data.x, train_data.y))}

    def predict(self, x, **kwargs):
        return self.model.predict(x)

    def evaluate(self, data, **kwargs):
        return {"accuracy": float(np.mean(self.predict(data.x) == np.asarray(data.y)))}

    def save(self, model_path):  # scikit-learn's pickle-free format (skops)
        return sklearn_io.save(self.model, model_path + ".skops")

    def load(self, model_url):
        self.model = sklearn_io.load(self.model, model_url)
