"""Amounts of money: ISO 4217 currencies, their decimal places, and exact decimal arithmetic."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from .errors import InvalidAmount, InvalidCurrency

# Minor-unit exponents from ISO 4217 for the currencies that do not use two decimal places.
_EXPONENTS = {
    **dict.fromkeys(
        "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF".split(), 0
    ),
    **dict.fromkeys("BHD IQD JOD KWD LYD OMR TND".split(), 3),
    **dict.fromkeys("CLF UYW".split(), 4),
}

# Active ISO 4217 currency codes (funds and precious-metal codes excluded).
ISO_4217 = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP
    BYN BZD CAD CDF CHF CLF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP
    GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS
    KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR
    MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF
    SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD
    TZS UAH UGX USD UYI UYU UYW UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG
    """.split()
)

# The most decimal places any currency uses; the wire schema allows this many.
MAX_DECIMAL_PLACES = 4
# Digits before the decimal point: 18 significant digits in all, as stored and as published.
MAX_INTEGER_DIGITS = 18 - MAX_DECIMAL_PLACES


def decimal_places(currency: str) -> int:
    """Number of decimal places of an ISO 4217 currency (2 unless listed otherwise)."""
    if currency not in ISO_4217:
        raise InvalidCurrency(currency)
    return _EXPONENTS.get(currency, 2)


def quantum(currency: str) -> Decimal:
    """The currency's smallest unit (0.01 for EUR); an unknown currency is refused."""
    found = _QUANTA.get(currency)
    return found if found is not None else Decimal(1).scaleb(-decimal_places(currency))


#: Every currency's unit, worked out once: amounts are quantized many times per order.
_QUANTA = {currency: Decimal(1).scaleb(-decimal_places(currency)) for currency in ISO_4217}


def quantize(amount: Decimal, currency: str) -> Decimal:
    """Round to the currency's decimal places (banker's rounding), never in exponent form."""
    return amount.quantize(quantum(currency), rounding=ROUND_HALF_EVEN)


def parse_amount(value: object, currency: str, *, field: str = "Amount") -> Decimal:
    """Turn a number or numeric string into an exact amount of ``currency``.

    Refuses NaN, infinities and values with more decimal places than the currency has;
    returns the amount quantized to the currency's places. Zero and negatives are accepted here:
    whether they are allowed is the caller's rule (see :func:`positive_amount`).
    """
    if isinstance(value, float):
        value = repr(value)
    try:
        amount = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except (InvalidOperation, ValueError):
        raise InvalidAmount(field, "is not a decimal number") from None
    if not amount.is_finite():
        raise InvalidAmount(field, "is not a finite number")
    if amount and amount.adjusted() >= MAX_INTEGER_DIGITS:
        raise InvalidAmount(field, f"is too large (at most {MAX_INTEGER_DIGITS} digits before the decimal point)")
    places = decimal_places(currency)
    exponent = amount.normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    if -exponent > places:
        raise InvalidAmount(field, f"has more than {places} decimal places for {currency}")
    return quantize(amount, currency)


def positive_amount(value: object, currency: str, *, field: str = "Amount") -> Decimal:
    amount = parse_amount(value, currency, field=field)
    if amount <= 0:
        raise InvalidAmount(field, "must be greater than zero")
    return amount


def format_amount(amount: Decimal, currency: str) -> str:
    """Human-readable amount for customer messages, e.g. ``12.50 EUR``."""
    return f"{quantize(amount, currency):f} {currency}"
