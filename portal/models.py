"""Import every model so that Alembic and ``create_all`` see the whole schema."""

from portal.accounts.models import CaseOfficerBorough, LoginAttempt, Role, User, UserRole
from portal.audit.models import AuditRecord
from portal.districts.models import (
    Borough,
    Council,
    CouncilMembership,
    District,
    DistrictBudget,
    PostcodeRange,
)
from portal.notifications.models import Notification
from portal.rulesets.models import Ruleset

__all__ = [
    "AuditRecord",
    "Borough",
    "CaseOfficerBorough",
    "Council",
    "CouncilMembership",
    "District",
    "DistrictBudget",
    "LoginAttempt",
    "Notification",
    "PostcodeRange",
    "Role",
    "Ruleset",
    "User",
    "UserRole",
]
