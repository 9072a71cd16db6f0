"""Phone numbers as the inventory and WhatsApp write them, in one comparable form (no imports)."""

from __future__ import annotations

import re


def phone_key(number: str) -> str:
    """Digits in international form: ``0812-3456`` and ``+62 812 3456`` -> ``628123456``."""
    digits = re.sub(r"\D", "", number)
    return "62" + digits[1:] if digits.startswith("0") else digits
