"""Which control plane a command talks to, like kubectl's contexts.

``sedna up`` records the server's URL, its token file and its state folder
as a context in the user config (``$XDG_CONFIG_HOME/sedna/config.yaml``,
default ``~/.config/sedna/``; file 0600, folder 0700) and makes it current.
Every other command resolves its target in this order:

1. ``--server URL`` / ``--state-dir DIR`` (``--context NAME`` picks a context);
2. ``SEDNA_SERVER`` / ``SEDNA_TOKEN``;
3. ``./.sedna`` when it holds a ``server.json`` (a server started here);
4. the current context.

:func:`resolve` returns a :class:`Target` that says where it came from, so an
error can name the server tried and how to point elsewhere.
"""

import json
import os
from dataclasses import dataclass
from typing import Optional

from sedna.cli import UserError
from sedna.common.config import user_config_dir
from sedna.runtimes.local.runtime import DEFAULT_STATE_DIR, state_paths

RESOLUTION_HELP = ("Which server: --server URL or --state-dir DIR, else SEDNA_SERVER (token from SEDNA_TOKEN), "
                   "else ./.sedna if a server runs from it, else the current context that `sedna up` "
                   "recorded in $XDG_CONFIG_HOME/sedna/config.yaml (default ~/.config/sedna/); "
                   "--context NAME picks another one (`sedna context` lists them).")


@dataclass
class Target:
    url: str
    token: str
    source: str                      # how it was found, for error messages
    state_dir: Optional[str] = None  # the local state folder, when known


# ------------------------------------------------------------------ the user config
def config_path():
    return os.path.join(user_config_dir(), "config.yaml")


def load_config():
    """``{"current-context": name, "contexts": {name: {...}}}``; empty when there is none."""
    import yaml

    path = config_path()
    try:
        with open(path, encoding="utf-8") as f:
            doc = yaml.safe_load(f) or {}
    except FileNotFoundError:
        doc = {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise UserError(f"{path}: cannot read the sedna config ({str(e).splitlines()[0]}); "
                        "fix or remove it") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("contexts", {}), dict):
        raise UserError(f"{path}: not a sedna config (expected 'contexts' and 'current-context'); fix or remove it")
    doc.setdefault("contexts", {})
    return doc


def save_config(doc):
    path = config_path()
    folder = os.path.dirname(path)
    os.makedirs(folder, mode=0o700, exist_ok=True)
    os.chmod(folder, 0o700)
    return _write_private_yaml(path, doc)


def _write_private_yaml(path, doc):
    """Write ``doc`` to ``path`` as YAML, 0600 from the first byte, replaced atomically."""
    import yaml

    tmp = path + f".tmp-{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        yaml.safe_dump(doc, f, sort_keys=False)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path


def default_name(state_dir):
    """A context is named after its state folder (``proj/.sedna`` -> ``proj``)."""
    state_dir = os.path.abspath(state_dir)
    base = os.path.basename(state_dir)
    if base.startswith(".") and os.path.dirname(state_dir) not in ("", "/"):
        base = os.path.basename(os.path.dirname(state_dir))
    return base.lstrip(".") or "sedna"


def record(state_dir, url, name=None):
    """Record ``url`` served from ``state_dir`` as the current context; returns its name.

    Without ``name``, a context of the same state folder is reused; a name taken
    by another folder gets a suffix (``-2``, ``-3``...) rather than being overwritten."""
    state_dir = os.path.abspath(state_dir)
    doc = load_config()
    ctxs = doc["contexts"]
    if not name:
        name = next((n for n, c in ctxs.items() if isinstance(c, dict) and c.get("state-dir") == state_dir), None)
    if not name:
        base = name = default_name(state_dir)
        i = 2
        while name in ctxs and (ctxs[name] or {}).get("state-dir") != state_dir:
            name, i = f"{base}-{i}", i + 1
    ctxs[name] = {"server": url, "token-file": state_paths(state_dir)["token"], "state-dir": state_dir}
    doc["current-context"] = name
    save_config(doc)
    return name


def use(name):
    doc = load_config()
    if name not in doc["contexts"]:
        raise UserError(f"no context {name!r} in {config_path()}; contexts: {', '.join(doc['contexts']) or 'none'}")
    doc["current-context"] = name
    save_config(doc)


# ------------------------------------------------------------------ resolution
def _read_token(path):
    try:
        with open(path, encoding="utf-8") as f:
            return f.read().strip()
    except (OSError, UnicodeDecodeError):
        return ""


