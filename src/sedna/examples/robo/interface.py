"""The robot-dog job's base model (tutorial §2.1.2): an ``Estimator`` with
``train``/``predict``/``evaluate``/``load``/``save`` around RFNet-lite.

Self-contained: a small training loop (AdamW, cosine learning rate, cross
entropy ignoring 255, horizontal flips), CUDA when available, CPU otherwise.

Data as the tutorial's workers give it: ``train_data.x`` rows are
``[rgb_path, depth_path]`` and ``train_data.y`` label paths (what
``_load_txt_dataset`` + ``TxtDataParse`` produce). ``predict`` also takes
frames as arrays (``uint8 (H, W, 3)``, no depth) or dicts
``{"rgb"|"image": array or path, "depth": array or path}``.
"""

import math
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

from sedna.common.config import BaseConfig, Context
from sedna.common.log import LOGGER
from sedna.examples.robo.classes import IGNORE, NUM_CLASSES
from sedna.examples.robo.inputs import (as_items, as_str, frame_to_uint8, is_frame, label_array, load_input,
                                        resize_rgb, row_paths)
from sedna.examples.robo.metrics import Evaluator
from sedna.examples.robo.rfnet import RFNetLite, count_parameters

__all__ = ("Estimator", "parse_size")

DEFAULT_SIZE = (128, 256)
_UNSET = object()


def parse_size(size):
    """``(H, W)``, ``[H, W]``, ``"128x256"`` (H x W) or ``None`` -> tuple or None."""
    if size is None:
        return None
    if isinstance(size, str):
        text = size.strip().lower()
        if text in ("", "none", "original"):
            return None
        parts = text.replace("*", "x").replace(",", "x").split("x")
        if len(parts) != 2:
            raise ValueError(f"image size {size!r}: expected 'HxW', e.g. '128x256'")
        size = parts
    h, w = (int(v) for v in size)
    if h <= 0 or w <= 0:
        raise ValueError(f"image size must be positive, got {(h, w)}")
    return h, w


def _configure_threads():
    """Use no more CPU threads than this process may run on (affinity / OMP_NUM_THREADS)."""
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    omp = os.environ.get("OMP_NUM_THREADS", "")
    if omp.isdigit() and int(omp) > 0:
        n = min(n, int(omp))
    if torch.get_num_threads() > n:
        torch.set_num_threads(max(n, 1))


def _param(kwargs, name, env_names, default, cast):
    if name in kwargs and kwargs[name] is not None:
        return cast(kwargs[name])
    for env in env_names:
        val = Context.get_parameters(env, None)
        if val not in (None, ""):
            return cast(val)
    return default


def _to_bool(v):
    if isinstance(v, str):
        return v.strip().lower() in ("1", "true", "yes", "on")
    return bool(v)


def _distillation(logits, teacher_model, rgb, depth, temperature=2.0):
    """KL(teacher || student) per pixel at ``temperature``, scaled by its square."""
    with torch.no_grad():
        target = torch.softmax(teacher_model(rgb, depth) / temperature, 1)
    log_p = torch.log_softmax(logits / temperature, 1)
    return F.kl_div(log_p, target, reduction="batchmean") * temperature ** 2 / (logits.shape[-1] * logits.shape[-2])


