"""The labelling loop for any job whose samples are files (images, masks...).

* :mod:`.naming`: the job's declared file naming (label file from frame name);
* :mod:`.ingest`: :func:`label`, the annotator's step: labelled lines appended
  to the Dataset's index;
* :mod:`.previews`: what the inference worker shows the dashboard (the last
  frames served, a preview of each unseen frame), written through
* :mod:`.render`: the job's sample renderer (sample + prediction → image), a
  ``sample_renderer`` plugin; ``image`` is the default for pictures and
  integer masks.

The unseen samples themselves are in :mod:`sedna.core.unseen_store`.
"""

from sedna.core.labelling.ingest import label
from sedna.core.labelling.naming import LabelNaming

__all__ = ("LabelNaming", "label")
