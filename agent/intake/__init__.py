"""Complaint intake (issue 12): e-mail over IMAP and the WhatsApp Cloud API webhook.

``mail`` parses and screens a message (loops, bounces, size), ``recognise`` finds the sender's
OPD, ``imap`` watches the mailbox (IDLE or polling), ``whatsapp`` is the webhook (Starlette
routes to mount), ``runner`` runs it all for ``sigap intake``. Acknowledgements and "selesai"
messages to reporters go through the notification outbox (``agent.notify.reporter``).
Tickets are written by ``ticketing.intake.IntakeLedger`` (dedup by message id, in the
ticket's transaction; text normalised by ``ticketing.storable`` first). A message that cannot
be processed is quarantined by the handler (``intake_rejections``, ``$SigapRejected``,
``rejected_malformed``), never fatal; ``runner.supervised`` restarts a part that fails.
"""
