"""The Songjiang support ledger: the write side (domain and application)."""
