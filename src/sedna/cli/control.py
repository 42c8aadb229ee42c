"""``sedna up|down|apply|get|describe|logs|delete``: the control-plane commands,
as kubectl users expect them. They talk to the server over HTTP (loopback by
default) with the token from the state folder."""

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

from sedna.cli import UserError
from sedna.cli.client import Client
from sedna.cli.views import HEADERS, age, plural_of, table, to_yaml, worker_row
from sedna.common.api_paths import API
from sedna.runtimes.local.runtime import DEFAULT_PORT, DEFAULT_STATE_DIR, state_paths


# ---------------------------------------------------------------------- commands
def cmd_up(args):
    from sedna.common.log import setup

    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        raise UserError("the control plane needs the server extra: pip install 'sedna[server]'") from None
    from sedna.runtimes.local.runtime import lock_holder, port_free

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
    from sedna.runtimes.local.runtime import LocalRuntime

    from sedna.control.reconcile import Settings

    images = _images(args)
    if args.backoff <= 0 or args.max_attempts < 1:
        raise UserError("--backoff must be > 0 and --max-attempts >= 1")
    from sedna.runtimes.local.runtime import StateDirInUse

    try:
        rt = LocalRuntime(args.state_dir, host=args.host, port=args.port, images=images,
                          settings=Settings(max_attempts=args.max_attempts, backoff_base=args.backoff))
    except (OSError, StateDirInUse) as e:
        raise UserError(str(e)) from None
    name, kubeconfig = _record(rt, args.context)
    kubectl = f"KUBECONFIG={kubeconfig} kubectl get ll" if kubeconfig else f"unavailable ({rt.kube_error})"
    print(f"sedna control plane on {rt.url} (state in {rt.state_dir}); context {name!r}; kubectl: {kubectl}; "
          "Ctrl-C to stop", flush=True)
    _warn_host(args.host)
    return rt.serve()


def _record(rt, name):
    """Make this server the current context and write its kubeconfig: ``(context, kubeconfig path)``."""
    from sedna.cli import context

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
    from sedna.server.auth import is_loopback

    if not is_loopback(host):
        print(f"warning: listening on {host}, beyond loopback: anyone who can reach it and holds the token "
              "controls the jobs", file=sys.stderr)


def _check_state(args):
    """A corrupt state database stops `up` in one line, or is repaired with --repair."""
    from sedna.runtimes.local.store import Store, StoreCorrupt, repair

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
    from sedna.runtimes.local.workers import ImageMap

    try:
        m = ImageMap.from_args(args.image or [])
        if args.config:
            m = ImageMap.from_file(args.config).merge(m)
    except Exception as e:  # noqa: BLE001 - a user mistake in flags or the config file
        msg = str(e)
        raise UserError(msg if not args.config or args.config in msg else f"{args.config}: {msg}") from None
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
    os.makedirs(args.state_dir, exist_ok=True)
    log = state_paths(os.path.abspath(args.state_dir))["log"]
    cmd = [sys.executable, "-m", "sedna.cli", "up", "--state-dir", args.state_dir, "--host", args.host,
           "--port", str(args.port)]
    for im in args.image or []:
        cmd += ["--image", im]
    cmd += ["--backoff", str(args.backoff), "--max-attempts", str(args.max_attempts)]
    if args.config:
        cmd += ["--config", args.config]
    if args.context:
        cmd += ["--context", args.context]
    _warn_host(args.host)
    with open(log, "ab") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    from sedna.cli.context import Target

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
            print(f"sedna control plane on {client.url} (pid {proc.pid}, log {log}); kubectl: {kubectl}")
            return 0
        except UserError:
            time.sleep(0.2)
    raise UserError(f"the control plane did not answer within 30 s; see {log}")


def cmd_down(args):
    """Stop the server: through its state folder's lock when it runs here,
    else by asking it over the API (the server stops its own workers)."""
    from sedna.cli.context import resolve

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
    from sedna.cli.context import Target, _read_token, _server_json
    from sedna.runtimes.local.runtime import lock_holder

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
    from sedna.common.procs import cmdline, start_time

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


def cmd_apply(args):
    from sedna.cli.apply import cmd_apply as apply_all  # all-or-nothing apply, with its file reading

    return apply_all(args)


