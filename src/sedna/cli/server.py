"""``sedna up|down``: starting and stopping the control plane.

``up`` runs the store, controller and API server in this process (or in a
detached one), holds the state folder's lock, records the current context and
writes the kubeconfig; ``down`` stops a server through its state folder's lock
or by asking it over the API (never by opening its store)."""

import argparse
import json
import os
import subprocess
import sys
import time

from sedna.cli import UserError
from sedna.cli.client import Client
from sedna.runtimes.local.runtime import DEFAULT_PORT, DEFAULT_STATE_DIR, state_paths

def cmd_up(args):
    from sedna.common.log import setup  # lazy: keeps `sedna` start-up light

    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        raise UserError("the control plane needs the server extra: pip install 'sedna[server]'") from None
    from sedna.runtimes.local.runtime import lock_holder, port_free  # lazy: keeps `sedna` start-up light

    args.state_dir = args.state_dir or DEFAULT_STATE_DIR
    holder = lock_holder(os.path.abspath(args.state_dir))
    if holder is not None:
        raise UserError(f"a sedna control plane already runs from {args.state_dir} (pid {holder}); stop it with "
                        f"`sedna down --state-dir {args.state_dir}` or choose another --state-dir")
    if not port_free(args.host, args.port):
        raise UserError(f"port {args.port} on {args.host} is in use (another `sedna up`?); "
                        "stop it with `sedna down` or choose --port")
    _check_state(args)
    if args.detach:
        return _up_detached(args)
    setup()
    from sedna.runtimes.local.runtime import LocalRuntime  # lazy: keeps `sedna` start-up light

    from sedna.control.reconcile import Settings  # lazy: keeps `sedna` start-up light

    images = _images(args)
    if args.backoff <= 0 or args.max_attempts < 1 or args.max_failed_rounds < 1:
        raise UserError("--backoff must be > 0, --max-attempts and --max-failed-rounds >= 1")
    from sedna.runtimes.local.runtime import StateDirInUse  # lazy: keeps `sedna` start-up light

    try:
        rt = LocalRuntime(args.state_dir, host=args.host, port=args.port, images=images, confine=not args.no_confine,
                          settings=Settings(max_attempts=args.max_attempts, backoff_base=args.backoff,
                                            max_failed_rounds=args.max_failed_rounds),
                          worker_user=args.worker_user)
    except (OSError, ValueError, StateDirInUse) as e:
        raise UserError(str(e)) from None
    name, kubeconfig = _record(rt, args.context)
    kubectl = f"KUBECONFIG={kubeconfig} kubectl get ll" if kubeconfig else f"unavailable ({rt.kube_error})"
    print(f"sedna control plane on {rt.url} (state in {rt.state_dir}); context {name!r}; kubectl: {kubectl}; "
          f"dashboard: {rt.url}/ui/ (its token: {os.path.join(rt.state_dir, 'token')}); Ctrl-C to stop", flush=True)
    _warn_host(args.host)
    from sedna.server.app import create_app  # lazy: [server] extra (fastapi)

    return rt.serve(create_app)


def _record(rt, name):
    """Make this server the current context and write its kubeconfig: ``(context, kubeconfig path)``."""
    from sedna.cli import context  # lazy: keeps `sedna` start-up light

    try:
        name = context.record(rt.state_dir, rt.url, name)
    except OSError as e:  # an unwritable config folder must not stop the server
        print(f"sedna: warning: the context was not recorded in {context.config_path()}: {e.strerror}",
              file=sys.stderr)
        name = name or context.default_name(rt.state_dir)
    if not rt.kube_url:
        _remove(state_paths(rt.state_dir)["kubeconfig"])  # it would name a listener that is not there
        return name, None
    return name, context.write_kubeconfig(rt.state_dir, rt.kube_url, rt.token, name, rt.kube_ca)


def _warn_host(host):
    from sedna.server.auth import is_loopback  # lazy: [server] extra (fastapi)

    if not is_loopback(host):
        print(f"warning: listening on {host}, beyond loopback: anyone who can reach it and holds the token "
              "controls the jobs", file=sys.stderr)


def _check_state(args):
    """A corrupt state database stops `up` in one line, or is repaired with --repair."""
    from sedna.runtimes.local.store import Store, StoreCorrupt, repair  # lazy: keeps `sedna` start-up light

    path = state_paths(os.path.abspath(args.state_dir))["db"]
    if not os.path.exists(path):
        return
    try:
        Store(path).close()
        if args.repair:
            print(f"{path} reads fine: nothing to repair")
    except StoreCorrupt as e:
        if not args.repair:
            raise UserError(str(e)) from None
        aside, copied = repair(path)
        kept = ", ".join(f"{t}: {n}" for t, n in copied.items())
        print(f"repaired: the corrupt database is kept as {aside}; rows copied into a new one: {kept}")


