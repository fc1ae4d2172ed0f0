"""The one ingest pipeline: records from any connector into customers, tickets, messages."""

from deskterm.ingest.pipeline import Ingestor
from deskterm.ingest.state import IngestSummary

__all__ = ["IngestSummary", "Ingestor"]