def _list(client, path):
    """Every item of a paginated list (following ``metadata.continue``)."""
    items, cont = [], ""
    while True:
        sep = "&" if "?" in path else "?"
        page = client.call("GET", path + (f"{sep}continue={urllib.parse.quote(cont)}" if cont else ""))
        items += page["items"]
        cont = (page.get("metadata") or {}).get("continue") or ""
        if not cont:
            return items


def _fetch(client, plural, ns, name=None, all_ns=False):
    if plural == "workers":
        items = _list(client, "/api/v1/workers" if all_ns else f"/api/v1/namespaces/{ns}/workers")
        if name:
            items = [w for w in items if w["name"] == name]
            if not items:
                raise UserError(f"worker {name!r} not found in namespace {ns}")
        return items
    if name:
        return [client.call("GET", f"{API}/namespaces/{ns}/{plural}/{name}")]
    return _list(client, f"{API}/{plural}" if all_ns else f"{API}/namespaces/{ns}/{plural}")


def cmd_get(args):
    plural = plural_of(args.type)
    client = Client(args.state_dir, args.server, args.context)
    items = _fetch(client, plural, args.namespace, args.name, args.all_namespaces)
    if args.output in ("json", "yaml"):
        payload = items[0] if args.name else {"items": items}
        print(json.dumps(payload, indent=2) if args.output == "json" else to_yaml(payload), end="" if args.output == "yaml" else "\n")
        return 0
    narrow, wide, rowf = HEADERS[plural]
    if not items:
        print(f"No resources found in {args.namespace} namespace.")
        return 0
    headers = wide if args.output == "wide" else narrow
    rows = [rowf(o, args.output == "wide") for o in items]
    if args.all_namespaces:
        headers = ["NAMESPACE"] + headers
        rows = [[(o.get("metadata") or {}).get("namespace", o.get("namespace", ""))] + r for o, r in zip(items, rows)]
    print(table(rows, headers))
    return 0


def cmd_describe(args):
    plural = plural_of(args.type)
    client = Client(args.state_dir, args.server, args.context)
    items = _fetch(client, plural, args.namespace, args.name)
    for o in items:
        if plural == "workers":
            print(to_yaml(o))
            continue
        meta, st = o["metadata"], o.get("status") or {}
        print(f"Name:         {meta['name']}\nNamespace:    {meta['namespace']}\nKind:         {o['kind']}\n"
              f"Created:      {meta.get('creationTimestamp')} ({age(meta.get('creationTimestamp'))} ago)\n"
              f"UID:          {meta.get('uid')}\nGeneration:   {meta.get('generation')}")
        print("Spec:\n" + _indent(to_yaml(o.get("spec") or {}), 2))
        status = {k: v for k, v in st.items() if k != "conditions"}
        if status:
            print("Status:\n" + _indent(to_yaml(status), 2))
        conds = st.get("conditions") or []
        if conds:
            print("Conditions:")
            print(_indent(table([[c.get("round", ""), c.get("stage", ""), c.get("type", ""), c.get("reason", ""),
                                  age(c.get("lastTransitionTime")), (c.get("message") or "")[:80]] for c in conds],
                                ["ROUND", "STAGE", "TYPE", "REASON", "AGE", "MESSAGE"]), 2))
        if o["kind"] == "LifelongLearningJob":
            ws = [w for w in _fetch(client, "workers", meta["namespace"]) if w["job"] == meta["name"]]
            if ws:
                print("Workers:")
                print(_indent(table([worker_row(w, False) for w in ws], HEADERS["workers"][0]), 2))
        print()
    return 0


def _indent(text, n):
    pad = " " * n
    return "\n".join(pad + line for line in text.rstrip("\n").splitlines())


