"""Worker subprocesses made from Kubernetes pod templates (Linux only).

The local runtime has no containers: a container's ``image`` names a local
folder (:class:`ImageMap`), and the container's ``command``/``args`` run there
as a subprocess with the environment of the worker contract
(``CONTRACTS.md`` §2).  :class:`LocalLauncher` starts, polls, stops and, after a
controller restart, adopts those processes.

Process layout
--------------
Every worker runs under a tiny wrapper (:mod:`sedna.runtimes.local.wrapper`)::

    python -m sedna.runtimes.local.wrapper --exit-file F --cwd DIR [--memory N] -- ARGV...

The wrapper is started in a new session (its pid is the process group and
session id; that pid is the one recorded).  It runs ``ARGV`` as its child in
``DIR``, forwards SIGTERM/SIGINT/SIGHUP/SIGQUIT/SIGUSR1/SIGUSR2 to it, and when
the child ends writes the child's exit code (``-N`` when killed by signal N)
to the exit file atomically, then kills whatever the child left behind in the
group, as a container runtime does when a container's main process exits.
The exit file is what lets a restarted controller learn how a worker ended.

Environment
-----------
A worker starts from a small part of the controller's environment
(:data:`BASE_ENV_KEYS`), then the contract variables of ``WorkerSpec.env``,
then the container's ``env`` entries (``value`` only).  When a template entry
has the name of a contract variable, the contract wins for
:data:`PROTECTED_ENV` (``NAMESPACE``, ``JOB_NAME``, ``WORKER_NAME``,
``LC_SERVER``, ``LC_TOKEN``) and the template wins for every other name.
:data:`DEFAULT_ENV` is set unless the template sets it: ``PYTHONUNBUFFERED=1``,
so that logs can be followed as they are written, and ``OMP_WAIT_POLICY=PASSIVE``.

Volumes
-------
``hostPath``: the host folder is used as is (created for ``DirectoryOrCreate``,
an empty file made for ``FileOrCreate``).  Where a ``mountPath`` differs from
the folder it names, the values of contract and template env variables (each
``;``-separated part; not the inherited PATH, HOME...) and ``args`` that
start with the mount path, at a path-component boundary, are rewritten to
the host path; so is a ``workingDir`` under a mount.  ``emptyDir`` (including
``medium: Memory``, e.g. ``/dev/shm``) becomes a fresh folder
``<state_dir>/tmp/<namespace>_<worker>/<volume>``, removed by :meth:`stop`
and :meth:`LocalLauncher.cleanup`.  Other volume kinds are a WorkerError.

Memory
------
``resources.limits.memory`` becomes ``RLIMIT_AS`` of the worker (set by the
wrapper on its child only).  RLIMIT_AS limits *virtual* memory, which is more
than the memory a process really uses (thread stacks, memory-mapped
libraries, allocator arenas, CUDA reservations), so a limit is stricter than
a container's.  A Python interpreter needs roughly 200 MiB of address space to
start with common libraries, so smaller limits are raised to 256 MiB with a
warning.  ``LocalLauncher(enforce_memory=False)`` turns the limits off.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sedna.common import landlock
from sedna.common.exceptions import WorkerError
from sedna.common.log import sedna_logger
from sedna.common.procs import boot_id, kill_session, proc_stat, start_time
from sedna.control import quantities as _quantities
from sedna.control.contract import PROTECTED_ENV
from sedna.control.files import open_regular
from sedna.runtimes.local import sandbox
from sedna.runtimes.local.images import ImageMap  # noqa: F401 (re-exported)
from sedna.runtimes.local.mounts import mount_volumes, rewrite, safe_name as _safe_name
from sedna.runtimes.local.worker_records import WorkerRecord, WorkerSpec, WorkerStatus  # noqa: F401 (re-exported)
from sedna.runtimes.local.worker_logs import follow_log, tail_file
from sedna.runtimes.local.wrapper import write_exit_file

LOG = sedna_logger(__name__)

#: Variables of the controller's environment that workers inherit (the thread counts
#: too: a worker that starts one thread per core on cores others are busy on spins in
#: OpenMP's waits, several times slower than with the thread count its user set).
BASE_ENV_KEYS = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "USER", "LOGNAME",
                 "PYTHONPATH", "VIRTUAL_ENV", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                 "OMP_WAIT_POLICY")
#: Set in a worker's environment unless ``sedna up``'s or the template's says otherwise: OpenMP
#: threads that wait asleep, not spinning, so a torch worker that shares its cores with other
#: work slows down by the share it lost, not several times over (15 training steps of a small
#: network with one of two cores busy: 2.7 s spinning, 1.7 s asleep, 1.2 s on a quiet machine
#: either way).
DEFAULT_ENV = {"PYTHONUNBUFFERED": "1", "OMP_WAIT_POLICY": "PASSIVE"}
#: Smallest RLIMIT_AS given to a worker.
MIN_MEMORY_LIMIT = 256 * 1024 ** 2
#: Lines of log returned by :meth:`LocalLauncher.poll`.
LOG_TAIL_LINES = 20

_PYTHON_NAME = re.compile(r"^python(\d+(\.\d+)?)?$")


# --------------------------------------------------------------------------- quantities

def parse_memory(quantity):
    """Bytes of a Kubernetes memory quantity (``"12Gi"``, ``"256Mi"``, ``"1G"``, ``1024``), by the
    one quantity parser validation uses; WorkerError for anything else."""
    try:
        return _quantities.parse_memory(quantity)
    except ValueError as e:
        raise WorkerError(f"invalid memory quantity {quantity!r} ({e})") from None


def process_start_time(pid):
    """The kernel's start time of ``pid`` (clock ticks since boot), or None when it does not exist."""
    return start_time(pid)


