"""The lab seen from sigap: the inventory -> labnet glue, and the scripted demo."""
