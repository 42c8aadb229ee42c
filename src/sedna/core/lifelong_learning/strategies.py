"""Learning strategies: composable pieces of a round, called at fixed hooks.

A round (the first ``train``, or an ``update``) follows one template; at each
hook the engine calls every strategy of the job, in order:

``configure(trainer)``
    once per round, before anything is trained: set the trainer's options
    the strategy owns (a share of the epochs, the replay buffer's size...).
``after_plan(rnd)``
    update only: the groups to train (``rnd.plan``) and to keep
    (``rnd.kept``) are known; a strategy may move kept groups into the plan
    and say what they train on besides their own rows (``rnd.mix``).
``before_fit(rnd)``
    the training sets (``rnd.specs``) are known; set the models the groups
    start from (``rnd.sources``) and the shared base (``rnd.base``).
``after_group(rnd, group_doc, model)``
    once per group trained in this round.
``after_fit(rnd)``
    every group is trained (``rnd.docs``, ``rnd.models``); a strategy may
    put a previous model back.
``before_commit(rnd)``
    the new index (``rnd.doc``) and the knowledge base it describes
    (``rnd.loaded_new``) are built, not yet written.
``after_commit(rnd, version)``
    the version is written and served.

A new strategy subclasses :class:`Strategy`, overrides the hooks it needs and
is passed as ``LifelongLearning(..., strategies=[MyStrategy()])``; the
keyword flags (``transfer``, ``replay_size``, ``distill``, ``refresh``,
``refresh_budget``, ``serve_choice``) make the built-in ones
(:func:`from_flags`). Per-round state goes in ``rnd.notes[strategy.name]``,
never on the strategy, which serves every round of the job.
"""

from dataclasses import dataclass, field

import numpy as np

from sedna.backend.transfer import transfer_mode
from sedna.core.lifelong_learning import backward_transfer, kb_doc, serve_choice

__all__ = ("Strategy", "Round", "Transfer", "Replay", "Distill", "Refresh", "ServeChoice", "from_flags",
           "combine", "call")


@dataclass
class Round:
    """What one round works on; the engine fills it, strategies read and amend it."""

    kind: str  # "train" or "update"
    trainer: object
    writer: object = None
    valid_data: object = None
    kwargs: dict = field(default_factory=dict)
    recognizer: object = None
    serving: object = None  # the job's Serving: loads models of a version
    prev: object = None  # update: the version updated, and it loaded
    loaded: object = None
    tasks_doc: list = None
    plan: list = None  # update: (entry, members, incoming, strategy, old group index)
    kept: dict = None  # update: {entry: (old group index, absorbed samples or None)}
    specs: list = None  # train: (entry, members, samples); update: + (strategy, old group index)
    kept_parts: list = None  # update: the samples of the groups kept (stored buffers)
    base: tuple = (None, None)  # the shared base: (Estimator, model doc)
    base_trained: bool = False  # the base learned this round's samples
    prev_base: tuple = (None, None)  # update: the previous version's base, when this round retrains it
    sources: dict = field(default_factory=dict)  # {entry: (Estimator, name)} a group starts from
    mix: dict = field(default_factory=dict)  # {entry: own training rows -> rows trained on}
    docs: list = None
    models: list = None
    doc: dict = None
    loaded_new: object = None
    notes: dict = field(default_factory=dict)


class Strategy:
    """A piece of the learning algorithm; every hook is optional (a no-op here)."""

    name = "strategy"

    def configure(self, trainer):
        pass

    def after_plan(self, rnd):
        pass

    def before_fit(self, rnd):
        pass

    def after_group(self, rnd, group_doc, model):
        pass

    def after_fit(self, rnd):
        pass

    def before_commit(self, rnd):
        pass

    def after_commit(self, rnd, version):
        pass

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in vars(self).items())})"


def call(strategies, hook, *args):
    """Call ``hook`` of every strategy, in order."""
    for s in strategies:
        getattr(s, hook)(*args)


