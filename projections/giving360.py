"""Public disclosure in the 360Giving Data Standard (version 1.4): a JSON grant package and the
standard's flat CSV, built from the disclosed awards (`projections.queries.public`).

- `id` is the publisher's 360Giving prefix followed by the award reference;
- `currency` is CNY and amounts are yuan as JSON numbers with at most two decimals (exact: they
  are made from integer fen through `Decimal`);
- `recipientOrganization.id` is the credit code under org-id.guide's list `CN-USCC`;
- `fundingOrganization` is the district, by the organisation id the administrator sets;
- `amountDisbursed` and `disbursementTransaction` come from the approved payments, net of
  reversals (a reversed payment is not listed, so the transactions add up to `amountDisbursed`);
- `grantProgramme` is the policy measure, `classifications` its support item.

Which fields are published is the administrator's choice (`Publication.fields`); the ones the
standard requires (recipient name and credit code, amount, award date) must be among them for
the open-data export, or `PublicationIncomplete` says which are missing.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ledger.catalogue import Catalogue
from ledger.identifiers import TOWNS
from projections.queries.public import PublicAward

SCHEMA_VERSION = "1.4"
#: Every field the disclosure can publish (none of them personal), in the order pages show them.
PUBLISHABLE_FIELDS = (
    "enterprise_name", "uscc", "town", "measure", "item", "fiscal_year", "decision_ref",
    "granted_on", "amount", "disbursed",
)  # fmt: skip
#: The fields without which a 360Giving grant cannot be written.
REQUIRED_FOR_360GIVING = ("enterprise_name", "uscc", "amount", "granted_on")


class PublicationIncomplete(ValueError):
    """The open-data export needs a setting or a field the administrator has not published."""

    def __init__(self, missing: tuple[str, ...]) -> None:
        self.missing = missing
        super().__init__(
            "公开数据导出需要以下设置或公开字段：" + "、".join(missing)
            + " / the open-data export needs these settings or published fields: "
            + ", ".join(missing)
        )


@dataclass(frozen=True)
class Publication:
    """What the district publishes and as whom (from `LEDGER_PUBLIC_*` and `LEDGER_FUNDER_*`)."""

    enabled: bool = True
    fields: tuple[str, ...] = PUBLISHABLE_FIELDS
    funder_org_id: str = ""
    funder_name: str = "上海市松江区人民政府"
    grant_id_prefix: str = "360G-songjiang-qsip-"
    data_source: str = ""

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Publication:
        """The publication the environment describes. `LEDGER_PUBLIC_DISCLOSURE=0` switches it
        off; `LEDGER_PUBLIC_FIELDS` is a comma-separated choice from `PUBLISHABLE_FIELDS`
        (unknown names are refused: `ValueError`)."""
        env = dict(os.environ if env is None else env)
        chosen = env.get("LEDGER_PUBLIC_FIELDS", "").strip()
        fields = tuple(f.strip() for f in chosen.split(",") if f.strip()) or PUBLISHABLE_FIELDS
        unknown = [f for f in fields if f not in PUBLISHABLE_FIELDS]
        if unknown:
            raise ValueError(
                f"LEDGER_PUBLIC_FIELDS 含未知字段 / has unknown fields: {', '.join(unknown)} "
                f"(可选 / choose from: {', '.join(PUBLISHABLE_FIELDS)})"
            )
        defaults = cls()
        return cls(
            enabled=env.get("LEDGER_PUBLIC_DISCLOSURE", "1").strip() != "0",
            fields=tuple(f for f in PUBLISHABLE_FIELDS if f in fields),
            funder_org_id=env.get("LEDGER_FUNDER_ORG_ID", "").strip(),
            funder_name=env.get("LEDGER_FUNDER_NAME", "").strip() or defaults.funder_name,
            grant_id_prefix=env.get("LEDGER_GRANT_ID_PREFIX", "").strip()
            or defaults.grant_id_prefix,
            data_source=env.get("LEDGER_PUBLIC_URL", "").strip(),
        )  # fmt: skip

    def shows(self, field: str) -> bool:
        return field in self.fields

    def check_open_data(self) -> None:
        """Raise `PublicationIncomplete` unless a 360Giving export can be written."""
        missing = tuple(f for f in REQUIRED_FOR_360GIVING if f not in self.fields)
        if not self.funder_org_id:
            missing = ("LEDGER_FUNDER_ORG_ID", *missing)
        if missing:
            raise PublicationIncomplete(missing)


def yuan_number(amount_fen: int) -> int | float:
    """Yuan as a JSON number: an integer when whole, else exactly two decimals' worth."""
    value = Decimal(amount_fen) / 100
    return int(value) if value == value.to_integral_value() else float(value)


