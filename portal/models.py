"""Import every model so that Alembic and ``create_all`` see the whole schema."""

from portal.accounts.models import CaseOfficerBorough, LoginAttempt, Role, User, UserRole
from portal.applications.models import (
    Application,
    Attachment,
    BudgetLine,
    Endorsement,
    ReferenceCounter,
)
from portal.audit.models import AuditRecord
from portal.districts.models import (
    Borough,
    Council,
    CouncilMembership,
    District,
    DistrictBudget,
    PostcodeRange,
)
from portal.initiatives.models import (
    Comment,
    CommentBlock,
    CommentReport,
    HelpOffer,
    Initiative,
    InitiativeDistrict,
    InitiativeHelp,
    InitiativeMessage,
    InitiativePhoto,
    InitiativeTheme,
    InitiativeUpdate,
    Support,
)
from portal.money.models import LedgerEntry, Payment, PaymentBatch
from portal.notifications.models import Notification
from portal.rulesets.models import Ruleset

__all__ = [
    "Application",
    "Attachment",
    "AuditRecord",
    "Borough",
    "BudgetLine",
    "CaseOfficerBorough",
    "Comment",
    "CommentBlock",
    "CommentReport",
    "Council",
    "CouncilMembership",
    "District",
    "DistrictBudget",
    "Endorsement",
    "HelpOffer",
    "Initiative",
    "InitiativeDistrict",
    "InitiativeHelp",
    "InitiativeMessage",
    "InitiativePhoto",
    "InitiativeTheme",
    "InitiativeUpdate",
    "LedgerEntry",
    "LoginAttempt",
    "Notification",
    "Payment",
    "PaymentBatch",
    "PostcodeRange",
    "ReferenceCounter",
    "Role",
    "Ruleset",
    "Support",
    "User",
    "UserRole",
]
