"""The notification outbox: rows written with the ticket change, claimed, sent, recorded.

- ``types``: what flows through (facts, plans, message contexts, deliveries, retry policy);
  light, no SQLAlchemy, so routing and templates can import it.
- ``enqueue``: the store's flush hook (``install``) that writes a change's rows in its own
  transaction, and the queueing of rows no ticket change causes.
- ``queue``: :class:`~ticketing.outbox.queue.Outbox`, one method per operation, each its own
  transaction (delivery semantics in its docstring).
"""
