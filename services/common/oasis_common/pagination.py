"""Page-number pagination with a client-chosen page size, bounded, and links the client can follow."""

from rest_framework.pagination import PageNumberPagination
from rest_framework.utils.urls import remove_query_param, replace_query_param

from oasis_common.proxies import public_url


class Pagination(PageNumberPagination):
    """`count`, `next`, `previous` and `results`.

    `next` and `previous` are absolute URLs on the address the client called (through the
    gateway), not on the upstream name the gateway called this service by.
    """

    page_size_query_param = "page_size"
    max_page_size = 200

    def get_next_link(self) -> str | None:
        if not self.page.has_next():
            return None
        number = self.page.next_page_number()
        return replace_query_param(public_url(self.request), self.page_query_param, number)

    def get_previous_link(self) -> str | None:
        if not self.page.has_previous():
            return None
        url = public_url(self.request)
        number = self.page.previous_page_number()
        if number == 1:
            return remove_query_param(url, self.page_query_param)
        return replace_query_param(url, self.page_query_param, number)
