"""Infrastructure helpers: SAM translation (infra.translate) and the local stack (infra.local)."""
