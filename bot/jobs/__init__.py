"""The durable job engine: records, storage, scheduling and the run-deliver loop."""
