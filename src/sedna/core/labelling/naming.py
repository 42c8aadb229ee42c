"""A job's file naming: how a sample's label file is named from its frame.

A job declares it in its inference worker's environment (the deploy
template's ``env``), where the dashboard and ``sedna label`` read it:

``FRAME_SUFFIX``
    the end of a frame's file name that is not its stem
    (default: the extension, ``img_0001.png`` → ``img_0001``);
``LABEL_SUFFIX``
    what follows the stem in the label's file name (default ``_label.png``:
    ``img_0001_label.png``); several, comma-separated, are tried in order.

The robot example declares ``_leftImg8bit.png`` and
``_gtFine_labelTrainIds.png`` (the Cityscapes names); nothing here knows them.
"""

import dataclasses
import os
import re
from typing import Tuple

from sedna.common.exceptions import LabelError

DEFAULT_LABEL_SUFFIX = "_label.png"
FRAME_SUFFIX_ENV, LABEL_SUFFIX_ENV = "FRAME_SUFFIX", "LABEL_SUFFIX"
_SUFFIX = re.compile(r"^[A-Za-z0-9_.+-]{1,100}$")


def _suffix(field, value):
    if not _SUFFIX.match(value) or ".." in value:
        raise LabelError(f"{field}: {value!r} is not a file name ending (letters, digits, _ . + -)")
    return value


@dataclasses.dataclass(frozen=True)
class LabelNaming:
    """``frame_suffix`` (None: the extension) and the label suffixes, the first preferred."""

    frame_suffix: str = None
    label_suffixes: Tuple[str, ...] = (DEFAULT_LABEL_SUFFIX,)

    def __post_init__(self):
        if self.frame_suffix is not None:
            _suffix(FRAME_SUFFIX_ENV, self.frame_suffix)
        if not self.label_suffixes:
            raise LabelError(f"{LABEL_SUFFIX_ENV}: give at least one label file ending")
        for s in self.label_suffixes:
            _suffix(LABEL_SUFFIX_ENV, s)

    @classmethod
    def parse(cls, frame_suffix=None, label_suffix=None):
        """From the declared strings (None or empty: the default)."""
        labels = tuple(s.strip() for s in (label_suffix or "").split(",") if s.strip())
        return cls(frame_suffix=(frame_suffix or "").strip() or None,
                   label_suffixes=labels or (DEFAULT_LABEL_SUFFIX,))

    @classmethod
    def from_env(cls, env):
        """From a job's declared environment (a dict of name → value)."""
        env = env or {}
        return cls.parse(env.get(FRAME_SUFFIX_ENV), env.get(LABEL_SUFFIX_ENV))

    def stem(self, frame_name):
        """The frame's name without its suffix (or its extension)."""
        name = os.path.basename(str(frame_name))
        if self.frame_suffix and name.endswith(self.frame_suffix) and len(name) > len(self.frame_suffix):
            return name[:-len(self.frame_suffix)]
        return os.path.splitext(name)[0]

    def label_names(self, frame_name):
        """The file names the frame's label may have, the preferred first."""
        stem = self.stem(frame_name)
        return [stem + s for s in self.label_suffixes]

    def describe(self):
        """``<frame>_label.png`` (or the first declared ending), for forms and errors."""
        return "<frame>" + self.label_suffixes[0]
