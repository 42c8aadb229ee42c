"""Pods and token Secrets of a job's workers, and what a Pod says about its worker.

Pure functions over plain dicts (the API's JSON): the operator turns a
``start_worker`` action into the manifests built here and observes the
Pods it owns with :func:`observe`. The worker env contract is the local
runtime's (:func:`sedna.control.contract.worker_contract_env`),
so the two runtimes give a worker the same variables; only three are
resolved by Kubernetes itself: ``LC_SERVER`` (the node agent on the Pod's
node, ``http://$(SEDNA_NODE_IP):9100``, unless the operator was given one),
``KB_SERVER`` (the same) and ``LC_TOKEN`` (from the worker's own Secret).
"""

import base64
import copy
import secrets

from sedna.control.reconcile import WorkerObs
from sedna.control.contract import PROTECTED_ENV, TEMPLATE_KEY, worker_contract_env
from sedna.common.constants import DEFAULT_PORT, GROUP_VERSION, JOB

JOB_KIND = JOB
LABEL_JOB = "sedna.io/job"
LABEL_STAGE = "sedna.io/stage"
LABEL_ROUND = "sedna.io/round"
LABEL_WORKER = "sedna.io/worker"
NODE_IP_VAR = "SEDNA_NODE_IP"
AGENT_PORT = DEFAULT_PORT
NODE_LC_SERVER = f"http://$({NODE_IP_VAR}):{AGENT_PORT}"


def token_secret_name(worker):
    return f"{worker}-token"


def owner_reference(job):
    meta = job["metadata"]
    return {"apiVersion": GROUP_VERSION, "kind": JOB_KIND, "name": meta["name"], "uid": meta.get("uid", ""),
            "controller": True, "blockOwnerDeletion": True}


def labels(job_name, stage, round_no, worker):
    return {LABEL_JOB: job_name, LABEL_STAGE: stage, LABEL_ROUND: str(round_no), LABEL_WORKER: worker}


def token_secret(job, worker, stage, round_no, token=None):
    """The worker's own credential (posts its own report and nothing else)."""
    token = token or secrets.token_urlsafe(32)
    meta = job["metadata"]
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": token_secret_name(worker), "namespace": meta["namespace"],
                         "labels": labels(meta["name"], stage, round_no, worker),
                         "ownerReferences": [owner_reference(job)]},
            "data": {"token": base64.b64encode(token.encode()).decode()}}


def secret_token(secret):
    """The token a Secret made by :func:`token_secret` holds (None if none)."""
    data = (secret or {}).get("data") or {}
    if data.get("token"):
        return base64.b64decode(data["token"]).decode()
    return ((secret or {}).get("stringData") or {}).get("token")


def contract_env(job, worker, stage, env, lc_server=None):
    """The worker's contract variables as the local runtime builds them (a dict)."""
    meta = job["metadata"]
    server = lc_server or NODE_LC_SERVER
    return worker_contract_env(meta["namespace"], meta["name"], worker, stage, server, None, env)


def _env_list(contract, template_env, worker, lc_server):
    out = []
    if not lc_server:
        out.append({"name": NODE_IP_VAR, "valueFrom": {"fieldRef": {"fieldPath": "status.hostIP"}}})
    for k, v in contract.items():
        if k == "LC_TOKEN":
            out.append({"name": k, "valueFrom": {"secretKeyRef": {"name": token_secret_name(worker), "key": "token"}}})
        else:
            out.append({"name": k, "value": "" if v is None else str(v)})
    for item in template_env or []:
        if item.get("name") in PROTECTED_ENV and item.get("name") in contract:
            continue  # the control plane sets it (as the local runtime does)
        out.append(item)
    return out


def pod(job, worker, stage, round_no, env, lc_server=None):
    """The Pod of ``start_worker`` (worker ``worker`` of ``stage``/``round_no``)."""
    meta, spec = job["metadata"], job["spec"]
    template = copy.deepcopy((spec.get(TEMPLATE_KEY[stage]) or {}).get("template") or {})
    tmeta, pspec = template.get("metadata") or {}, template.get("spec") or {}
    contract = contract_env(job, worker, stage, env, lc_server)
    for c in pspec.get("containers") or []:
        c["env"] = _env_list(contract, c.get("env"), worker, lc_server)
        if spec.get("credentialName"):
            c["envFrom"] = list(c.get("envFrom") or []) + [{"secretRef": {"name": spec["credentialName"]}}]
    if stage != "deploy" or not pspec.get("restartPolicy"):
        pspec["restartPolicy"] = "Never"  # retries are the controller's (backoff, then Failed)
    pod_labels = dict(tmeta.get("labels") or {})
    pod_labels.update(labels(meta["name"], stage, round_no, worker))
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": worker, "namespace": meta["namespace"], "labels": pod_labels,
                         "annotations": dict(tmeta.get("annotations") or {}),
                         "ownerReferences": [owner_reference(job)]},
            "spec": pspec}


def failed_container(p):
    """``(name, terminated state)`` of the container that ended the Pod: the first that
    exited non-zero, else the first that terminated; ``(None, None)`` when none did. In a
    Pod with a sidecar, that names the worker's container, whose log tells why."""
    ended = []
    for cs in ((p.get("status") or {}).get("containerStatuses") or []):
        term = (cs.get("state") or {}).get("terminated") or (cs.get("lastState") or {}).get("terminated")
        if term:
            ended.append((cs.get("name"), term))
    return next((e for e in ended if e[1].get("exitCode")), ended[0] if ended else (None, None))


def _terminated(p):
    return failed_container(p)[1]


def observe(p, report_entry=None):
    """A Pod (and its worker's report entry from the job's status) as a ``WorkerObs``."""
    meta, status = p["metadata"], p.get("status") or {}
    lab = meta.get("labels") or {}
    phase = status.get("phase") or "Pending"
    term = _terminated(p)
    code = term.get("exitCode") if term else None
    tail = (term.get("message") or term.get("reason") or "") if term else ""
    if phase == "Failed" and code is None:
        tail = tail or status.get("message") or status.get("reason") or ""
    entry = dict(report_entry or {})
    reported_at = entry.pop("reportedAt", None)
    return WorkerObs(name=meta["name"], stage=lab.get(LABEL_STAGE, ""), round=int(lab.get(LABEL_ROUND, 0) or 0),
                     phase=phase if phase in ("Pending", "Running", "Succeeded", "Failed") else "Unknown",
                     exit_code=code, report=entry or None, log_tail=tail, reported_at=reported_at)
