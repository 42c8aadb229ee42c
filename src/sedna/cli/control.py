"""``sedna up|down|apply|get|describe|logs|delete``: the control-plane commands,
as kubectl users expect them. They talk to the server over HTTP (loopback by
default) with the token from the state folder."""

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
    from sedna.runtimes.local.runtime import port_free

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
    try:
        rt = LocalRuntime(args.state_dir, host=args.host, port=args.port, images=images,
                          settings=Settings(max_attempts=args.max_attempts, backoff_base=args.backoff))
    except OSError as e:
        raise UserError(str(e)) from None
    print(f"sedna control plane on {rt.url} (state in {rt.state_dir}); Ctrl-C to stop", flush=True)
    _warn_host(args.host)
    return rt.serve()


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
        raise UserError(str(e)) from None
    return m


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
    _warn_host(args.host)
    with open(log, "ab") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    client = Client(args.state_dir, server=f"http://{'127.0.0.1' if args.host == '0.0.0.0' else args.host}:{args.port}")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise UserError(f"the control plane exited with code {proc.returncode}; see {log}")
        try:
            client.call("GET", "/healthz")
            print(f"sedna control plane on {client.url} (pid {proc.pid}, log {log})")
            return 0
        except UserError:
            time.sleep(0.2)
    raise UserError(f"the control plane did not answer within 30 s; see {log}")


def cmd_down(args):
    paths = state_paths(os.path.abspath(args.state_dir))
    try:
        with open(paths["server"]) as f:
            info = json.load(f)
    except (OSError, ValueError):
        raise UserError(f"no control plane running from {args.state_dir}") from None
    pid = info.get("pid") if isinstance(info, dict) else None
    if not args.keep_workers:
        _stop_all_workers(args.state_dir)
    why = _not_our_server(pid, info)
    if why:  # a crash left server.json behind; never signal a stranger
        _remove(paths["server"])
        print(f"no server running ({why}; stale server.json removed)")
        return 0
    try:
        os.kill(pid, 15)
    except ProcessLookupError:
        _remove(paths["server"])
        print("no server running (stale server.json removed)")
        return 0
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if not _alive(pid):
            print(f"control plane (pid {pid}) stopped")
            return 0
        time.sleep(0.1)
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


def _stop_all_workers(state_dir):
    from sedna.runtimes.local.store import Store
    from sedna.runtimes.local.workers import ImageMap, LocalLauncher

    paths = state_paths(os.path.abspath(state_dir))
    if not os.path.exists(paths["db"]):
        return
    store = Store(paths["db"])
    launcher = LocalLauncher(os.path.abspath(state_dir), ImageMap({}))
    for w in store.workers():
        if w["phase"] in ("Running", "Pending", "Unknown") and w["record"].get("pid"):
            from sedna.runtimes.local.workers import WorkerRecord

            rec = WorkerRecord.from_dict(w["record"])
            launcher.adopt(rec)
            launcher.stop(rec)
            store.set_worker(w["namespace"], w["name"], phase="Stopped")


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
    client = Client(args.state_dir, args.server)
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
    client = Client(args.state_dir, args.server)
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
    client = Client(args.state_dir, args.server)
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
    client = Client(args.state_dir, args.server)
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
    def common(p, server=True):
        p.add_argument("--state-dir", default=DEFAULT_STATE_DIR, help="state folder (default: ./.sedna)")
        if server:
            p.add_argument("--server", help="control plane URL (default: from the state folder, else "
                           f"http://127.0.0.1:{DEFAULT_PORT})")

    up = sub.add_parser("up", help="start the control plane (foreground; --detach for background)",
                        description="Start the embedded control plane: store, controller and API server.")
    common(up, server=False)
    up.add_argument("--host", default="127.0.0.1", help="listen address (default: loopback only)")
    up.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
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

    down = sub.add_parser("down", help="stop the control plane and its workers")
    common(down, server=False)
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
