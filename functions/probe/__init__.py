"""The probe function: S3 ObjectCreated events for uploaded visuals and track audio."""
