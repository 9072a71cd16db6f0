"""Tickets, their SOP workflow and storage; knows nothing of collectors or the agent."""
