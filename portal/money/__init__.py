"""money domain."""
