"""Notifications: routing to people, Indonesian templates, the Apprise delivery worker.

The outbox itself (rows written with the ticket change, claim, mark) is ``ticketing.outbox``;
this package decides who hears what (:mod:`.routing`), words it (:mod:`.templates`) and
sends it (:mod:`.worker`, through :mod:`.apprise_sender`); ``agent.wiring`` builds the parts.
Importing it does not import Apprise.
"""
