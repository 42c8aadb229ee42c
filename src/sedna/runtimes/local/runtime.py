"""``sedna up``: the store, the controller and the HTTP server in one process."""

import json
import os
import secrets
import signal
import threading

from sedna.common.exceptions import NotFound, StateDirInUse, StateDirUnsafe  # noqa: F401 - some re-exported
from sedna.common.log import LOGGER
from sedna.control.reports import fit_errors
from sedna.control.runtime import ReportRefused
from sedna.common.constants import DATASET, DEFAULT_PORT, JOB

LOG = LOGGER.getChild("runtime")
DEFAULT_STATE_DIR = ".sedna"


def state_paths(state_dir):
    return {"db": os.path.join(state_dir, "state.db"), "token": os.path.join(state_dir, "token"),
            "server": os.path.join(state_dir, "server.json"), "log": os.path.join(state_dir, "server.log"),
            "lock": os.path.join(state_dir, "server.lock"), "kubeconfig": os.path.join(state_dir, "kubeconfig")}


def lock_state_dir(state_dir, wait=1.0):
    """Hold ``state_dir``'s lock (``server.lock``, ``fcntl.flock``) for this process's
    lifetime: one server per state folder. The kernel drops it when the process
    ends, even by ``kill -9``, so a crash leaves no stale lock. Returns the
    descriptor (keep it open); raises :class:`StateDirInUse` naming the holder.
    ``wait`` covers a CLI that probes the lock at the same instant."""
    import fcntl
    import time

    path = state_paths(state_dir)["lock"]
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                os.close(fd)
                raise StateDirInUse(f"another sedna control plane runs from {state_dir} (pid {lock_holder(state_dir)}); "
                                    f"stop it with `sedna down --state-dir {state_dir}` or use another --state-dir") \
                    from None
            time.sleep(0.05)
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)
    return fd


def lock_holder(state_dir):
    """The pid of the server holding ``state_dir``'s lock (0 when unknown), or
    None when no server holds it."""
    import fcntl

    path = state_paths(state_dir)["lock"]
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            return int(text) if text.isdigit() else 0
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def self_signed_cert(state_dir, host):
    """A fresh key and self-signed certificate for the kubectl listener
    (``kube-tls.key`` 0600, ``kube-tls.crt``), valid for localhost, the loopback
    addresses and ``host``: ``(cert path, key path, cert PEM bytes)``.

    kubectl sends a token only over TLS, so the kubectl listener needs one.
    Made with ``cryptography`` when it is installed, else the ``openssl`` command."""
    import datetime
    import ipaddress

    crt, key = os.path.join(state_dir, "kube-tls.crt"), os.path.join(state_dir, "kube-tls.key")
    names = {"localhost", "127.0.0.1", "::1"} | ({host} if host not in ("0.0.0.0", "::", "") else set())
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
    except ImportError:
        return _openssl_cert(crt, key, names)
    pk = ec.generate_private_key(ec.SECP256R1())
    sans = []
    for n in sorted(names):
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(n)))
        except ValueError:
            sans.append(x509.DNSName(n))
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sedna control plane")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(pk.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(pk, hashes.SHA256()))
    fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pk.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption()))
    os.chmod(key, 0o600)  # O_CREAT's mode is for a new file only: one left 0644 is made private again
    pem = cert.public_bytes(serialization.Encoding.PEM)
    with open(crt, "wb") as f:
        f.write(pem)
    return crt, key, pem


def _openssl_cert(crt, key, names):
    import ipaddress
    import subprocess

    san = ",".join(("IP:" if _is_ip(n, ipaddress) else "DNS:") + n for n in sorted(names))
    old = os.umask(0o077)
    try:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-keyout", key, "-out", crt, "-days", "3650", "-subj", "/CN=sedna control plane",
                        "-addext", f"subjectAltName={san}"], check=True, capture_output=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as e:
        raise OSError(f"cannot make a TLS certificate for kubectl (install 'cryptography' or openssl): {e}") from None
    finally:
        os.umask(old)
    os.chmod(key, 0o600)  # an existing file keeps its mode through openssl's rewrite
    with open(crt, "rb") as f:
        return crt, key, f.read()


def _is_ip(name, ipaddress):
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        return False


