"""The ledger's aggregates: each records its facts as past-tense events nested in its class.

Each aggregate declares its event classes explicitly at the top of its body (name and fields:
the shape that is stored forever under the topic ``module:Aggregate.Event``), and decorates
its mutators with ``@event(ThatClass)``. `ledger.domain.events` indexes them for the code that
dispatches on them (views, trail, replay, checks).

Public methods check, then record: they raise a `LedgerError` before any event is triggered,
so a refused command leaves an aggregate exactly as it was. Methods decorated with `@event`
only assign state; they run again on every replay and never read a clock or a database.
"""

from ledger.domain.award import Award
from ledger.domain.budget import Budget
from ledger.domain.enterprise import Enterprise
from ledger.domain.financing import Financing
from ledger.domain.measure import Measure
from ledger.domain.receipt import CommandReceipt
from ledger.domain.transfer import PatentTransfer
from ledger.domain.user import ROLES, User

__all__ = [
    "ROLES",
    "Award",
    "Budget",
    "CommandReceipt",
    "Enterprise",
    "Financing",
    "Measure",
    "PatentTransfer",
    "User",
]
