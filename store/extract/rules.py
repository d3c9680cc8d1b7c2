"""Patterns that find names the catalogue does not know yet: organisations by their head
word (``... Co., Ltd.``, ``... Research Institute``, ``... Alliance``, ``... Summit``),
policy titles in quotes (``"... Opinions ..."``), and people introduced with their title
(``Li Qiang, Secretary of the Shanghai Municipal Party Committee,``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Head words, longest first within a kind, and the kind of entity they make.
HEAD_WORDS: tuple[tuple[str, str], ...] = (
    (r"Co\., Ltd\.", "company"),
    (r"Co\.,Ltd\.", "company"),
    (r"Group", "company"),
    (r"Corporation", "company"),
    (r"Research Institute", "institution"),
    (r"Institute", "institution"),
    (r"Academy", "institution"),
    (r"University", "institution"),
    (r"Bank", "institution"),
    (r"People's Court", "institution"),
    (r"Court", "institution"),
    (r"Center", "institution"),
    (r"Lab", "institution"),
    (r"Laboratory", "institution"),
    (r"Chamber of Commerce", "institution"),
    (r"Association", "institution"),
    (r"Commission", "institution"),
    (r"Special Committee", "institution"),
    (r"Alliance", "project"),
    (r"Industrial Park", "project"),
    (r"Park", "project"),
    (r"Zone", "project"),
    (r"Base", "project"),
    (r"Incubator", "project"),
    (r"Summit", "event"),
    (r"Conference", "event"),
    (r"Forum", "event"),
    (r"Annual Meeting", "event"),
    (r"Expo", "event"),
    (r"Festival", "event"),
    (r"Action Plan", "policy"),
    (r"Development Plan", "policy"),
)
_KIND_BY_HEAD = {head.replace("\\", ""): kind for head, kind in HEAD_WORDS}
_WORD = r"(?:[A-Z0-9][\w'’&.-]*|\([A-Z][\w ]*\)|[A-Z]{2,}\d*(?:\.\d+)?)"
_LINK = r"(?:and|of|for|the|&|·|on)"
_HEAD = "|".join(head for head, _ in HEAD_WORDS)
_TAIL_WORD = r"(?:[A-Z][\w'’&.-]*)"
_TAIL = rf"(?: of (?:the )?{_TAIL_WORD}(?: (?:and )?{_TAIL_WORD})*)?"
_ORG = re.compile(
    rf"((?:{_WORD} (?:{_LINK} )*)+)({_HEAD})(?![\w-]){_TAIL}(?: \(\d{{4}}-\d{{4}}\))?"
)
_KEYWORD_FIRST = re.compile(
    rf"\b(Ministry|Institute|Academy|Bank) of (?:the )?{_WORD}(?: (?:and |of )?{_WORD})*"
)
# Words that start a sentence or a clause, not a name.
_STOP = {
    "On", "In", "At", "The", "A", "An", "As", "Among", "Recently", "Since", "By", "From",
    "After", "Before", "During", "With", "For", "Its", "It", "This", "That", "These", "Both",
    "Previously", "Meanwhile", "Besides", "Earlier", "Just", "Last", "Based", "Relying",
    "According", "Another", "Other", "Such", "Whether", "Take", "Introduce", "Signed",
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December", "Chairman", "Secretary", "Professor", "Academician",
    "Deputy", "Director", "Founder", "President", "Executive", "Dean", "Member", "Head",
    "It's", "Chain", "Project", "Honorary", "Blockchain", "Key",
}  # fmt: skip
# A name needs one word that is not generic: "Research Institute" or "Annual Conference"
# alone names nothing.
_GENERIC = {
    "blockchain", "technology", "industry", "industrial", "research", "annual", "high-level",
    "ecological", "talent", "training", "city", "joint", "innovation", "development", "new",
    "and", "of", "the", "for", "&", "china", "chinese", "national", "international",
}  # fmt: skip
_MASK = re.compile(r"\"[^\"]{3,200}\"|“[^”]{3,200}”|《[^》]{1,200}》")
_POLICY_WORDS = re.compile(
    r"\b(Opinions|Plan|Measures|Regulations|Notice|White Paper|Guidelines|Program|Programme"
    r"|Rules|Declaration|Strategy)\b"
)
_QUOTED = re.compile(r"\"([^\"]{8,200})\"|“([^”]{8,200})”|《\s*([^》]{4,200}?)\s*》")
_SURNAMES = {
    "Li", "Liu", "Zhang", "Wang", "Hu", "Han", "Sun", "Yin", "Lu", "Leng", "Yang", "Hai",
    "Chen", "Zheng", "Huo", "Zhao", "Wu", "Zhou", "Xu", "Ma", "Zhu", "He", "Guo", "Luo",
    "Lin", "Gao", "Huang", "Xie", "Song", "Tang", "Feng", "Deng", "Cao", "Peng", "Zeng",
}  # fmt: skip
_TITLE_WORDS = (
    r"(?:secretary-general|secretary|chairman|member|deputy|director|head|founder|analyst"
    r"|president|mayor|dean|professor|executive|vice|general manager|ceo|partner)"
)
_PERSON = re.compile(
    rf"\b([A-Z][a-z]+ [A-Z][a-z]+), (?:the |a |an )?"
    rf"((?:[\w-]+ ){{0,3}}?{_TITLE_WORDS}\b(?:[^,\"“]|, Ltd\.)*)",
    re.I,
)


@dataclass(frozen=True)
class NameHit:
    name: str
    kind: str
    start: int
    end: int


@dataclass(frozen=True)
class PersonHit:
    name: str
    title: str
    start: int
    end: int


def _trim_leading(name: str, start: int) -> tuple[str, int]:
    words = name.split(" ")
    while len(words) > 1 and (words[0] in _STOP or words[0].endswith(",")):
        start += len(words[0]) + 1
        words = words[1:]
    while len(words) > 1 and words[0].casefold() in {"and", "of", "for", "the", "&", "on"}:
        start += len(words[0]) + 1
        words = words[1:]
    return " ".join(words), start


def find_names(sentence: str) -> list[NameHit]:
    """Organisations, projects, events and unquoted plans named in ``sentence``."""
    hits: list[NameHit] = []
    masked = _mask_quotes(sentence)
    for match in _ORG.finditer(masked):
        name, start = _trim_leading(match.group(0), match.start())
        head = match.group(2)
        words = name.split()
        if len(words) < 2 or any(name.startswith(h) for h in _KIND_BY_HEAD):
            continue
        prefix = masked[start : match.start(2)]
        if all(w.casefold() in _GENERIC or w.isdigit() for w in prefix.split()):
            continue
        hits.extend(_split_pair(NameHit(name, _KIND_BY_HEAD[head], start, match.end())))
    for match in _KEYWORD_FIRST.finditer(masked):
        if any(h.start <= match.start() < h.end for h in hits):
            continue
        kind = "institution"
        hits.append(NameHit(match.group(0), kind, match.start(), match.end()))
    return hits


_ENDS_WITH_HEAD = re.compile(rf"(?:{_HEAD})$")
_PAIR = re.compile(r" and (?:the )?(?=[A-Z])")


def _split_pair(hit: NameHit) -> list[NameHit]:
    """``A Institute and B Alliance`` names two things; so does ``Bubi and the CCID
    Research Institute`` (a name never continues with "and the")."""
    for sep in _PAIR.finditer(hit.name):
        left = hit.name[: sep.start()]
        head = _ENDS_WITH_HEAD.search(left)
        if not head and not sep.group(0).endswith(" the "):
            continue
        right = NameHit(hit.name[sep.end() :], hit.kind, hit.start + sep.end(), hit.end)
        if len(right.name.split()) < 2:
            continue
        pieces = _split_pair(right)
        if head and len(left.split()) >= 2:
            kind = _KIND_BY_HEAD[head.group(0)]
            pieces.insert(0, NameHit(left, kind, hit.start, hit.start + len(left)))
        return pieces
    return [hit]


def _mask_quotes(sentence: str) -> str:
    """Blank quoted text that is not itself one name, so words of a quoted title
    ("2019 China Blockchain Industry Park Development Report") make no name."""

    def blank(match: re.Match[str]) -> str:
        inner = match.group(0)[1:-1]
        whole = _ORG.fullmatch(inner)
        if whole:
            return " " + inner + " "
        return " " * len(match.group(0))

    return _MASK.sub(blank, sentence)


def find_policy_titles(sentence: str) -> list[NameHit]:
    """Quoted titles of policies, plans and white papers."""
    hits = []
    for match in _QUOTED.finditer(sentence):
        group = next(i for i in (1, 2, 3) if match.group(i) is not None)
        title = match.group(group).strip()
        if _POLICY_WORDS.search(title) and title[:1].isupper():
            start = match.start(group) + (
                len(match.group(group)) - len(match.group(group).lstrip())
            )
            hits.append(NameHit(title, "policy", start, start + len(title)))
    return hits


def find_people(sentence: str) -> list[PersonHit]:
    """People named with their title, as news style introduces them."""
    hits = []
    for match in _PERSON.finditer(sentence):
        name = match.group(1)
        if name.split()[0] not in _SURNAMES:
            continue
        title = re.split(
            r"\b(?:said|stated|revealed|pointed|emphasized|went|told)\b", match.group(2)
        )[0]
        title = title.strip().rstrip(".,;")
        hits.append(PersonHit(name, title, match.start(1), match.end(1)))
    return hits
