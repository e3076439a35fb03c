"""The HTTP toolkit every endpoint uses, below the endpoints themselves: reading bodies within
limits (``body``), credentials in HTTP headers (``credentials``), keeping connections readable
after a refusal (``connection``) and the access log that notes each request's operation and
outcome (``access_log``). The endpoints (``soap.endpoint``, ``jsonapi.endpoint``) and the front
door's routing (``web``) build on it; it imports none of them."""
