"""The control plane, independent of where it runs: resources and their
validation, the training trigger, rounds (sample split, round files) and
``reconcile``, a pure function from observed state to actions."""
