"""Read models of the ledger: balances, conversion metrics and the audit-trail index.

The views live in the same database as the events and are kept current by `runner.Runner`
(`ledger project`, `ledger worker`); `queries` answers questions from them.
"""
