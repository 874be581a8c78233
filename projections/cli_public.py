"""`ledger public …`: public disclosure (公示) from the command line — what `/public/` serves.

`ledger public export --format json|csv -o FILE` writes the disclosed awards in the 360Giving
Data Standard (see `projections.giving360`); `ledger public fields` shows what is published
and what the open-data export still needs. The settings are the web's: `LEDGER_PUBLIC_FIELDS`,
`LEDGER_FUNDER_ORG_ID`, `LEDGER_FUNDER_NAME`, `LEDGER_GRANT_ID_PREFIX`, `LEDGER_PUBLIC_URL`.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import click

from ledger.cli_support import open_app
from ledger.shanghai import SHANGHAI, parse_instant
from projections import giving360
from projections.queries import public as public_queries
from projections.queries import views_position


def _publication() -> giving360.Publication:
    try:
        return giving360.Publication.from_env()
    except ValueError as error:
        raise click.UsageError(str(error)) from None


@click.group()
def public() -> None:
    """Public disclosure of the awards made (公示): what is published, and its open-data export.

    公示：公开的字段，以及 360Giving 开放数据导出。"""


@public.command("fields")
def fields() -> None:
    """Show which fields are published and whether the open-data export can be written."""
    publication = _publication()
    state = "开启 / on" if publication.enabled else "关闭 / off (LEDGER_PUBLIC_DISCLOSURE=0)"
    click.echo(f"公示页面 / public page: {state}")
    click.echo("公开字段 / published fields: " + ", ".join(publication.fields))
    try:
        publication.check_open_data()
        click.echo(f"开放数据 / open data: 可导出 / ready (funder {publication.funder_org_id})")
    except giving360.PublicationIncomplete as error:
        click.echo(f"开放数据 / open data: {error}")


@public.command("export")
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json", show_default=True,
              help="json: a 360Giving grant package; csv: the standard's flat table (UTF-8 with BOM).")
@click.option("--year", "fiscal_year", type=click.IntRange(2000, 2100), help="Only this fiscal year.")
@click.option("--measure", type=click.Choice([f"M{n:02d}" for n in range(1, 14)], case_sensitive=False),
              help="Only this measure.")
@click.option("-o", "--output", type=click.File("w", encoding="utf-8"), default="-", show_default=True,
              help="Where to write it (- for standard output).")
@click.pass_context
def export(ctx: click.Context, fmt: str, fiscal_year: int | None, measure: str | None,
           output: click.utils.LazyFile) -> None:  # fmt: skip
    """Write the disclosed awards in the 360Giving Data Standard (every one: no cap).

    以 360Giving 数据标准导出公示的奖补（全部，不截断）。"""
    publication = _publication()
    try:
        publication.check_open_data()
    except giving360.PublicationIncomplete as error:
        raise click.UsageError(str(error)) from None
    app = open_app(ctx)
    measure = measure.upper() if measure else None
    totals = public_queries.public_totals(app, fiscal_year, measure)
    if totals.awards == 0:
        raise click.UsageError("没有符合条件的公示奖补 / no disclosed award matches these filters")
    moment = parse_instant(views_position(app).recorded_at) or datetime.now(UTC)
    modified_at = moment.astimezone(SHANGHAI).isoformat(timespec="seconds")
    chunks = giving360.package_chunks if fmt == "json" else giving360.csv_chunks
    awards = public_queries.iter_public_awards(app, fiscal_year, measure)
    for n, chunk in enumerate(chunks(awards, publication, app.catalogue, modified_at)):
        output.write(chunk)
        if n and n % 1000 == 0:
            click.echo(f"… {n} / {totals.awards}", err=True)
    click.echo(f"已导出 {totals.awards} 项奖补 / exported {totals.awards} awards", err=True)
    sys.stdout.flush()


commands = [public]
