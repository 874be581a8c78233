"""The enterprise page shows a page of awards and of trail entries; the rest are links away."""

from __future__ import annotations

import re
from typing import Any

import factories as f

from web import pages


def test_an_enterprise_page_shows_awards_and_trail_a_page_at_a_time(
    as_user: Any, seeded: Any, monkeypatch: Any
) -> None:
    from projections.runner import catch_up

    assert not isinstance(seeded.execute_many([(f.award("A-9", amount_fen=3_000_000), "olga")])[0], Exception)
    catch_up(seeded)
    monkeypatch.setattr(pages, "AWARDS_PAGE_SIZE", 1)
    monkeypatch.setattr(pages, "TRAIL_PAGE_SIZE", 2)
    vic = as_user("vic")
    first = vic.get(f"/enterprises/{f.USCC_A}").get_data(as_text=True)
    shown = {ref for ref in ("A-1", "A-9") if f'<th scope="row">{ref}' in first}
    assert len(shown) == 1
    assert f"/enterprises/{f.USCC_A}?awards=2#awards" in first
    second = vic.get(f"/enterprises/{f.USCC_A}?awards=2").get_data(as_text=True)
    assert {ref for ref in ("A-1", "A-9") if f'<th scope="row">{ref}' in second} == {"A-1", "A-9"} - shown
    assert f"/enterprises/{f.USCC_A}?awards=1#awards" in second

    positions = [int(p) for p in re.findall(r'<a href="/events/(\d+)">', first)]
    assert len(positions) == 2 and positions[0] > positions[1]
    older = re.search(rf'href="/enterprises/{f.USCC_A}\?before=(\d+)#trail"', first)
    assert older and int(older.group(1)) == positions[1]
    page = vic.get(f"/enterprises/{f.USCC_A}?before={positions[1]}").get_data(as_text=True)
    assert all(int(p) < positions[1] for p in re.findall(r'<a href="/events/(\d+)">', page))
    assert f'href="/enterprises/{f.USCC_A}#trail"' in page  # back to the latest events
    assert vic.get(f"/enterprises/{f.USCC_A}?awards=0").status_code == 400
