"""Data sources: index files (txt, CSV, JSON) to ``x``/``y``.

``TxtDataParse(data_type, func).parse(*files)`` is the tutorial's reader of
image-list index files (numpy arrays); :class:`CSVDataParse` reads tabular
data with pandas as the original does (``x`` a DataFrame, ``y`` a Series,
``func`` on the whole frame); :class:`JSONDataParse` reads records. pandas
data keeps its type through :func:`subset`/:func:`concat` and the knowledge
base (:mod:`sedna.datasources.frames`).
"""

from sedna.datasources.base import BaseDataSource
from sedna.datasources.ops import concat, subset
from sedna.datasources.tabular import CSVDataParse, JSONDataParse
from sedna.datasources.txt import TxtDataParse

__all__ = ("BaseDataSource", "TxtDataParse", "CSVDataParse", "JSONDataParse", "subset", "concat")
