"""Who may do what, and where: roles, capabilities and organisation scope.

The organisation is a tree HQ (一级) → region (二级) → project (三级). A user is bound to
one node and sees that node's subtree; within it, the role decides which actions are
allowed. Nodes carry a materialised path of ids (``/1/4/17/``) so "is this node inside
the caller's subtree" is a prefix test.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["ROLE_CAPABILITIES", "Capability", "NodeKind", "Role", "can", "in_scope"]


class NodeKind(StrEnum):
    HQ = "hq"
    REGION = "region"
    PROJECT = "project"


class Role(StrEnum):
    ADMIN = "admin"
    HQ_VIEWER = "hq_viewer"
    REGIONAL_MANAGER = "regional_manager"
    BIM_COORDINATOR = "bim_coordinator"
    INSPECTOR = "inspector"
    SITE_MANAGER = "site_manager"


class Capability(StrEnum):
    READ = "read"  # see projects, models, revisions, elements, geometry
    MANAGE_ORG = "manage_org"  # create and edit regions and projects
    MANAGE_USERS = "manage_users"  # create users and change their roles
    UPLOAD_MODEL = "upload_model"  # create models, upload revisions
    PUBLISH_MODEL = "publish_model"  # move revisions through the ISO 19650 states
    MANAGE_SCHEDULE = "manage_schedule"  # import schedules, link elements to tasks, set baselines
    REPORT_PROGRESS = "report_progress"  # task actuals, "installed" marks on elements
    RAISE_ISSUE = "raise_issue"  # create defects / hazards / topics, issue rectification notices
    SIGN_OFF_HAZARD = "sign_off_hazard"  # the region's sign-off that lets a 重大隐患 close
    EXCHANGE_BCF = "exchange_bcf"  # import and export issues as BCF files
    HANDLE_ALERTS = "handle_alerts"  # acknowledge and resolve alerts


#: The one table of rights. Scope (which subtree) is checked separately by ``in_scope``.
ROLE_CAPABILITIES: dict[Role, frozenset[Capability]] = {
    Role.ADMIN: frozenset(Capability),
    Role.HQ_VIEWER: frozenset({Capability.READ}),
    Role.REGIONAL_MANAGER: frozenset(
        {Capability.READ, Capability.MANAGE_ORG, Capability.SIGN_OFF_HAZARD, Capability.HANDLE_ALERTS}
    ),
    Role.BIM_COORDINATOR: frozenset(
        {
            Capability.READ,
            Capability.UPLOAD_MODEL,
            Capability.PUBLISH_MODEL,
            Capability.MANAGE_SCHEDULE,
            Capability.REPORT_PROGRESS,
            Capability.RAISE_ISSUE,
            Capability.EXCHANGE_BCF,
        }
    ),
    Role.INSPECTOR: frozenset({Capability.READ, Capability.REPORT_PROGRESS, Capability.RAISE_ISSUE}),
    Role.SITE_MANAGER: frozenset({Capability.READ, Capability.REPORT_PROGRESS, Capability.HANDLE_ALERTS}),
}


def can(role: Role | str, capability: Capability) -> bool:
    """True if ``role`` grants ``capability`` (anywhere inside the role holder's scope).

    Example::

        >>> can(Role.INSPECTOR, Capability.UPLOAD_MODEL)
        False
    """
    return capability in ROLE_CAPABILITIES.get(Role(role), frozenset())


def in_scope(scope_path: str, node_path: str) -> bool:
    """True if the node at ``node_path`` lies in the subtree rooted at ``scope_path``.

    Example::

        >>> in_scope("/1/4/", "/1/4/17/"), in_scope("/1/4/", "/1/5/20/")
        (True, False)
    """
    return node_path.startswith(scope_path)
