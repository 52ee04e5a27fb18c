"""The local directory of Amazon Connect routing profiles (`/_qconnect/connect-instances/...`),
which import jobs use to turn routing-profile names into ARNs (see importing/routing_profiles.py).

The directory is keyed by instance id alone; an instance belongs to the account in its profiles'
ARNs. Callers see and change only their account's instances (an instance without profiles has no
owner yet, and anyone may see or fill it)."""

from __future__ import annotations

from typing import Any

from qconnect_local.storage.base import Store


def arn_account(arn: str) -> str | None:
    """The account field of an ARN; None when the value is not an ARN."""
    parts = arn.split(":", 5)
    return parts[4] if len(parts) == 6 and parts[0] == "arn" else None


def _owned_by(arns: Any, account: str) -> bool:
    """True when the account may use an instance with these profile ARNs."""
    owners = {arn_account(a) for a in arns} - {None}
    return not owners or account in owners


def _mine(profiles: dict[str, str], account: str) -> dict[str, str]:
    return {name: arn for name, arn in profiles.items() if arn_account(arn) in (account, None)}


def replace_routing_profiles(store: Store, account: str, instance_id: str, profiles: dict[str, str]) -> bool:
    """False (nothing changed) when the instance belongs to another account."""
    with store.write() as session:
        found = session.routing_profiles(instance_id)
        if found is not None and not _owned_by(found.values(), account):
            return False
        session.replace_routing_profiles(instance_id, profiles)
        return True


def routing_profiles(store: Store, instance_id: str) -> dict[str, str] | None:
    """name -> ARN of one instance, every account's; None when the instance is not in the directory."""
    with store.read() as session:
        return session.routing_profiles(instance_id)


def account_routing_profiles(store: Store, account: str, instance_id: str) -> dict[str, str] | None:
    """name -> ARN of one instance as `account` sees it; None when it is unknown or another account's."""
    found = routing_profiles(store, instance_id)
    if found is None or not _owned_by(found.values(), account):
        return None
    return _mine(found, account)


def list_instances(store: Store, account: str) -> list[dict[str, Any]]:
    """The account's instances (and those without profiles), by id, with their profile counts."""
    with store.read() as session:
        instances = session.connect_instances()
    return [
        {"instanceId": instance_id, "routingProfileCount": sum(arn_account(a) in (account, None) for a in arns)}
        for instance_id, arns in sorted(instances.items())  # sorted here: the stores' collations differ
        if _owned_by(arns, account)
    ]


def delete_routing_profiles(store: Store, account: str, instance_id: str) -> bool:
    """False when the instance is unknown or another account's."""
    with store.write() as session:
        found = session.routing_profiles(instance_id)
        if found is None or not _owned_by(found.values(), account):
            return False
        return session.delete_routing_profiles(instance_id)


def replace_instances(store: Store, instances: dict[str, dict[str, str]]) -> None:
    """Several instances at once (instanceId -> name -> ARN), in one transaction (the server's seed)."""
    with store.write() as session:
        for instance_id, profiles in instances.items():
            session.replace_routing_profiles(instance_id, profiles)