def _images(args):
    from sedna.runtimes.local.workers import ImageMap  # lazy: keeps `sedna` start-up light

    try:
        m = ImageMap.from_args(args.image or [])
        if args.config:
            m = ImageMap.from_file(args.config).merge(m)
    except Exception as e:  # noqa: BLE001 - a user mistake in flags or the config file
        msg = str(e)
        raise UserError(msg if not args.config or args.config in msg else f"{args.config}: {msg}") from None
    missing = [(image, folder) for image, folder in m.mapping.items() if not folder.is_dir()]
    if missing:
        image, folder = missing[0]
        what = "is not a folder" if folder.exists() else "does not exist"
        raise UserError(f"image {image}: {folder} {what} (the folder its workers run from: "
                        "--image IMAGE=DIR or the --config file's images)")
    return m


def _port(text):
    """A TCP port for argparse: an integer 1..65535."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 1 <= n <= 65535:
        raise argparse.ArgumentTypeError(f"{n} is not a port (1..65535)")
    return n


def _up_detached(args):
    _images(args)  # fail fast on bad flags
    if args.worker_user:
        from sedna.runtimes.local.sandbox import worker_user  # lazy: keeps `sedna` start-up light

        try:
            worker_user(args.worker_user)
        except ValueError as e:
            raise UserError(str(e)) from None
    os.makedirs(args.state_dir, exist_ok=True)
    log = state_paths(os.path.abspath(args.state_dir))["log"]
    cmd = [sys.executable, "-m", "sedna.cli", "up", "--state-dir", args.state_dir, "--host", args.host,
           "--port", str(args.port)]
    for im in args.image or []:
        cmd += ["--image", im]
    cmd += ["--backoff", str(args.backoff), "--max-attempts", str(args.max_attempts),
            "--max-failed-rounds", str(args.max_failed_rounds)]
    if args.no_confine:
        cmd.append("--no-confine")
    if args.worker_user:
        cmd += ["--worker-user", args.worker_user]
    if args.config:
        cmd += ["--config", args.config]
    if args.context:
        cmd += ["--context", args.context]
    _warn_host(args.host)
    with open(log, "ab") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    from sedna.cli.context import Target  # lazy: keeps `sedna` start-up light

    url = f"http://{'127.0.0.1' if args.host == '0.0.0.0' else args.host}:{args.port}"
    client = Client(target=Target(url, "", "sedna up --detach"))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise UserError(f"the control plane exited with code {proc.returncode}; see {log}")
        try:
            client.call("GET", "/healthz", timeout=2)
            paths = state_paths(os.path.abspath(args.state_dir))
            kubectl = f"KUBECONFIG={paths['kubeconfig']} kubectl get ll" if os.path.exists(paths["kubeconfig"]) \
                else f"unavailable (see {log})"
            print(f"sedna control plane on {client.url} (pid {proc.pid}, log {log}); kubectl: {kubectl}; "
                  f"dashboard: {client.url}/ui/ (its token: {paths['token']})")
            return 0
        except UserError:
            time.sleep(0.2)
    raise UserError(f"the control plane did not answer within 30 s; see {log}")


def cmd_down(args):
    """Stop the server: through its state folder's lock when it runs here,
    else by asking it over the API (the server stops its own workers)."""
    from sedna.cli.context import resolve  # lazy: keeps `sedna` start-up light

    state = args.state_dir
    if not (state or args.server or args.context or os.environ.get("SEDNA_SERVER")):
        local = os.path.abspath(DEFAULT_STATE_DIR)
        if any(os.path.exists(state_paths(local)[k]) for k in ("server", "lock")):
            state = DEFAULT_STATE_DIR
    if state:
        return _down_local(args, os.path.abspath(state))
    target = resolve(server=args.server, context=args.context)
    if target.state_dir and os.path.isdir(target.state_dir) and not args.server:
        return _down_local(args, target.state_dir)
    client = Client(target=target)
    client.call("POST", f"/sedna/shutdown?keepWorkers={str(args.keep_workers).lower()}")
    if not _wait(lambda: not _answers(client), 15):
        raise UserError(f"the control plane at {client.url} still answers 15 s after it was asked to stop")
    print(f"control plane at {client.url} stopped")
    return 0


def _answers(client):
    try:
        client.call("GET", "/healthz", timeout=2)
        return True
    except UserError:
        return False


def _wait(cond, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.1)
    return cond()


def _down_local(args, state):
    from sedna.cli.context import Target, _read_token, _server_json  # lazy: keeps `sedna` start-up light
    from sedna.runtimes.local.runtime import lock_holder  # lazy: keeps `sedna` start-up light

    paths = state_paths(state)
    holder = lock_holder(state)
    if holder is None:  # nothing holds the lock: no server, whatever server.json says
        if os.path.exists(paths["server"]):
            _remove(paths["server"])
            print("no server running (stale server.json removed)")
            return 0
        raise UserError(f"no control plane running from {state}")
    try:
        with open(paths["server"]) as f:
            info = json.load(f)
    except (OSError, ValueError):
        info = {}
    info = info if isinstance(info, dict) else {}
    pid = holder or info.get("pid")
    url = _server_json(state)
    try:
        if not url:
            raise UserError("no server.json")
        Client(target=Target(url, _read_token(paths["token"]), f"--state-dir {state}")).call(
            "POST", f"/sedna/shutdown?keepWorkers={str(args.keep_workers).lower()}")
    except UserError as e:  # not answering: a signal, and its workers are left for the next `up`
        why = _not_our_server(pid, info)
        if why:
            raise UserError(f"the server holding {paths['lock']} did not answer ({e}) and {why}; "
                            "nothing was signalled") from None
        print(f"sedna: warning: the server did not answer ({e}); sending SIGTERM, its workers are left "
              "running (adopted at the next `sedna up`)", file=sys.stderr)
        os.kill(pid, 15)
    if _wait(lambda: lock_holder(state) is None, 15):
        print(f"control plane (pid {pid}) stopped")
        return 0
    if _not_our_server(pid, info):
        print(f"control plane (pid {pid}) stopped")
        return 0
    os.kill(pid, 9)
    print(f"control plane (pid {pid}) killed after 15 s")
    return 0


def _not_our_server(pid, info):
    """Why ``pid`` is not the server that wrote ``info`` (server.json), or ''.

    The start time the server recorded must match the process's; a file
    without one (an older server) needs a command line of ``sedna ... up``.
    Without ``/proc`` nothing can be checked and the pid is trusted."""
    from sedna.common.procs import cmdline, start_time  # lazy: keeps `sedna` start-up light

    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 1:
        return f"server.json names no valid pid ({pid!r})"
    if not _alive(pid):
        return f"pid {pid} has exited"
    recorded, now = info.get("started"), start_time(pid)
    if recorded is not None and now is not None:
        return "" if recorded == now else f"pid {pid} is now another process"
    args = cmdline(pid)
    if args is None:
        return ""
    sedna = any(os.path.basename(a) == "sedna" or a.startswith("sedna.cli") for a in args)
    return "" if sedna and "up" in args else f"pid {pid} is now another process ({' '.join(args)[:60]})"


def _remove(path):
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


def _alive(pid):
    """A running process (a zombie waiting for its parent to reap it counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True


def add_commands(sub, common):
    up = sub.add_parser("up", help="start the control plane (foreground; --detach for background)",
                        description="Start the embedded control plane: store, controller and API server. "
                        "One server per state folder (a lock). It becomes the current context in "
                        "$XDG_CONFIG_HOME/sedna/config.yaml (default ~/.config/sedna/), so every sedna command "
                        "finds it from any folder, and writes <state-dir>/kubeconfig for kubectl "
                        "(KUBECONFIG=<state-dir>/kubeconfig kubectl get ll).")
    up.add_argument("--state-dir", default=None, help=f"state folder (default: ./{DEFAULT_STATE_DIR})")
    up.add_argument("--context", help="name of the context to record (default: named after the state folder)")
    up.add_argument("--host", default="127.0.0.1", help="listen address (default: loopback only)")
    up.add_argument("--port", type=_port, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    up.add_argument("--image", action="append", metavar="IMAGE=DIR",
                    help="run containers of IMAGE from local folder DIR (repeatable; IMAGE may be '*')")
    up.add_argument("--config", help="YAML/JSON file with an 'images' mapping")
    up.add_argument("--detach", "-d", action="store_true", help="run in the background")
    up.add_argument("--repair", action="store_true",
                    help="if the state database is corrupt, keep it aside and start from the rows that can be read")
    up.add_argument("--backoff", type=float, default=2.0,
                    help="seconds before the first retry of a failed stage, doubled each time (default 2)")
    up.add_argument("--max-attempts", type=int, default=3, help="tries of one stage per round (default 3)")
    up.add_argument("--max-failed-rounds", type=int, default=2,
                    help="rounds failed in a row before a job is Failed, until its spec changes (default 2)")
    up.add_argument("--no-confine", action="store_true",
                    help="run workers without Landlock confinement (they can then read all this user can, "
                         "the admin token included: see docs/security.md)")
    up.add_argument("--worker-user", metavar="USER", default=None,
                    help="when sedna up runs as root, start workers as this unprivileged user (e.g. nobody); "
                         "the folders they write are given to it (see docs/security.md)")
    up.set_defaults(func=cmd_up)

    down = sub.add_parser("down", help="stop the control plane and its workers",
                          description="Stop a control plane: the one running from --state-dir (or ./.sedna), "
                          "else the one --server, --context, SEDNA_SERVER or the current context names.")
    common(down)
    down.add_argument("--keep-workers", action="store_true", help="leave workers running (adopted at next up)")
    down.set_defaults(func=cmd_down)