class Estimator:
    """RFNet-lite behind the tutorial's Estimator interface.

    Keyword arguments (each falls back to the job's environment, then to a default):
    ``num_class`` (env ``num_class``, 24), ``epochs`` (env ``epoches``/``epochs``, 1),
    ``lr`` (3e-3), ``batch_size`` (8), ``size`` (H, W) or "HxW" (env ``IMAGE_SIZE``,
    128x256; ``None`` = native resolution), ``width`` (16), ``use_depth`` (True),
    ``seed`` (0), ``weight_decay`` (1e-4), ``class_weight`` (None, "enet" or C weights),
    ``weight_path`` (a checkpoint loaded at start, also env ``PRETRAINED_MODEL_URL``),
    ``confidence_threshold`` (0.9, for :meth:`frame_confidence`).
    """

    def __init__(self, **kwargs):
        _configure_threads()
        self.num_class = _param(kwargs, "num_class", ("num_class",), NUM_CLASSES, int)
        self.epochs = _param(kwargs, "epochs", ("epoches", "epochs"), 1, int)
        self.lr = _param(kwargs, "lr", ("learning_rate",), 3e-3, float)
        self.weight_decay = float(kwargs.get("weight_decay", 1e-4))
        self.batch_size = _param(kwargs, "batch_size", ("batch_size",), 8, int)
        if "size" in kwargs:
            self.size = parse_size(kwargs["size"])
        else:
            self.size = parse_size(Context.get_parameters("IMAGE_SIZE", None) or DEFAULT_SIZE)
        self.width = _param(kwargs, "width", ("model_width",), 16, int)
        self.use_depth = _param(kwargs, "use_depth", ("use_depth",), True, _to_bool)
        self.seed = _param(kwargs, "seed", ("seed",), 0, int)
        self.class_weight = kwargs.get("class_weight")
        self.confidence_threshold = float(kwargs.get("confidence_threshold", 0.9))
        self.device = torch.device(kwargs.get("device") or ("cuda" if torch.cuda.is_available() else "cpu"))

        label_save_dir = Context.get_parameters(
            "INFERENCE_RESULT_DIR", os.path.join(BaseConfig.data_path_prefix, "inference_results"))
        self.color_label_save_path = os.path.join(label_save_dir, "color")
        self.merge_label_save_path = os.path.join(label_save_dir, "merge")
        self.label_save_path = os.path.join(label_save_dir, "label")
        self.weight_path = kwargs.get("weight_path")
        self.train_model_url = None
        self.history = []
        self._rng = np.random.RandomState(self.seed)
        self.model = self._build()
        pretrained = self.weight_path or Context.get_parameters("PRETRAINED_MODEL_URL", None)
        if pretrained and os.path.isfile(pretrained):
            self.load(pretrained)

    # ----------------------------------------------------------------- model
    def _build(self):
        with torch.random.fork_rng(devices=[]):  # seeded init without touching the global RNG
            torch.manual_seed(self.seed)
            model = RFNetLite(num_classes=self.num_class, width=self.width, use_depth=self.use_depth)
        return model.to(self.device)

    @property
    def num_parameters(self):
        return count_parameters(self.model)

    def _class_weights(self, labels):
        cw = self.class_weight
        if cw is None:
            return None
        if isinstance(cw, str):
            if cw.lower() != "enet":
                raise ValueError(f"class_weight {cw!r}: expected None, 'enet' or {self.num_class} weights")
            counts = np.zeros(self.num_class, dtype=np.float64)
            for lab in labels:
                v = lab[lab < self.num_class]
                counts += np.bincount(v.ravel(), minlength=self.num_class)[: self.num_class]
            p = counts / max(counts.sum(), 1.0)
            w = 1.0 / np.log(1.02 + p)  # ENet weighting
        else:
            w = np.asarray(cw, dtype=np.float64)
            if w.shape != (self.num_class,):
                raise ValueError(f"class_weight: expected {self.num_class} weights, got shape {w.shape}")
        return torch.tensor(w, dtype=torch.float32, device=self.device)

    # ----------------------------------------------------------------- train
    def _load_train_set(self, data):
        from sedna.examples.robo.imageio import load_sample  # lazy: pillow ([robo] extra)

        xs, ys = as_items(data), list(getattr(data, "y", []))
        if len(xs) != len(ys):
            raise ValueError(f"training data has {len(xs)} inputs but {len(ys)} labels")
        rgbs, depths, labels = [], [], []
        for x, y in zip(xs, ys):
            paths = row_paths(x)
            if len(paths) < 2:
                raise ValueError(f"training rows need [rgb, depth] paths, got {paths}")
            rgb, depth, label = load_sample(paths[:2] + [as_str(y)], size=self.size)
            # compact cache: rgb back to uint8 (it came from 8-bit), labels uint8
            rgbs.append(np.rint(rgb * 255.0).astype(np.uint8))
            depths.append(depth.astype(np.float32))
            labels.append(label.astype(np.uint8))
        return rgbs, depths, labels

    def _batches(self, n, shuffle):
        order = self._rng.permutation(n) if shuffle else np.arange(n)
        bs = max(1, self.batch_size)
        batches = [order[i:i + bs] for i in range(0, n, bs)]
        if len(batches) > 1 and len(batches[-1]) == 1:  # BatchNorm needs > 1 sample
            batches[-2] = np.concatenate([batches[-2], batches[-1]])
            batches.pop()
        return batches

    def _make_batch(self, cache, idx, augment):
        rgbs, depths, labels = cache
        if len(idx) == 1:  # a lone sample: pair it with its mirror
            idx = np.array([idx[0], idx[0]])
            flips = np.array([False, True])
        else:
            flips = self._rng.rand(len(idx)) < 0.5 if augment else np.zeros(len(idx), bool)

        def pick(arrs, i, flip):
            a = arrs[i]
            return np.ascontiguousarray(a[..., ::-1]) if flip else a
        rgb = torch.from_numpy(np.stack([pick(rgbs, i, f) for i, f in zip(idx, flips)]))
        rgb = rgb.to(self.device, non_blocking=True).float().div_(255.0)
        depth = None
        if self.use_depth:
            depth = torch.from_numpy(np.stack([pick(depths, i, f) for i, f in zip(idx, flips)]))
            depth = depth.to(self.device, non_blocking=True)
        label = torch.from_numpy(np.stack([pick(labels, i, f) for i, f in zip(idx, flips)]))
        label = label.to(self.device, non_blocking=True).long()
        return rgb, depth, label

    def train(self, train_data, valid_data=None, teacher=None, **kwargs):
        """Train (or, when already trained, fine-tune: the weights are kept).

        ``teacher``: a trained Estimator to distil from (Learning without
        Forgetting): the loss adds ``distill_weight`` (default 1.0) times the
        KL divergence between the teacher's and this model's class
        distributions at temperature 2, so retraining keeps what it predicted.
        ``kwargs``: ``epochs``, ``lr`` override the constructor's for this call;
        ``progress``: a callable given ``{"epoch", "epochs", "loss", "pixel_accuracy"}``
        after every epoch. Returns ``{"mIoU", "loss"}`` with ``valid_data``, else
        ``{"loss", "pixel_accuracy"}`` of the last epoch.
        """
        epochs = int(kwargs.get("epochs") or self.epochs)
        lr = float(kwargs.get("lr") or self.lr)
        progress = kwargs.get("progress")
        t0 = time.time()
        cache = self._load_train_set(train_data)
        n = len(cache[0])
        if n == 0:
            raise ValueError("no training samples")
        LOGGER.info("training RFNet-lite (%d parameters) on %d images at %s for %d epochs on %s",
                    self.num_parameters, n, self.size, epochs, self.device)
        # the lifelong engine trains some models for a share of the configured epochs: say so
        share = "" if epochs == self.epochs else f" (this model's share of the job's {self.epochs} epochs)"
        weight = self._class_weights(cache[2])
        if teacher is not None:
            teacher.model.to(self.device).eval()
        opt = torch.optim.AdamW(self.model.parameters(), lr=lr, weight_decay=self.weight_decay)
        total = max(1, epochs * len(self._batches(n, shuffle=False)))
        run = {"lr": lr, "total": total, "warmup": min(total // 10, 50), "step": 0, "weight": weight,
               "teacher": teacher, "distill": float(kwargs.get("distill_weight", 1.0))}
        last_loss, last_acc = float("nan"), float("nan")
        for epoch in range(epochs):
            last_loss, last_acc = self._epoch(cache, n, opt, run)
            self.history.append({"epoch": epoch + 1, "loss": last_loss, "pixel_accuracy": last_acc})
            LOGGER.info("epoch %d/%d%s loss %.3f pixel-acc %.2f", epoch + 1, epochs, share, last_loss, last_acc)
            if callable(progress):
                progress({"epoch": epoch + 1, "epochs": epochs, "loss": last_loss,
                          "pixel_accuracy": last_acc})
        self.train_seconds = time.time() - t0
        del cache
        if valid_data is not None and len(as_items(valid_data)):
            res = self.evaluate(valid_data)
            return {"mIoU": res["mIoU"], "loss": last_loss}
        return {"loss": last_loss, "pixel_accuracy": last_acc}

    def _epoch(self, cache, n, opt, run):
        """One pass over the training set (warm-up, then a cosine learning rate;
        ``run``: the learning rate, steps, class weights, teacher of :meth:`train`);
        returns its ``(loss, pixel accuracy)``."""
        model, teacher, weight = self.model, run["teacher"], run["weight"]
        model.train()
        loss_sum, correct, counted, seen = 0.0, 0, 0, 0
        lr, total, warmup = run["lr"], run["total"], run["warmup"]
        for idx in self._batches(n, shuffle=True):
            rgb, depth, label = self._make_batch(cache, idx, augment=True)
            step = run["step"]
            scale = (step + 1) / (warmup + 1) if step < warmup else \
                0.5 * (1.0 + math.cos(math.pi * (step - warmup) / max(1, total - warmup)))
            for g in opt.param_groups:
                g["lr"] = lr * max(scale, 0.01)
            logits = model(rgb, depth)
            loss = F.cross_entropy(logits, label, weight=weight, ignore_index=IGNORE)
            if teacher is not None:
                loss = loss + run["distill"] * _distillation(logits, teacher.model, rgb, depth)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            run["step"] = step + 1
            with torch.no_grad():
                valid = label != IGNORE
                correct += int(((logits.argmax(1) == label) & valid).sum())
                counted += int(valid.sum())
            loss_sum += loss.item() * len(label)
            seen += len(label)
        return loss_sum / max(seen, 1), (correct / counted if counted else float("nan"))

    # --------------------------------------------------------------- inference
    def _forward_batches(self, data, batch_size=None):
        """Yield (logits at model size (N,C,h,w) on device, [original (H, W)]) per batch."""
        items = as_items(data)
        self.model.eval()
        with torch.no_grad():
            for rgb, depth, origs in self._input_batches(items, batch_size):
                yield self.model(rgb, depth), origs

    def _input_batches(self, items, batch_size=None):
        """Yield (rgb, depth or None, [original (H, W)]) tensors per batch of ``items``."""
        bs = 1 if self.size is None else int(batch_size or self.batch_size or 1)  # native sizes may differ
        for start in range(0, len(items), bs):
            loaded = [load_input(it, self.size) for it in items[start:start + bs]]
            rgb = torch.from_numpy(np.stack([r for r, _, _ in loaded])).to(self.device)
            depth = None
            if self.use_depth and all(d is not None for _, d, _ in loaded):
                depth = torch.from_numpy(np.stack([d for _, d, _ in loaded])).to(self.device)
            yield rgb, depth, [o for _, _, o in loaded]

    @staticmethod
    def _upsample(logits_one, orig):
        if tuple(logits_one.shape[-2:]) == tuple(orig):
            return logits_one[None]
        return F.interpolate(logits_one[None], size=tuple(orig), mode="bilinear", align_corners=False)

    def predict(self, data, **kwargs):
        """Label maps (``uint8 (H, W)`` train IDs) at each input's original resolution."""
        out = []
        for logits, origs in self._forward_batches(data, kwargs.get("batch_size")):
            for k, orig in enumerate(origs):
                lab = self._upsample(logits[k], orig).argmax(1)[0]
                out.append(lab.to(torch.uint8).cpu().numpy())
        return out

    def pixel_confidence(self, data, **kwargs):
        """Max softmax probability per pixel, ``float32 (H, W)`` at the original resolution."""
        out = []
        for logits, origs in self._forward_batches(data, kwargs.get("batch_size")):
            for k, orig in enumerate(origs):
                prob = torch.softmax(self._upsample(logits[k], orig), 1).amax(1)[0]
                out.append(prob.float().cpu().numpy())
        return out

    def frame_confidence(self, data, threshold=None, **kwargs):
        """Share of each frame's pixels whose max softmax probability is >= ``threshold``
        (default 0.9), computed at the model's input size. ``float64 (N,)``."""
        return self.predict_and_confidence(data, threshold=threshold, **kwargs)[1]

    def predict_and_confidence(self, data, threshold=None, **kwargs):
        """One pass: (label maps as :meth:`predict`, frame confidences as :meth:`frame_confidence`)."""
        thr = self.confidence_threshold if threshold is None else float(threshold)
        labels, conf = [], []
        for logits, origs in self._forward_batches(data, kwargs.get("batch_size")):
            top = torch.softmax(logits, 1).amax(1)
            conf.extend((top >= thr).float().mean(dim=(1, 2)).cpu().double().tolist())
            for k, orig in enumerate(origs):
                labels.append(self._upsample(logits[k], orig).argmax(1)[0].to(torch.uint8).cpu().numpy())
        return labels, np.asarray(conf, dtype=np.float64)

    # ------------------------------------------------------------- embeddings
    EMBED_LAYERS = ("decoder",)
    EMBED_TAIL = ("mean_entropy", "mean_max_softmax", "share_below_threshold")

    def _feature_batches(self, data, batch_size=None):
        """Yield (logits (N,C,h,w), features dict) per batch: one forward pass each."""
        self.model.eval()
        with torch.no_grad():
            for rgb, depth, _ in self._input_batches(as_items(data), batch_size):
                yield self.model.forward_features(rgb, depth)

    @staticmethod
    def _layer(feats, name):
        if name.startswith("fused"):
            return feats["fused"][int(name[5:]) - 1]
        if name in ("spp", "decoder"):
            return feats[name]
        raise ValueError(f"embed: unknown layer {name!r}; expected fused1..fused4, spp or decoder")

    def embed(self, data, layers=None, threshold=None, **kwargs):
        """Per-frame features from the model itself, one forward pass per batch:
        ``float32 (N, D)``.

        For each of ``layers`` (``fused1``..``fused4``: the fused encoder stages,
        ``spp``, ``decoder``; default :attr:`EMBED_LAYERS`: the last decoder map,
        what the classifier head sees) the channels' spatial mean and
        standard deviation, then the three uncertainty summaries of
        :attr:`EMBED_TAIL` over the frame's pixels: mean normalised entropy of
        the softmax, mean max-softmax, and the share of pixels whose max-softmax
        is below ``threshold`` (default ``confidence_threshold``, 0.9).
        """
        layers = tuple(layers or self.EMBED_LAYERS)
        thr = self.confidence_threshold if threshold is None else float(threshold)
        out = []
        for logits, feats in self._feature_batches(data, kwargs.get("batch_size")):
            cols = []
            for name in layers:
                f = self._layer(feats, name).float().flatten(2)
                cols += [f.mean(2), f.std(2, unbiased=False)]
            prob = torch.softmax(logits.float(), 1)
            top = prob.amax(1)
            ent = -(prob * torch.log(prob.clamp_min(1e-12))).sum(1) / math.log(prob.shape[1])
            cols += [ent.mean((1, 2))[:, None], top.mean((1, 2))[:, None], (top < thr).float().mean((1, 2))[:, None]]
            out.append(torch.cat(cols, 1).cpu().numpy())
        if not out:
            return np.zeros((0, 0), dtype=np.float32)
        return np.concatenate(out).astype(np.float32, copy=False)

    def evaluate(self, data, **kwargs):
        """mIoU, pixel accuracy, class pixel accuracy and fwIoU on ``data`` (``.x``, ``.y``)."""
        ev = Evaluator(self.num_class, IGNORE)
        preds = self.predict(data.x, **kwargs)
        ys = list(data.y)
        if len(ys) != len(preds):
            raise ValueError(f"evaluation data has {len(preds)} inputs but {len(ys)} labels")
        for pred, y in zip(preds, ys):
            label = label_array(y)
            if label.shape != pred.shape:
                raise ValueError(f"label {label.shape} and prediction {pred.shape} differ in size")
            ev.add(pred, label)
        self.last_evaluation = ev.to_dict()
        keys = ("mIoU", "pixel_accuracy", "class_pixel_accuracy", "fwIoU")
        return {k: self.last_evaluation[k] for k in keys}

    # -------------------------------------------------------------- save/load
    def save(self, model_path=None):
        """Write a checkpoint (``.pth`` added without an extension); returns its path."""
        model_path = model_path or self.weight_path
        if not model_path:
            raise ValueError("Estimator.save: no model path given")
        model_path = os.fspath(model_path)
        if not os.path.splitext(model_path)[1]:
            model_path += ".pth"
        parent = os.path.dirname(model_path)
        if parent:
            os.makedirs(parent, exist_ok=True)
        import sedna  # lazy: loaded only when needed

        torch.save({
            "state_dict": {k: v.detach().cpu() for k, v in self.model.state_dict().items()},
            "num_class": int(self.num_class),
            "width": int(self.width),
            "use_depth": bool(self.use_depth),
            "size": None if self.size is None else [int(v) for v in self.size],
            "sedna_version": str(getattr(sedna, "__version__", "")),
        }, model_path)
        self.train_model_url = model_path
        return model_path

    def load(self, model_url=None, **kwargs):
        """Rebuild the model from a checkpoint written by :meth:`save`."""
        if not model_url:
            raise ValueError("Estimator.load: model url does not exist (none given)")
        model_url = os.fspath(model_url)
        if not os.path.isfile(model_url) and os.path.isfile(model_url + ".pth"):
            model_url += ".pth"
        if not os.path.isfile(model_url):
            raise FileNotFoundError(f"Estimator.load: model file not found: {model_url}")
        ckpt = torch.load(model_url, map_location="cpu", weights_only=True)
        if not isinstance(ckpt, dict) or "state_dict" not in ckpt:
            raise ValueError(f"Estimator.load: {model_url} is not an RFNet-lite checkpoint")
        self.num_class = int(ckpt.get("num_class", self.num_class))
        self.width = int(ckpt.get("width", self.width))
        self.use_depth = bool(ckpt.get("use_depth", self.use_depth))
        if "size" in ckpt:
            self.size = parse_size(ckpt["size"])
        model = RFNetLite(num_classes=self.num_class, width=self.width, use_depth=self.use_depth)
        model.load_state_dict(ckpt["state_dict"])
        self.model = model.to(self.device).eval()
        self.train_model_url = model_url
        return self

    # ----------------------------------------------------------------- results
    def save_results(self, frames, labels, names, out_dir=None):
        """Write each label map as ``label/<name>.png`` (train IDs), ``color/<name>.png``
        and ``merge/<name>.png`` (overlay on the frame) under ``out_dir`` (default: the
        ``INFERENCE_RESULT_DIR`` folders). ``frames``: arrays ``uint8 (H, W, 3)``, rgb
        paths or ``[rgb, depth]`` rows. Returns ``{"label": [...], "color": [...], "merge": [...]}``."""
        from sedna.examples.robo.imageio import (  # lazy: pillow ([robo] extra)
            overlay,
            read_rgb,
            write_color,
            write_label,
            write_rgb,
        )

        if out_dir is None:
            dirs = {"label": self.label_save_path, "color": self.color_label_save_path,
                    "merge": self.merge_label_save_path}
        else:
            dirs = {k: os.path.join(os.fspath(out_dir), k) for k in ("label", "color", "merge")}
        written = {k: [] for k in dirs}
        for frame, label, name in zip(frames, labels, names):
            if not is_frame(frame):
                frame = read_rgb(row_paths(frame)[0])
            frame = frame_to_uint8(frame)
            label = np.asarray(label, dtype=np.uint8)
            if frame.shape[:2] != label.shape:
                frame = resize_rgb(frame, label.shape)
            stem = os.path.splitext(os.path.basename(str(name)))[0]
            paths = {k: os.path.join(d, stem + ".png") for k, d in dirs.items()}
            write_label(paths["label"], label)
            write_color(paths["color"], label)
            write_rgb(paths["merge"], overlay(frame, label))
            for k, p in paths.items():
                written[k].append(p)
        return written
