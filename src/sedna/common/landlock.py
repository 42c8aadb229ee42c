"""Linux Landlock, through its three system calls: a process gives up access to
every file but the folders it names, for itself and its children, without
privileges (kernel 5.13 or later).

:func:`abi` says which Landlock version the kernel offers (0: none).
:func:`restrict_self` builds a ruleset that handles every filesystem right the
kernel knows, grants read access (and execution) beneath ``read`` paths and
every right beneath ``write`` paths, and enforces it on the calling thread;
it is meant for a child between ``fork`` and ``exec`` (``preexec_fn``), where
the thread is the whole process. A Landlocked process can also no longer
ptrace, or read the memory of, processes outside its domain; from ABI 6 on it
can neither signal them nor reach their abstract Unix sockets.

Facts from the kernel's UAPI (``linux/landlock.h``); the system call numbers
are the same on every architecture (444-446).
"""

import ctypes
import os

from sedna.common.capabilities import PR_SET_NO_NEW_PRIVS

__all__ = ("abi", "restrict_self", "LandlockError")

_CREATE_RULESET, _ADD_RULE, _RESTRICT_SELF = 444, 445, 446
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1

EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
_MAKE_AND_REMOVE = sum(1 << i for i in range(4, 13))  # remove dir/file, make char/dir/reg/sock/fifo/block/sym
REFER, TRUNCATE, IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1 << 0, 1 << 1
FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV  # what a rule on a file (not a folder) may grant
READ = EXECUTE | READ_FILE | READ_DIR


class LandlockError(OSError):
    """The kernel refused a step of building or enforcing the ruleset."""


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def abi():
    """The Landlock ABI version the running kernel offers; 0 where there is none."""
    if not hasattr(os, "uname") or os.uname().sysname != "Linux":
        return 0
    try:
        v = _libc().syscall(_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(_CREATE_RULESET_VERSION))
    except (OSError, AttributeError):
        return 0
    return max(int(v), 0)


def handled(version):
    """Every filesystem right of Landlock ABI ``version``."""
    rights = READ | WRITE_FILE | _MAKE_AND_REMOVE
    if version >= 2:
        rights |= REFER
    if version >= 3:
        rights |= TRUNCATE
    if version >= 5:
        rights |= IOCTL_DEV
    return rights


def _check(ret, what):
    if ret < 0:
        err = ctypes.get_errno()
        raise LandlockError(err, f"landlock: {what}: {os.strerror(err)}")
    return ret


def restrict_self(read=(), write=(), version=None):
    """Confine the calling thread (and what it starts) to ``read`` (read and execute)
    and ``write`` (every right) paths, folders or files; paths that do not exist are
    skipped. Raises :class:`LandlockError` when the kernel refuses."""
    version = abi() if version is None else version
    if version < 1:
        raise LandlockError(38, "landlock: not offered by this kernel")  # ENOSYS
    libc, rights = _libc(), handled(version)
    # struct landlock_ruleset_attr: handled_access_fs, handled_access_net, scoped (ABI 6: signals
    # and abstract Unix sockets stay within the domain); older kernels know the first field only.
    attr = (ctypes.c_uint64 * 3)(rights, 0, SCOPE_SIGNAL | SCOPE_ABSTRACT_UNIX_SOCKET if version >= 6 else 0)
    size = ctypes.sizeof(attr) if version >= 6 else 8
    fd = _check(libc.syscall(_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0)),
                "create_ruleset")
    try:
        for paths, allowed in ((read, READ), (write, rights)):
            for path in paths:
                _add(libc, fd, path, allowed & rights)
        _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
        _check(libc.syscall(_RESTRICT_SELF, fd, ctypes.c_uint32(0)), "restrict_self")
    finally:
        os.close(fd)


def _add(libc, ruleset, path, allowed):
    try:
        pfd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return  # gone or unreachable: nothing to grant
    try:
        if not os.path.isdir(path):
            allowed &= FILE_RIGHTS
        rule = _PathBeneath(allowed, pfd)
        _check(libc.syscall(_ADD_RULE, ruleset, _RULE_PATH_BENEATH, ctypes.byref(rule), ctypes.c_uint32(0)),
               f"add_rule {path}")
    finally:
        os.close(pfd)
