"""The one table this feature adds: where an imported record came from."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, DateTime, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..models import utcnow


class ExternalRecord(db.Model):
    """Maps (source, kind, external id) to our uuid, so a re-import updates instead of copying.

    kind is "service", "organization", "location" or "taxonomy_term"; source names the feed
    (its URL or file path unless `--source` says otherwise).
    """

    __tablename__ = "external_record"
    __table_args__ = (UniqueConstraint("source", "kind", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(200))
    local_uuid: Mapped[str] = mapped_column(String(36), index=True)
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    # A service's taxonomy terms that content/taxonomy-map.yaml does not place: kept here (not
    # shown anywhere public) so a later map can place them without a re-fetch.
    unmapped_terms: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
