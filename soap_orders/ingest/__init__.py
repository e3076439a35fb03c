"""The ERP's ingest: orders and subscriptions fed in, by the ``UpsertOrders`` and
``UpsertSubscriptions`` operations and by ``soap-orders import``.

- ``orders``: a batch of order documents created or merged into the stored orders (merge, never
  erase), each with its own result, in one transaction, idempotent by RequestId;
- ``subscriptions``: the same for subscription documents;
- ``files``: ``soap-orders import`` of a file, read by ``jsonl`` (JSON Lines) or ``xml`` (an XML
  document of Order elements, checked against the published schema), written in batches by
  ``batches``, with its ``report`` and its ``progress`` on stderr.

The merge rules themselves are the domain's (``domain.merge``, ``domain.subscriptions``).
"""
