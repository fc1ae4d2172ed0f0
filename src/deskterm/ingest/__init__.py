"""The one ingest pipeline: records from any connector into customers, tickets, messages.

The modules are imported where used (``pipeline``, ``service``, ``state``, ...): an
import command starts its parse workers before the store and SQLAlchemy are loaded.
"""
