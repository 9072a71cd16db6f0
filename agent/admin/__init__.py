"""Inventory administration from the board and the API (issue 21): safe edits of inventory.yaml."""
