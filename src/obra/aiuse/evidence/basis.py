"""The legal basis of an evidence package, in each jurisdiction concerned.

A training run may involve three laws: the rightholder's (where the work is exploited and the
claim is brought), the developer's (where it is established) and the place where the training
took place (where the copies were made; the EU AI Act, Art. 53(1)(c), reaches providers placing
models on the EU market whatever the place of training). For each distinct jurisdiction, the
TDM rule comes from :func:`obra.law.tdm.rule_for` (the governing fact, the opt-out and which
signals count as a reservation there, each cited, with its confidence), and each matched item is
decided as the check would decide it there (:func:`obra.aiuse.check.decide.decide`) — with the
registry's terms **in force at the item's crawl date**, not today's. No rule is written here: a
different jurisdiction gives a different answer only because the law data says so.

Where a rule rests on a low-confidence or pending fact, :func:`obra.law.compare.reliance_notes`
says so in the basis, and the bundle and letter repeat it.
"""

from __future__ import annotations

from collections.abc import Callable

from obra.aiuse.check.decide import DECISIONS, Key, decide
from obra.errors import InvalidInput, Problem
from obra.law import LawData
from obra.law.compare import fact_json, reliance_notes
from obra.law.tdm import rule_for

__all__ = ["ROLES", "concerned", "legal_basis"]

ROLES = ("training", "developer", "rightholder")
"""The jurisdictions an evidence package speaks to, in the order they are shown."""


def concerned(law: LawData, given: dict[str, str | None], training_default: str) -> dict[str, list[str]]:
    """jurisdiction code → the roles it has (a code may be several: a French developer training in France).
    The training jurisdiction defaults to the check's; an unknown code is refused naming the known ones."""
    out: dict[str, list[str]] = {}
    unknown = [role for role in given if role not in ROLES]
    if unknown:
        raise InvalidInput(Problem(f"unknown role(s) {', '.join(unknown)}", field="jurisdictions"),
                           hint=f"roles: {', '.join(ROLES)}")
    for role in ROLES:
        code = given.get(role) or (training_default if role == "training" else None)
        if not code:
            continue
        upper = str(code).strip().upper()
        if upper not in law.jurisdictions:
            raise InvalidInput(Problem(f"no jurisdiction {code!r} in the law data", field=f"{role}_jurisdiction"),
                               hint=f"known: {', '.join(law.jurisdictions)}")
        out.setdefault(upper, []).append(role)
    return out


def legal_basis(law: LawData, items: list[dict], question: dict, roles: dict[str, list[str]],
                registry_at: Callable[[dict, str], str]) -> list[dict]:
    """One entry per jurisdiction concerned: its roles, the TDM rule (cited), the decision for each quoted
    item there, the counts, the facts relied on and the notes on uncertain ones.

    ``registry_at(item, code)`` is the registry's permission for the item at its crawl date, for the
    question asked in ``code`` (``allowed``, ``not-allowed``, ``licence`` or ``none``)."""
    out = []
    for code, its_roles in roles.items():
        rule = rule_for(code, question["purpose"], question.get("commercial"), use=question.get("use"), law=law)
        decided, counts = [], {d: 0 for d in DECISIONS}
        for item in items:
            signals = item["signals"]
            key = Key(error=bool(item.get("error")), crawl=signals.get("crawl") or "not-captured",
                      aipref=signals.get("aipref") or "absent",
                      content_signals=signals.get("content_signals") or "absent",
                      tdmrep=signals.get("tdmrep") or "absent", rsl=signals.get("rsl") or "absent",
                      noai=signals.get("noai") or "absent", cawg=signals.get("cawg") or "absent",
                      registry=registry_at(item, code), licensed=item["check"]["decision"] == "licensed")
            decision = decide(key, rule)
            counts[decision.decision] += 1
            decided.append({"item": item["item"], "decision": decision.decision, "rule": decision.rule,
                            "reservations": [r for r in decision.reservations if r.get("counts")],
                            "flags": list(decision.flags)})
        ai_act = law.effective(code, "tdm", "ai_act_obligations").fact
        facts = [f for f in (rule.exception_fact, rule.opt_out_fact, rule.lawful_access_fact, ai_act) if f is not None]
        out.append({"jurisdiction": code, "name": law.jurisdictions[code].name, "roles": its_roles,
                    "rule": rule.to_json(), "decisions": counts, "items": decided,
                    "facts": [fact_json(f) for f in facts],
                    "ai_act_obligations": ai_act.value if ai_act is not None else None,
                    "confidence": rule.confidence,
                    "reliance": reliance_notes([*facts, *rule.pending], what=f"the legal basis in {code}")})
    return out
