"""Learning strategies are pieces a job is composed of: the constructor's flags
make the built-in ones, and a strategy of the user's own, passed as
``strategies=[...]``, is called at every hook of a train and an update round
and can change what a version holds, with no change to the engine."""

import numpy as np
import pytest
from sklearn.linear_model import SGDClassifier

from sedna.core.lifelong_learning import LifelongLearning
from sedna.core.lifelong_learning.strategies import Distill, Refresh, Replay, ServeChoice, Strategy, Transfer
from sedna.examples.digits import DigitsDomains


class Recorder(Strategy):
    """Writes down every hook it sees, and stamps each version with the groups it trained."""

    name = "recorder"

    def __init__(self):
        self.calls = []

    def configure(self, trainer):
        self.calls.append("configure")

    def after_plan(self, rnd):
        self.calls.append(f"after_plan:{sorted(e for e, *_ in rnd.plan)}")

    def before_fit(self, rnd):
        self.calls.append(f"before_fit:{rnd.kind}")

    def after_group(self, rnd, group_doc, model):
        assert hasattr(model, "predict")
        rnd.notes.setdefault(self.name, []).append(group_doc["entry"])

    def after_fit(self, rnd):
        self.calls.append("after_fit")

    def before_commit(self, rnd):
        rnd.doc["trained_here"] = sorted(rnd.notes[self.name])
        self.calls.append("before_commit")

    def after_commit(self, rnd, version):
        self.calls.append(f"after_commit:{version.number}")


@pytest.fixture(scope="module")
def digits():
    return DigitsDomains()


def _sgd():
    return SGDClassifier(loss="log_loss", max_iter=20, tol=None, random_state=0)


def test_a_users_strategy_is_called_at_every_hook_and_shapes_the_version(tmp_path, digits):
    rec = Recorder()
    ll = LifelongLearning(_sgd(), task_definition={"method": "TaskDefinitionByDataAttr"},
                          output_url=str(tmp_path / "kb"), strategies=[rec])
    rows = digits.train_rows[:300]
    ll.train(digits.source(["plain", "flipped"], rows=rows))
    assert rec.calls == ["configure", "before_fit:train", "after_fit", "before_commit", "after_commit:1"]
    assert ll.knowledge_base().current().doc["trained_here"] == ["flipped.model", "plain.model"]

    rec.calls.clear()
    ll.update(digits.source(["rotated"], rows=rows))
    assert rec.calls == ["configure", "after_plan:['rotated.model']", "before_fit:update", "after_fit",
                         "before_commit", "after_commit:2"]
    v2 = ll.knowledge_base().current()
    assert v2.doc["trained_here"] == ["rotated.model"]  # only the group trained in this round
    assert "refreshed" in v2.doc["update"]  # the built-in strategies ran beside it
    pred, _, _ = ll.inference(digits.source(["rotated"], "test", data_type="test", rows=digits.test_rows[:100]),
                              recognize_unseen=False)
    assert np.mean(np.asarray(pred) == digits.y[digits.test_rows[:100]]) > 0.6


def test_the_flags_make_the_built_in_strategies_and_a_given_one_replaces_its_namesake():
    names = [s.name for s in LifelongLearning(_sgd()).strategies]
    assert names == ["transfer", "replay", "refresh", "serve_choice"]
    ll = LifelongLearning(_sgd(), transfer=False, distill=True, replay_size=40, serve_choice=False)
    kinds = {s.name: s for s in ll.strategies}
    assert set(kinds) == {"replay", "distill", "refresh", "serve_choice"}
    assert isinstance(kinds["distill"], Distill) and kinds["replay"].size == 40 and kinds["serve_choice"].mode is False
    ll = LifelongLearning(_sgd(), strategies=[Replay(size=7), Recorder()])
    kinds = {s.name: s for s in ll.strategies}
    assert kinds["replay"].size == 7 and [s.name for s in ll.strategies][-1] == "recorder"
    assert isinstance(kinds["transfer"], Transfer) and isinstance(kinds["refresh"], Refresh)
    assert isinstance(kinds["serve_choice"], ServeChoice)


def test_bad_strategies_are_refused_naming_the_setting():
    with pytest.raises(TypeError, match="strategies"):
        LifelongLearning(_sgd(), strategies=[object()])
    with pytest.raises(ValueError, match="replay_size"):
        Replay(size=0)
    with pytest.raises(ValueError, match="refresh"):
        LifelongLearning(_sgd(), refresh=2)
    with pytest.raises(ValueError, match="task_epochs"):
        LifelongLearning(_sgd(), transfer=False, task_epochs=0)
