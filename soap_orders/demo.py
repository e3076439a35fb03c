"""Realistic, reproducible demo orders: ``soap-orders demo-data``.

``generate_records`` yields order records (the plain-data form read by ``documents.records``) from a
seed alone: the same ``(count, seed)`` always gives the same orders, whatever the date or machine.
Every record obeys the domain's invariants; statuses, shipments, returns and refunds agree with
each other. Timestamps are anchored on 2026-01-01T00:00:00Z and reach back about six months, with
more orders near the anchor, so the newest orders are still open and the older ones delivered.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import ROUND_CEILING, Decimal
from typing import Any, TypeVar

from .domain import money
from .domain.orders import (
    Channel,
    FinancialStatus,
    LineStatus,
    OrderStatus,
    OrderType,
    Reason,
    RefundStatus,
    ReturnRefundStatus,
    ReturnStatus,
    ShipmentStatus,
    WarehouseStatus,
)

#: "Now" for the demo data: every generated timestamp lies before it.
ANCHOR = datetime(2026, 1, 1, tzinfo=timezone.utc)
#: How far back the oldest orders go.
SPAN = timedelta(days=180)
#: Order numbers start here: SO-100001, SO-100002, ...
FIRST_ORDER_NUMBER = 100_001
#: Orders written per transaction by ``write_demo_data``.
BATCH_SIZE = 500
#: Every so many customers lives in Japan (pays in JPY).
_JAPAN_EVERY = 12
#: Distinct customers per order placed: about three orders per email.
CUSTOMERS_PER_ORDER = 1 / 2.7

T = TypeVar("T")

# ---------------------------------------------------------------------- reference data

FIRST_NAMES = (
    "Olivia Amelia Isla Ava Emily Sophie Grace Mia Charlotte Hannah Lena Marie Emma Lea Chloe Manon "
    "Camille Sanne Anouk Fleur Yuki Sakura Aoife Niamh Priya Sofia Oliver George Harry Jack Noah Leo "
    "James Liam Lukas Felix Jonas Lucas Hugo Louis Daan Sem Bram Haruto Kenji Sean Conor Ethan Mason "
    "Ryan Arjun Mateo"
).split()
LAST_NAMES = (
    "Smith Jones Taylor Brown Williams Wilson Johnson Davies Patel Wright Evans Walker Miller Garcia "
    "Anderson Thompson Moore Clarke Mueller Schmidt Schneider Fischer Weber Becker Martin Bernard "
    "Dubois Laurent Lefebvre Moreau Jansen Bakker Visser Smit Meijer Murphy Kelly Byrne Walsh Tanaka "
    "Suzuki Sato Takahashi Nguyen Kowalski Rossi Silva Novak"
).split()


@dataclass(frozen=True)
class Place:
    city: str
    region: str | None
    postcode: str  # pattern: # = digit, A = letter, anything else literal


@dataclass(frozen=True)
class Country:
    code: str
    currency: str
    weight: int
    phone: str  # pattern as for postcodes
    streets: tuple[str, ...]
    street_format: str  # "{n} {street}" or "{street} {n}"
    places: tuple[Place, ...]
    carriers: tuple[str, ...]  # carrier codes
    tax_rates: dict[str, Decimal] = field(default_factory=dict)  # sales tax by region (US)


COUNTRIES: tuple[Country, ...] = (
    Country(
        "GB", "GBP", 34, "+44 7700 900###",
        ("High Street", "Station Road", "Church Lane", "Victoria Road", "Mill Lane", "Park Avenue"),
        "{n} {street}",
        (
            Place("London", None, "E1 #AA"), Place("London", None, "SW11 #AA"),
            Place("Manchester", None, "M4 #AA"), Place("Bristol", None, "BS1 #AA"),
            Place("Leeds", None, "LS6 #AA"), Place("Edinburgh", "Scotland", "EH3 #AA"),
            Place("Cardiff", "Wales", "CF10 #AA"),
        ),
        ("royalmail", "royalmail", "dpd", "dhl"),
    ),
    Country(
        "US", "USD", 24, "+1 202-555-01##",
        ("Main Street", "Oak Avenue", "Maple Drive", "Cedar Lane", "Washington Boulevard", "Elm Street"),
        "{n} {street}",
        (
            Place("New York", "NY", "100##"), Place("Brooklyn", "NY", "112##"),
            Place("Los Angeles", "CA", "900##"), Place("San Francisco", "CA", "941##"),
            Place("Austin", "TX", "787##"), Place("Seattle", "WA", "981##"),
            Place("Chicago", "IL", "606##"), Place("Portland", "OR", "972##"),
        ),
        ("ups", "fedex", "usps"),
        {
            "NY": Decimal("0.08875"), "CA": Decimal("0.0725"), "TX": Decimal("0.0625"),
            "WA": Decimal("0.065"), "IL": Decimal("0.0625"), "OR": Decimal(0),
        },
    ),
    Country(
        "DE", "EUR", 12, "+49 151 ########",
        ("Hauptstrasse", "Bahnhofstrasse", "Gartenweg", "Schillerstrasse", "Lindenallee"),
        "{street} {n}",
        (
            Place("Berlin", "Berlin", "10###"), Place("Hamburg", "Hamburg", "20###"),
            Place("Muenchen", "Bayern", "80###"), Place("Koeln", "Nordrhein-Westfalen", "50###"),
        ),
        ("dhl", "dhl", "dpd", "ups"),
    ),
    Country(
        "FR", "EUR", 10, "+33 6 ## ## ## ##",
        ("rue de la Paix", "avenue Victor Hugo", "rue du Moulin", "boulevard Voltaire"),
        "{n} {street}",
        (
            Place("Paris", "Ile-de-France", "7501#"), Place("Lyon", "Auvergne-Rhone-Alpes", "690##"),
            Place("Bordeaux", "Nouvelle-Aquitaine", "330##"), Place("Lille", "Hauts-de-France", "590##"),
        ),
        ("dhl", "ups", "dpd"),
    ),
    Country(
        "NL", "EUR", 8, "+31 6 #### ####",
        ("Kerkstraat", "Dorpsstraat", "Molenweg", "Prinsengracht", "Stationsplein"),
        "{street} {n}",
        (
            Place("Amsterdam", "Noord-Holland", "10## AA"), Place("Utrecht", "Utrecht", "35## AA"),
            Place("Rotterdam", "Zuid-Holland", "30## AA"), Place("Eindhoven", "Noord-Brabant", "56## AA"),
        ),
        ("dhl", "dpd", "ups"),
    ),
    Country(
        "IE", "EUR", 5, "+353 85 ### ####",
        ("Main Street", "Church Road", "Strand Road", "Castle Street"),
        "{n} {street}",
        (Place("Dublin", "Co. Dublin", "D02 A###"), Place("Cork", "Co. Cork", "T12 A###"),
         Place("Galway", "Co. Galway", "H91 A###")),
        ("dpd", "dhl", "fedex"),
    ),
    Country(
        "JP", "JPY", 0, "+81 90-####-####",  # see _JAPAN_EVERY
        ("Shibuya", "Jingumae", "Nishi-Shinjuku", "Umeda", "Sakae"),
        "{street} {n}-{n2}-{n3}",
        (
            Place("Tokyo", "Tokyo", "150-00##"), Place("Shinjuku-ku", "Tokyo", "160-0###"),
            Place("Osaka", "Osaka", "530-0###"), Place("Nagoya", "Aichi", "460-0###"),
        ),
        ("yamato", "dhl", "fedex"),
    ),
)


@dataclass(frozen=True)
class Carrier:
    code: str
    name: str
    tracking: str  # pattern: # = digit, A = letter, X = digit or letter
    url: str  # contains {tn}


CARRIERS = {
    c.code: c
    for c in (
        Carrier("royalmail", "Royal Mail", "AA#########GB",
                "https://www.royalmail.com/track-your-item#/tracking-results/{tn}"),
        Carrier("ups", "UPS", "1ZXXXXXX##########", "https://www.ups.com/track?tracknum={tn}"),
        Carrier("dhl", "DHL", "##########",
                "https://www.dhl.com/global-en/home/tracking/tracking-express.html?tracking-id={tn}"),
        Carrier("fedex", "FedEx", "############", "https://www.fedex.com/fedextrack/?trknbr={tn}"),
        Carrier("usps", "USPS", "9400##################",
                "https://tools.usps.com/go/TrackConfirmAction?tLabels={tn}"),
        Carrier("dpd", "DPD", "##############", "https://track.dpd.co.uk/parcels/{tn}"),
        Carrier("yamato", "Yamato Transport", "############",
                "https://toi.kuronekoyamato.co.jp/cgi-bin/tneko?number00=1&number01={tn}"),
    )
}


@dataclass(frozen=True)
class Product:
    code: str
    name: str
    base_price: Decimal  # in GBP; other currencies are derived with shop-style rounding
    variants: tuple[tuple[str, str], ...]  # (sku suffix, label)
    consumable: bool = False


def _variants(colours: str, sizes: str = "") -> tuple[tuple[str, str], ...]:
    """Variant SKU suffixes and labels from "BLK:Black,NVY:Navy" and "S,M,L" style lists."""
    colour_list = [tuple(c.split(":")) for c in colours.split(",")] if colours else [("", "")]
    size_list = sizes.split(",") if sizes else [""]
    result = []
    for code, label in colour_list:
        for size in size_list:
            suffix = "-".join(part for part in (code, size) if part)
            text = ", ".join(part for part in (label, size) if part)
            result.append((suffix, text))
    return tuple(result)


def _product(code: str, name: str, price: str, colours: str = "", sizes: str = "", *,
             consumable: bool = False) -> Product:
    return Product(code, name, Decimal(price), _variants(colours, sizes) if colours or sizes else (), consumable)


_APPAREL = "S,M,L,XL"
_SHOES = "38,39,40,41,42,43,44"
_WAIST = "30,32,34,36"
PRODUCTS: tuple[Product, ...] = (
    _product("TSH", "Organic Cotton T-Shirt", "24.00", "BLK:Black,WHT:White,NVY:Navy,OLV:Olive", _APPAREL),
    _product("HOOD", "Heavyweight Hoodie", "65.00", "GRY:Grey Marl,BLK:Black,SND:Sand", _APPAREL),
    _product("JNS", "Slim Fit Selvedge Jeans", "89.00", "IND:Indigo,BLK:Black", _WAIST),
    _product("CHN", "Stretch Chinos", "55.00", "STN:Stone,NVY:Navy", _WAIST),
    _product("PKA", "Waterproof Parka", "189.00", "OLV:Olive,BLK:Black", _APPAREL),
    _product("KNIT", "Merino Crew Neck Jumper", "79.00", "OAT:Oatmeal,NVY:Navy,BRG:Burgundy", _APPAREL),
    _product("SNK", "Leather Court Sneakers", "110.00", "WHT:White,BLK:Black", _SHOES),
    _product("BOOT", "Suede Chelsea Boots", "145.00", "TAN:Tan,BRN:Brown", _SHOES),
    _product("SCK", "Bamboo Socks (3 Pack)", "14.00", "MIX:Mixed,BLK:Black", "S,M,L"),
    _product("CAP", "Washed Cotton Cap", "22.00", "NVY:Navy,KHK:Khaki,BLK:Black"),
    _product("BAG", "Canvas Weekender Bag", "95.00", "NAT:Natural,OLV:Olive"),
    _product("WAL", "Leather Card Wallet", "35.00", "BRN:Brown,BLK:Black"),
    _product("MUG", "Stoneware Mug", "12.50", "SPK:Speckled,SAG:Sage,CHR:Charcoal"),
    _product("THR", "Wool Throw Blanket", "75.00", "GRY:Grey,MST:Mustard,TEA:Teal"),
    _product("CND", "Soy Wax Candle", "18.00", "FIG:Fig,CDR:Cedar,LAV:Lavender"),
    _product("PLW", "Linen Cushion Cover", "28.00", "NAT:Natural,RST:Rust,SGE:Sage"),
    _product("LMP", "Brass Desk Lamp", "120.00", "BRS:Brass,BLK:Black"),
    _product("BTL", "Insulated Water Bottle 750 ml", "27.00", "STL:Steel,FOR:Forest,SKY:Sky"),
    _product("EBD", "Wireless Earbuds", "129.00", "BLK:Black,WHT:White"),
    _product("CHG", "65 W USB-C Charger", "39.99"),
    _product("CBL", "Braided USB-C Cable 2 m", "14.99"),
    _product("SPK", "Portable Bluetooth Speaker", "89.00", "BLK:Black,RED:Red,BLU:Blue"),
    _product("NTB", "A5 Dotted Notebook", "16.00", "BLK:Black,TER:Terracotta"),
    _product("PEN", "Aluminium Fountain Pen", "45.00", "SLV:Silver,BLK:Black"),
    _product("COF", "Single Origin Coffee Beans 1 kg", "29.00", "WHB:Whole Bean,FLT:Filter Grind", consumable=True),
    _product("TEA", "Loose Leaf Tea Selection", "19.00", consumable=True),
    _product("RZB", "Safety Razor Blades (20 Pack)", "9.50", consumable=True),
    _product("SOAP", "Natural Soap Bars (4 Pack)", "16.00", "OAT:Oat,CIT:Citrus", consumable=True),
)
CONSUMABLES = tuple(p for p in PRODUCTS if p.consumable)

#: Shipping fee and free-shipping threshold per currency.
SHIPPING = {
    "GBP": (Decimal("3.99"), Decimal("50")),
    "EUR": (Decimal("4.95"), Decimal("60")),
    "USD": (Decimal("6.99"), Decimal("75")),
    "JPY": (Decimal("550"), Decimal("8000")),
}
EXPRESS_SURCHARGE = {"GBP": Decimal("3.00"), "EUR": Decimal("5.00"), "USD": Decimal("8.00"), "JPY": Decimal("600")}
FIXED_DISCOUNTS = {"GBP": Decimal("10"), "EUR": Decimal("10"), "USD": Decimal("15"), "JPY": Decimal("1500")}

RETURN_REASONS = (
    "Too small", "Too large", "Changed my mind", "Arrived damaged", "Not as described",
    "Wrong item sent", "Colour differs from the photo", "Arrived too late",
)

# Weights of each status by the age of the order (the newest orders are the open ones).
_STATUS_BY_AGE: tuple[tuple[timedelta, dict[OrderStatus, int]], ...] = (
    (timedelta(days=1), {OrderStatus.PENDING: 40, OrderStatus.PROCESSING: 32, OrderStatus.ON_HOLD: 15,
                         OrderStatus.CANCELLED: 13}),
    (timedelta(days=3), {OrderStatus.PENDING: 18, OrderStatus.PROCESSING: 26, OrderStatus.ON_HOLD: 12,
                         OrderStatus.PARTIALLY_SHIPPED: 16, OrderStatus.SHIPPED: 20, OrderStatus.CANCELLED: 8}),
    (timedelta(days=10), {OrderStatus.PENDING: 5, OrderStatus.PROCESSING: 4, OrderStatus.ON_HOLD: 10,
                          OrderStatus.PARTIALLY_SHIPPED: 15, OrderStatus.SHIPPED: 28, OrderStatus.DELIVERED: 29,
                          OrderStatus.CANCELLED: 9}),
    (timedelta(days=30), {OrderStatus.ON_HOLD: 7, OrderStatus.PARTIALLY_SHIPPED: 8, OrderStatus.SHIPPED: 8,
                          OrderStatus.DELIVERED: 69, OrderStatus.CANCELLED: 8}),
    (SPAN * 2, {OrderStatus.SHIPPED: 2, OrderStatus.DELIVERED: 90, OrderStatus.CANCELLED: 8}),
)
_ORDER_TYPES = {OrderType.STANDARD: 78, OrderType.PRE_ORDER: 4, OrderType.BACKORDER: 4,
                OrderType.SUBSCRIPTION: 8, OrderType.REPLACEMENT: 3, OrderType.EXCHANGE: 3}
#: Channels of retail orders; a few standard orders are WHOLESALE instead (bulk, trade prices).
_CHANNELS = {Channel.WEB: 50, Channel.MOBILE_APP: 26, Channel.STORE: 5, Channel.PHONE: 5,
             Channel.MARKETPLACE: 10}
_WHOLESALE_SHARE = 0.04
#: Statuses of a parcel that has left but not arrived.
_IN_FLIGHT = {ShipmentStatus.IN_TRANSIT: 45, ShipmentStatus.OUT_FOR_DELIVERY: 14, ShipmentStatus.DELAYED: 18,
              ShipmentStatus.EXCEPTION: 10, ShipmentStatus.ATTEMPTED_DELIVERY: 8}


# ---------------------------------------------------------------------- small helpers


def _pick(rng: random.Random, weights: dict[T, int]) -> T:
    """One key of ``weights``, chosen in proportion to its weight."""
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _fill(rng: random.Random, pattern: str) -> str:
    """Replace # with a digit, A with a capital letter and X with either in ``pattern``."""
    letters = "ABCDEFGHJKLMNPRSTUVWXY"
    out = []
    for ch in pattern:
        if ch == "#":
            out.append(str(rng.randrange(10)))
        elif ch == "A":
            out.append(rng.choice(letters))
        elif ch == "X":
            out.append(rng.choice(letters + "0123456789"))
        else:
            out.append(ch)
    return "".join(out)


