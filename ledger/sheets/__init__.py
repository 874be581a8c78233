"""Spreadsheets in: reading `.xlsx` workbooks and CSV files in the encodings Chinese Excel saves,
their Chinese headers, dates and yuan amounts; and writing import templates.

`ledger.sheets.headers` is the one table of column names (pure data, no I/O).
"""
