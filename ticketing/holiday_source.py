"""National holidays of Indonesia from the ``holidays`` library, to write a year's calendar file.

Only for regenerating ``ticketing/calendar/holidays-YYYY.yaml`` by hand (``holidays`` is a dev
extra); nothing at run time imports this module, the office calendar reads the YAML files.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import holidays

if TYPE_CHECKING:
    from datetime import date


def national_holidays(year: int) -> dict[date, str]:
    """National holidays of Indonesia in ``year``, named in Indonesian."""
    return dict(holidays.country_holidays("ID", years=year, language="id").items())
