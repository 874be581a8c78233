"""The policy catalogue: the measures of 沪松府〔2025〕167号 and the support items under each.

The catalogue is data, shipped as `policy_2025.json` next to this module. `load_catalogue()`
reads and validates it once and returns immutable `Catalogue`, `MeasureSpec` and `ItemSpec`
records. A file that breaks any rule is refused with a `CatalogueError` that lists every
problem found, not just the first.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from ledger.money import MoneyError, check_fen

__all__ = [
    "DEFAULT_RESOURCE",
    "ITEM_KINDS",
    "PILLARS",
    "POLICY_MEASURES",
    "Catalogue",
    "CatalogueError",
    "ItemSpec",
    "MeasureSpec",
    "load_catalogue",
    "parse_catalogue",
]

Pillar = Literal["quality", "standards", "ip"]
ItemKind = Literal["award", "subsidy", "matching", "interest_subsidy"]

PILLARS: tuple[str, ...] = ("quality", "standards", "ip")
ITEM_KINDS: tuple[str, ...] = ("award", "subsidy", "matching", "interest_subsidy")

#: The thirteen measures of the 2025 policy and the pillar each belongs to (DESIGN §1).
POLICY_MEASURES: Mapping[str, str] = MappingProxyType(
    {
        **{f"M{n:02d}": "quality" for n in range(1, 5)},
        **{f"M{n:02d}": "standards" for n in range(5, 10)},
        **{f"M{n:02d}": "ip" for n in range(10, 14)},
    }
)

#: The packaged catalogue file that `load_catalogue()` reads by default.
DEFAULT_RESOURCE = "policy_2025.json"

_MEASURE_CODE_RE = re.compile(r"M[0-9]{2}", re.ASCII)
_ITEM_CODE_RE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*", re.ASCII)

#: Stands for a field that is absent (already reported as missing) while checking.
_MISSING: Any = object()


class CatalogueError(ValueError):
    """A catalogue that is not valid; `problems` lists every problem found."""

    def __init__(self, source: str, problems: list[str] | tuple[str, ...]) -> None:
        self.source = source
        self.problems = tuple(problems)
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(
            f"the policy catalogue {source} has {len(self.problems)} problem(s):\n{lines}"
        )


@dataclass(frozen=True, slots=True)
class ItemSpec:
    """One support item under a measure: what is paid for, of which kind, up to how much.

    `max_fen` is the most one award under the item may be (None when the policy sets no
    fixed maximum); `counts_towards_cap` says whether awards under it count towards the
    enterprise's annual cap (national and international honours do not).
    """

    code: str
    title_zh: str
    title_en: str
    kind: ItemKind
    max_fen: int | None
    counts_towards_cap: bool
    rule_zh: str | None
    rule_en: str | None

    def to_json_dict(self) -> dict[str, Any]:
        """The item in the catalogue file's JSON shape."""
        return {
            "code": self.code,
            "title_zh": self.title_zh,
            "title_en": self.title_en,
            "kind": self.kind,
            "max_fen": self.max_fen,
            "counts_towards_cap": self.counts_towards_cap,
            "rule_zh": self.rule_zh,
            "rule_en": self.rule_en,
        }


@dataclass(frozen=True, slots=True)
class MeasureSpec:
    """One measure of the policy (M01 to M13), its pillar and its support items."""

    code: str
    pillar: Pillar
    title_zh: str
    title_en: str
    items: tuple[ItemSpec, ...]

    def item(self, code: str) -> ItemSpec:
        """The item with this code; raises KeyError if the measure has none."""
        for item in self.items:
            if item.code == code:
                return item
        raise KeyError(f"{self.code} has no item {code!r}")

    def to_json_dict(self) -> dict[str, Any]:
        """The measure in the catalogue file's JSON shape."""
        return {
            "code": self.code,
            "pillar": self.pillar,
            "title_zh": self.title_zh,
            "title_en": self.title_en,
            "items": [item.to_json_dict() for item in self.items],
        }


@dataclass(frozen=True, slots=True)
class Catalogue:
    """The whole policy catalogue: its reference, titles, annual cap and measures."""

    policy_ref: str
    title_zh: str
    title_en: str
    annual_cap_fen: int
    measures: tuple[MeasureSpec, ...]

    def measure(self, code: str) -> MeasureSpec:
        """The measure with this code; raises KeyError if there is none."""
        for measure in self.measures:
            if measure.code == code:
                return measure
        raise KeyError(f"no measure {code!r}")

    def item(self, measure_code: str, item_code: str) -> ItemSpec:
        """The item `item_code` of measure `measure_code`; raises KeyError if unknown."""
        return self.measure(measure_code).item(item_code)

    def to_json_dict(self) -> dict[str, Any]:
        """The catalogue in its file's JSON shape."""
        return {
            "policy_ref": self.policy_ref,
            "title_zh": self.title_zh,
            "title_en": self.title_en,
            "annual_cap_fen": self.annual_cap_fen,
            "measures": [measure.to_json_dict() for measure in self.measures],
        }


