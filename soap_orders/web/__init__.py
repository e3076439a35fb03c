"""The HTTP front door, in parts with one job each: routing (``app``), health (``health``),
metrics (``metrics``), the service page (``service_page``) and the OAuth2 token endpoint
(``oauth``). The SOAP endpoint lives in ``soap.endpoint``, the JSON one in ``jsonapi.endpoint``;
the HTTP toolkit they share (bodies, credentials, connections, the access log) in ``http``."""
