"""Use cases: each applies the rules and calls the data layer. Handlers call exactly one of these."""
