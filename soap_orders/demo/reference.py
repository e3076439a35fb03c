"""The demo shop's reference data: countries (with their places, phone and postcode patterns and
carriers), carriers, products and their prices in each currency, shipping fees, discounts and the
reasons customers give for returns.

Patterns: ``#`` is a digit, ``A`` a capital letter, ``X`` either (see ``draw.fill``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal


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
        "JP", "JPY", 0, "+81 90-####-####",  # weight 0: see customers.JAPAN_EVERY
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
    "GBP": (Decimal("3.99"), Decimal(50)),
    "EUR": (Decimal("4.95"), Decimal(60)),
    "USD": (Decimal("6.99"), Decimal(75)),
    "JPY": (Decimal(550), Decimal(8000)),
}
EXPRESS_SURCHARGE = {"GBP": Decimal("3.00"), "EUR": Decimal("5.00"), "USD": Decimal("8.00"), "JPY": Decimal(600)}
FIXED_DISCOUNTS = {"GBP": Decimal(10), "EUR": Decimal(10), "USD": Decimal(15), "JPY": Decimal(1500)}

RETURN_REASONS = (
    "Too small", "Too large", "Changed my mind", "Arrived damaged", "Not as described",
    "Wrong item sent", "Colour differs from the photo", "Arrived too late",
)


def shelf_price(product: Product, currency: str) -> Decimal:
    """The product's shelf price in ``currency``: x.99 prices, or round yen ending in 90."""
    if currency == "GBP":
        return product.base_price
    if currency == "JPY":
        return (product.base_price * 190 / 100).to_integral_value(ROUND_CEILING) * 100 - 10
    rate = Decimal("1.16") if currency == "EUR" else Decimal("1.27")
    return (product.base_price * rate).to_integral_value(ROUND_CEILING) - Decimal("0.01")


def country(code: str) -> Country:
    return next(c for c in COUNTRIES if c.code == code)
