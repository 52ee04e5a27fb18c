"""The local directory of Amazon Connect routing profiles (`/_qconnect/connect-instances/...`),
which import jobs use to turn routing-profile names into ARNs (see importing/routing_profiles.py)."""

from __future__ import annotations

from qconnect_local.storage.base import Store


def replace_routing_profiles(store: Store, instance_id: str, profiles: dict[str, str]) -> None:
    with store.write() as session:
        session.replace_routing_profiles(instance_id, profiles)


def routing_profiles(store: Store, instance_id: str) -> dict[str, str] | None:
    """name -> ARN of one instance; None when the instance is not in the directory."""
    with store.read() as session:
        return session.routing_profiles(instance_id)


def delete_routing_profiles(store: Store, instance_id: str) -> bool:
    with store.write() as session:
        return session.delete_routing_profiles(instance_id)


def replace_instances(store: Store, instances: dict[str, dict[str, str]]) -> None:
    """Several instances at once (instanceId -> name -> ARN), in one transaction."""
    with store.write() as session:
        for instance_id, profiles in instances.items():
            session.replace_routing_profiles(instance_id, profiles)
