"""The event feed: outbox rows written with each change, one reader per process, SSE streams."""
