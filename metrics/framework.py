"""Default KPI catalogue and targets (figures from shared/seeds/003 and 001)."""

from collections import Counter
from decimal import Decimal as D

from metrics.models import KPI
from orgdesign.kernel.catalogue import upsert

U, B, C, P = KPI.Unit, KPI.Better, KPI.Comparison, KPI.Period

# code, name, unit, better, comparison, target, period, description
KPIS = [
    ("fcr", "First contact resolution", U.PERCENT, B.HIGHER, C.AT_LEAST, D(75), P.MONTHLY,
     "Share of contacts solved in the first interaction, with no follow-up needed."),
    ("csat", "Customer satisfaction (CSAT)", U.SCORE_5, B.HIGHER, C.ABOVE, D("4.5"), P.MONTHLY,
     "Average rating customers give a support interaction, on a scale of 1 to 5."),
    ("nps", "Net Promoter Score", U.NPS, B.HIGHER, C.ABOVE, D(50), P.QUARTERLY,
     "Promoters minus detractors among customers asked whether they would recommend us."),
    ("aht", "Average handle time", U.MINUTES, B.LOWER, C.BELOW, D(8), P.MONTHLY,
     "Average time an agent spends on one contact, including wrap-up."),
    ("sla", "Service-level compliance", U.PERCENT, B.HIGHER, C.AT_LEAST, D(95), P.MONTHLY,
     "Share of contacts answered and solved within the promised service levels."),
    ("resolution-time", "Case resolution time", U.HOURS, B.LOWER, C.BELOW, D(24), P.MONTHLY,
     "Average time from a case being opened to it being solved."),
    ("self-service", "Self-service adoption", U.PERCENT, B.HIGHER, C.AT_LEAST, D(40), P.MONTHLY,
     "Share of cases customers solve themselves through self-service."),
    ("kb-use", "Knowledge base use", U.PERCENT, B.HIGHER, C.AT_LEAST, D(60), P.MONTHLY,
     "Share of resolutions that use or link a knowledge base article."),
    ("retention", "Customer retention", U.PERCENT, B.HIGHER, C.ABOVE, D(95), P.QUARTERLY,
     "Share of customers who stay with us over the period."),
    ("cost-share", "Support cost share of revenue", U.PERCENT, B.LOWER, C.BELOW, D(8),
     P.YEARLY, "Cost of running support as a share of revenue."),
    ("asat", "Agent satisfaction (ASAT)", U.SCORE_5, B.HIGHER, "", None, P.QUARTERLY,
     "How satisfied the support team is with their work, tools and careers, from a "
     "quarterly survey of everyone in the organization."),
]  # fmt: skip


def load(*, reset: bool, outcome: Counter) -> None:
    for code, name, unit, better, comparison, target, period, description in KPIS:
        upsert(
            KPI,
            {"code": code},
            {
                "name": name,
                "unit": unit,
                "better": better,
                "comparison": comparison,
                "target": target,
                "review_period": period,
                "description": description,
            },
            reset=reset,
            outcome=outcome,
        )
