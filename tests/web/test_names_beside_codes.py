"""Lists name the enterprise beside its credit code, not the bare code."""

from __future__ import annotations

from typing import Any

import factories as f


def test_transfers_and_financing_name_the_enterprise_beside_its_code(as_user: Any) -> None:
    vic = as_user("vic")
    for path in ("/transfers", "/financing"):
        text = vic.get(path).get_data(as_text=True)
        assert "上海测试科技有限公司</a> <small>" + f.USCC_A + "</small>" in text, path
