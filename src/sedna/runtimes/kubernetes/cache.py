"""Where a job's pass reads the job, its Dataset and its Pods from.

Two sources with one interface (``job``, ``dataset``, ``pods``, ``log_tail``):

- :class:`WatchCache` reads kopf indices, which kopf fills from the watch
  streams the operator keeps open anyway (the operator declares them with
  :func:`register_indices`). It costs no API call, so a waiting job's periodic
  check is cheap. kopf starts no handler (no job daemon) before every index has
  its watch's initial listing, so a restarted operator never decides from a
  half-filled cache. The cache has no Pod logs.
- :class:`ApiSource` reads the API server itself: what a pass that must write
  decides from (:mod:`sedna.runtimes.kubernetes.jobs`), so every write rests on
  fresh objects and the resourceVersion it names is the current one.
"""

import copy

import kopf

from sedna.runtimes.kubernetes.api import DATASETS, JOBS, PODS
from sedna.runtimes.kubernetes.pods import LABEL_JOB

GROUP, VERSION = JOBS[0].split("/")
JOB_INDEX, DATASET_INDEX, POD_INDEX = "sedna_jobs", "sedna_datasets", "sedna_pods"


def snapshot(body):
    """A private copy of a watched object (the cache's entries are never mutated)."""
    return copy.deepcopy(dict(body))


def register_indices(reg):
    """Declare the three indices in kopf registry ``reg``; handlers receive them as keyword
    arguments named by their ids (``sedna_jobs``, ``sedna_datasets``, ``sedna_pods``)."""

    @kopf.index(GROUP, VERSION, JOBS[1], id=JOB_INDEX, registry=reg)
    def jobs(namespace, name, body, **_):
        return {(namespace, name): snapshot(body)}

    @kopf.index(GROUP, VERSION, DATASETS[1], id=DATASET_INDEX, registry=reg)
    def datasets(namespace, name, body, **_):
        return {(namespace, name): snapshot(body)}

    @kopf.index(PODS[0], PODS[1], labels={LABEL_JOB: kopf.PRESENT}, id=POD_INDEX, registry=reg)
    def job_pods(namespace, labels, body, **_):
        return {(namespace, labels[LABEL_JOB]): snapshot(body)}


def _one(index, key):
    store = index.get(key)
    return next(iter(store), None) if store else None


class WatchCache:
    """Reads the kopf indices of :func:`register_indices` (mappings key -> store of objects)."""

    fresh = False

    def __init__(self, jobs, datasets, pods):
        self._jobs, self._datasets, self._pods = jobs, datasets, pods

    @classmethod
    def from_kwargs(cls, kwargs):
        """The cache out of a kopf handler's keyword arguments (None if it has no indices)."""
        try:
            return cls(kwargs[JOB_INDEX], kwargs[DATASET_INDEX], kwargs[POD_INDEX])
        except KeyError:
            return None

    async def job(self, namespace, name):
        return _one(self._jobs, (namespace, name))

    def all_jobs(self):
        """Every watched job (for ``/metrics``; snapshots, never mutated)."""
        return [obj for store in list(self._jobs.values()) for obj in store]

    def all_datasets(self):
        return [obj for store in list(self._datasets.values()) for obj in store]

    async def dataset(self, namespace, name):
        return _one(self._datasets, (namespace, name))

    async def pods(self, namespace, job):
        return list(self._pods.get((namespace, job)) or ())

    async def log_tail(self, namespace, pod, container=None):
        return ""


class ApiSource:
    """Reads through :class:`~sedna.runtimes.kubernetes.api.Api` (``log_tail`` is the
    reconciler's remembered one, passed in)."""

    fresh = True

    def __init__(self, api, log_tail):
        self.api, self._log_tail = api, log_tail

    async def job(self, namespace, name):
        return await self.api.get(JOBS, namespace, name)

    async def dataset(self, namespace, name):
        return await self.api.get(DATASETS, namespace, name)

    async def pods(self, namespace, job):
        return await self.api.list(PODS, namespace, labels={LABEL_JOB: job})

    async def log_tail(self, namespace, pod, container=None):
        return await self._log_tail(namespace, pod, container)
