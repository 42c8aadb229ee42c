"""The worker environment contract (CONTRACTS §2), the same on both runtimes.

A worker receives, before its template's own ``env``: ``NAMESPACE``,
``JOB_NAME``, ``WORKER_NAME``, ``LC_SERVER`` (where it reports),
``LC_TOKEN`` (its own credential: it may post its own report and nothing
else), ``KB_SERVER`` (train and eval workers), and the stage's variables
that :func:`~sedna.control.reconcile.reconcile` decides (round files,
knowledge base, output folder). The local launcher and the Kubernetes Pod
builder both build it with :func:`worker_contract_env`.
"""

from sedna.core.unseen_store import count_unseen

#: The job's spec key holding each stage's worker template.
TEMPLATE_KEY = {"train": "trainSpec", "eval": "evalSpec", "deploy": "deploySpec"}

#: Contract variables a template's ``env`` cannot override (for any other name the template wins).
PROTECTED_ENV = frozenset({"NAMESPACE", "JOB_NAME", "WORKER_NAME", "LC_SERVER", "LC_TOKEN"})


def worker_contract_env(namespace, job, worker, stage, lc_server, token, env):
    """The env contract of one worker, before the template's own ``env``; ``env`` is the
    stage's variables from ``reconcile``; ``token`` None leaves ``LC_TOKEN`` to the runtime
    (a Pod reads it from its Secret)."""
    contract = {"NAMESPACE": namespace, "JOB_NAME": job, "WORKER_NAME": worker, "LC_SERVER": lc_server,
                "LC_TOKEN": token}
    if stage != "deploy":
        contract["KB_SERVER"] = lc_server
    contract.update(env)
    return contract


def unseen_count(job):
    """How many samples the job's inference worker saved as unseen (its ``unseen_save_url``
    folder, counted by the core's unseen store); None where there is no such folder here."""
    return count_unseen(template_env(job, "deploy").get("unseen_save_url"))


def template_env(job, stage):
    """The ``value`` of each ``env`` entry of a stage's first container (``{}`` if none)."""
    try:
        containers = job["spec"][TEMPLATE_KEY[stage]]["template"]["spec"]["containers"]
    except (KeyError, TypeError, IndexError):
        return {}
    if not containers or not isinstance(containers[0], dict):
        return {}
    return {e.get("name"): e.get("value") for e in (containers[0].get("env") or []) if isinstance(e, dict)}
