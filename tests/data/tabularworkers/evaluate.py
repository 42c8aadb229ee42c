import json
import os

from interface import DATACONF, Estimator, feature_process
from sedna.common.config import Context
from sedna.core.lifelong_learning import LifelongLearning
from sedna.datasources import CSVDataParse


def main():
    test_dataset_url = Context.get_parameters('test_dataset_url')
    valid_data = CSVDataParse(data_type="test", func=feature_process)
    valid_data.parse(test_dataset_url, label=DATACONF["LABEL"])

    # task_allocation=None: the default allocation follows the attribute the
    # knowledge base's tasks were defined by
    ll_job = LifelongLearning(
        estimator=Estimator,
        task_definition=None,
        task_relationship_discovery=None,
        task_allocation=None,
        task_remodeling=None,
        inference_integrate=None,
        task_update_decision=None,
        unseen_task_allocation=None,
        unseen_sample_recognition=None,
        unseen_sample_re_recognition=None
    )
    eval_experiment = ll_job.evaluate(
        data=valid_data, metrics="precision_score",
        metrics_param={"average": "micro"}
    )
    # for the test: what the evaluation found, beside the deployable index
    with open(os.path.join(Context.get_parameters("OUTPUT_URL"), "eval_result.json"), "w") as f:
        json.dump(eval_experiment, f)
    return eval_experiment


if __name__ == "__main__":
    print(main())
