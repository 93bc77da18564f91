"""Conventions every API endpoint shares (named in settings.REST_FRAMEWORK). Kept apart from
the router in :mod:`orgdesign.api`, which imports the viewsets that import these."""

from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    """Pages of 100 by default; ``?page_size=`` up to 1,000 for integrations that pull all."""

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000
