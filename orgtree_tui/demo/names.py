"""The demo organization's vocabulary: OU, account, people and team names, by kind.

Kept apart from `plan`, which decides how many of each there are and where they go.
"""

from __future__ import annotations


def _split(text: str) -> tuple[str, ...]:
    return tuple(text.split("|"))


# What an OU of each kind holds: (child names, the kind of those children).
CHILDREN: dict[str, tuple[tuple[str, ...], str]] = {
    "security": (_split("Log Archive|Security Tooling|Forensics|Break Glass"), "security"),
    "infra": (_split("Network|Shared Services|Observability|CI-CD|Identity|Backup"), "infra"),
    "workloads": (_split("Prod|Staging|Dev|Test|QA|Perf"), "env"),
    "env": (
        _split(
            "Payments|Identity|Search|Data Platform|Mobile|Marketing|Logistics|Risk|"
            "Customer Care|Checkout|Catalog|Billing|Messaging|Analytics|Machine Learning|"
            "Partner APIs|Reporting|Fraud"
        ),
        "bu",
    ),
    "bu": (_split("Europe|North America|APAC|LATAM|Middle East|Africa"), "region"),
    "region": (
        _split(
            "Card Issuing|Acquiring|Ledger|Onboarding|Recommendations|Ingestion|Streaming|"
            "Gateway|Notifications|Pricing|Inventory|Settlement|Compliance|Disputes|Payouts|"
            "Relevance"
        ),
        "team",
    ),
    "sandbox": (_split("Engineering|Data Science|Product|Research|Interns"), "dept"),
    "dept": (_split("Platform|Frontend|Backend|Mobile|ML"), "squad"),
}
CHAIN = (
    ("Workloads", "workloads"),
    ("Prod", "env"),
    ("Payments", "bu"),
    ("Europe", "region"),
    ("Card Issuing", "team"),
)
TOP = (
    ("Security", "security"),
    ("Infrastructure", "infra"),
    ("Sandbox", "sandbox"),
    ("Suspended", "suspended"),
    ("Policy Staging", "staging"),
)
REGION_CODES = {
    "Europe": "eu",
    "North America": "na",
    "APAC": "apac",
    "LATAM": "latam",
    "Middle East": "me",
    "Africa": "af",
}
SERVICES = _split("api|web|data|batch|ml|events|core|edge|etl|portal")
INFRA_ACCOUNTS = _split(
    "network-hub|network-egress|shared-services|ci-cd|dns|artifact-registry|observability|"
    "backup-vault|identity-center"
)
SECURITY_ACCOUNTS = _split("security-tooling|guardduty-admin|forensics|break-glass|security-lake")
FIRST = _split(
    "alice|bob|carol|dmitri|erin|farah|george|hana|ivan|jun|kemal|lena|mateo|nadia|oscar|"
    "priya|quinn|rosa|sven|tomoko|uma|victor|wen|xavier|yara|zoe"
)
LAST = _split(
    "smith|garcia|chen|novak|okafor|muller|tanaka|silva|kowalski|nguyen|haddad|johansson|"
    "rossi|patel|obrien"
)
COST_CENTERS = {
    "Payments": "CC-1100",
    "Identity": "CC-1200",
    "Search": "CC-1300",
    "Risk": "CC-1400",
    "Fraud": "CC-1450",
    "Marketing": "CC-1500",
}
RESTRICTED = {"Payments", "Identity", "Risk", "Fraud", "Billing", "Checkout"}
# Real AWS accepts any characters in OU and account names; these break naive exporters.
FANCY_OU_NAMES = (
    "\u00dcn\u00efc\u00f8d\u00e9 & Co. (EU)",
    "Data/Analytics",
    'R&D "Labs"',
    "\u6771\u4eac Tokyo",
    "Back\\slash",
    "Z\u00fcrich \u2013 Fintech",
    "Spaced  Out",
    "\u00e9mojis \U0001f680",
)
FANCY_ACCOUNT_NAMES = (
    "O'Brien's sandbox",
    "payments/eu (legacy)",
    "\u00dcn\u00efc\u00f8d\u00e9-prod",
    'ACME, Inc. "Prod"',
    "<b>not html</b>",
    "tab-free\\path",
    "na\u00efve caf\u00e9",
)
