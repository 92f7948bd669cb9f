"""The EU DSA Transparency Database (TDB) vocabulary, in one place.

Source: the statement-of-reasons API documentation of the DSA Transparency Database
(https://transparency.dsa.ec.europa.eu/page/api-documentation), field names and enumeration values as
published for API submissions in 2023-2024, written down from that documentation (no network access at
build time). Decisions use these names verbatim so that ``export_statement_of_reasons`` is a projection,
not a translation. If the Commission revises the enumerations, this module is the only place to change.

The TDB has no keyword of its own for counterfeit goods: a counterfeit is a good bearing a sign identical
to a registered trade mark without authorisation, so it is filed under the trade-mark keyword.
"""

from __future__ import annotations

DECISION_VISIBILITY = frozenset(
    {
        "DECISION_VISIBILITY_CONTENT_REMOVED",
        "DECISION_VISIBILITY_CONTENT_DISABLED",
        "DECISION_VISIBILITY_CONTENT_DEMOTED",
        "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED",
        "DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED",
        "DECISION_VISIBILITY_CONTENT_LABELLED",
        "DECISION_VISIBILITY_OTHER",
    }
)
DECISION_MONETARY = frozenset(
    {
        "DECISION_MONETARY_SUSPENSION",
        "DECISION_MONETARY_TERMINATION",
        "DECISION_MONETARY_OTHER",
    }
)
DECISION_PROVISION = frozenset(
    {
        "DECISION_PROVISION_PARTIAL_SUSPENSION",
        "DECISION_PROVISION_TOTAL_SUSPENSION",
        "DECISION_PROVISION_PARTIAL_TERMINATION",
        "DECISION_PROVISION_TOTAL_TERMINATION",
    }
)
DECISION_ACCOUNT = frozenset({"DECISION_ACCOUNT_SUSPENDED", "DECISION_ACCOUNT_TERMINATED"})
ACCOUNT_TYPE = frozenset({"ACCOUNT_TYPE_BUSINESS", "ACCOUNT_TYPE_PRIVATE"})
DECISION_GROUND = frozenset({"DECISION_GROUND_ILLEGAL_CONTENT", "DECISION_GROUND_INCOMPATIBLE_CONTENT"})
CONTENT_TYPE = frozenset(
    {
        "CONTENT_TYPE_APP",
        "CONTENT_TYPE_AUDIO",
        "CONTENT_TYPE_IMAGE",
        "CONTENT_TYPE_PRODUCT",
        "CONTENT_TYPE_SYNTHETIC_MEDIA",
        "CONTENT_TYPE_TEXT",
        "CONTENT_TYPE_VIDEO",
        "CONTENT_TYPE_OTHER",
    }
)
SOURCE_TYPE = frozenset(
    {
        "SOURCE_ARTICLE_16",
        "SOURCE_TRUSTED_FLAGGER",
        "SOURCE_TYPE_OTHER_NOTIFICATION",
        "SOURCE_VOLUNTARY",
    }
)
AUTOMATED_DETECTION = frozenset({"Yes", "No"})
AUTOMATED_DECISION = frozenset(
    {
        "AUTOMATED_DECISION_FULLY",
        "AUTOMATED_DECISION_PARTIALLY",
        "AUTOMATED_DECISION_NOT_AUTOMATED",
    }
)
CATEGORY_IP = "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS"
CATEGORY = frozenset(
    {
        "STATEMENT_CATEGORY_ANIMAL_WELFARE",
        "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
        "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
        CATEGORY_IP,
        "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS",
        "STATEMENT_CATEGORY_NON_CONSENSUAL_BEHAVIOUR",
        "STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT",
        "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
        "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY",
        "STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
        "STATEMENT_CATEGORY_SELF_HARM",
        "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE",
        "STATEMENT_CATEGORY_UNSAFE_AND_ILLEGAL_PRODUCTS",
        "STATEMENT_CATEGORY_VIOLENCE",
    }
)
KEYWORD_TRADEMARK = "KEYWORD_TRADEMARK_INFRINGEMENT"
KEYWORD_DESIGN = "KEYWORD_DESIGN_INFRINGEMENT"
KEYWORD_COPYRIGHT = "KEYWORD_COPYRIGHT_INFRINGEMENT"
KEYWORD_OTHER = "KEYWORD_OTHER"
# The intellectual-property keywords plus the marketplace-relevant ones of neighbouring categories.
KEYWORDS = frozenset(
    {
        KEYWORD_COPYRIGHT,
        KEYWORD_DESIGN,
        "KEYWORD_GEOGRAPHIC_INDICATIONS_INFRINGEMENT",
        "KEYWORD_PATENT_INFRINGEMENT",
        "KEYWORD_TRADE_SECRET_INFRINGEMENT",
        KEYWORD_TRADEMARK,
        "KEYWORD_INSUFFICIENT_INFORMATION_ON_TRADERS",
        "KEYWORD_REGULATED_GOODS_SERVICES",
        "KEYWORD_DANGEROUS_TOYS",
        "KEYWORD_INAUTHENTIC_ACCOUNTS",
        "KEYWORD_INAUTHENTIC_LISTINGS",
        "KEYWORD_INAUTHENTIC_USER_REVIEWS",
        "KEYWORD_IMPERSONATION_ACCOUNT_HIJACKING",
        "KEYWORD_PHISHING",
        "KEYWORD_PYRAMID_SCHEMES",
        "KEYWORD_GOODS_SERVICES_NOT_PERMITTED",
        KEYWORD_OTHER,
    }
)
# ISO 3166-1 alpha-2 codes of the EEA states, as the TDB expects in territorial_scope.
_EEA = "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IS IT LI LT LU LV MT NL NO PL PT RO SE SI SK"
EEA_COUNTRIES = frozenset(_EEA.split(" "))

# Notice infringement type -> (category, category_specification keywords).
INFRINGEMENT_TDB: dict[str, tuple[str, tuple[str, ...]]] = {
    "counterfeit": (CATEGORY_IP, (KEYWORD_TRADEMARK,)),
    "trade-mark-misuse": (CATEGORY_IP, (KEYWORD_TRADEMARK,)),
    "design": (CATEGORY_IP, (KEYWORD_DESIGN,)),
    "copyright": (CATEGORY_IP, (KEYWORD_COPYRIGHT,)),
    "other": (CATEGORY_IP, (KEYWORD_OTHER,)),
}
INFRINGEMENT_TYPES = frozenset(INFRINGEMENT_TDB)
