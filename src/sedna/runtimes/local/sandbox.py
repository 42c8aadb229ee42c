"""What a local worker starts in: its own scratch home, the Landlock paths the
wrapper confines it to (decided by :mod:`.confinement`; the folders it could not make
once confined are made here) and, with ``sedna up --worker-user``, the user it runs as
and the folders handed over to that user."""

import os
import pwd
import shutil
import sys

from sedna.common.config import user_config_dir
from sedna.common.log import sedna_logger
from sedna.runtimes.local import confinement

__all__ = ("scratch_home", "landlock_paths", "worker_user", "unreachable", "check_reach", "hand_over")

LOG = sedna_logger(__name__)


def scratch_home(tmp_root, worker_key, env, base_env, temp_dirs):
    """The worker's own folder in ``tmp_root``, made empty: its ``HOME`` and (``tmp/`` in it)
    ``TMPDIR`` unless its template names others (never the server user's home: its sedna config
    names the admin token's file). Added to ``temp_dirs``, which go when the worker does."""
    scratch = os.path.join(str(tmp_root), f"{worker_key}.home")  # beside its emptyDir volumes' folder
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


def worker_user(name):
    """``(uid, gid)`` of the unprivileged user ``name`` (a name or a number) that workers are
    to run as; ``ValueError`` with a one-line reason where that cannot be."""
    if os.geteuid() != 0:
        raise ValueError("--worker-user: only a control plane that runs as root can start workers as another user")
    try:
        pw = pwd.getpwuid(int(name)) if str(name).isdigit() else pwd.getpwnam(name)
    except KeyError:
        raise ValueError(f"--worker-user: no user {name!r} on this machine") from None
    if pw.pw_uid == 0:
        raise ValueError(f"--worker-user: {name!r} is root, not an unprivileged user")
    return pw.pw_uid, pw.pw_gid


def unreachable(path, uid, gid):
    """The first folder on the way into ``path`` that ``uid`` (group ``gid`` only) may not enter,
    with its mode and owner; None when every one lets it through (or does not exist)."""
    parts, folder = os.path.abspath(path).split(os.sep)[1:], os.sep
    for part in [""] + parts:
        folder = os.path.join(folder, part)
        try:
            st = os.stat(folder)
        except OSError:
            return None
        if not os.path.isdir(folder):
            return None
        bit = 0o100 if st.st_uid == uid else 0o010 if st.st_gid == gid else 0o001
        if not st.st_mode & bit:
            return f"{folder} (mode {st.st_mode & 0o777:04o}, owner uid {st.st_uid})"
    return None


def _give(path, uid, gid):
    try:
        st = os.lstat(path)
        if (st.st_uid, st.st_gid) != (uid, gid):
            os.chown(path, uid, gid, follow_symlinks=False)
    except OSError as e:
        LOG.warning("cannot give %s to the workers' user: %s", path, e)


def _give_tree(root, uid, gid):
    _give(root, uid, gid)
    for folder, dirs, files, fd in os.fwalk(root):  # by folder descriptors: a link swapped in is never followed
        for name in dirs + files:
            try:
                os.chown(name, uid, gid, dir_fd=fd, follow_symlinks=False)
            except OSError as e:
                LOG.warning("cannot give %s to the workers' user: %s", os.path.join(folder, name), e)


def check_reach(user, cwd):
    """``PermissionError`` naming the folder where a worker run as ``user`` (``(uid, gid)``)
    could not reach its script folder ``cwd`` or this Python."""
    uid, gid = user
    for path in (cwd, os.path.dirname(os.path.realpath(sys.executable))):
        why = unreachable(path, uid, gid)
        if why:
            raise PermissionError(f"the workers' user (uid {uid}) cannot enter {why}: let it through "
                                  f"(chmod o+x) or put the job's files elsewhere")


def hand_over(user, output_dir, named, own):
    """Give a worker that runs as ``user`` (``(uid, gid)``) what it writes: its ``own`` folders
    (scratch, emptyDir volumes) and the job's local ``output_dir`` wholly (never through a
    symbolic link in them), and each folder that ``named`` (its template's env and argv) names
    (the folder, not what is in it), system and code folders and paths through a link apart."""
    uid, gid = user
    local = confinement.local_path(output_dir or "")
    if local:
        os.makedirs(local, exist_ok=True)
    for root in list(own) + ([local] if local else []):
        _give_tree(root, uid, gid)
    keep = [os.path.realpath(p) for p in confinement.SYSTEM_READ] + list(confinement.python_paths())
    for folder in confinement.named_paths(named)[0]:
        real = os.path.realpath(folder)
        if real != os.path.abspath(folder):  # a link on the way (a worker may have made it): not given
            LOG.warning("not giving %s to the workers' user: it leads through a symbolic link", folder)
        elif not any(real == k or real.startswith(k.rstrip(os.sep) + os.sep) for k in keep):
            _give(folder, uid, gid)
