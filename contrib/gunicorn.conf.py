"""gunicorn settings for soap_orders (``soap-orders serve`` uses this file; pass it with
``--config`` when running gunicorn directly). Bind address and worker count come from the
command line or SOAP_ORDERS_BIND / SOAP_ORDERS_WORKERS."""

import os

bind = os.environ.get("SOAP_ORDERS_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("SOAP_ORDERS_WORKERS", "2"))

# Threaded workers: a slow client holds one thread, not a whole process. Threads mostly wait on
# sockets and the database, so there are many; a request body must arrive within
# SOAP_ORDERS_BODY_TIMEOUT seconds, which bounds how long a trickling client can hold one.
worker_class = "gthread"
threads = 32

# A request that takes longer than this is stuck: the worker is replaced.
timeout = 30
graceful_timeout = 30
keepalive = 5

# Recycle workers now and then, jittered so they do not all restart together. This is a
# backstop for slow memory growth, not the defence against large requests (see the body limit).
max_requests = 5000
max_requests_jitter = 500

# Header limits well below gunicorn's defaults: SOAP requests carry few, short headers.
limit_request_line = 4094
limit_request_fields = 50
limit_request_field_size = 8190

# Access log to stderr, with the request id the service adds to every response.
accesslog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}o)s'


def post_worker_init(worker):
    # gunicorn answers malformed HTTP with an HTML page quoting the request; answer with a fault.
    from soap_orders.soap.endpoint import install_gunicorn_error_writer

    install_gunicorn_error_writer()

    # The application's "Connection: close" closes the connection; absurd chunk sizes are refused at once.
    from soap_orders.web.connection import install_gunicorn_adjustments

    install_gunicorn_adjustments()