class Transfer(Strategy):
    """A shared base model, and task models that start from a related trained model.

    The base: in the first round one model on every group's rows (for
    ``base_epochs`` of the epochs); with ``update_base`` (the default), in
    every update the previous base trained again on the round's new rows with
    every row of the groups' buffers (``base_replay`` None) or ``base_replay``
    old rows per new one. It serves groups too small for their own model, and
    any group it scores better on (:class:`ServeChoice`). Where the estimator can start from another
    (:mod:`sedna.backend.transfer`), a first-round group is specialised from
    the base (for ``task_epochs``), a retrained or refreshed group starts from
    its own previous model, and a new group from the base that has just
    learned its rows (without ``update_base``: from the model the allocation
    sends most of its samples to); otherwise every model trains from scratch."""

    name = "transfer"

    def __init__(self, task_epochs=0.5, base_epochs=0.8, update_base=True, base_replay=None):
        for what, share in (("task_epochs", task_epochs), ("base_epochs", base_epochs)):
            if not 0 < float(share) <= 1:
                raise ValueError(f"{what} must be in (0, 1]")
        if base_replay is not None and not float(base_replay) >= 0:
            raise ValueError("base_replay must be a number >= 0, or None to replay every stored sample")
        self.task_epochs, self.base_epochs = float(task_epochs), float(base_epochs)
        self.update_base, self.base_replay = bool(update_base), None if base_replay is None else float(base_replay)

    def configure(self, trainer):
        trainer.shared = True
        trainer.transfer = transfer_mode(trainer.estimator) is not None
        trainer.task_epochs, trainer.base_epochs = self.task_epochs, self.base_epochs
        trainer.base_replay = self.base_replay
        trainer.base_updates = self.update_base

    def before_fit(self, rnd):
        if not rnd.trainer.shared:
            return
        if rnd.kind == "train":
            rnd.base = rnd.trainer.train_base(rnd.writer, rnd.specs, rnd.valid_data, rnd.kwargs,
                                              recognizer=rnd.recognizer)
            if rnd.base[0] is not None:
                rnd.sources.update({e: (rnd.base[0], kb_doc.BASE_ENTRY) for e, _, _ in rnd.specs})
            return
        rnd.base = self.previous_base(rnd)
        if self.update_base:  # every update: the base learns the new rows with replayed old ones
            new = [t.samples for ts in rnd.notes["new_samples"].values() for t in ts]
            parts = list(rnd.kept_parts or []) + [s for _, _, s, _, _ in rnd.specs]
            base = rnd.trainer.update_base(rnd.writer, parts, new, rnd.valid_data, rnd.kwargs,
                                           recognizer=rnd.recognizer, previous=rnd.base if rnd.base[0] else None)
            if base[0] is not None:
                rnd.prev_base, rnd.base, rnd.base_trained = rnd.base, base, True
                rnd.trainer.base_learned = True
        rnd.sources.update(self.update_sources(rnd))

    @staticmethod
    def previous_base(rnd):
        """The previous version's shared base model, loaded, with its doc (absolute URL)."""
        bd = rnd.prev.doc.get("base_model")
        if not bd:
            return None, None
        model = rnd.serving.load_model(rnd.prev, bd["url"], kb_doc.BASE_ENTRY)
        return model, dict(bd, url=rnd.prev.resolve(bd["url"]))

    @staticmethod
    def update_sources(rnd):
        """A retrained or refreshed group starts from its own previous model; a new
        one from the model the allocation sends most of its samples to (the
        closest task), else from the shared base."""
        loaded, sources = rnd.loaded, {}
        for entry, _, samples, strategy, gi in rnd.specs:
            if strategy in ("refresh", "retrain") and gi is not None:
                sources[entry] = (loaded.models[gi], entry)
            elif strategy == "new" and rnd.base_trained:  # the base has learned its samples
                sources[entry] = (rnd.base[0], kb_doc.BASE_ENTRY)
            elif strategy == "new":
                ids = loaded.allocate(samples) if len(samples.x) else np.zeros(0, dtype=np.int64)
                ids = ids[ids >= 0]
                if len(ids):
                    closest = int(np.bincount(ids).argmax())
                    sources[entry] = (loaded.models[closest], loaded.entries[closest])
                elif rnd.base[0] is not None:
                    sources[entry] = (rnd.base[0], kb_doc.BASE_ENTRY)
        return sources


