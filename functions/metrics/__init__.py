"""The metrics aggregator: SQS batches of visual events folded into the visuals' counters."""