def _server_json(state_dir):
    try:
        with open(state_paths(state_dir)["server"], encoding="utf-8") as f:
            url = json.load(f)["url"]
        return url if isinstance(url, str) else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _from_context(name=None):
    doc = load_config()
    name = name or doc.get("current-context")
    if not name:
        return None
    ctx = doc["contexts"].get(name)
    if not isinstance(ctx, dict) or not isinstance(ctx.get("server"), str):
        raise UserError(f"context {name!r} is not in {config_path()} (or names no server); "
                        f"contexts: {', '.join(doc['contexts']) or 'none'}")
    token = _read_token(ctx["token-file"]) if isinstance(ctx.get("token-file"), str) else ""
    return Target(ctx["server"], token, f"context {name!r} in {config_path()}", ctx.get("state-dir"))


def _token_for(url):
    """The token of a known server at ``url``: ./.sedna or a context that names it."""
    if _server_json(DEFAULT_STATE_DIR) == url:
        return _read_token(state_paths(DEFAULT_STATE_DIR)["token"])
    try:
        ctxs = load_config()["contexts"]
    except UserError:
        return ""
    for c in ctxs.values():
        if isinstance(c, dict) and c.get("server") == url and isinstance(c.get("token-file"), str):
            return _read_token(c["token-file"])
    return ""


def resolve(server=None, state_dir=None, context=None):
    """The :class:`Target` for the flags given (see the module docstring for the order)."""
    env_server, env_token = os.environ.get("SEDNA_SERVER"), os.environ.get("SEDNA_TOKEN")
    if state_dir:
        sd = os.path.abspath(state_dir)
        url = server or _server_json(sd)
        if not url:
            raise UserError(f"no control plane running from {state_dir} (no server.json there); start one with "
                            f"`sedna up --state-dir {state_dir}` or point elsewhere with --server")
        return Target(url, _read_token(state_paths(sd)["token"]) or env_token or "", f"--state-dir {state_dir}", sd)
    if server:
        return Target(server, env_token or _token_for(server), "--server")
    if context:
        return _from_context(context)
    if env_server:
        return Target(env_server, env_token or _token_for(env_server), "SEDNA_SERVER")
    url = _server_json(DEFAULT_STATE_DIR)
    if url:
        return Target(url, env_token or _read_token(state_paths(DEFAULT_STATE_DIR)["token"]),
                      f"./{DEFAULT_STATE_DIR}", os.path.abspath(DEFAULT_STATE_DIR))
    target = _from_context()
    if target is None:
        raise UserError("no sedna control plane known: none given with --server/--state-dir/--context, "
                        f"SEDNA_SERVER is unset, no ./{DEFAULT_STATE_DIR}/server.json, no current context in "
                        f"{config_path()}; start one with `sedna up`")
    if env_token:
        target.token = env_token
    return target


# ------------------------------------------------------------------ kubectl
def write_kubeconfig(state_dir, url, token, name, ca_pem=None):
    """``<state_dir>/kubeconfig`` (0600): one cluster, user and context named
    ``sedna-<name>``, the token as a bearer token (kubectl sends one only over
TLS: ``url`` is the server's HTTPS listener, ``ca_pem`` its certificate). The user's ``~/.kube/config``
    is never touched: ``KUBECONFIG=<this file> kubectl get ll``."""
    path = state_paths(os.path.abspath(state_dir))["kubeconfig"]
    n = f"sedna-{name}"
    doc = {"apiVersion": "v1", "kind": "Config", "preferences": {},
           "clusters": [{"name": n, "cluster": {"server": url}}],
           "users": [{"name": n, "user": {"token": token}}],
           "contexts": [{"name": n, "context": {"cluster": n, "user": n, "namespace": "default"}}],
           "current-context": n}
    if ca_pem:
        import base64

        doc["clusters"][0]["cluster"]["certificate-authority-data"] = base64.b64encode(ca_pem).decode("ascii")
    return _write_private_yaml(path, doc)


# ------------------------------------------------------------------ sedna context
def _cmd_context(args):
    if args.name:
        use(args.name)
        print(f"current context: {args.name}")
        return 0
    doc = load_config()
    if not doc["contexts"]:
        print(f"no contexts in {config_path()}; `sedna up` records one")
        return 0
    cur = doc.get("current-context")
    rows = [("*" if n == cur else "", n, (c or {}).get("server", ""), (c or {}).get("state-dir", ""))
            for n, c in doc["contexts"].items()]
    w = [max(len(str(r[i])) for r in rows + [("CURRENT", "NAME", "SERVER", "STATE-DIR")]) for i in range(4)]
    for r in [("CURRENT", "NAME", "SERVER", "STATE-DIR")] + rows:
        print("   ".join(str(c).ljust(w[i]) for i, c in enumerate(r)).rstrip())
    return 0


def add_commands(sub):
    p = sub.add_parser("context", help="list the recorded control planes, or switch to one",
                       description="Contexts are recorded by `sedna up` in $XDG_CONFIG_HOME/sedna/config.yaml "
                                   "(default ~/.config/sedna/). " + RESOLUTION_HELP)
    p.add_argument("name", nargs="?", help="make this context the current one")
    p.set_defaults(func=_cmd_context)