# --------------------------------------------------------------------------- launcher

class LocalLauncher:
    """Starts worker subprocesses from pod templates and follows them.

    ``state_dir`` holds ``logs/``, ``tmp/`` (emptyDir volumes) and ``run/``
    (exit files).  ``base_env`` replaces the inherited part of the environment
    (default: the :data:`BASE_ENV_KEYS` of ``os.environ``).
    """

    def __init__(self, state_dir, images=None, python=sys.executable, base_env=None, enforce_memory=True,
                 confine=True, worker_user=None):
        self.state_dir = Path(state_dir).absolute()
        self.user = sandbox.worker_user(worker_user) if worker_user else None
        # Another user cannot enter the state folder: its workers' scratch folders live apart.
        self.tmp_root = self.state_dir / "tmp" if self.user is None else Path(tempfile.mkdtemp(prefix="sedna-workers-"))
        if self.user is not None:
            os.chmod(self.tmp_root, 0o711)
        self.confine = bool(confine) and landlock.abi() >= 1
        if confine and not self.confine:
            LOG.warning("this kernel offers no Landlock: workers run unconfined and can read all this user "
                        "can, the admin token included (docs/security.md)")
        self.images = images if images is not None else ImageMap()
        self.python = python
        self.base_env = base_env
        self.enforce_memory = enforce_memory
        self._procs = {}  # (pid, start_time) -> Popen, for the workers this launcher started
        for sub in ("logs", "tmp", "run"):
            (self.state_dir / sub).mkdir(mode=0o700, parents=True, exist_ok=True)

    def close(self):
        """Remove the folder of another user's workers, where none of them left anything in it."""
        if self.user is not None:
            try:
                os.rmdir(self.tmp_root)
            except OSError:
                pass

    # ------------------------------------------------------------------ paths
    def log_path(self, name, namespace="default"):
        return self.state_dir / "logs" / f"{_safe_name(namespace)}_{_safe_name(name)}.log"

    # ------------------------------------------------------------------ start
    def start(self, spec):
        """Start ``spec``'s first container; returns its :class:`WorkerRecord`.

        Raises WorkerError, before anything runs, for an unmapped image, a
        missing script or command, an unsupported env or volume, or a bad
        memory quantity.
        """
        pod = (spec.template or {}).get("spec") or {}
        containers = pod.get("containers") or []
        if not containers:
            raise WorkerError(f"worker {spec.namespace}/{spec.name}: the template has no containers")
        if len(containers) > 1:
            LOG.warning("worker %s/%s: the template has %d containers; only the first (%s) runs locally",
                        spec.namespace, spec.name, len(containers), containers[0].get("name"))
        if pod.get("initContainers"):
            LOG.warning("worker %s/%s: initContainers are ignored locally", spec.namespace, spec.name)
        c = containers[0]
        worker_key = f"{_safe_name(spec.namespace)}_{_safe_name(spec.name)}"
        temp_dirs = []
        try:
            rewrites, temp_dirs = mount_volumes(spec.name, pod, c, self.tmp_root / worker_key)
            workdir = c.get("workingDir")
            if workdir:
                workdir = rewrite(workdir, rewrites)
            cwd = self.images.resolve(c.get("image"), workdir)
            env = self._env(spec, c, rewrites)
            scratch = sandbox.scratch_home(self.tmp_root, worker_key, env, self.base_env, temp_dirs)
            argv = self._argv(spec, c, cwd, env, rewrites)
            memory = self._memory(spec, c)
            confined = None
            named = [(k, v) for k, v in env.items() if k not in BASE_ENV_KEYS] + [(None, a) for a in argv]
            if self.confine:
                confined = sandbox.landlock_paths(self.state_dir, named + [("outputDir", spec.output_dir)], env,
                                                  cwd, [host for _, host in rewrites], scratch)
            if self.user is not None:
                template = [(k, v) for k, v in named if k not in (spec.env or {})]
                sandbox.check_reach(self.user, cwd)
                sandbox.hand_over(self.user, spec.output_dir, template, temp_dirs)
            return self._spawn(spec, argv, cwd, env, memory, temp_dirs, confined)
        except BaseException as e:
            for d in temp_dirs:
                shutil.rmtree(d, ignore_errors=True)
            if isinstance(e, PermissionError):  # the workers' user cannot reach a folder it needs
                raise WorkerError(f"worker {spec.name}: {e}") from e
            raise

    def _env(self, spec, c, rewrites):
        if self.base_env is not None:
            env = {str(k): str(v) for k, v in self.base_env.items()}
        else:
            env = {k: os.environ[k] for k in BASE_ENV_KEYS if k in os.environ}
        env.setdefault("PATH", os.defpath)
        for k, v in DEFAULT_ENV.items():
            env.setdefault(k, v)
        contract = {str(k): "" if v is None else str(v) for k, v in (spec.env or {}).items()}
        env.update({k: rewrite(v, rewrites) for k, v in contract.items()})
        if c.get("envFrom"):
            raise WorkerError(f"worker {spec.name}: envFrom is not supported locally")
        for item in c.get("env") or []:
            name = item.get("name")
            if not name:
                raise WorkerError(f"worker {spec.name}: an env entry has no name")
            if "valueFrom" in item:
                raise WorkerError(f"worker {spec.name}: env {name}: valueFrom is not supported locally; "
                                  "give a value")
            if name in PROTECTED_ENV and name in contract:
                LOG.warning("worker %s: template env %s ignored: the control plane sets it", spec.name, name)
                continue
            value = item.get("value")
            env[name] = rewrite("" if value is None else str(value), rewrites)
        return env

    def _argv(self, spec, c, cwd, env, rewrites):
        command = [str(x) for x in c.get("command") or []]
        args = [rewrite(str(x), rewrites) for x in c.get("args") or []]
        argv = command + args
        if not argv:
            raise WorkerError(f"worker {spec.name}: the container has neither command nor args "
                              "(an image's entrypoint cannot be run locally)")
        script_at = None
        if argv[0].endswith(".py"):
            argv = [self.python] + argv
            script_at = 1
        elif _PYTHON_NAME.match(os.path.basename(argv[0])):
            argv[0] = self.python
            if len(argv) > 1 and argv[1].endswith(".py"):
                script_at = 1
        else:
            exe = argv[0]
            if "/" in exe:
                path = exe if os.path.isabs(exe) else os.path.join(cwd, exe)
                if not (os.path.isfile(path) and os.access(path, os.X_OK)):
                    raise WorkerError(f"worker {spec.name}: command {exe} is not an executable file "
                                      f"(looked in {cwd})")
                argv[0] = os.path.abspath(path)
            else:
                found = shutil.which(exe, path=env.get("PATH"))
                if not found:
                    raise WorkerError(f"worker {spec.name}: command {exe!r} not found on PATH")
                argv[0] = found
        if script_at is not None:
            script = argv[script_at]
            path = script if os.path.isabs(script) else os.path.join(cwd, script)
            if not os.path.isfile(path):
                raise WorkerError(f"worker {spec.name}: script {script} not found (looked in {cwd})")
            argv[script_at] = os.path.abspath(path)
        return argv

    def _memory(self, spec, c):
        limit = ((c.get("resources") or {}).get("limits") or {}).get("memory")
        if limit is None or not self.enforce_memory:
            return 0
        nbytes = parse_memory(limit)
        if nbytes < MIN_MEMORY_LIMIT:
            LOG.warning("worker %s: memory limit %s raised to 256Mi (RLIMIT_AS limits virtual memory; "
                        "less may keep Python from starting)", spec.name, limit)
            nbytes = MIN_MEMORY_LIMIT
        return nbytes

    def _spawn(self, spec, argv, cwd, env, memory, temp_dirs, confined=None):
        log_path = self.log_path(spec.name, spec.namespace)
        key = f"{_safe_name(spec.namespace)}_{_safe_name(spec.name)}"
        exit_file = self.state_dir / "run" / f"{key}-{uuid.uuid4().hex[:12]}.exit"
        wrapper = [self.python, "-m", "sedna.runtimes.local.wrapper",
                   "--exit-file", str(exit_file), "--cwd", str(cwd)]
        if memory:
            wrapper += ["--memory", str(memory)]
        wrapper += ["--"] + argv
        wenv = dict(env)
        # The wrapper must import sedna even when the worker's PYTHONPATH does not lead there.
        pkg_root = str(Path(__file__).resolve().parents[3])
        wenv["PYTHONPATH"] = os.pathsep.join(p for p in (pkg_root, env.get("PYTHONPATH")) if p)
        wenv["_SEDNA_WORKER_PYTHONPATH"] = env.get("PYTHONPATH", "")
        if confined is not None:
            wenv["_SEDNA_CONFINE"] = json.dumps(confined)
        if self.user is not None:
            wenv["_SEDNA_WORKER_USER"] = "%d:%d" % self.user
        created = time.time()
        with os.fdopen(os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "ab") as log:
            log.write((f"===== {time.strftime('%Y-%m-%dT%H:%M:%S%z', time.localtime(created))} start "
                       f"{spec.namespace}/{spec.name} job={spec.job} stage={spec.stage} round={spec.round} "
                       f"cwd={cwd} argv={json.dumps(argv)}\n").encode())
            log.flush()
            offset = log.tell()
            try:
                proc = subprocess.Popen(wrapper, cwd=str(self.state_dir), env=wenv, stdin=subprocess.DEVNULL,
                                        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            except OSError as e:
                raise WorkerError(f"worker {spec.name}: cannot start: {e}") from e
        start_time = process_start_time(proc.pid) or 0
        self._procs[(proc.pid, start_time)] = proc
        record = WorkerRecord(name=spec.name, namespace=spec.namespace, pid=proc.pid, start_time=start_time,
                              log_path=str(log_path), cwd=str(cwd), argv=list(argv), created_at=created,
                              exit_file=str(exit_file), temp_dirs=list(temp_dirs), boot_id=boot_id(),
                              log_offset=offset, job=spec.job, stage=spec.stage, round=int(spec.round or 0),
                              memory_limit=memory)
        LOG.info("worker %s/%s started: pid %d, %s", spec.namespace, spec.name, proc.pid, " ".join(argv))
        return record

    # ------------------------------------------------------------------ observe
    def _read_exit(self, record):
        try:  # never blocks on a FIFO planted in run/
            with os.fdopen(open_regular(record.exit_file), "rb") as f:
                data = json.loads(f.read(1 << 16))
            return int(data["exit_code"]), data.get("finished_at")
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _alive(self, record):
        """True when the record's wrapper process is alive (same pid, start time and boot)."""
        if record.boot_id and record.boot_id != boot_id():
            return False
        st = proc_stat(record.pid)
        return bool(st and st[3] == record.start_time and st[0] not in ("Z", "X"))

    def _same_process(self, record):
        """True when the record's pid is (still) its own process, zombie included."""
        if record.boot_id and record.boot_id != boot_id():
            return False
        st = proc_stat(record.pid)
        return bool(st and st[3] == record.start_time)

    def poll(self, record):
        """The worker's :class:`WorkerStatus`; never raises for a vanished process."""
        proc = self._procs.get((record.pid, record.start_time))
        code = finished = None
        if proc is not None:
            rc = proc.poll()
            if rc is None:
                return WorkerStatus("Running")
            ex = self._read_exit(record)
            code, finished = ex if ex else (rc, None)
        else:
            ex = self._read_exit(record)
            if ex:
                code, finished = ex
            elif self._alive(record):
                return WorkerStatus("Running")
            else:
                return WorkerStatus("Unknown", log_tail=self._tail(record))
        return WorkerStatus("Succeeded" if code == 0 else "Failed", code, self._tail(record), finished)

    def adopt(self, record):
        """Re-attach to a record loaded after a controller restart.

        True when the worker still runs or has finished with a known exit code;
        False when what became of it is unknown.
        """
        if self._read_exit(record) is not None or self._alive(record):
            LOG.info("worker %s/%s adopted (pid %d)", record.namespace, record.name, record.pid)
            return True
        return False

    # ------------------------------------------------------------------ stop
    def stop(self, record, grace=5.0):
        """SIGTERM the worker, SIGKILL its process group after ``grace`` seconds; remove emptyDirs.

        Idempotent: a worker that is already gone is fine.  A pid now used by
        another process is never signalled.
        """
        proc = self._procs.get((record.pid, record.start_time))
        if self._alive(record):
            try:
                os.kill(record.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            deadline = time.monotonic() + max(0.0, grace)
            while time.monotonic() < deadline:
                if proc is not None:
                    if proc.poll() is not None:
                        break
                elif not self._alive(record):
                    break
                time.sleep(0.02)
        # Whatever is left of the group (a worker that ignored SIGTERM, children it left behind).
        if self._same_process(record) or process_start_time(record.pid) is None:
            killed = self._kill_group(record.pid)
            if killed and self._read_exit(record) is None:
                self._write_exit_for(record, -signal.SIGKILL)
        if proc is not None:
            try:
                proc.wait(timeout=max(1.0, grace))
            except subprocess.TimeoutExpired:
                LOG.warning("worker %s: pid %d did not exit after SIGKILL", record.name, record.pid)
            self._procs.pop((record.pid, record.start_time), None)
        self._remove_temp(record)
        LOG.info("worker %s/%s stopped", record.namespace, record.name)

    def _kill_group(self, sid):
        """SIGKILL every live process of session ``sid``; True when the leader was among them."""
        st = proc_stat(sid)
        leader_alive = bool(st and st[0] not in ("Z", "X"))
        try:
            os.killpg(sid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        # Members that moved to another process group but stayed in the session.
        kill_session(sid)
        return leader_alive

    def _write_exit_for(self, record, code):
        try:
            write_exit_file(record.exit_file, code)
        except OSError:
            pass

    def _remove_temp(self, record):
        for d in record.temp_dirs or ():
            shutil.rmtree(d, ignore_errors=True)
        # the per-worker folder of tmp/, when now empty
        for d in {os.path.dirname(d) for d in record.temp_dirs or ()}:
            try:
                os.rmdir(d)
            except OSError:
                pass

    def cleanup(self, record):
        """Remove what a finished worker left in the state folder (temp folders, exit file); keeps the log."""
        self._remove_temp(record)
        try:
            os.unlink(record.exit_file)
        except OSError:
            pass

    # ------------------------------------------------------------------ logs
    def _tail(self, record, lines=LOG_TAIL_LINES):
        return tail_file(record.log_path, lines, start=record.log_offset)

    def read_log(self, record_or_name, tail=None, namespace="default"):
        """The worker's whole log (every start), or its last ``tail`` lines; "" when there is none."""
        path = record_or_name.log_path if isinstance(record_or_name, WorkerRecord) else \
            self.log_path(record_or_name, namespace)
        if tail is not None:
            return tail_file(path, tail)
        try:
            return Path(path).read_text(errors="replace")
        except OSError:
            return ""

    def follow_log(self, path, should_stop=None, poll_interval=0.2, from_start=True):
        """See :func:`follow_log`; ``path`` may also be a record."""
        if isinstance(path, WorkerRecord):
            path = path.log_path
        return follow_log(path, should_stop=should_stop, poll_interval=poll_interval, from_start=from_start)
