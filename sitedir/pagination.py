"""Page numbers from a URL parameter, validated, and the links between pages."""
from __future__ import annotations

import math
from dataclasses import dataclass

from flask import abort, request, url_for


@dataclass(frozen=True)
class Pagination:
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    @property
    def first_item(self) -> int:
        return min(self.total, self.offset + 1)

    @property
    def last_item(self) -> int:
        return min(self.total, self.offset + self.per_page)

    def url(self, page: int) -> str:
        """The current URL with only the page parameter changed."""
        args = {**request.view_args, **request.args.to_dict(flat=False)}
        args["page"] = page
        return url_for(request.endpoint, **args)


def requested_page(total: int, per_page: int) -> Pagination:
    """Read ?page=; a non-number or a page past the end is a 404, not a 500 or a blank page."""
    raw = request.args.get("page", "1")
    if not raw.isdigit() or int(raw) < 1:
        abort(404)
    pagination = Pagination(int(raw), per_page, total)
    if pagination.page > pagination.pages:
        abort(404)
    return pagination
