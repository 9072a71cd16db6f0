"""The SOP in WhatsApp: signed buttons for a step's performer, and their replies (issue 24)."""
