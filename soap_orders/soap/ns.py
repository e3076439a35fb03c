"""XML namespaces of the contract and of the protocols it rides on."""

from ..documents.fields import TNS

__all__ = ["SOAP11_ENV", "SOAP12_ENV", "TNS", "WSSE", "WSU", "XSI"]
SOAP11_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_ENV = "http://www.w3.org/2003/05/soap-envelope"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
