"""The web ticket board (issue 10): Starlette + Jinja2 pages over the ticketing service."""
