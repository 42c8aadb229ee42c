import json

from interface import DATACONF, Estimator, feature_process
from sedna.common.config import BaseConfig, Context
from sedna.core.lifelong_learning import LifelongLearning
from sedna.datasources import CSVDataParse


def main():
    test_dataset_url = BaseConfig.test_dataset_url
    valid_data = CSVDataParse(data_type="test", func=feature_process)
    valid_data.parse(test_dataset_url, label=DATACONF["LABEL"])
    attribute = json.dumps({"attribute": DATACONF["ATTRIBUTES"]})
    model_threshold = float(Context.get_parameters('model_threshold', 0))

    task_definition = {
        "method": "TaskDefinitionByDataAttr",
        "param": attribute
    }

    ll_job = LifelongLearning(
        estimator=Estimator,
        task_definition=task_definition,
        task_relationship_discovery=None,
        task_mining=None,
        task_remodeling=None,
        inference_integrate=None,
        unseen_task_detect=None
    )
    eval_experiment = ll_job.evaluate(
        data=valid_data, metrics="precision_score",
        metrics_param={"average": "micro"},
        model_threshold=model_threshold
    )
    return eval_experiment


if __name__ == '__main__':
    print(json.dumps(main()))
