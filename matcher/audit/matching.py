"""Material names → licence directory types: normalise the name, then match it, with a reason.

Steps, first hit wins: the normalised name *is* a type's name or alias (score 100); the name is a
document that merely mentions a licence (申请书, 承诺书, 声明 …: never a match); the name contains
a type's name or alias (score 85–100 by how much of the name it covers, less when it names two
types); the name is close to one (rapidfuzz ``ratio``, accepted from ``threshold``).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from matcher.catalog.licences import Directory, DirectoryType

__all__ = ["DEFAULT_THRESHOLD", "REVIEW_BELOW", "Match", "MaterialMatcher", "normalise_name"]

DEFAULT_THRESHOLD = 80.0
REVIEW_BELOW = 90.0  # matches scoring under this are listed for a person to check

# Words about the copy, not the document: 原件/复印件/加盖公章/有效/正反面/份数 …
_QUALIFIERS = [
    "原件及复印件",
    "原件和复印件",
    "原件或复印件",
    "原件与复印件",
    "复印件及原件",
    "复印件加盖公章",
    "加盖公章的复印件",
    "加盖单位公章",
    "加盖公章",
    "加盖印章",
    "盖章",
    "原件",
    "复印件",
    "影印件",
    "扫描件",
    "电子件",
    "彩色",
    "正反面复印",
    "正反两面",
    "正反面",
    "正副本",
    "正本",
    "副本",
    "有效期内的",
    "有效期内",
    "有效的",
    "有效",
    "合法",
    "真实",
    "相关",
    "一式两份",
    "一式三份",
    "各一份",
    "须提供",
    "需提供",
    "提供",
    "查验",
    "核验",
]
# Who holds it: kept out of the match (法定代表人身份证明 is a 居民身份证).
_ROLES = [
    "委托代理人",
    "法定代表人",
    "法人代表",
    "申请单位",
    "申请企业",
    "申请人",
    "负责人",
    "经办人",
    "代理人",
    "受托人",
    "配偶",
    "买受人",
    "出卖人",
    "买方",
    "卖方",
    "本人",
    "夫妻双方",
]
_STRIP = re.compile(
    "|".join(re.escape(w) for w in sorted(_QUALIFIERS + _ROLES, key=len, reverse=True))
    + r"|[0-9]+份|[一二两三四五六七八九十]+份|份数[0-9]*"
)
_PUNCT = re.compile(r"[\s()\[\]{}<>《》【】〔〕“”\"'‘’「」『』:;,.!?、。，；：/\\|·_\-—~*#]+")
# Documents the applicant writes or signs: they mention a licence but are not one.
_DOCUMENT_WORDS = [
    "申请书",
    "申请表",
    "申请",
    "承诺书",
    "承诺",
    "声明",
    "说明",
    "委托书",
    "授权书",
    "决议",
    "审批表",
    "登记表",
    "申报表",
    "公告",
    "情况报告",
    "清单",
    "模板",
]
_DOCUMENT = re.compile(
    "|".join(re.escape(w) for w in sorted(_DOCUMENT_WORDS, key=len, reverse=True))
)


# Traditional forms that lists copied from other systems carry (繁体 → 简体), for the words here.
_SIMPLIFIED = str.maketrans(
    "證書戶駕執許記動產權營業離稅險會醫師學歷簽車駛國種衛單號門議聲請紙構關機蓋複數據"
    "類資設築規劃處結護殘優養無錄納繳積職從運輸經員適務覽檢驗環評廣淨島漁魚犬範圍歲齡"
    "屬體認轉讓買賣貸擔債銀圖畫區鄉鎮縣團態況舊當發開辦準確實際",
    "证书户驾执许记动产权营业离税险会医师学历签车驶国种卫单号门议声请纸构关机盖复数据"
    "类资设筑规划处结护残优养无录纳缴积职从运输经员适务览检验环评广净岛渔鱼犬范围岁龄"
    "属体认转让买卖贷担债银图画区乡镇县团态况旧当发开办准确实际",
)


# A name ending in a form (…表) or a written document (…书 other than 证书, …合同, …协议) is that
# document, whatever licence it names first (不动产权证书申领表, 营业执照使用协议).
_DOCUMENT_END = re.compile(r"(?:[^证]书|表|合同|协议|函|情况报告)$")


@functools.lru_cache(maxsize=65536)
def normalise_name(name: str) -> str:
    """The name without width, brackets, punctuation, copy qualifiers, holder roles or 份数."""
    text = unicodedata.normalize("NFKC", name).lower().translate(_SIMPLIFIED)
    text = _PUNCT.sub("", text)
    # "加盖公章的营业执照" leaves a 的 where the qualifier was
    return _STRIP.sub("", text).removeprefix("的").removesuffix("的")


@dataclass(frozen=True, slots=True)
class Match:
    """A material name's best directory type (``type`` None: no match), score 0–100, reason."""

    normalised: str
    type: DirectoryType | None
    score: float
    reason: str
    candidate: DirectoryType | None = None  # the best type found, even under the threshold
    document: bool = False  # an application form, commitment or statement

    @property
    def needs_review(self) -> bool:
        return self.type is not None and self.score < REVIEW_BELOW


