"""A second test corpus, made independently of the first (``tests/extract/corpus.py``).

Another generator, so that extraction is not tuned to one: other places (杭州, 宁波, 温州, 嘉兴
instead of 舟山), other layouts (2nd-generation and specimen ID cards, both card sides; licences
in the 2019 two-column style, the 2015 one-column style with colons and a ruled-table style
whose narrow label column wraps 法定代表人 into 法定代 / 表人 and sets 经营范围 vertically;
social-insurance certificates printed by two systems), the label variants real documents use
(经营者 / 经营场所 for a sole proprietor, 执行事务合伙人 / 主要经营场所 for a partnership,
公民身份证号码 on a specimen card), every CJK face the machine has (``corpus2_draw.faces``),
wide-spaced labels, seals over the authority and the date, and phone photos (perspective,
blur, uneven light) instead of scans. Pages are drawn by Pillow, not PyMuPDF, and no code is
shared with the first corpus: the truth is computed here from the values drawn, with its own
check-digit and number-writing code.

    from tests.extract.corpus2 import KINDS, make_samples
    for s in make_samples("business_licence", 6):
        s.truth, s.style, s.face, s.png_bytes, s.photo()
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import random
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from tests.extract.corpus2_draw import Canvas, faces, phone_photo
from tests.extract.corpus2_layouts import A4, CARD, LAYOUTS

__all__ = ["KINDS", "Sample", "make_samples"]

KINDS = ("id_card_front", "id_card_back", "business_licence", "social_insurance_certificate")

# city, its code, districts (name, code, streets)
_PLACES = (
    (
        "杭州市",
        "330100",
        (
            ("上城区", "330102", ("解放路", "建国中路", "望江东路")),
            ("西湖区", "330106", ("文三路", "天目山路", "学院路")),
            ("拱墅区", "330105", ("莫干山路", "湖墅南路")),
        ),
    ),
    (
        "宁波市",
        "330200",
        (
            ("海曙区", "330203", ("中山西路", "望春路")),
            ("鄞州区", "330212", ("天童南路", "钱湖北路")),
        ),
    ),
    ("温州市", "330300", (("鹿城区", "330302", ("人民路", "车站大道")),)),
    ("嘉兴市", "330400", (("南湖区", "330402", ("中山东路", "广益路")),)),
)
_SURNAMES = (
    "王李赵钱孙周吴郑冯陈褚卫蒋沈韩杨朱秦许何吕施孔曹严金魏陶姜谢邹"
    + "喻柏窦章云苏潘葛范彭郎鲁韦马方俞任袁柳"
)
_GIVEN = "子涵浩然雨轩欣怡梓萱俊杰宇航思远嘉怡晨阳若曦佳琪志强丽华建国秀英文博明轩雅静一鸣天佑"
_PEOPLE = ("汉", "汉", "汉", "汉", "汉", "回", "满", "苗", "土家", "蒙古")
_BRANDS = ("钱塘", "西子", "天一", "瓯江", "南湖", "之江", "明州", "运河", "三江", "越秀")
_TRADES = (
    (
        "电子科技",
        "电子产品销售；软件开发；信息技术咨询服务；计算机系统服务；"
        "网络技术服务；数据处理服务；物联网技术研发",
    ),
    (
        "商贸",
        "日用百货销售；五金产品批发；五金产品零售；建筑材料销售；针纺织品销售；"
        "服装服饰批发；食品销售（仅销售预包装食品）",
    ),
    (
        "餐饮管理",
        "餐饮服务；餐饮管理；食品销售；外卖递送服务；酒类经营；非居住房地产租赁；会议及展览服务",
    ),
)
_UNITS = "零壹贰叁肆伍陆柒捌玖"
_ID_WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def _id_check(body: str) -> str:
    return "10X98765432"[sum(int(c) * w for c, w in zip(body, _ID_WEIGHTS, strict=True)) % 11]


def _uscc_check(body: str) -> str:
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(body, _USCC_WEIGHTS, strict=True))
    return _USCC_CHARS[(31 - total % 31) % 31]


def _wrong(check: str, alphabet: str) -> str:
    return alphabet[(alphabet.index(check) + 1) % len(alphabet)]


def _upper_wan(n: int) -> str:
    """1..9999 in capital numerals (伍仟零捌拾), the 万 amount a licence prints."""
    out, zero = "", False
    for digit, unit in zip(f"{n:04d}", ("仟", "佰", "拾", ""), strict=True):
        if digit == "0":
            zero = bool(out)
            continue
        out += ("零" if zero else "") + _UNITS[int(digit)] + unit
        zero = False
    return out


def _cn_date(d: dt.date, pad: bool = True) -> str:
    return f"{d.year}年{d.month:02d}月{d.day:02d}日" if pad else f"{d.year}年{d.month}月{d.day}日"


def _date(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randrange((end - start).days))


def _years_on(d: dt.date, years: int) -> dt.date:
    return d.replace(year=d.year + years, day=min(d.day, 28))


@dataclass
class _Person:
    name: str
    sex: str
    people: str
    born: dt.date
    number: str
    city: str
    district: str
    street: str


def _person(rng: random.Random, wrong_digit: bool) -> _Person:
    city, _, districts = rng.choice(_PLACES)
    district, code, streets = rng.choice(districts)
    sex = rng.choice("男女")
    born = _date(rng, dt.date(1955, 1, 1), dt.date(2004, 12, 31))
    order = rng.randrange(0, 100) * 10 + (
        rng.choice((1, 3, 5, 7, 9) if sex == "男" else (0, 2, 4, 6, 8))
    )
    body = f"{code}{born:%Y%m%d}{order:03d}"
    check = _id_check(body)
    if wrong_digit:
        check = _wrong(check, "0123456789X")
    name = rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2))))
    return _Person(
        name, sex, rng.choice(_PEOPLE), born, body + check, city, district, rng.choice(streets)
    )


def _home(rng: random.Random, p: _Person) -> str:
    return (
        f"浙江省{p.city}{p.district}{p.street}{rng.randint(1, 480)}号"
        f"{rng.randint(1, 30)}幢{rng.randint(1, 4)}单元{rng.randint(1, 28)}0{rng.randint(1, 4)}室"
    )


# ── one record per kind: (truth, printed, labels) ────────────────────────────────────────────


def _front(
    rng: random.Random, i: int, style: str
) -> tuple[dict[str, str], dict[str, Any], set[str]]:
    invalid = i % 6 == 4
    p = _person(rng, invalid)
    address = _home(rng, p)
    labels = {
        "name": "姓名",
        "sex": "性别",
        "ethnicity": "民族",
        "birth_date": "出生",
        "address": "住址",
        "id_number": "公民身份号码",
    }
    if style == "specimen":
        labels |= {"birth_date": "出生日期", "id_number": "公民身份证号码"}
    printed: dict[str, Any] = {
        "name": p.name,
        "sex": p.sex,
        "ethnicity": p.people,
        "birth_date": _cn_date(p.born, pad=False),
        "address": address,
        "id_number": p.number,
        "birth_parts": (str(p.born.year), str(p.born.month), str(p.born.day)),
    }
    truth = {
        "name": p.name,
        "sex": p.sex,
        "ethnicity": p.people,
        "birth_date": p.born.isoformat(),
        "address": address,
        "id_number": p.number,
    }
    return truth, printed | {"labels": labels}, {"id_number"} if invalid else set()


def _back(
    rng: random.Random, i: int, style: str
) -> tuple[dict[str, str], dict[str, Any], set[str]]:
    city, _, districts = rng.choice(_PLACES)
    district = rng.choice(districts)[0]
    issuer = f"{city}公安局{district.removesuffix('区')}分局"
    start = _date(rng, dt.date(2006, 1, 1), dt.date(2025, 12, 31))
    years = rng.choice((10, 20, 0))
    if years:
        end = start.replace(year=start.year + years)
        shown, truth_end = f"{start:%Y.%m.%d}-{end:%Y.%m.%d}", end.isoformat()
    else:
        shown, truth_end = f"{start:%Y.%m.%d}-长期", "长期"
    labels = {"issuer": "签发机关", "valid_period": "有效期限"}
    truth = {"issuer": issuer, "valid_period": f"{start.isoformat()}/{truth_end}"}
    return truth, {"issuer": issuer, "valid_period": shown, "labels": labels}, set()


def _licence(
    rng: random.Random, i: int, style: str
) -> tuple[dict[str, str], dict[str, Any], set[str]]:
    form = ("company", "company", "sole", "partnership")[i % 4]
    city, city_code, districts = rng.choice(_PLACES)
    district, district_code, streets = rng.choice(districts)
    by_city = rng.random() < 0.5
    authority = f"{city}市场监督管理局" if by_city else f"{city}{district}市场监督管理局"
    region = city_code if by_city else district_code
    org = "".join(rng.choice(_USCC_CHARS) for _ in range(9))
    body = ("92" if form == "sole" else "91") + region + org
    check = _uscc_check(body)
    invalid = i % 6 == 4
    if invalid:
        check = _wrong(check, _USCC_CHARS)
    trade, scope = rng.choice(_TRADES)
    boss = rng.choice(_SURNAMES) + rng.choice(_GIVEN) + rng.choice(_GIVEN)
    established = _date(rng, dt.date(2003, 1, 1), dt.date(2024, 12, 31))
    registered = _date(rng, established, dt.date(2026, 3, 31))
    street = rng.choice(streets)
    address = (
        f"浙江省{city}{district}{street}{rng.randint(1, 900)}号"
        f"{rng.randint(2, 21)}楼{rng.randint(1, 30)}0{rng.randint(1, 9)}室"
    )
    labels = {
        "name": "名称",
        "company_type": "类型",
        "legal_representative": "法定代表人",
        "registered_capital": "注册资本",
        "established_on": "成立日期",
        "business_term": "营业期限",
        "address": "住所",
        "business_scope": "经营范围",
    }
    truth = {
        "uscc": body + check,
        "legal_representative": boss,
        "business_scope": scope + "。",
        "established_on": established.isoformat(),
        "address": address,
        "registration_authority": authority,
        "registered_on": registered.isoformat(),
    }
    printed: dict[str, Any] = dict(
        truth, established_on=_cn_date(established), registered_on=_cn_date(registered)
    )
    wan = rng.choice((10, 50, 100, 300, 500, 1000, 2000, 5000, 8800, 1050))
    if form == "sole":
        labels |= {
            "company_type": "组成形式",
            "legal_representative": "经营者",
            "address": "经营场所",
            "established_on": "注册日期",
        }
        truth |= {"name": f"{district}{boss[0]}记{trade}经营部", "company_type": "个人经营"}
    else:
        end = _years_on(established, rng.choice((20, 30))) - dt.timedelta(days=1)
        long_term = rng.random() < 0.4
        printed["business_term"] = (
            f"{_cn_date(established)}至{'长期' if long_term else _cn_date(end)}"
        )
        truth["business_term"] = (
            f"{established.isoformat()}/{'长期' if long_term else end.isoformat()}"
        )
        truth["registered_capital"] = f"{wan * 10000}.00"
        printed["registered_capital"] = rng.choice(
            (f"{_upper_wan(wan)}万元整", f"{wan}万元人民币", f"人民币{wan}万元")
        )
        if form == "company":
            truth |= {
                "name": f"{city[:2]}{rng.choice(_BRANDS)}{trade}有限公司",
                "company_type": rng.choice(
                    ("有限责任公司（自然人投资或控股）", "有限责任公司（自然人独资）")
                ),
            }
        else:
            labels |= {
                "legal_representative": "执行事务合伙人",
                "address": "主要经营场所",
                "registered_capital": "出资额",
                "business_term": "合伙期限",
            }
            truth |= {
                "name": f"{city[:2]}{rng.choice(_BRANDS)}投资管理合伙企业（有限合伙）",
                "company_type": "有限合伙企业",
            }
    for name in ("name", "company_type"):
        printed[name] = truth[name]
    return truth, printed | {"labels": labels}, {"uscc"} if invalid else set()


def _insurance(
    rng: random.Random, i: int, style: str
) -> tuple[dict[str, str], dict[str, Any], set[str]]:
    invalid = i % 6 == 4
    p = _person(rng, invalid)
    since = _date(rng, max(_years_on(p.born, 18), dt.date(1995, 1, 1)), dt.date(2025, 6, 30))
    months = rng.randint(6, 360)
    employer = f"{p.city[:2]}{rng.choice(_BRANDS)}{rng.choice(_TRADES)[0]}有限公司"
    status = rng.choice(("正常参保", "正常缴费", "暂停缴费"))
    if style == "table":
        labels = {
            "name": "姓名",
            "id_number": "身份证号码",
            "employer": "参保单位",
            "insurance_status": "参保状态",
            "insured_since": "参保起始日期",
            "paid_months": "缴费月数",
        }
        shown_since, shown_months = since.isoformat(), str(months)
    else:
        labels = {
            "name": "姓名",
            "id_number": "公民身份号码",
            "employer": "当前参保单位",
            "insurance_status": "参保状态",
            "insured_since": "首次参保日期",
            "paid_months": "累计缴费月数",
        }
        shown_since, shown_months = _cn_date(since), f"{months}个月"
    truth = {
        "name": p.name,
        "id_number": p.number,
        "employer": employer,
        "insurance_status": status,
        "insured_since": since.isoformat(),
        "paid_months": str(months),
    }
    printed = dict(
        truth,
        insured_since=shown_since,
        paid_months=shown_months,
        labels=labels,
        serial=f"{rng.randrange(10**11, 10**12)}",
        place=p.city,
        printed_on=_cn_date(dt.date(2026, 5, rng.randint(1, 28))),
        office=f"{p.city}社会保险事业管理中心",
        notice="本证明依据社会保险信息系统记录生成，仅证明打印之日的参保情况；"
        "如需核验，请登录当地人力资源和社会保障部门网站或扫描二维码。",
    )
    return truth, printed, {"id_number"} if invalid else set()


_RECORDS = {
    "id_card_front": _front,
    "id_card_back": _back,
    "business_licence": _licence,
    "social_insurance_certificate": _insurance,
}


@dataclass
class Sample:
    kind: str
    name: str  # e.g. "c2_business_licence_003"
    style: str
    face: str
    truth: dict[str, str]
    printed: dict[str, Any] = field(repr=False)
    invalid_fields: set[str]
    pixels: NDArray[np.uint8] = field(repr=False)
    dpi: int = 200

    def image(self) -> NDArray[np.uint8]:
        return self.pixels

    @functools.cached_property
    def png_bytes(self) -> bytes:
        out = io.BytesIO()
        Image.fromarray(self.pixels).save(out, "PNG", dpi=(self.dpi, self.dpi))
        return out.getvalue()

    def photo(self, seed: int = 0, strength: float = 1.0) -> bytes:
        """The page photographed by a phone (JPEG)."""
        return phone_photo(self.pixels, seed, strength=strength)


@functools.cache
def _sample(kind: str, i: int, seed: int) -> Sample:
    rng = random.Random(f"corpus2:{kind}:{seed}:{i}")
    styles = list(LAYOUTS[kind])
    style = styles[i % len(styles)]
    available = faces()
    face = available[(i // len(styles) + seed) % len(available)]
    label_face = (
        "noto-sans-bold" if style in ("2019", "card") and "noto-sans-bold" in available else face
    )
    truth, printed, invalid = _RECORDS[kind](rng, i, style)
    card = kind.startswith("id_card")
    width, height = CARD if card else A4
    paper = (236, 240, 238) if card else (250, 248, 240)
    canvas = Canvas.blank(width, height, face, label_face, paper)
    LAYOUTS[kind][style](canvas, printed, rng)
    return Sample(
        kind,
        f"c2_{kind}_{i:03d}",
        style,
        face,
        truth,
        printed,
        invalid,
        canvas.pixels(),
        300 if card else 200,
    )


def make_samples(kind: str, n: int, seed: int = 0) -> list[Sample]:
    """``n`` samples of a kind; sample *i* depends only on (kind, *i*, seed) and the faces found."""
    return [_sample(kind, i, seed) for i in range(n)]
