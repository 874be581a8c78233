"""Amounts in Chinese capitals (人民币大写), as written on payment lists and vouchers.

`capitals(123456789)` → "壹佰贰拾叁万肆仟伍佰陆拾柒元捌角玖分". Integer fen in, exact integer
arithmetic throughout (no float, no string replacement). The rules of 《支付结算办法》 附件一
(正确填写票据和结算凭证的基本规定), taking the stricter choice wherever they leave one:

- digits 零壹贰叁肆伍陆柒捌玖 with units 拾佰仟 inside each group of four, 万 and 亿 after a
  group that is not all zeros; "壹拾" is written in full (10 → 壹拾元整);
- any run of zeros between two written digits is one 零, also across an empty 万 group and
  where the 万 digit is zero before a 仟 digit (10,001,000 → 壹仟万零壹仟元整; the rules allow
  leaving that 零 out, which makes an alteration easier, so it is always written);
- trailing zeros are not written; 元 ends the yuan part, then 整 if there are no jiao and fen
  (壹万元整), or after 角 when there are no fen (壹元伍角整); never after 分;
- a zero 角 between yuan and fen is 零 (壹仟零伍元零陆分); a zero 元 digit before a jiao is
  not (壹仟陆佰捌拾元叁角贰分), as the rules allow; below one yuan the yuan part is left out
  (伍角整, 陆分), and nothing at all is 零元整.

cn2an (0.5.24) was weighed and not used: its values are right, but it drops 零 after 万 or 亿
before a 仟 digit (100,001,000 → 壹亿壹仟元整), the laxer of the two choices the rules allow.
"""

from __future__ import annotations

__all__ = ["MAX_CAPITALS_FEN", "capitals"]

DIGITS = "零壹贰叁肆伍陆柒捌玖"
#: Units inside a group of four digits, from the right.
GROUP_UNITS = ("", "拾", "佰", "仟")
#: The unit after each group of four, from the right (up to 9,999 亿).
GROUP_NAMES = ("", "万", "亿")
#: The largest amount written: 999,999,999,999.99 yuan (four digits of 亿).
MAX_CAPITALS_FEN = 10**14 - 1


def _yuan_words(yuan: int) -> str:
    """The words of a whole number of yuan, 1 ≤ yuan < 10¹² (without 元)."""
    digits = str(yuan)
    out: list[str] = []
    zero_pending = False  # a zero seen since the last written digit
    group_has_digit = False
    for index, char in enumerate(digits):
        place = len(digits) - 1 - index  # 0 = units
        digit = ord(char) - ord("0")
        if digit:
            if zero_pending and out:
                out.append("零")
            out.append(DIGITS[digit] + GROUP_UNITS[place % 4])
            zero_pending = False
            group_has_digit = True
        else:
            zero_pending = True
        if place % 4 == 0:
            if group_has_digit:
                out.append(GROUP_NAMES[place // 4])
            group_has_digit = False
    return "".join(out)


def capitals(amount_fen: int) -> str:
    """`amount_fen` (0 ≤ amount_fen ≤ MAX_CAPITALS_FEN) in Chinese capitals, e.g. 1_234_567 →
    "壹万贰仟叁佰肆拾伍元陆角柒分"; raises ValueError for anything else."""
    if type(amount_fen) is not int or not 0 <= amount_fen <= MAX_CAPITALS_FEN:
        raise ValueError(f"capitals() takes whole fen from 0 to {MAX_CAPITALS_FEN}: {amount_fen!r}")
    yuan, cents = divmod(amount_fen, 100)
    jiao, fen = divmod(cents, 10)
    if amount_fen == 0:
        return "零元整"
    words = _yuan_words(yuan) + "元" if yuan else ""
    if jiao:
        words += DIGITS[jiao] + "角"
    elif fen and yuan:
        words += "零"
    words += DIGITS[fen] + "分" if fen else "整"
    return words
