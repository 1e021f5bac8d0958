"""Roles, permissions, and the one map between them (DESIGN.md, "Roles")."""

from enum import StrEnum

from models.user import Role


class Permission(StrEnum):
    submit = "submit"  # submit, edit own pending, withdraw own, endorse
    # restricted case details and real names without consent, of every case (each read
    # logged); officials hold only `see_shared_case_details`: of the cases whose recorder
    # shared them with the official's delegation
    see_restricted_case_details = "see_restricted_case_details"
    see_shared_case_details = "see_shared_case_details"
    read_case_access_log = "read_case_access_log"  # of every case; recorders read their own
    moderate = "moderate"  # publish, reject, remove, redact; read the queue
    respond = "respond"  # respond and revise for the official's own delegation
    record_commitments = "record_commitments"
    record_any_commitment = "record_any_commitment"
    assess = "assess"  # assess commitments and benchmarks, update case timelines
    read_audit = "read_audit"
    manage = "manage"  # dialogues, rounds, themes, invitations
    read_users = "read_users"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.activist: frozenset({Permission.submit}),
    Role.official: frozenset(
        {Permission.respond, Permission.record_commitments, Permission.see_shared_case_details}
    ),
    Role.moderator: frozenset(
        {
            Permission.moderate,
            Permission.record_commitments,
            Permission.record_any_commitment,
            Permission.assess,
            Permission.see_restricted_case_details,
            Permission.read_case_access_log,
        }
    ),
    Role.admin: frozenset(
        {
            Permission.moderate,
            Permission.record_commitments,
            Permission.record_any_commitment,
            Permission.assess,
            Permission.see_restricted_case_details,
            Permission.read_case_access_log,
            Permission.read_audit,
            Permission.manage,
            Permission.read_users,
        }
    ),
}

# Roles an admin may hand out by invitation; activists self-register, admins come from the CLI.
INVITABLE_ROLES = frozenset({Role.official, Role.moderator})


def can(role: str, permission: Permission) -> bool:
    try:
        return permission in ROLE_PERMISSIONS[Role(role)]
    except ValueError:
        return False
