"""Importing a usage CSV: reader, rows, batches, pipeline, writer; and the one usage resolver."""

# Nothing is imported here: the writer process imports `writer` alone, without SQLAlchemy.
# The public API is `quotadesk.services.usage` (import_usage, ImportStopped, …).
