"""The lifelong-learning knowledge base.

It stores versions of an index document (JSON) plus artifact folders, keeps a
queryable SQLite catalog mirroring them, and offers an edge cache that hot-swaps
the deployed version. It knows nothing about estimators: callers write and
read artifact files themselves. Nothing is pickled.
"""

from sedna.knowledge.base import KnowledgeBase, VersionWriter
from sedna.knowledge.cache import EdgeKBCache
from sedna.knowledge.catalog import Catalog
from sedna.knowledge.index import INDEX_NAME, INDEX_SCHEMA_VERSION, KBVersion

__all__ = ("KnowledgeBase", "KBVersion", "VersionWriter", "EdgeKBCache", "Catalog",
           "INDEX_NAME", "INDEX_SCHEMA_VERSION")
