"""Vendor-neutral machinery. Nothing here knows a vendor, and nothing here imports Flask."""

from .blobs import BlobStore, UrlRefused, digests
from .clock import Clock, isoformat, parse_when
from .cloud import Cloud
from .dialect import Dialect
from .errors import Conflict, FleetsimError, Forbidden, NotFound, Unauthorized
from .faults import FaultRule, Faults
from .ids import Ids
from .journal import Entry, Journal
from .store import Store, Table

__all__ = [
    "BlobStore", "Clock", "Cloud", "Conflict", "Dialect", "Entry", "FaultRule", "Faults",
    "FleetsimError", "Forbidden", "Ids", "Journal", "NotFound", "Store", "Table",
    "Unauthorized", "UrlRefused", "digests", "isoformat", "parse_when",
]
