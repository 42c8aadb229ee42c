"""Starting a task model from another one's knowledge (the transfer contract).

The engine trains a task's model from a related, already trained model (the
shared base, or the closest task's model) when the estimator can take it:

1. ``train(train_data, valid_data=None, init_from=None, teacher=None, **kw)``:
   an estimator whose ``train`` (or ``fit``) names ``init_from`` receives the
   source estimator instance (trained, same class) and starts from it itself;
   one that names ``teacher`` also receives the model to distil from
   (Learning-without-Forgetting style) when the engine retrains a known task.
2. PyTorch: an estimator exposing its network as ``.model`` (an
   ``nn.Module``), or being one, gets the source's ``state_dict`` loaded
   before ``train`` (same keys and shapes, else it trains from scratch).
3. scikit-learn models with ``warm_start`` and fitted coefficients
   (``coef_``: linear models; ``coefs_``: MLPs): a copy of the source is fitted
   on the new data with ``warm_start=True``. Ensembles are not warm-started
   (``warm_start`` there means "add trees", not "start from").
4. Anything else trains from scratch, as without transfer.

Pure decisions (:func:`transfer_mode`) apart from the one effect
(:func:`start_from`).
"""

import copy
import functools
import inspect
import sys

__all__ = ("transfer_mode", "start_from", "accepts_keyword", "torch_module")


@functools.lru_cache(maxsize=512)
def _keywords(func):
    """The names ``func`` takes as keywords (an empty set when its signature is unknown)."""
    try:
        params = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return frozenset()
    return frozenset(n for n, p in params.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))


def accepts_keyword(func, name):
    """Whether ``func`` names the keyword ``name`` (``**kwargs`` alone does not count).
    Signatures are read once per function: a bound method is looked up by its function."""
    target = getattr(func, "__func__", func)
    try:
        return name in _keywords(target)
    except TypeError:  # unhashable callable
        return name in _keywords.__wrapped__(func)


def _train_method(est):
    return getattr(est, "train", None) or getattr(est, "fit", None)


def torch_module(est):
    """The ``torch.nn.Module`` an estimator trains (``est`` itself or ``est.model``), or None.

    Torch is looked up, never imported: an object can only be a torch module
    once its own code has imported torch, so a scikit-learn job never pays for it."""
    torch = sys.modules.get("torch")
    if torch is None or not hasattr(torch, "nn"):
        return None
    if isinstance(est, torch.nn.Module):
        return est
    model = getattr(est, "model", None)
    return model if isinstance(model, torch.nn.Module) else None


def transfer_mode(est):
    """How ``est`` (a raw estimator, class or instance) can start from another:
    ``"init_from"``, ``"state_dict"``, ``"warm_start"`` or ``None``."""
    train = _train_method(est)
    if train is not None and accepts_keyword(train, "init_from"):
        return "init_from"
    if not inspect.isclass(est) and torch_module(est) is not None:
        return "state_dict"
    if inspect.isclass(est):
        try:
            est = est()
        except TypeError:
            return None
        if torch_module(est) is not None:
            return "state_dict"
    if hasattr(est, "warm_start") and hasattr(est, "get_params"):
        return "warm_start"
    return None


def _same_shapes(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(sa[k].shape == sb[k].shape for k in sa)


def start_from(dst, src):
    """Make raw estimator ``dst`` start from trained raw estimator ``src``.

    Returns ``(estimator to train, extra train kwargs)``; the estimator may be
    a new object (a warm-start copy of ``src``). With no usable mode it
    returns ``(dst, {})``: training from scratch.
    """
    mode = transfer_mode(dst)
    if mode == "init_from":
        return dst, {"init_from": src}
    if mode == "state_dict":
        d, s = torch_module(dst), torch_module(src)
        if s is not None and _same_shapes(d, s):
            d.load_state_dict(s.state_dict())
        return dst, {}
    if mode == "warm_start" and (hasattr(src, "coef_") or hasattr(src, "coefs_")):
        warm = copy.deepcopy(src)
        warm.warm_start = True  # what set_params does, without reading the signature
        _forget_convergence(warm)
        return warm, {}
    return dst, {}


def _forget_convergence(est):
    """Forget when ``est`` last stopped improving: a warm-started MLP keeps its best loss on the
    data it learned, so on new data (a higher loss) every epoch counts as "no improvement" and it
    stops after ``n_iter_no_change`` epochs, having learned next to nothing."""
    if hasattr(est, "best_loss_") and est.best_loss_ is not None:
        est.best_loss_ = float("inf")
    if hasattr(est, "_no_improvement_count"):
        est._no_improvement_count = 0
