"""Giving up every Linux capability, for good: what a worker started by a server that runs
as root must do before it runs someone else's code.

Root keeps its capabilities through ``execve`` unless they leave the bounding set, so
:func:`drop_all` first empties the bounding set (``PR_CAPBSET_DROP``, while it still holds
``CAP_SETPCAP``), then the effective, permitted and inheritable sets (``capset``) and the
ambient set. Without ``CAP_SYS_PTRACE`` a Landlocked process can no longer read the
memory, environment or open files of processes outside its domain through ``/proc``
(:mod:`sedna.common.landlock`). The user id stays what it was unless :func:`drop_all` is given
another (``sedna up --worker-user``): then the worker becomes that user, with no supplementary
groups, once the bounding set is empty. Either way ``no_new_privs`` is set: no set-user-ID
program it runs gains anything.
"""

import ctypes
import os
import platform

__all__ = ("drop_all", "PR_SET_NO_NEW_PRIVS")

_PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38  # also what sedna.common.landlock sets before it restricts
_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
_CAPSET = 126 if platform.machine() in ("x86_64", "AMD64") else 91  # x86-64's table; the generic one (arm64, riscv)
_VERSION_3 = 0x20080522
_LAST_CAP = 63


class _Header(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _Data(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def drop_all(uid=None, gid=None):
    """Drop every capability of the calling thread and of what it will ``exec``; with ``uid``
    and ``gid``, become that user and group first (which takes root's capabilities). Raises
    ``OSError`` where the user cannot be taken or ``capset`` fails (the bounding set cannot be
    emptied without ``CAP_SETPCAP``: then nothing above the thread's own sets was held anyway)."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in range(_LAST_CAP + 1):
        libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0)  # EINVAL past the kernel's last one; EPERM without SETPCAP
    libc.prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    if uid is not None:
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)  # real, effective and saved: there is no way back
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"no_new_privs: {os.strerror(err)}")
    header, data = _Header(_VERSION_3, 0), (_Data * 2)()
    if libc.syscall(_CAPSET, ctypes.byref(header), data) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"capset: cannot drop capabilities: {os.strerror(err)}")
