"""From use-case results to wire objects. Amounts leave quantized to their currency's places."""

from __future__ import annotations

from decimal import Decimal

from ..domain import money
from ..domain import orders as model
from . import types as wire


def order(o: model.Order) -> wire.Order:
    currency = o.currency

    def amount(value: Decimal) -> Decimal:
        return money.quantize(value, currency)

    address = o.shipping_address
    return wire.Order(
        OrderNumber=o.order_number,
        OrderType=o.order_type.value,
        Channel=o.channel.value,
        Status=o.status.value,
        FinancialStatus=o.financial_status.value,
        CreatedAt=o.created_at,
        UpdatedAt=o.updated_at,
        CancelledAt=o.cancelled_at,
        CancelReason=o.cancel_reason.value if o.cancel_reason else None,
        Currency=currency,
        Subtotal=amount(o.subtotal),
        ShippingTotal=amount(o.shipping_total),
        TaxTotal=amount(o.tax_total),
        DiscountTotal=amount(o.discount_total),
        Total=amount(o.total),
        RefundedAmount=o.refunded_amount,
        RefundableAmount=o.refundable_amount,
        ExpectedShipDate=o.expected_ship_date,
        ExpectedDeliveryDate=o.expected_delivery_date,
        ShippedAt=o.shipped_at,
        Customer=wire.Customer(
            Email=o.customer.email,
            FirstName=o.customer.first_name,
            LastName=o.customer.last_name,
            Phone=o.customer.phone,
        ),
        ShippingAddress=None
        if address is None or not any(vars(address).values())
        else wire.Address(
            Name=address.name,
            Line1=address.line1,
            Line2=address.line2,
            City=address.city,
            Region=address.region,
            PostalCode=address.postal_code,
            CountryCode=address.country_code,
            Phone=address.phone,
        ),
        Lines=wire.Lines(
            Line=[
                wire.Line(
                    LineNumber=line.line_number,
                    Sku=line.sku,
                    Name=line.name,
                    Quantity=line.quantity,
                    UnitPrice=amount(line.unit_price),
                    LineTotal=amount(line.line_total),
                    ImageUrl=line.image_url,
                    Status=line.status.value,
                    QuantityShipped=line.quantity_shipped,
                    QuantityCancelled=line.quantity_cancelled,
                    QuantityRefunded=line.quantity_refunded,
                    QuantityReturned=line.quantity_returned,
                )
                for line in o.lines
            ]
        ),
        Shipments=wire.Shipments(
            Shipment=[
                wire.Shipment(
                    ShipmentId=s.shipment_id,
                    CarrierName=s.carrier_name,
                    CarrierCode=s.carrier_code,
                    TrackingNumber=s.tracking_number,
                    TrackingUrl=s.tracking_url,
                    Status=s.status.value,
                    ShippedAt=s.shipped_at,
                    ExpectedDeliveryDate=s.expected_delivery_date,
                    DeliveredAt=s.delivered_at,
                    Items=wire.Items(Item=[wire.Item(Sku=i.sku, Quantity=i.quantity) for i in s.items]),
                )
                for s in o.shipments
            ]
        ),
        Returns=wire.Returns(
            Return=[
                wire.Return(
                    ReturnId=r.return_id,
                    Status=r.status.value,
                    Reason=r.reason,
                    ReturnTrackingNumber=r.return_tracking_number,
                    CarrierCode=r.carrier_code,
                    LabelUrl=r.label_url,
                    WarehouseStatus=r.warehouse_status.value,
                    RefundStatus=r.refund_status.value,
                    CreatedAt=r.created_at,
                    Items=wire.Items(Item=[wire.Item(Sku=i.sku, Quantity=i.quantity) for i in r.items]),
                )
                for r in o.returns
            ]
        ),
        Refunds=wire.Refunds(Refund=[refund(r, currency) for r in o.refunds]),
    )


def refund(r: model.Refund, currency: str) -> wire.Refund:
    return wire.Refund(
        RefundId=r.refund_id,
        Amount=money.quantize(r.amount, currency),
        Reason=r.reason.value,
        Status=r.status.value,
        CreatedAt=r.created_at,
        Note=r.note,
    )