def load_catalogue(path: str | os.PathLike[str] | None = None) -> Catalogue:
    """Read and validate a catalogue file; without `path`, the packaged 2025 catalogue.

    The packaged catalogue must hold exactly the measures M01 to M13 with their DESIGN
    pillars, and is read only once per process. A custom file may hold any measures.
    Raises `CatalogueError` listing every problem found; a file that cannot be read
    raises the usual OSError.
    """
    if path is None:
        return _default_catalogue()
    source = os.fspath(path)
    return _parse_text(Path(source).read_text(encoding="utf-8"), source, False)


@functools.cache
def _default_catalogue() -> Catalogue:
    text = resources.files(__name__).joinpath(DEFAULT_RESOURCE).read_text(encoding="utf-8")
    return _parse_text(text, f"{__name__}/{DEFAULT_RESOURCE}", True)


def _parse_text(text: str, source: str, require_policy_measures: bool) -> Catalogue:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CatalogueError(source, [f"not valid JSON: {exc}"]) from None
    return parse_catalogue(data, source=source, require_policy_measures=require_policy_measures)


def parse_catalogue(
    data: object, *, source: str = "<data>", require_policy_measures: bool = False
) -> Catalogue:
    """Build a `Catalogue` from decoded JSON, or raise `CatalogueError` with every problem.

    With `require_policy_measures`, the measures must be exactly M01 to M13, in order,
    each in its DESIGN pillar.
    """
    problems: list[str] = []
    catalogue = _Checker(problems).catalogue(data)
    if catalogue is not None and require_policy_measures:
        codes = [measure.code for measure in catalogue.measures]
        if codes != list(POLICY_MEASURES):
            problems.append(f"measures: must be exactly M01 to M13 in order, not {codes}")
        for measure in catalogue.measures:
            expected = POLICY_MEASURES.get(measure.code)
            if expected is not None and measure.pillar != expected:
                problems.append(
                    f"{measure.code}.pillar: must be {expected!r}, not {measure.pillar!r}"
                )
    if problems or catalogue is None:
        raise CatalogueError(source, problems)
    return catalogue


