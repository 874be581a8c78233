"""The index of the aggregates' event classes, for code that dispatches on them.

Each aggregate declares its events as nested classes (their names and fields are stored
forever). Readers of the log (views, trail, replay, checks) dispatch on these classes — a dict
keyed by class, or `match event: case Award.Granted(): …` — never on topic strings or names.
Where a store is filtered by topic, the strings are derived here from the classes
(`topic_of`), once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from eventsourcing.domain import CanMutateAggregate
from eventsourcing.utils import get_topic

from ledger.domain.award import Award
from ledger.domain.budget import Budget
from ledger.domain.enterprise import Enterprise
from ledger.domain.financing import Financing
from ledger.domain.measure import Measure
from ledger.domain.receipt import CommandReceipt
from ledger.domain.transfer import PatentTransfer
from ledger.domain.user import User

AGGREGATES: tuple[type, ...] = (
    Award, Budget, CommandReceipt, Enterprise, Financing, Measure, PatentTransfer, User,
)  # fmt: skip


def event_classes(aggregate: type) -> tuple[type, ...]:
    """The event classes an aggregate declares, in the order it declares them."""
    return tuple(
        value
        for name, value in vars(aggregate).items()
        if isinstance(value, type)
        and issubclass(value, CanMutateAggregate)
        and name not in ("Event", "Created")
    )


#: Every event class of every aggregate → its aggregate class.
AGGREGATE_OF: dict[type, type] = {
    cls: aggregate for aggregate in AGGREGATES for cls in event_classes(aggregate)
}


def topic_of(cls: type) -> str:
    """The topic an event class is stored under (``module:Aggregate.Event``)."""
    return get_topic(cls)


def names_of(event_class: type) -> tuple[str, str]:
    """(aggregate name, event name) of an event class, as the trail shows them, e.g.
    ("Award", "Granted")."""
    aggregate: Any = AGGREGATE_OF.get(event_class)
    return (aggregate.__name__ if aggregate else "", event_class.__name__)


F = TypeVar("F", bound=Callable[..., Any])


def dispatcher(table: dict[type, Any]) -> Callable[..., Callable[[F], F]]:
    """A decorator that files a function in `table` under each event class it is given::

        _on = dispatcher(_HANDLERS)

        @_on(Enterprise.Registered, Enterprise.Updated)
        def _enterprise(...): ...
    """

    def on(*event_classes: type) -> Callable[[F], F]:
        def register(function: F) -> F:
            for event_class in event_classes:
                table[event_class] = function
            return function

        return register

    return on

