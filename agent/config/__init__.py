"""The inventory: the file as written (schema, source), checks, and the resolved model."""
