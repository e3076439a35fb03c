"""Shipping addresses: which fields a deliverable address needs, and the ISO 3166-1 country table.

Used when a customer changes the address of an order through the service. Imported orders keep
whatever address the ERP sent (it is the ERP's record); only a change made here must be complete.
"""

from __future__ import annotations

from dataclasses import fields, replace
from typing import TYPE_CHECKING

from . import limits
from .errors import ValidationError

if TYPE_CHECKING:
    from .orders import Address

# Officially assigned ISO 3166-1 alpha-2 codes.
ISO_3166_ALPHA2 = frozenset(
    """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR
    BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ
    EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW
    GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY
    KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV
    MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY
    QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG
    TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM
    ZW
    """.split()
)

# Countries whose addresses carry no postal code, so none is asked for.
WITHOUT_POSTAL_CODE = frozenset(
    """
    AE AG AO AW BF BI BJ BO BS BW BZ CD CF CG CI CK CM DJ DM ER FJ GA GD GH GM GQ GY HK HM KI KM
    KN KP ML MO MR MW NR NU QA RW SB SC SL SR SS ST SY TD TF TG TK TL TO TV UG VU YE ZW
    """.split()
)

#: Longest allowed value of each address field (the same limits as the stored columns).
MAX_LEN = {
    "name": limits.ADDRESS_NAME,
    "line1": limits.ADDRESS_LINE,
    "line2": limits.ADDRESS_LINE,
    "city": limits.PLACE,
    "region": limits.PLACE,
    "postal_code": limits.POSTAL_CODE,
    "country_code": limits.COUNTRY_CODE,
    "phone": limits.PHONE,
}

WIRE_NAMES = {
    "name": "Name",
    "line1": "Line1",
    "line2": "Line2",
    "city": "City",
    "region": "Region",
    "postal_code": "PostalCode",
    "country_code": "CountryCode",
    "phone": "Phone",
}

REQUIRED = ("name", "line1", "city", "country_code")


def uses_postal_code(country_code: str) -> bool:
    return country_code not in WITHOUT_POSTAL_CODE


def validated(address: Address) -> Address:
    """A deliverable copy of ``address``: values stripped, empty ones dropped, every rule checked.

    Raises ValidationError naming the first field at fault (never echoing its value).
    """
    values: dict[str, str | None] = {}
    for f in fields(address):
        raw = getattr(address, f.name)
        wire = WIRE_NAMES[f.name]
        if raw is not None and not isinstance(raw, str):
            raise ValidationError(f"{wire} must be text.", wire)
        value = (raw or "").strip() or None
        if value is not None:
            if len(value) > MAX_LEN[f.name]:
                raise ValidationError(f"{wire} must be at most {MAX_LEN[f.name]} characters.", wire)
            if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
                raise ValidationError(f"{wire} must not contain control characters.", wire)
        values[f.name] = value
    for name in REQUIRED:
        if values[name] is None:
            raise ValidationError(f"{WIRE_NAMES[name]} is required.", WIRE_NAMES[name])
    country = (values["country_code"] or "").upper()
    if country not in ISO_3166_ALPHA2:
        raise ValidationError("CountryCode must be an ISO 3166-1 alpha-2 code such as GB.", "CountryCode")
    values["country_code"] = country
    if uses_postal_code(country) and values["postal_code"] is None:
        raise ValidationError("PostalCode is required for addresses in that country.", "PostalCode")
    return replace(address, **values)