def cmd_logs(args):
    client = Client(args.state_dir, args.server, args.context)
    path = f"/api/v1/namespaces/{args.namespace}/workers/{args.worker}/log"
    _fetch(client, "workers", args.namespace, args.worker)  # clear error for an unknown worker
    offset = 0
    while True:
        data, headers = client.call("GET", f"{path}?offset={offset}", raw=True)
        if data:
            sys.stdout.write(data.decode("utf-8", "replace"))
            sys.stdout.flush()
        offset = int(headers.get("X-Offset") or headers.get("x-offset") or offset + len(data))
        size = headers.get("X-Size") or headers.get("x-size")
        if data and size is not None and offset < int(size):
            continue  # the server sends a long log in chunks
        if not args.follow:
            return 0
        w = _fetch(client, "workers", args.namespace, args.worker)[0]
        if w["phase"] not in ("Running", "Pending") and not data:
            return 0
        time.sleep(0.5)


def cmd_delete(args):
    client = Client(args.state_dir, args.server, args.context)
    targets = []
    if args.filename:
        from sedna.control.resources import KINDS, validate

        from sedna.cli.apply import read_manifests

        for src, d in read_manifests(args.filename):
            try:
                obj = validate(d, source=src)
            except Exception as e:  # noqa: BLE001
                raise UserError(str(e)) from None
            targets.append((KINDS[obj["kind"]]["plural"], obj["metadata"]["namespace"], obj["metadata"]["name"]))
    else:
        if not args.type or not args.names:
            raise UserError("delete: give TYPE NAME... or -f FILE")
        plural = plural_of(args.type)
        if plural == "workers":
            raise UserError("workers belong to their job: delete the job (sedna delete ll NAME)")
        targets = [(plural, args.namespace, n) for n in args.names]
    for plural, ns, name in targets:
        client.call("DELETE", f"{API}/namespaces/{ns}/{plural}/{name}")
        print(f"{plural[:-1] if plural != 'lifelonglearningjobs' else 'lifelonglearningjob'}.sedna.io/{name} deleted")
    return 0


def add_commands(sub):
    from sedna.cli.context import RESOLUTION_HELP

    def common(p, server=True):
        p.add_argument("--state-dir", default=None, help="the state folder of a server started here "
                       "(its server.json and token); default: see below")
        if server:
            p.add_argument("--server", help="control plane URL, e.g. http://127.0.0.1:9100 (token from "
                           "SEDNA_TOKEN, or from the state folder or context that names this URL)")
            p.add_argument("--context", help="a context recorded by `sedna up` (default: the current one)")
        p.epilog = RESOLUTION_HELP

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
    up.set_defaults(func=cmd_up)

    down = sub.add_parser("down", help="stop the control plane and its workers",
                          description="Stop a control plane: the one running from --state-dir (or ./.sedna), "
                          "else the one --server, --context, SEDNA_SERVER or the current context names.")
    common(down)
    down.add_argument("--keep-workers", action="store_true", help="leave workers running (adopted at next up)")
    down.set_defaults(func=cmd_down)

    ap = sub.add_parser("apply", help="create or update resources from YAML", description="kubectl-style apply.")
    common(ap)
    ap.add_argument("-f", "--filename", action="append", required=True, help="FILE, DIR or - (repeatable)")
    ap.add_argument("-n", "--namespace", default=None, help="namespace for manifests that name none")
    ap.set_defaults(func=cmd_apply)

    for name, helptext, fn in (("get", "list resources", cmd_get), ("describe", "show one resource in detail",
                                                                    cmd_describe)):
        p = sub.add_parser(name, help=helptext)
        common(p)
        p.add_argument("type", help="datasets|ds, lifelonglearningjobs|ll, workers")
        p.add_argument("name", nargs="?")
        p.add_argument("-n", "--namespace", default="default")
        if name == "get":
            p.add_argument("-o", "--output", choices=["wide", "yaml", "json"])
            p.add_argument("-A", "--all-namespaces", action="store_true")
        p.set_defaults(func=fn)

    lg = sub.add_parser("logs", help="print a worker's log")
    common(lg)
    lg.add_argument("worker")
    lg.add_argument("-f", "--follow", action="store_true", help="keep printing while the worker runs")
    lg.add_argument("-n", "--namespace", default="default")
    lg.set_defaults(func=cmd_logs)

    de = sub.add_parser("delete", help="delete resources (a job's workers are stopped)")
    common(de)
    de.add_argument("type", nargs="?")
    de.add_argument("names", nargs="*")
    de.add_argument("-f", "--filename", action="append")
    de.add_argument("-n", "--namespace", default="default")
    de.set_defaults(func=cmd_delete)