def grant(award: PublicAward, publication: Publication, catalogue: Catalogue, modified_at: str) -> dict[str, Any]:
    """One award as a 360Giving grant (only the published optional fields)."""
    shows = publication.shows
    measure = catalogue.measure(award.measure)
    item = measure.item(award.item)
    out: dict[str, Any] = {
        "id": publication.grant_id_prefix + award.reference,
        "title": f"{measure.title_zh}：{item.title_zh}",
        "description": f"{catalogue.policy_ref} {measure.code} {item.title_zh} / {item.title_en}",
        "currency": "CNY",
        "amountAwarded": yuan_number(award.awarded_fen),
        "awardDate": award.granted_on,
        "recipientOrganization": [{"id": f"CN-USCC-{award.uscc}", "name": award.enterprise_name}],
        "fundingOrganization": [{"id": publication.funder_org_id, "name": publication.funder_name}],
        "dateModified": modified_at,
    }
    if shows("measure"):
        out["grantProgramme"] = [{"code": measure.code, "title": measure.title_zh}]
    if shows("item"):
        out["classifications"] = [
            {"vocabulary": catalogue.policy_ref, "code": item.code, "title": item.title_zh}
        ]
    if shows("town") and award.town_code in TOWNS:
        town = TOWNS[award.town_code]
        out["beneficiaryLocation"] = [{
            "name": town.name_zh, "countryCode": "CN", "geoCode": award.town_code,
            "geoCodeType": "CN-township",
        }]  # fmt: skip
    if shows("decision_ref"):
        out["relatedDocument"] = [
            {"id": award.decision_ref, "title": award.decision_ref, "documentType": "decision"}
        ]
    if shows("disbursed"):
        out["amountDisbursed"] = yuan_number(award.disbursed_fen)
        out["disbursementTransaction"] = [
            {"id": p.reference, "transactionDate": p.paid_on, "currency": "CNY",
             "value": yuan_number(p.amount_fen)}
            for p in award.payments
        ]  # fmt: skip
    if publication.data_source:
        out["dataSource"] = publication.data_source
    return out


def package_chunks(
    awards: Iterable[PublicAward], publication: Publication, catalogue: Catalogue, modified_at: str
) -> Iterator[str]:
    """The 360Giving JSON package as text chunks, one grant at a time (streamable)."""
    publication.check_open_data()
    head = {"version": SCHEMA_VERSION, "title": f"{publication.funder_name} {catalogue.title_zh}"}
    yield json.dumps(head, ensure_ascii=False)[:-1] + ', "grants": ['
    for n, award in enumerate(awards):
        body = json.dumps(grant(award, publication, catalogue, modified_at), ensure_ascii=False)
        yield ("," if n else "") + "\n" + body
    yield "\n]}\n"


#: The 360Giving flat CSV's column titles (as its spreadsheet template names them) and how
#: each is read from a grant.
CSV_COLUMNS: tuple[tuple[str, Any], ...] = (
    ("Identifier", lambda g: g["id"]),
    ("Title", lambda g: g["title"]),
    ("Description", lambda g: g["description"]),
    ("Currency", lambda g: g["currency"]),
    ("Amount Awarded", lambda g: g["amountAwarded"]),
    ("Amount Disbursed", lambda g: g.get("amountDisbursed", "")),
    ("Award Date", lambda g: g["awardDate"]),
    ("Recipient Org:Identifier", lambda g: g["recipientOrganization"][0]["id"]),
    ("Recipient Org:Name", lambda g: g["recipientOrganization"][0]["name"]),
    ("Funding Org:Identifier", lambda g: g["fundingOrganization"][0]["id"]),
    ("Funding Org:Name", lambda g: g["fundingOrganization"][0]["name"]),
    ("Grant Programme:Code", lambda g: g.get("grantProgramme", [{}])[0].get("code", "")),
    ("Grant Programme:Title", lambda g: g.get("grantProgramme", [{}])[0].get("title", "")),
    ("Beneficiary Location:Name", lambda g: g.get("beneficiaryLocation", [{}])[0].get("name", "")),
    ("Beneficiary Location:Geographic Code", lambda g: g.get("beneficiaryLocation", [{}])[0].get("geoCode", "")),
    ("Last Modified", lambda g: g["dateModified"]),
)  # fmt: skip


def csv_chunks(
    awards: Iterable[PublicAward], publication: Publication, catalogue: Catalogue, modified_at: str
) -> Iterator[str]:
    """The 360Giving flat CSV (UTF-8 with a BOM, so spreadsheets open it in Chinese), a row at a
    time; cells that a spreadsheet would run as a formula are neutralised."""
    from ledger.csvsafe import SafeDictWriter

    publication.check_open_data()
    out = io.StringIO()
    names = [title for title, _ in CSV_COLUMNS]
    writer = SafeDictWriter(out, names, quoting=csv.QUOTE_MINIMAL)
    writer.writeheader()
    yield "\ufeff" + _drain(out)
    for award in awards:
        g = grant(award, publication, catalogue, modified_at)
        writer.writerow({title: read(g) for title, read in CSV_COLUMNS})
        yield _drain(out)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