class _Checker:
    """Reads decoded JSON into catalogue records, noting every problem on the way.

    Each reader returns None when anything in its part was wrong; a field that is absent
    is reported once, as missing, and not again as having the wrong type.
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems

    def _fields(
        self, value: object, where: str, required: tuple[str, ...], optional: tuple[str, ...]
    ) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.problems.append(f"{where}: must be a JSON object, not {_json_type(value)}")
            return None
        missing = [key for key in required if key not in value]
        unknown = sorted(set(value) - set(required) - set(optional))
        if missing:
            self.problems.append(f"{where}: missing {', '.join(missing)}")
        if unknown:
            self.problems.append(f"{where}: unknown field(s) {', '.join(map(str, unknown))}")
        fields = {key: value.get(key, _MISSING) for key in required}
        fields.update({key: value.get(key) for key in optional})
        return fields

    def _text(self, value: object, where: str, *, nullable: bool = False) -> str | None:
        if value is _MISSING or (value is None and nullable):
            return None
        if not isinstance(value, str) or not value.strip():
            allowed = "non-empty text or null" if nullable else "non-empty text"
            self.problems.append(f"{where}: must be {allowed}, not {value!r}")
            return None
        return value

    def _fen(self, value: object, where: str, *, nullable: bool, allow_zero: bool) -> int | None:
        if value is _MISSING or (value is None and nullable):
            return None
        try:
            return check_fen(value, field=where, allow_zero=allow_zero)
        except MoneyError as exc:
            self.problems.append(f"{exc.message_en}{' (or null)' if nullable else ''}")
            return None

    def _choice(self, value: object, where: str, allowed: tuple[str, ...]) -> None:
        if value is not _MISSING and value not in allowed:
            self.problems.append(f"{where}: must be one of {', '.join(allowed)}, not {value!r}")

    def _code(self, value: object, where: str, pattern: re.Pattern[str], rule: str) -> str:
        """`where`, naming the code when it is valid, for the messages that follow."""
        if value is _MISSING:
            return where
        if not isinstance(value, str) or not pattern.fullmatch(value):
            self.problems.append(f"{where}.code: must be {rule}, not {value!r}")
            return where
        return f"{where} ({value})"

    def _unique(self, raw: object, seen: set[str], where: str) -> None:
        code = raw.get("code") if isinstance(raw, dict) else None
        if isinstance(code, str):
            if code in seen:
                self.problems.append(f"{where}.code: duplicate {code!r}")
            seen.add(code)

    def _list(self, value: object, where: str) -> list[Any]:
        if value is _MISSING:
            return []
        if not isinstance(value, list) or not value:
            self.problems.append(f"{where}: must be a non-empty list, not {_json_type(value)}")
            return []
        return value

    def catalogue(self, data: object) -> Catalogue | None:
        before = len(self.problems)
        keys = ("policy_ref", "title_zh", "title_en", "annual_cap_fen", "measures")
        fields = self._fields(data, "catalogue", keys, ())
        if fields is None:
            return None
        policy_ref = self._text(fields["policy_ref"], "policy_ref")
        title_zh = self._text(fields["title_zh"], "title_zh")
        title_en = self._text(fields["title_en"], "title_en")
        cap_fen = self._fen(
            fields["annual_cap_fen"], "annual_cap_fen", nullable=False, allow_zero=False
        )
        measures: list[MeasureSpec] = []
        seen: set[str] = set()
        for index, raw in enumerate(self._list(fields["measures"], "measures")):
            self._unique(raw, seen, f"measures[{index}]")
            measure = self.measure(raw, f"measures[{index}]")
            if measure is not None:
                measures.append(measure)
        if len(self.problems) > before:
            return None
        assert policy_ref and title_zh and title_en and cap_fen is not None
        return Catalogue(policy_ref, title_zh, title_en, cap_fen, tuple(measures))

    def measure(self, raw: object, where: str) -> MeasureSpec | None:
        before = len(self.problems)
        keys = ("code", "pillar", "title_zh", "title_en", "items")
        fields = self._fields(raw, where, keys, ())
        if fields is None:
            return None
        code, pillar = fields["code"], fields["pillar"]
        where = self._code(code, where, _MEASURE_CODE_RE, "'M' and two digits")
        self._choice(pillar, f"{where}.pillar", PILLARS)
        title_zh = self._text(fields["title_zh"], f"{where}.title_zh")
        title_en = self._text(fields["title_en"], f"{where}.title_en")
        items: list[ItemSpec] = []
        seen: set[str] = set()
        for index, raw_item in enumerate(self._list(fields["items"], f"{where}.items")):
            self._unique(raw_item, seen, f"{where}.items[{index}]")
            item = self.item(raw_item, f"{where}.items[{index}]")
            if item is not None:
                items.append(item)
        if len(self.problems) > before:
            return None
        assert title_zh and title_en
        return MeasureSpec(code, pillar, title_zh, title_en, tuple(items))

    def item(self, raw: object, where: str) -> ItemSpec | None:
        before = len(self.problems)
        keys = ("code", "title_zh", "title_en", "kind", "max_fen", "counts_towards_cap")
        fields = self._fields(raw, where, keys, ("rule_zh", "rule_en"))
        if fields is None:
            return None
        code, kind, counts = fields["code"], fields["kind"], fields["counts_towards_cap"]
        where = self._code(code, where, _ITEM_CODE_RE, "lowercase snake_case")
        title_zh = self._text(fields["title_zh"], f"{where}.title_zh")
        title_en = self._text(fields["title_en"], f"{where}.title_en")
        self._choice(kind, f"{where}.kind", ITEM_KINDS)
        max_fen = self._fen(fields["max_fen"], f"{where}.max_fen", nullable=True, allow_zero=True)
        if counts is not _MISSING and not isinstance(counts, bool):
            self.problems.append(
                f"{where}.counts_towards_cap: must be true or false, not {counts!r}"
            )
        rule_zh = self._text(fields["rule_zh"], f"{where}.rule_zh", nullable=True)
        rule_en = self._text(fields["rule_en"], f"{where}.rule_en", nullable=True)
        if len(self.problems) > before:
            return None
        assert title_zh and title_en
        return ItemSpec(code, title_zh, title_en, kind, max_fen, counts, rule_zh, rule_en)


def _json_type(value: object) -> str:
    """The JSON name of a decoded value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an empty list" if not value else "a list"
    if isinstance(value, str):
        return "text"
    return "a number"
