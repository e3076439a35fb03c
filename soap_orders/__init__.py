"""soap_orders: a SOAP/XML order web service for customer-service automation and ERP integration."""

__version__ = "1.4.0"
