"""Alembic scripts of the ticket schema (a package so that wheels ship env.py)."""