class MaterialMatcher:
    """Matches names against one directory. Results are memoised per name (lists repeat)."""

    def __init__(
        self,
        directory: Directory,
        threshold: float = DEFAULT_THRESHOLD,
        reviewed: dict[str, str | None] | None = None,
    ) -> None:
        """``reviewed`` maps a material name (as given or normalised) to the type code a person
        confirmed for it, or None for "no licence type"; it wins over matching."""
        self.directory = directory
        self.threshold = threshold
        self._reviewed = {normalise_name(k): v for k, v in (reviewed or {}).items()}
        self._exact: dict[str, tuple[DirectoryType, str]] = {}
        for t in directory.types:
            for alias in (t.name, *t.aliases):
                key = normalise_name(alias)
                if key:
                    self._exact.setdefault(key, (t, alias))
        self._keys = list(self._exact)
        self._contained = re.compile(
            "|".join(re.escape(k) for k in sorted(self._keys, key=len, reverse=True) if len(k) > 1)
        )
        self.match = functools.lru_cache(maxsize=65536)(self._match)

    def _match(self, name: str) -> Match:
        norm = normalise_name(name)
        if not norm:
            return Match(norm, None, 0.0, "材料名称只有份数、原件/复印件等说明，无法识别")
        if norm in self._reviewed:
            code = self._reviewed[norm]
            t = self.directory.get(code) if code else None
            if t is None:
                return Match(norm, None, 0.0, "人工复核：不对应证照目录中的类型")
            return Match(norm, t, 100.0, f"人工复核：对应{t.kind_text}《{t.name}》", candidate=t)
        exact = self._exact.get(norm)
        if exact is not None:
            t, alias = exact
            said = f"《{t.name}》" if alias == t.name else f"《{t.name}》的别称「{alias}」"
            return Match(norm, t, 100.0, f"名称即{t.kind_text}{said}")
        document = _DOCUMENT.search(norm) or _DOCUMENT_END.search(norm)
        if document is not None:
            return Match(
                norm,
                None,
                0.0,
                f"名称含「{document.group()}」，是申请人填写或签署的文书，只提及证照，不是证照本身",
                document=True,
            )
        found: dict[str, tuple[DirectoryType, str]] = {}
        for hit in self._contained.finditer(norm):
            t, alias = self._exact[hit.group()]
            if t.code not in found or len(alias) > len(found[t.code][1]):
                found[t.code] = (t, hit.group())
        if found:
            ranked = sorted(found.values(), key=lambda pair: len(pair[1]), reverse=True)
            t, key = ranked[0]
            score = 85.0 + 15.0 * len(key) / len(norm)
            reason = f"名称包含{t.kind_text}《{t.name}》的名称或别称「{key}」"
            if len(ranked) > 1:
                others = "、".join(f"《{o.name}》" for o, _ in ranked[1:])
                score -= 8.0
                reason += f"，也提及{others}，需人工确认"
            return self._accept(norm, t, round(score, 1), reason)
        best = process.extractOne(norm, self._keys, scorer=fuzz.ratio, score_cutoff=50.0)
        if best is None:
            return Match(norm, None, 0.0, "证照目录中没有名称相近的证照类型")
        key, score, _ = best
        t, alias = self._exact[key]
        reason = f"名称与{t.kind_text}《{t.name}》（「{alias}」）相近，相似度{score:.0f}"
        return self._accept(norm, t, round(float(score), 1), reason)

    def _accept(self, norm: str, t: DirectoryType, score: float, reason: str) -> Match:
        if score >= self.threshold:
            return Match(norm, t, score, reason, candidate=t)
        return Match(
            norm, None, score, f"{reason}；低于匹配阈值{self.threshold:.0f}，不作匹配", candidate=t
        )
