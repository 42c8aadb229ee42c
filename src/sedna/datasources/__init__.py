"""Data sources: index files (txt, CSV, JSON) to ``x``/``y`` arrays.

``TxtDataParse(data_type, func).parse(*files)`` is the tutorial's reader of
image-list index files; :class:`CSVDataParse` and :class:`JSONDataParse`
read tabular and record data the same way.
"""

from sedna.datasources.base import BaseDataSource
from sedna.datasources.ops import concat, subset
from sedna.datasources.tabular import CSVDataParse, JSONDataParse
from sedna.datasources.txt import TxtDataParse

__all__ = ("BaseDataSource", "TxtDataParse", "CSVDataParse", "JSONDataParse", "subset", "concat")
