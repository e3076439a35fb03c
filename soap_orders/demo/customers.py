"""The demo shop's customers: a pure function of (seed, customer number).

Each customer has one name, one email, one phone number and one shipping address in one country
(which fixes the currency they pay in). About three orders share each customer; customers with
low numbers are the loyal ones who order most often (see ``builder``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from ..domain.orders import Address, Customer
from .draw import fill
from .reference import COUNTRIES, Country, country

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

#: Every so many customers lives in Japan (pays in JPY), so that JPY orders always appear.
JAPAN_EVERY = 12
#: Distinct customers per order placed: about three orders per email.
CUSTOMERS_PER_ORDER = 1 / 2.7


@dataclass(frozen=True)
class DemoCustomer:
    first: str
    last: str
    email: str
    phone: str
    country: Country
    address: Address
    #: Writes their email in mixed case on some orders (``Cara.Diaz@Example.com``).
    mixed_case: bool

    @property
    def currency(self) -> str:
        return self.country.currency

    def as_customer(self) -> Customer:
        """A fresh copy of the customer for one order (each order owns its own)."""
        return Customer(email=self.email, first_name=self.first, last_name=self.last, phone=self.phone)

    def shipping_address(self) -> Address:
        """A fresh copy of the address (each order owns its own)."""
        a = self.address
        return Address(a.name, a.line1, a.line2, a.city, a.region, a.postal_code, a.country_code, a.phone)


def demo_customer(seed: int, number: int) -> DemoCustomer:
    """Customer ``number`` of the seed: a pure function, so orders can be generated one by one."""
    rng = random.Random(f"{seed}/customer/{number}")
    combos = len(FIRST_NAMES) * len(LAST_NAMES)
    mixed = (number * 7919 + seed * 104_729) % combos  # 7919 is coprime with combos: no repeats
    first, last = FIRST_NAMES[mixed % len(FIRST_NAMES)], LAST_NAMES[mixed // len(FIRST_NAMES)]
    repeat = number // combos
    email = f"{first.lower()}.{last.lower()}{repeat + 1 if repeat else ''}@example.com"
    if number % JAPAN_EVERY == 3:
        home = country("JP")
    else:
        home = rng.choices(COUNTRIES, weights=[c.weight for c in COUNTRIES])[0]
    place = rng.choice(home.places)
    line1 = home.street_format.format(
        n=str(rng.randint(1, 180)), street=rng.choice(home.streets), n2=rng.randint(1, 20), n3=rng.randint(1, 30)
    )
    postal_code = fill(rng, place.postcode)
    line2 = None
    if rng.random() < 0.25:
        line2 = rng.choice(("Flat", "Apartment", "Unit", "Suite")) + f" {rng.randint(1, 40)}"
    phone = fill(rng, home.phone)
    address = Address(
        name=f"{first} {last}", line1=line1, line2=line2, city=place.city, region=place.region,
        postal_code=postal_code, country_code=home.code, phone=phone,
    )
    return DemoCustomer(first, last, email, phone, home, address, rng.random() < 0.3)
