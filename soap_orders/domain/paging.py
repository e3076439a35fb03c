"""Pages of a search: the rows a PageSize and PageNumber ask for, and whether more follow."""

from __future__ import annotations

from .errors import ValidationError
from .limits import MAX_PAGE_SIZE


def page_window(page_size: int, page_number: int) -> tuple[int, int]:
    """``(limit, offset)`` of the rows a page holds; a PageSize outside 1 to MAX_PAGE_SIZE or a
    PageNumber below 1 is refused."""
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValidationError(f"PageSize must be between 1 and {MAX_PAGE_SIZE}.", "PageSize")
    if page_number < 1:
        raise ValidationError("PageNumber must be at least 1.", "PageNumber")
    return page_size, (page_number - 1) * page_size


def has_more(page_number: int, page_size: int, total_count: int) -> bool:
    """Whether rows follow this page."""
    return page_number * page_size < total_count
