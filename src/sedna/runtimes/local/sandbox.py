"""What a local worker starts in: its own scratch home, and the Landlock paths the
wrapper confines it to (decided by :mod:`.confinement`; the folders it could not make
once confined are made here)."""

import os
import shutil

from sedna.common.config import user_config_dir
from sedna.common.log import sedna_logger
from sedna.runtimes.local import confinement

__all__ = ("scratch_home", "landlock_paths")

LOG = sedna_logger(__name__)


def scratch_home(state_dir, worker_key, env, base_env, temp_dirs):
    """The worker's own folder, made empty: its ``HOME`` and (``tmp/`` in it) ``TMPDIR`` unless
    its template names others (never the server user's home: its sedna config names the
    admin token's file). Added to ``temp_dirs``, which go when the worker does."""
    scratch = os.path.join(str(state_dir), "tmp", f"{worker_key}.home")  # beside its emptyDir volumes' folder
    shutil.rmtree(scratch, ignore_errors=True)
    os.makedirs(os.path.join(scratch, "tmp"), mode=0o700)
    temp_dirs.append(scratch)
    inherited = base_env if base_env is not None else os.environ
    for key, value in (("HOME", scratch), ("TMPDIR", os.path.join(scratch, "tmp"))):
        if env.get(key) in (None, "", inherited.get(key)):
            env[key] = value
    return scratch


def landlock_paths(state_dir, named, env, cwd, volume_hosts, scratch):
    """``{"read": [...], "write": [...]}`` for the wrapper: ``named`` the ``(name, value)``
    pairs of the job's env, argv and outputDir (:func:`.confinement.named_paths`)."""
    protected = [str(state_dir), user_config_dir()]
    for folder in sorted(confinement.named_paths(named, protected)[1]):  # the worker could not make them
        try:
            os.makedirs(folder, exist_ok=True)
            LOG.info("made %s for a worker (beside the state folder: confined, it could not)", folder)
        except OSError as e:
            LOG.warning("cannot make %s for a worker: %s", folder, e)
    read, write = confinement.worker_paths(named, env.get("PYTHONPATH", ""), str(cwd), volume_hosts, scratch,
                                           protected)
    return {"read": read, "write": write}
