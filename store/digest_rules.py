"""Which digest section an item belongs to (the rules are documented in
docs/digest-sections.md; keep the two in step).

The sections are those of the seed roundup (004, "Industry Blockchain Weekly News"), in its
order. An item taken from a roundup keeps the roundup's own heading (``section_from_heading``);
any other item is classified by ``classify`` from its wording and the kinds of the entities it
names. The first rule that matches wins; an item no rule recognises goes to ``OTHER``, shown
last, rather than being forced into a section it does not fit.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from store.textnorm import compact_key

GOVERNMENT = "Government Update"
POLICY = "Industrial policy"
APPLICATION = "Application landing"
PARKS = "Industrial parks / associations / incubators"
LISTED = "Listed companies"
OTHER = "Other news"

# The roundup's order; OTHER always closes the digest.
SECTIONS: tuple[str, ...] = (GOVERNMENT, POLICY, APPLICATION, PARKS, LISTED)
SECTION_ORDER: tuple[str, ...] = (*SECTIONS, OTHER)


def section_from_heading(heading: str | None) -> str | None:
    """The canonical section a roundup heading names, or None.

    004 writes "Government Update: Multiple Leaders Support Blockchain" or
    "Industrial parks / associations / incubators: Blockchain technology research institutes
    set up in multiple places": the part before the first colon names the section. The match
    is on compact keys, so spacing, case and punctuation do not matter.
    """
    if not heading:
        return None
    key = compact_key(heading.split(":", 1)[0])
    if not key:
        return None
    for name in SECTIONS:
        canonical = compact_key(name)
        if key == canonical or key.startswith(canonical):
            return name
    return None


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


# Rule 1, Listed companies: a company's own disclosure to the market.
_LISTED = _rx(
    r"\b(issued an announcement|announced that the company|listed compan(y|ies)|"
    r"stock code|shareholders?|investors'? questions|interactive platform|"
    r"securities code|A-shares?|board of directors)\b"
)
# Rule 2, Industrial parks / associations / incubators: such a body founded or unveiled.
_BODY = (
    r"(research institute|institute|alliance(?! chain)|association|incubator|industrial park|"
    r"park|special committee|committee|commission|laboratory|innovation center|base)"
)
_FOUNDED = (
    r"(established|founded|set up|unveiled|inaugurated|was born|launching ceremony|"
    r"establishment)"
)
_PARKS = _rx(rf"\b{_BODY}\b[^.;]{{0,80}}\b{_FOUNDED}\b|\b{_FOUNDED}\b[^.;]{{0,80}}\b{_BODY}\b")
# Rule 3, Industrial policy: a regulation, plan or policy issued, drafted or adopted.
_POLICY_DOC = (
    r"(regulations?|plan|opinions|measures|notice|polic(y|ies)|guidelines?|rules|law|"
    r"standards?|action plan|implementation plan)"
)
_ISSUED = (
    r"(issued|released|promulgated|published|adopted|reviewed|approved|printed and "
    r"distributed|solicit(ed)? opinions|came into effect|took effect|introduced)"
)
_POLICY = _rx(
    rf"\b{_ISSUED}\b[^.;]{{0,120}}\b{_POLICY_DOC}\b|\b{_POLICY_DOC}\b[^.;]{{0,80}}\b{_ISSUED}\b"
)
_ISSUED_ANY = _rx(rf"\b{_ISSUED}\b")
# Rule 4, Government Update: an official speaking, visiting or inspecting.
_OFFICIAL = _rx(
    r"\b(secretary|mayor|deputy mayor|governor|vice governor|minister|party committee|"
    r"premier|people's congress|cppcc|standing committee|director of the .{0,40}bureau)\b"
)
_SPEECH = _rx(
    r"\b(said|stated|pointed out|emphasi[sz]ed|stressed|called for|proposed|urged|visited|"
    r"went to|investigat\w*|inspect\w*|surveyed|research on|study meeting|learning meeting|"
    r"speech)\b"
)
# Rule 5, Application landing: something launched, put online or applied.
_APPLICATION = _rx(
    r"\b(launch(ed|es)?|went online|online|went live|put into (use|operation)|platform|"
    r"application|applied|pilot|system|product|first case|landed|landing|released)\b"
)


def classify(text: str, entity_kinds: Iterable[str] = ()) -> str:
    """The section for an item that does not come from a roundup.

    ``text`` is the item's sentence(s); ``entity_kinds`` the kinds of the entities it names
    ("person", "policy", "company", ...). Rules, first match wins:

    1. Listed companies: a company is named and the wording is a market disclosure
       (an announcement, investors' questions, shareholders, stock code ...).
    2. Industrial parks / associations / incubators: an institute, alliance, association,
       incubator, park or committee is established, founded, set up or unveiled.
    3. Industrial policy: a regulation, plan, opinions, measures, notice or policy is
       issued, released, adopted or drafted for comment (or a policy entity is named in a
       sentence saying something was issued, released, adopted ...).
    4. Government Update: an official (secretary, mayor, governor, minister, party committee
       ...) speaks, visits or inspects, and a person or the official body is named.
    5. Application landing: something is launched, goes online, or a platform, application,
       system or product is released or applied.
    6. Otherwise: Other news.
    """
    kinds = set(entity_kinds)
    if "company" in kinds and _LISTED.search(text):
        return LISTED
    if _PARKS.search(text):
        return PARKS
    if _POLICY.search(text) or ("policy" in kinds and _ISSUED_ANY.search(text)):
        return POLICY
    if _OFFICIAL.search(text) and _SPEECH.search(text):
        return GOVERNMENT
    if _APPLICATION.search(text):
        return APPLICATION
    return OTHER