def port_free(host, port):
    """Whether ``host:port`` can be bound now."""
    import socket

    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(fam, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def private_dir(path):
    """``path`` as a folder only its owner can enter (0700), created if missing. One that
    exists must be this user's and writable by nobody else: another user who made it, or
    could write in it, could have planted its token (:class:`StateDirUnsafe`, one line)."""
    os.makedirs(path, mode=0o700, exist_ok=True)
    st, me = os.stat(path), os.geteuid()
    if st.st_uid != me:
        raise StateDirUnsafe(f"state folder {path} belongs to uid {st.st_uid}, not to you (uid {me}): "
                             "another user could have planted its token; use a folder of your own (--state-dir)")
    if st.st_mode & 0o022:
        raise StateDirUnsafe(f"state folder {path} is writable by others (mode {st.st_mode & 0o777:04o}): its token "
                             "could have been planted; check it and `chmod 700` it, or use another --state-dir")
    os.chmod(path, 0o700)
    return path


def private_file(path):
    """Create ``path`` empty if missing; either way make it 0600."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
    os.chmod(path, 0o600)
    return path


def ensure_token(state_dir):
    """The API token: created at first start, mode 0600."""
    path = state_paths(state_dir)["token"]
    private_dir(state_dir)
    if not os.path.exists(path):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(32))
    os.chmod(path, 0o600)
    with open(path) as f:
        return f.read().strip()


class LocalRuntime:
    def __init__(self, state_dir=DEFAULT_STATE_DIR, host="127.0.0.1", port=DEFAULT_PORT, images=None,
                 settings=None, confine=True, worker_user=None):
        from sedna.runtimes.local.controller import Controller  # lazy: keeps `sedna` start-up light
        from sedna.runtimes.local.store import Store  # lazy: keeps `sedna` start-up light
        from sedna.runtimes.local.workers import ImageMap, LocalLauncher  # lazy: keeps `sedna` start-up light

        self.state_dir = private_dir(os.path.abspath(state_dir))
        self.host, self.port = host, int(port)
        self.paths = state_paths(self.state_dir)
        self._lock = lock_state_dir(self.state_dir)  # before anything is opened or written
        self.token = ensure_token(self.state_dir)
        for name in ("db", "log"):  # SQLite gives its -wal and -shm files the database's mode
            private_file(self.paths[name])
        self.store = Store(self.paths["db"])
        self.launcher = LocalLauncher(self.state_dir, images or ImageMap({}), confine=confine, worker_user=worker_user)
        connect_host = "127.0.0.1" if host in ("0.0.0.0", "") else host
        self.url = f"http://{connect_host}:{self.port}"
        self.kube_sock = self.kube_url = self.kube_ca = self.kube_port = None
        self.kube_error = ""  # why there is no kubectl listener
        try:
            self.kube_sock, self.kube_url, self.kube_ca, self._kube_tls = self._kube_listener(host, connect_host)
            self.kube_port = self.kube_sock.getsockname()[1]
        except OSError as e:  # no certificate tool, no port: sedna still runs, kubectl cannot reach it
            self.kube_error = str(e)
            LOG.warning("no kubectl listener: %s", e)
        self.controller = Controller(self.store, self.launcher, lc_server=self.url, token=self.token,
                                     settings=settings)
        self._stop = threading.Event()
        self._loop = None

    def _kube_listener(self, host, connect_host):
        """The kubectl listener: HTTPS (kubectl sends its token only over TLS) on a
        free port of the same address, bound now so the kubeconfig can name it."""
        import socket

        cert, key, pem = self_signed_cert(self.state_dir, host)
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(fam, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, 0))
        shown = f"[{connect_host}]" if ":" in connect_host else connect_host
        return sock, f"https://{shown}:{sock.getsockname()[1]}", pem, (cert, key)

    def _serve_kube(self, app):
        """The kubectl listener, in a thread (its own event loop; the main server owns the signals)."""
        import uvicorn

        if self.kube_sock is None:
            return None
        config = uvicorn.Config(app, log_level="warning", access_log=False, ssl_certfile=self._kube_tls[0],
                                ssl_keyfile=self._kube_tls[1])
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [self.kube_sock]}, name="sedna-kubectl",
                                  daemon=True)
        thread.start()
        return server

    def serve(self, create_app):
        """Run until SIGTERM/SIGINT (foreground ``sedna up``); ``create_app(runtime, kube=False)``
        builds the server's app around this runtime (:func:`sedna.server.app.create_app`)."""
        import uvicorn

        from sedna.common.procs import start_time  # lazy: keeps `sedna` start-up light

        app = create_app(self)
        config = uvicorn.Config(app, host=self.host, port=self.port, log_level="warning", access_log=False)
        server = uvicorn.Server(config)
        loop = threading.Thread(target=self.controller.run, args=(self._stop,), name="sedna-controller",
                                daemon=True)
        loop.start()
        self._loop = loop
        kube = self._serve_kube(create_app(self, kube=True))
        fd = os.open(self.paths["server"] + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump({"url": self.url, "pid": os.getpid(), "host": self.host, "port": self.port,
                       "kubeUrl": self.kube_url, "started": start_time(os.getpid())}, f)  # `down` checks the pid is still us
        os.replace(self.paths["server"] + ".tmp", self.paths["server"])
        LOG.info("sedna control plane on %s (state in %s)", self.url, self.state_dir)

        def _term(signum, frame):  # uvicorn re-raises SIGTERM after its shutdown: end cleanly
            raise SystemExit(0)

        signal.signal(signal.SIGTERM, _term)
        code = 0
        try:
            server.run()
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 0
        finally:
            if kube is not None:
                kube.should_exit = True
            self._stop.set()
            self.controller.wake()
            loop.join(timeout=10)
            try:
                os.remove(self.paths["server"])
            except FileNotFoundError:
                pass
        if not server.started:
            LOG.error("the API server did not start on %s:%d", self.host, self.port)
            return code or 1
        return 0

    # ------------------------------------------- the Runtime protocol (sedna.control.runtime)
    def get(self, kind, namespace, name, with_state=False):
        return self.store.get(kind, namespace, name, with_state=with_state)

    def list(self, kind, namespace=None, with_state=False, limit=None, after=None):
        return self.store.list(kind, namespace, with_state=with_state, limit=limit, after=after)

    def apply(self, manifest, dry_run=False, create_only=False):
        out = self.store.apply(manifest, dry_run=dry_run, create_only=create_only)
        if not dry_run:
            self.controller.wake()
        return out

    def delete(self, kind, namespace, name):
        if kind == DATASET:  # nothing runs for a dataset: gone at once
            self.store.get(kind, namespace, name)
            self.store.remove(kind, namespace, name)
        else:  # a job's workers are stopped by the controller, then the job is removed
            self.store.mark_deleting(kind, namespace, name)
        self.controller.wake()

    def update_status(self, kind, namespace, name, status, expect_version=None):
        self.store.update_status(kind, namespace, name, status, expect_version=expect_version)

    def workers(self, namespace=None, job=None, limit=None, after=None):
        return self.store.workers(namespace, job, limit=limit, after=after)

    def worker(self, namespace, name):
        return self.store.worker(namespace, name)

    def worker_by_token(self, token):
        return self.store.worker_by_token(token)

    def report(self, namespace, worker, body):
        w = self.store.worker(namespace, worker)
        try:
            job = self.store.get(JOB, namespace, w["job"])
        except NotFound:
            raise NotFound(f"the worker's job {namespace}/{w['job']} is gone") from None
        errors = fit_errors(body, job)
        if errors:
            raise ReportRefused("; ".join(errors))
        self.controller.report(namespace, worker, body)

    def worker_counts(self):
        return self.store.worker_counts()

    def stage_durations(self, bounds):
        return self.store.stage_durations(bounds)

    def on_reconcile(self, callback):
        self.controller.reconcile_observers.append(callback)

    def shutdown(self, keep_workers=False, delay=0.2):
        """``sedna down``: stop the controller, then (unless ``keep_workers``) every
        running worker, then the server itself ``delay`` s later (after the
        answer went out). Returns the names of the workers stopped."""
        self._stop.set()
        self.controller.wake()
        if self._loop is not None:
            self._loop.join(timeout=10)
        stopped = [] if keep_workers else self.stop_workers()
        if not keep_workers:
            self.launcher.close()
        threading.Timer(delay, os.kill, (os.getpid(), signal.SIGTERM)).start()
        return stopped

    def stop_workers(self):
        from sedna.runtimes.local.workers import WorkerRecord  # lazy: keeps `sedna` start-up light

        stopped = []
        for w in self.store.workers():
            if w["phase"] in ("Running", "Pending", "Unknown") and w["record"].get("pid"):
                rec = WorkerRecord.from_dict(w["record"])
                self.launcher.stop(rec)
                self.store.set_worker(w["namespace"], w["name"], phase="Stopped")
                stopped.append(w["name"])
        return stopped

    def stop(self, *_):
        self._stop.set()
        os.kill(os.getpid(), signal.SIGINT)
