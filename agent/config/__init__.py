"""The inventory: the file as written (schema, source), its checks and secrets, the resolved model.

Entry point: :func:`agent.config.load.load_inventory`.
"""
