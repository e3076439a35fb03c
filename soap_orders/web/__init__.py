"""The HTTP front door, in parts with one job each: routing (``app``), reading bodies within
limits (``body``), credentials in HTTP headers (``credentials``), health (``health``) and the OAuth2
token endpoint (``oauth``). The SOAP endpoint lives in ``soap.endpoint``, the JSON one in
``jsonapi.endpoint``."""
