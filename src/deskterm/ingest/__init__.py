"""The one ingest pipeline: records from any connector into customers, tickets, messages."""

from deskterm.ingest.pipeline import Ingestor, IngestSummary

__all__ = ["IngestSummary", "Ingestor"]
