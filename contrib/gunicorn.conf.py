"""gunicorn settings for soap_orders: the package's own (soap_orders/gunicorn_conf.py).

Equivalent to ``gunicorn --config python:soap_orders.gunicorn_conf soap_orders.wsgi:application``;
kept so ``--config contrib/gunicorn.conf.py`` keeps working from a source checkout.
"""

from soap_orders.gunicorn_conf import *  # noqa: F401,F403
