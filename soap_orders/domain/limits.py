"""How long the order's text fields may be, and how large its counts.

These are the domain's own limits. The document descriptions (and through them the wire schema,
the JSON form and imports) and the database columns all take their sizes from here.
"""

ORDER_NUMBER = 64
REQUEST_ID = 64
EMAIL = 254
PERSON_NAME = 100
PHONE = 32
ADDRESS_NAME = 200
ADDRESS_LINE = 200
PLACE = 100
POSTAL_CODE = 20
COUNTRY_CODE = 2
CURRENCY = 3
SKU = 64
PRODUCT_NAME = 255
URL = 2048
IDENTIFIER = 64
CARRIER_NAME = 100
RETURN_REASON = 255
NOTE = 1000
MESSAGE = 1000
SUBSCRIPTION_ID = 64
SUBSCRIPTION_NAME = 255
CHARGE_ID = 64

#: The largest quantity, line number, count or page number anything may carry.
MAX_COUNT = 1_000_000
#: The most orders one page of a find returns.
MAX_PAGE_SIZE = 100

#: The largest id of the change feed (a signed 64-bit integer).
MAX_EVENT_ID = 2**63 - 1