class Replay(Strategy):
    """Each task keeps at most ``size`` of the samples it learned from (a uniform
    reservoir, :mod:`.replay`), replayed when it is retrained; None keeps all."""

    name = "replay"

    def __init__(self, size=500):
        if size is not None and int(size) < 1:
            raise ValueError("replay_size must be a positive number of samples or None")
        self.size = None if size is None else int(size)

    def configure(self, trainer):
        trainer.replay_size = self.size


class Distill(Strategy):
    """A retrained task's previous model is passed as ``teacher=`` to estimators
    whose ``train`` takes one (Learning without Forgetting)."""

    name = "distill"

    def configure(self, trainer):
        trainer.distill = True


class Refresh(Strategy):
    """Backward transfer (:mod:`.backward_transfer`): when an update creates a
    task, related old tasks train again from their own model on their rows
    plus its samples, for ``share`` of the epochs, within ``budget`` (None:
    no bound), and keep the result only if it scores at least as well on
    their held-out rows. Needs :class:`Transfer`; ``share`` 0 refreshes nothing."""

    name = "refresh"

    def __init__(self, share=0.0, budget=0.5):
        if not 0 <= float(share) <= 1:
            raise ValueError("refresh must be in [0, 1] (0: old tasks are never refreshed)")
        if budget is not None and not float(budget) >= 0:
            raise ValueError("refresh_budget must be a number >= 0, or None for no bound")
        self.share, self.budget = float(share), None if budget is None else float(budget)

    def configure(self, trainer):
        trainer.refresh, trainer.refresh_budget = self.share, self.budget

    def after_plan(self, rnd):
        planned = backward_transfer.plan(rnd.trainer, rnd.prev, rnd.loaded, rnd.tasks_doc, rnd.plan, rnd.kept,
                                         rnd.valid_data, rnd.recognizer)
        rnd.notes[self.name] = planned
        rnd.mix.update({e: r.training_set for e, r in planned.items() if r.outcome == "planned"})

    def after_fit(self, rnd):
        if rnd.kind == "update":
            backward_transfer.keep_better(rnd.trainer, rnd.prev, rnd.loaded, rnd.specs, rnd.docs, rnd.models,
                                          rnd.notes.get(self.name, {}))

    def before_commit(self, rnd):
        if rnd.kind == "update":
            rnd.doc["update"]["refreshed"] = {e: r.outcome for e, r in rnd.notes.get(self.name, {}).items()}


class ServeChoice(Strategy):
    """Each version decides per task group whether its own model or the shared
    base serves the samples allocated to it (:mod:`.serve_choice`). ``mode``:
    True, None (numeric samples only) or False (every group serves its own
    model; a previous version's choices are cleared)."""

    name = "serve_choice"

    def __init__(self, mode=None):
        if mode not in (None, True, False):
            raise ValueError("serve_choice must be True, False or None (numeric samples only)")
        self.mode = mode

    def configure(self, trainer):
        trainer.serve_choice = self.mode

    def before_commit(self, rnd):
        serve_choice.choose(rnd.trainer, rnd.loaded_new, rnd.base[0], rnd.prev, fresh_base=rnd.base_trained,
                            old_base=rnd.prev_base if rnd.prev_base[0] is not None else None)


def from_flags(transfer=True, task_epochs=0.5, base_epochs=0.8, replay_size=500, distill=False, refresh=0.0,
               refresh_budget=0.5, serve_choice=None, update_base=True, base_replay=None):
    """The built-in strategies the constructor's keyword flags stand for."""
    shares = Transfer(task_epochs, base_epochs, update_base, base_replay)  # the shares are checked even without transfer
    out = [shares] if transfer else []
    out.append(Replay(replay_size))
    if distill:
        out.append(Distill())
    out += [Refresh(refresh, refresh_budget), ServeChoice(serve_choice)]
    return out


def combine(flagged, given):
    """``flagged`` with each of ``given`` replacing the one of the same ``name``,
    the others appended in their order."""
    given = list(given or [])
    for s in given:
        if not isinstance(s, Strategy):
            raise TypeError(f"strategies: {s!r} is not a Strategy (subclass "
                            "sedna.core.lifelong_learning.strategies.Strategy)")
    names = {s.name for s in given}
    return [s for s in flagged if s.name not in names] + given
