"""The page rule every search shares: which rows a page holds, and whether more follow."""

from __future__ import annotations

import pytest

from soap_orders.domain.errors import ValidationError
from soap_orders.domain.limits import MAX_PAGE_SIZE
from soap_orders.domain.paging import has_more, page_window


def test_a_page_is_its_size_from_the_rows_before_it():
    assert page_window(1, 1) == (1, 0)
    assert page_window(20, 3) == (20, 40)
    assert page_window(MAX_PAGE_SIZE, 2) == (MAX_PAGE_SIZE, MAX_PAGE_SIZE)


@pytest.mark.parametrize("size, number, field", [(0, 1, "PageSize"), (MAX_PAGE_SIZE + 1, 1, "PageSize"),
                                                 (-5, 1, "PageSize"), (20, 0, "PageNumber"), (20, -1, "PageNumber")])
def test_a_size_or_number_out_of_range_is_refused_naming_the_field(size, number, field):
    with pytest.raises(ValidationError) as refused:
        page_window(size, number)
    assert refused.value.field == field


def test_more_follow_only_when_rows_lie_beyond_the_page():
    assert has_more(1, 20, 21) and not has_more(1, 20, 20)
    assert has_more(2, 10, 21) and not has_more(3, 10, 21)
    assert not has_more(1, 20, 0)
