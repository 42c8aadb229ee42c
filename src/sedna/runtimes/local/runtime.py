"""``sedna up``: the store, the controller and the HTTP server in one process."""

import json
import os
import secrets
import signal
import threading

from sedna.common.log import LOGGER

LOG = LOGGER.getChild("runtime")
DEFAULT_PORT = 9100
DEFAULT_STATE_DIR = ".sedna"


def state_paths(state_dir):
    return {"db": os.path.join(state_dir, "state.db"), "token": os.path.join(state_dir, "token"),
            "server": os.path.join(state_dir, "server.json"), "log": os.path.join(state_dir, "server.log")}


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
    """``path`` as a folder only its owner can enter (0700), created if missing."""
    os.makedirs(path, mode=0o700, exist_ok=True)
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
                 settings=None):
        from sedna.runtimes.local.controller import Controller
        from sedna.runtimes.local.store import Store
        from sedna.runtimes.local.workers import ImageMap, LocalLauncher

        self.state_dir = private_dir(os.path.abspath(state_dir))
        self.host, self.port = host, int(port)
        self.paths = state_paths(self.state_dir)
        self.token = ensure_token(self.state_dir)
        for name in ("db", "log"):  # SQLite gives its -wal and -shm files the database's mode
            private_file(self.paths[name])
        self.store = Store(self.paths["db"])
        self.launcher = LocalLauncher(self.state_dir, images or ImageMap({}))
        connect_host = "127.0.0.1" if host in ("0.0.0.0", "") else host
        self.url = f"http://{connect_host}:{self.port}"
        self.controller = Controller(self.store, self.launcher, lc_server=self.url, token=self.token,
                                     settings=settings)
        self._stop = threading.Event()

    def serve(self):
        """Run until SIGTERM/SIGINT (foreground ``sedna up``)."""
        import uvicorn

        from sedna.common.procs import start_time
        from sedna.server.app import create_app

        app = create_app(self)
        config = uvicorn.Config(app, host=self.host, port=self.port, log_level="warning", access_log=False)
        server = uvicorn.Server(config)
        loop = threading.Thread(target=self.controller.run, args=(self._stop,), name="sedna-controller",
                                daemon=True)
        loop.start()
        fd = os.open(self.paths["server"] + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump({"url": self.url, "pid": os.getpid(), "host": self.host, "port": self.port,
                       "started": start_time(os.getpid())}, f)  # `down` checks the pid is still us
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

    def stop(self, *_):
        self._stop.set()
        os.kill(os.getpid(), signal.SIGINT)