def _between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    """A moment in [start, end], to the second (``start`` when the span is empty)."""
    seconds = max(0, int((end - start).total_seconds()))
    return start + timedelta(seconds=rng.randint(0, seconds))


def _ts(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _amount(value: Decimal, currency: str) -> str:
    return f"{money.quantize(value, currency):f}"


def _price(product: Product, currency: str) -> Decimal:
    """The product's shelf price in ``currency``: x.99 prices, or round yen ending in 90."""
    if currency == "GBP":
        return product.base_price
    if currency == "JPY":
        return (product.base_price * 190 / 100).to_integral_value(ROUND_CEILING) * 100 - 10
    rate = Decimal("1.16") if currency == "EUR" else Decimal("1.27")
    return (product.base_price * rate).to_integral_value(ROUND_CEILING) - Decimal("0.01")


# ---------------------------------------------------------------------- customers


@dataclass(frozen=True)
class _Customer:
    first: str
    last: str
    email: str
    phone: str
    country: Country
    address: dict[str, str]
    mixed_case: bool


def _customer(seed: int, number: int) -> _Customer:
    """Customer ``number`` of the seed: a pure function, so orders can be generated one by one."""
    rng = random.Random(f"{seed}/customer/{number}")
    combos = len(FIRST_NAMES) * len(LAST_NAMES)
    mixed = (number * 7919 + seed * 104_729) % combos  # 7919 is coprime with combos: no repeats
    first, last = FIRST_NAMES[mixed % len(FIRST_NAMES)], LAST_NAMES[mixed // len(FIRST_NAMES)]
    repeat = number // combos
    email = f"{first.lower()}.{last.lower()}{repeat + 1 if repeat else ''}@example.com"
    if number % _JAPAN_EVERY == 3:  # a fixed share, so that JPY orders (no decimals) always appear
        country = next(c for c in COUNTRIES if c.code == "JP")
    else:
        country = rng.choices(COUNTRIES, weights=[c.weight for c in COUNTRIES])[0]
    place = rng.choice(country.places)
    n = str(rng.randint(1, 180))
    address = {
        "Name": f"{first} {last}",
        "Line1": country.street_format.format(
            n=n, street=rng.choice(country.streets), n2=rng.randint(1, 20), n3=rng.randint(1, 30)
        ),
        "City": place.city,
        "PostalCode": _fill(rng, place.postcode),
        "CountryCode": country.code,
    }
    if rng.random() < 0.25:
        address["Line2"] = rng.choice(("Flat", "Apartment", "Unit", "Suite")) + f" {rng.randint(1, 40)}"
    if place.region:
        address["Region"] = place.region
    return _Customer(first, last, email, _fill(rng, country.phone), country, address, rng.random() < 0.3)


# ---------------------------------------------------------------------- one order


class _OrderMaker:
    """Builds one order record; all randomness comes from the shared generator, in order."""

    def __init__(self, rng: random.Random, number: int, created: datetime, customer: _Customer) -> None:
        self.rng = rng
        self.digits = str(number)
        self.number = f"SO-{number}"
        self.created = created
        self.customer = customer
        self.currency = customer.country.currency
        self.events: list[datetime] = [created]
        self.record: dict[str, Any] = {}

    # -------------------------------------------------------------- whole order

    def build(self) -> dict[str, Any]:
        """The whole record: a status fitting the order's age, then everything that status implies."""
        rng = self.rng
        status = _pick(rng, next(w for limit, w in _STATUS_BY_AGE if ANCHOR - self.created < limit))
        order_type = _pick(rng, _ORDER_TYPES)
        wholesale = order_type is OrderType.STANDARD and rng.random() < _WHOLESALE_SHARE
        channel = Channel.WHOLESALE if wholesale else _pick(rng, _CHANNELS)
        lines = self._lines(order_type, channel, minimum=2 if status is OrderStatus.PARTIALLY_SHIPPED else 1)
        totals = self._totals(lines, channel)
        email = self.customer.email
        if self.customer.mixed_case and rng.random() < 0.5:
            email = email.split("@")[0].title() + "@" + rng.choice(("example.com", "Example.com", "EXAMPLE.COM"))
        self.record = {
            "OrderNumber": self.number,
            "OrderType": order_type.value,
            "Channel": channel.value,
            "Status": status.value,
            "FinancialStatus": FinancialStatus.PENDING.value,
            "CreatedAt": _ts(self.created),
            "Currency": self.currency,
            **totals,
            "Customer": {
                "Email": email,
                "FirstName": self.customer.first,
                "LastName": self.customer.last,
                "Phone": self.customer.phone,
            },
            "ShippingAddress": {**self.customer.address, "Phone": self.customer.phone},
            "Lines": lines,
            "Shipments": [],
            "Returns": [],
            "Refunds": [],
        }
        getattr(self, f"_as_{status.value.lower()}")()
        self.record["UpdatedAt"] = _ts(max(self.events))
        return self.record

    def _lines(self, order_type: OrderType, channel: Channel, minimum: int) -> list[dict[str, Any]]:
        """1-5 lines of distinct products (consumables for subscriptions, free for replacements)."""
        rng = self.rng
        if order_type is OrderType.SUBSCRIPTION:
            products = rng.sample(CONSUMABLES, max(minimum, rng.choice((1, 1, 2))))
        else:
            count = max(minimum, rng.choices((1, 2, 3, 4, 5), weights=(38, 30, 17, 10, 5))[0])
            products = rng.sample(PRODUCTS, count)
        lines = []
        for number, product in enumerate(products, 1):
            suffix, label = rng.choice(product.variants) if product.variants else ("", "")
            sku = f"{product.code}-{suffix}" if suffix else product.code
            if channel is Channel.WHOLESALE:
                quantity = rng.choice((6, 12, 12, 24, 48))
            else:
                quantity = rng.choices((1, 2, 3), weights=(76, 18, 6))[0]
            price = Decimal(0) if order_type is OrderType.REPLACEMENT else _price(product, self.currency)
            if channel is Channel.WHOLESALE:
                price = money.quantize(price * Decimal("0.6"), self.currency)
            lines.append({
                "LineNumber": number,
                "Sku": sku,
                "Name": f"{product.name} - {label}" if label else product.name,
                "Quantity": quantity,
                "UnitPrice": _amount(price, self.currency),
                "ImageUrl": f"https://cdn.example.com/products/{product.code.lower()}/"
                            f"{(suffix or 'default').lower()}.jpg",
                "Status": LineStatus.PENDING.value,
                "QuantityShipped": 0,
                "QuantityCancelled": 0,
                "QuantityRefunded": 0,
                "QuantityReturned": 0,
            })
        return lines

    def _totals(self, lines: list[dict[str, Any]], channel: Channel) -> dict[str, str]:
        """Subtotal, discount, shipping (free above a threshold), US sales tax, and the total."""
        rng, currency = self.rng, self.currency
        subtotal = sum((Decimal(line["UnitPrice"]) * line["Quantity"] for line in lines), Decimal(0))
        discount = Decimal(0)
        if subtotal > 0 and rng.random() < 0.22:
            if rng.random() < 0.6:
                discount = money.quantize(subtotal * rng.choice((10, 15, 20)) / 100, currency)
            else:
                discount = min(FIXED_DISCOUNTS[currency], money.quantize(subtotal / 2, currency))
        fee, free_from = SHIPPING[currency]
        shipping = Decimal(0)
        if subtotal > 0 and channel is not Channel.STORE:
            shipping = fee if subtotal - discount < free_from else Decimal(0)
            if rng.random() < 0.12:
                shipping += EXPRESS_SURCHARGE[currency]
        rate = self.customer.country.tax_rates.get(self.customer.address.get("Region", ""), Decimal(0))
        tax = money.quantize((subtotal - discount) * rate, currency)
        total = subtotal + shipping + tax - discount
        return {
            "Subtotal": _amount(subtotal, currency),
            "ShippingTotal": _amount(shipping, currency),
            "TaxTotal": _amount(tax, currency),
            "DiscountTotal": _amount(discount, currency),
            "Total": _amount(total, currency),
        }

    # -------------------------------------------------------------- per status

    def _as_pending(self) -> None:
        """Placed, payment outstanding or only authorised."""
        self._set_financial(FinancialStatus.PENDING if self.rng.random() < 0.7 else FinancialStatus.AUTHORIZED)
        self._expect(self.created)

    def _as_processing(self) -> None:
        """Being picked; nothing has left yet, so it can still be cancelled."""
        rng = self.rng
        self._set_financial(FinancialStatus.PAID if rng.random() < 0.7 else FinancialStatus.AUTHORIZED)
        self._set_lines(LineStatus.PROCESSING)
        if rng.random() < 0.15:  # a label is printed but the parcel has not left: still cancellable
            shipment = self._shipment(self.record["Lines"], ShipmentStatus.LABEL_CREATED, None)
            self.record["Shipments"].append(shipment)
        self._expect(self.created)

    def _as_on_hold(self) -> None:
        """Held for review (payment, address, stock)."""
        self._set_financial(_pick(self.rng, {FinancialStatus.AUTHORIZED: 45, FinancialStatus.PENDING: 30,
                                             FinancialStatus.PAID: 25}))
        self._expect(self.created + timedelta(days=self.rng.randint(2, 6)))

    def _as_partially_shipped(self) -> None:
        """Some lines shipped in one or two parcels, the rest still to come."""
        rng = self.rng
        lines = self.record["Lines"]
        shipped = rng.sample(lines, rng.randint(1, len(lines) - 1))
        shipped.sort(key=lambda line: line["LineNumber"])
        groups = [shipped] if len(shipped) == 1 or rng.random() < 0.5 else [shipped[:1], shipped[1:]]
        for group in groups:
            status = _pick(rng, {ShipmentStatus.IN_TRANSIT: 40, ShipmentStatus.DELIVERED: 30,
                                 ShipmentStatus.DELAYED: 15, ShipmentStatus.OUT_FOR_DELIVERY: 15})
            self._ship(group, status)
        backorder = self.record["OrderType"] == OrderType.BACKORDER.value
        waiting = LineStatus.PENDING if backorder else LineStatus.PROCESSING
        for line in lines:
            if all(line is not other for other in shipped):
                line["Status"] = waiting.value
        self._set_financial(FinancialStatus.PAID)
        self._expect(self.created + timedelta(days=rng.randint(5, 21)), from_date=max(self.events))

    def _as_shipped(self) -> None:
        """Every line on its way, perhaps in two parcels, perhaps delayed; rarely a goodwill refund."""
        rng = self.rng
        lines = self.record["Lines"]
        groups = [lines]
        if len(lines) > 1 and rng.random() < 0.3:
            cut = rng.randint(1, len(lines) - 1)
            groups = [lines[:cut], lines[cut:]]
        for index, group in enumerate(groups):
            status = ShipmentStatus.DELIVERED if index == 0 and len(groups) > 1 else _pick(rng, _IN_FLIGHT)
            self._ship(group, status)
        self._set_financial(FinancialStatus.PAID)
        self.record["ExpectedDeliveryDate"] = max(
            s["ExpectedDeliveryDate"] for s in self.record["Shipments"] if "ExpectedDeliveryDate" in s
        )
        if rng.random() < 0.15 and self._total() > 0:
            delayed = any(s["Status"] in ("DELAYED", "EXCEPTION") for s in self.record["Shipments"])
            amount = Decimal(self.record["ShippingTotal"]) or money.quantize(self._total() / 10, self.currency)
            if amount > 0:
                self._refund(amount, Reason.LATE_DELIVERY if delayed else Reason.OTHER,
                             "Goodwill refund while the parcel is on its way.", max(self.events))

    def _as_delivered(self) -> None:
        """Every parcel delivered; some orders then see a return or a partial or full refund."""
        rng = self.rng
        lines = self.record["Lines"]
        groups = [lines]
        if len(lines) > 1 and rng.random() < 0.2:
            cut = rng.randint(1, len(lines) - 1)
            groups = [lines[:cut], lines[cut:]]
        for group in groups:
            self._ship(group, ShipmentStatus.DELIVERED)
        self._set_financial(FinancialStatus.PAID)
        if self._total() == 0:
            return
        roll = rng.random()
        if roll < 0.18:
            self._return(full=rng.random() < 0.15)
        elif roll < 0.26:
            amount = money.quantize(self._total() * rng.choice((10, 15, 20, 25)) / 100, self.currency)
            if amount > 0:
                self._refund(amount, Reason.DAMAGED, "Partial refund: item arrived slightly damaged.",
                             self._after(max(self.events), days=5))
        elif roll < 0.29:
            self._refund(self._total(), rng.choice((Reason.DAMAGED, Reason.LATE_DELIVERY)),
                         "Full refund; no need to send the items back.", self._after(max(self.events), days=5))

    def _as_cancelled(self) -> None:
        """Cancelled before shipping: voided when unpaid, refunded in full when paid."""
        rng = self.rng
        reason = _pick(rng, {Reason.CUSTOMER: 60, Reason.INVENTORY: 15, Reason.FRAUD: 8, Reason.DECLINED: 10,
                             Reason.OTHER: 7})
        cancelled_at = self._after(self.created, days=2, minimum=timedelta(minutes=10))
        self.events.append(cancelled_at)
        self.record["CancelledAt"] = _ts(cancelled_at)
        self.record["CancelReason"] = reason.value
        for line in self.record["Lines"]:
            line["Status"] = LineStatus.CANCELLED.value
            line["QuantityCancelled"] = line["Quantity"]
        paid = reason is not Reason.DECLINED and rng.random() < 0.5 and self._total() > 0
        if paid:
            self._set_financial(FinancialStatus.PAID)
            self._refund(self._total(), reason, None, cancelled_at)
        else:
            self._set_financial(FinancialStatus.VOIDED)

    # -------------------------------------------------------------- parts

    def _set_financial(self, status: FinancialStatus) -> None:
        self.record["FinancialStatus"] = status.value

    def _set_lines(self, status: LineStatus) -> None:
        for line in self.record["Lines"]:
            line["Status"] = status.value

    def _total(self) -> Decimal:
        return Decimal(self.record["Total"])

    def _after(self, start: datetime, *, days: float, minimum: timedelta = timedelta(hours=1)) -> datetime:
        """A moment from ``minimum`` to ``days`` after ``start``, never past the anchor."""
        latest = min(start + timedelta(days=days), ANCHOR - timedelta(minutes=1))
        return _between(self.rng, min(start + minimum, latest), latest)

    def _expect(self, ship_from: datetime, *, from_date: datetime | None = None) -> None:
        """Expected ship and delivery dates of an open order."""
        rng = self.rng
        ship = max(ship_from, from_date or ship_from) + timedelta(days=rng.randint(1, 3))
        if self.record["OrderType"] in (OrderType.PRE_ORDER.value, OrderType.BACKORDER.value):
            ship += timedelta(days=rng.randint(7, 30))
        self.record["ExpectedShipDate"] = ship.date().isoformat()
        self.record["ExpectedDeliveryDate"] = (ship + timedelta(days=rng.randint(1, 4))).date().isoformat()

    def _shipment(self, lines: Sequence[dict[str, Any]], status: ShipmentStatus,
                  shipped_at: datetime | None) -> dict[str, Any]:
        rng = self.rng
        carrier = CARRIERS[rng.choice(self.customer.country.carriers)]
        tracking = _fill(rng, carrier.tracking)
        shipment: dict[str, Any] = {
            "ShipmentId": f"SH-{self.digits}-{len(self.record['Shipments']) + 1}",
            "CarrierName": carrier.name,
            "CarrierCode": carrier.code,
            "TrackingNumber": tracking,
            "TrackingUrl": carrier.url.format(tn=tracking),
            "Status": status.value,
            "Items": [{"Sku": line["Sku"], "Quantity": line["Quantity"]} for line in lines],
        }
        base = shipped_at or self.created
        shipment["ExpectedDeliveryDate"] = (base + timedelta(days=rng.randint(2, 5))).date().isoformat()
        if shipped_at is not None:
            shipment["ShippedAt"] = _ts(shipped_at)
        return shipment

    def _ship(self, lines: Sequence[dict[str, Any]], status: ShipmentStatus) -> None:
        """Add a shipment of ``lines`` that has left the warehouse, and mark the lines."""
        age = ANCHOR - self.created
        if status is ShipmentStatus.DELIVERED:
            shipped_at = _between(self.rng, self.created + timedelta(hours=2),
                                  self.created + min(timedelta(days=2), age * 0.3))
        else:
            shipped_at = _between(self.rng, self.created + min(timedelta(hours=2), age * 0.2),
                                  self.created + min(timedelta(days=3), age * 0.7))
        shipment = self._shipment(lines, status, shipped_at)
        self.events.append(shipped_at)
        line_status = LineStatus.SHIPPED
        if status is ShipmentStatus.DELIVERED:
            delivered_at = _between(self.rng, shipped_at + min(timedelta(hours=12), (ANCHOR - shipped_at) * 0.3),
                                    shipped_at + min(timedelta(days=5), (ANCHOR - shipped_at) * 0.8))
            shipment["DeliveredAt"] = _ts(delivered_at)
            self.events.append(delivered_at)
            line_status = LineStatus.DELIVERED
        self.record["Shipments"].append(shipment)
        for line in lines:
            line["Status"] = line_status.value
            line["QuantityShipped"] = line["Quantity"]

    def _refund(self, amount: Decimal, reason: Reason, note: str | None, at: datetime,
                status: RefundStatus | None = None) -> None:
        """Record a refund and set the financial status from what has been refunded so far."""
        refunds = self.record["Refunds"]
        if status is None:
            recent = ANCHOR - at < timedelta(days=2)
            status = RefundStatus.PENDING if recent and self.rng.random() < 0.5 else RefundStatus.COMPLETED
        refund: dict[str, Any] = {
            "RefundId": f"RF-{self.digits}-{len(refunds) + 1}",
            "Amount": _amount(amount, self.currency),
            "Reason": reason.value,
            "Status": status.value,
            "CreatedAt": _ts(at),
        }
        if note:
            refund["Note"] = note
        refunds.append(refund)
        self.events.append(at)
        refunded = sum((Decimal(r["Amount"]) for r in refunds), Decimal(0))
        self._set_financial(
            FinancialStatus.REFUNDED if refunded == self._total() else FinancialStatus.PARTIALLY_REFUNDED
        )

    def _lines_value(self, quantities: dict[int, int]) -> Decimal:
        """What the given line quantities cost after the order discount, plus their tax share
        (the same rule as ``Order.refund`` for per-line refunds)."""
        rec = self.record
        subtotal = Decimal(rec["Subtotal"])
        goods = sum(
            (Decimal(line["UnitPrice"]) * quantities.get(line["LineNumber"], 0) for line in rec["Lines"]),
            Decimal(0),
        )
        if subtotal > 0:
            goods = goods * (subtotal - Decimal(rec["DiscountTotal"]) + Decimal(rec["TaxTotal"])) / subtotal
        return money.quantize(goods, self.currency)

    def _return(self, *, full: bool) -> None:
        """A return of some (or all) items, at some stage of its journey back."""
        rng = self.rng
        delivered = max(self.events)
        if ANCHOR - delivered < timedelta(hours=8):
            return
        lines = self.record["Lines"]
        chosen = lines if full else rng.sample(lines, rng.randint(1, max(1, len(lines) - 1)))
        quantities = {
            line["LineNumber"]: line["Quantity"] if full else rng.randint(1, line["Quantity"]) for line in chosen
        }
        created = self._after(delivered, days=14, minimum=timedelta(hours=6))
        self.events.append(created)
        status = ReturnStatus.COMPLETED if full else _pick(rng, {
            ReturnStatus.REQUESTED: 8, ReturnStatus.LABEL_CREATED: 12, ReturnStatus.IN_TRANSIT: 14,
            ReturnStatus.RECEIVED: 14, ReturnStatus.COMPLETED: 40, ReturnStatus.REJECTED: 6,
            ReturnStatus.CANCELLED: 6,
        })
        warehouse, refund_status = {
            ReturnStatus.REQUESTED: (WarehouseStatus.AWAITING_ARRIVAL, ReturnRefundStatus.NOT_STARTED),
            ReturnStatus.LABEL_CREATED: (WarehouseStatus.AWAITING_ARRIVAL, ReturnRefundStatus.NOT_STARTED),
            ReturnStatus.IN_TRANSIT: (WarehouseStatus.AWAITING_ARRIVAL, ReturnRefundStatus.NOT_STARTED),
            ReturnStatus.RECEIVED: (rng.choice((WarehouseStatus.RECEIVED, WarehouseStatus.INSPECTING)),
                                    ReturnRefundStatus.NOT_STARTED),
            ReturnStatus.COMPLETED: (WarehouseStatus.ACCEPTED, ReturnRefundStatus.REFUNDED),
            ReturnStatus.REJECTED: (WarehouseStatus.REJECTED, ReturnRefundStatus.DECLINED),
            ReturnStatus.CANCELLED: (WarehouseStatus.AWAITING_ARRIVAL, ReturnRefundStatus.NOT_STARTED),
        }[status]
        carrier = CARRIERS[self.customer.country.carriers[0]]
        ret: dict[str, Any] = {
            "ReturnId": f"RT-{self.digits}-{len(self.record['Returns']) + 1}",
            "Status": status.value,
            "Reason": rng.choice(RETURN_REASONS),
            "WarehouseStatus": warehouse.value,
            "RefundStatus": refund_status.value,
            "CreatedAt": _ts(created),
            "Items": [{"Sku": line["Sku"], "Quantity": quantities[line["LineNumber"]]} for line in chosen],
        }
        if status is not ReturnStatus.REQUESTED:
            tracking = _fill(rng, carrier.tracking)
            ret.update(ReturnTrackingNumber=tracking, CarrierCode=carrier.code,
                       LabelUrl=f"https://returns.example.com/labels/{ret['ReturnId']}.pdf")
        self.record["Returns"].append(ret)
        if status in (ReturnStatus.RECEIVED, ReturnStatus.COMPLETED):
            for line in chosen:
                line["QuantityReturned"] = quantities[line["LineNumber"]]
                if line["QuantityReturned"] == line["Quantity"]:
                    line["Status"] = LineStatus.RETURNED.value
        if status is ReturnStatus.COMPLETED:
            for line in chosen:
                line["QuantityRefunded"] = quantities[line["LineNumber"]]
            at = self._after(created, days=8, minimum=timedelta(days=1))
            self._refund(self._lines_value(quantities), Reason.CUSTOMER, f"Refund for return {ret['ReturnId']}.",
                         at, RefundStatus.COMPLETED)
            shipping = Decimal(self.record["ShippingTotal"])
            if full and shipping > 0:
                self._refund(shipping, Reason.CUSTOMER, "Shipping refunded with the full return.", at,
                             RefundStatus.COMPLETED)


# ---------------------------------------------------------------------- public API


def generate_records(count: int, seed: int) -> Iterator[dict[str, Any]]:
    """Yield ``count`` order records, deterministically from ``seed``.

    Order numbers run from SO-100001 in order of creation; about three orders share each customer
    email. Every record is accepted by ``documents.records.order_from_record``.
    """
    rng = random.Random(seed)
    customers = max(1, math.ceil(count * CUSTOMERS_PER_ORDER))
    for index in range(count):
        # Evenly spread positions, squared so that recent days hold more orders than old ones.
        position = (index + rng.random()) / count
        created = (ANCHOR - SPAN * (1 - position) ** 2 - timedelta(minutes=5)).replace(microsecond=0)
        # Loyal customers (low numbers) order more often than the rest.
        customer = _customer(seed, int(customers * rng.random() ** 1.25))
        yield _OrderMaker(rng, FIRST_ORDER_NUMBER + index, created, customer).build()


def _database_has_orders(deps: Any) -> bool:
    with deps.uow() as uow:
        return uow.orders.count() > 0


@dataclass
class _Samples:
    """What to suggest trying once the demo data is written."""

    emails: Counter[str] = field(default_factory=Counter)
    orders: dict[str, str] = field(default_factory=dict)  # label -> order number

    def see(self, record: dict[str, Any]) -> None:
        self.emails[record["Customer"]["Email"].lower()] += 1
        status, financial = record["Status"], record["FinancialStatus"]
        label = {
            ("PROCESSING", "PAID"): "cancel",
            ("DELIVERED", "PAID"): "refund",
        }.get((status, financial), "track" if status == "SHIPPED" else None)
        if label == "cancel" and record["Shipments"]:
            label = None
        if label and label not in self.orders:
            self.orders[label] = record["OrderNumber"]

    def lines(self) -> list[str]:
        out = [
            f"  FindOrdersByEmail  {email} ({n} order{'s' if n != 1 else ''})"
            for email, n in self.emails.most_common(3)
        ]
        wording = {
            "cancel": "  CancelOrder        {} (PROCESSING, PAID: can be cancelled)",
            "refund": "  IssueRefund        {} (DELIVERED, PAID: can be refunded)",
            "track": "  GetOrder           {} (SHIPPED: parcel on its way)",
        }
        out += [wording[label].format(number) for label, number in sorted(self.orders.items())]
        return out


def _batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def write_demo_data(deps: Any, count: int, seed: int, *, if_empty: bool) -> str:
    """Upsert ``count`` generated orders in batches; with ``if_empty``, only into an empty database.

    Returns what to tell the user: a one-line note when nothing was written, else a summary with
    customer emails and order numbers worth trying."""
    from .documents.records import order_from_record
    from .service.orders import upsert_orders

    if if_empty and _database_has_orders(deps):
        return "The database already holds orders; no demo data written."
    samples = _Samples()
    created = updated = 0
    for batch in _batches(generate_records(count, seed), BATCH_SIZE):
        for record in batch:
            samples.see(record)
        summary = upsert_orders(deps.uow(), [order_from_record(r) for r in batch], deps.clock)
        created += summary.created
        updated += summary.updated
    lines = [f"Wrote {count} demo orders (seed {seed}): {created} created, {updated} updated.", "Try:"]
    return "\n".join(lines + samples.lines())
