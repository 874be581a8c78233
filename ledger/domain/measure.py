"""Measures: the policy's thirteen programmes and their support items."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from ledger.errors import InvalidState, UnknownItem
from ledger.ids import ledger_id


class Measure(Aggregate):
    """One of the policy's measures (M01..M13), with the support items it pays for.

    Items are plain dicts as the catalogue defines them: `code`, `title_zh`, `title_en`,
    `kind`, `max_fen` (or None), `counts_towards_cap`, `rule_zh`, `rule_en`.
    """

    # The events, declared here because their names and fields are stored forever.

    class Defined(Aggregate.Created):
        code: str
        pillar: str
        title_zh: str
        title_en: str
        items: list[dict[str, Any]]
        actor: str

    class ItemAdded(Aggregate.Event):
        item: dict[str, Any]
        actor: str

    class ItemRetired(Aggregate.Event):
        item_code: str
        actor: str
    @staticmethod
    def create_id(code: str) -> UUID:
        return ledger_id("measure", code)

    @event(Defined)
    def __init__(
        self,
        code: str,
        pillar: str,
        title_zh: str,
        title_en: str,
        items: list[dict[str, Any]],
        actor: str,
    ) -> None:
        self.code = code
        self.pillar = pillar
        self.title_zh = title_zh
        self.title_en = title_en
        self.items = {item["code"]: dict(item) for item in items}
        self.retired_item_codes: set[str] = set()

    def item(self, item_code: str) -> dict[str, Any]:
        """The current item with this code, or `unknown_item`."""
        if item_code not in self.items or item_code in self.retired_item_codes:
            raise UnknownItem(measure=self.code, item=item_code, field="item")
        return self.items[item_code]

    def add_item(self, item: dict[str, Any], actor: str) -> None:
        if item["code"] in self.items:
            raise InvalidState(variant="item_exists", measure=self.code, item=item["code"])
        self._add_item(item=dict(item), actor=actor)

    @event(ItemAdded)
    def _add_item(self, item: dict[str, Any], actor: str) -> None:
        self.items[item["code"]] = item

    @event(ItemRetired)
    def _retire_item(self, item_code: str, actor: str) -> None:  # only ever replayed, never called
        self.retired_item_codes.add(item_code)
