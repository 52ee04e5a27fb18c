"""Where routing-profile names of an import file are turned into routing-profile ARNs.

The CSV names routing profiles (case-sensitive, AWS's docs say); a quick response stores their
ARNs in `groupingConfiguration`. The names belong to the Amazon Connect instance named in
StartImportJob's `externalSourceConfiguration`. Two directories answer "which routing profiles
does instance X have":

- `LocalDirectory` (default): instances kept in the database, seeded from the JSON file given
  with `--connect-directory FILE` (again after each reset), and editable through
  `PUT/GET/DELETE /_qconnect/connect-instances/{instanceId}/routing-profiles`.
- `AmazonConnectDirectory` (`--connect-directory aws`): the real Amazon Connect
  `ListRoutingProfiles` API through boto3, with the server's AWS credentials, in the job's region.

The JSON file (and the PUT body, for one instance) looks like:

    {"instances": [
        {"instanceId": "11111111-2222-3333-4444-555555555555",
         "accountId": "000000000000", "region": "us-east-1",           # optional
         "routingProfiles": [
            {"name": "Basic Routing Profile"},                        # id derived from the name
            {"name": "Sales", "routingProfileId": "aaaa..."},
            {"name": "Support", "arn": "arn:aws:connect:...:routing-profile/bbbb..."},
            "Billing"]}]}                                             # a bare name works too
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any, Protocol

from qconnect_local.operations.routing_profiles import account_routing_profiles
from qconnect_local.storage.base import Store

AWS = "aws"


class DirectoryError(Exception):
    """The directory cannot answer (unknown instance, bad file, AWS error); says why."""


class RoutingProfileDirectory(Protocol):
    def profiles(self, account: str, region: str, instance_id: str) -> dict[str, str]:
        """name -> routing-profile ARN of one instance; DirectoryError if it is unknown."""
        ...


def routing_profile_arn(region: str, account: str, instance_id: str, profile_id: str) -> str:
    return f"arn:aws:connect:{region}:{account}:instance/{instance_id}/routing-profile/{profile_id}"


def parse_instance(
    doc: Any, default_account: str, default_region: str, instance_id: str | None = None
) -> tuple[str, dict[str, str]]:
    """One instance entry of the JSON format -> (instanceId, name -> ARN). ValueError if malformed."""
    if not isinstance(doc, dict):
        raise ValueError("an instance must be a JSON object")
    instance_id = instance_id or doc.get("instanceId")
    if not isinstance(instance_id, str) or not instance_id:
        raise ValueError("an instance needs an 'instanceId' string")
    account = doc.get("accountId") or default_account
    region = doc.get("region") or default_region
    profiles = doc.get("routingProfiles")
    if not isinstance(profiles, list):
        raise ValueError(f"instance {instance_id}: 'routingProfiles' must be a list")
    out: dict[str, str] = {}
    for item in profiles:
        if isinstance(item, str):
            item = {"name": item}
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"]:
            raise ValueError(f"instance {instance_id}: each routing profile needs a 'name' string")
        arn = item.get("arn")
        if any(
            "\x00" in str(v) for v in (item["name"], arn, item.get("routingProfileId"), instance_id, account, region)
        ):
            raise ValueError(f"instance {instance_id}: U+0000 is not allowed (as in the API)")
        if not arn:
            # A stable id, so the same file gives the same ARNs after every restart.
            profile_id = item.get("routingProfileId") or str(
                uuid.uuid5(uuid.NAMESPACE_URL, f"{instance_id}/{item['name']}")
            )
            arn = routing_profile_arn(region, account, instance_id, profile_id)
        out[item["name"]] = arn
    return instance_id, out


def load_directory_file(path: str | Path, default_account: str, default_region: str) -> dict[str, dict[str, str]]:
    """instanceId -> (name -> ARN) from a JSON file; DirectoryError when it cannot be used."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
        instances = doc["instances"] if isinstance(doc, dict) else None
        if not isinstance(instances, list):
            raise ValueError('the top level must be {"instances": [...]}')
        return dict(parse_instance(i, default_account, default_region) for i in instances)
    except (OSError, ValueError, KeyError) as exc:
        raise DirectoryError(f"cannot use the Connect directory file {path}: {exc}") from None


class LocalDirectory:
    def __init__(self, store: Store) -> None:
        self.store = store

    def profiles(self, account: str, region: str, instance_id: str) -> dict[str, str]:
        # An instance belongs to the account in its profiles' ARNs: another account's import
        # can neither use nor probe it (the table is keyed by instance id alone).
        found = account_routing_profiles(self.store, account, instance_id)
        if not found:
            raise DirectoryError(
                f"The Amazon Connect instance '{instance_id}' is not known to qconnect-local's "
                "routing-profile directory (see --connect-directory)"
            )
        return found


class AmazonConnectDirectory:
    """Asks Amazon Connect itself (boto3 must be installed and have credentials)."""

    def profiles(self, account: str, region: str, instance_id: str) -> dict[str, str]:
        try:
            import boto3
            from botocore.exceptions import BotoCoreError, ClientError
        except ImportError:
            raise DirectoryError("--connect-directory aws needs boto3 installed") from None
        try:
            client = boto3.client("connect", region_name=region)
            out: dict[str, str] = {}
            for page in client.get_paginator("list_routing_profiles").paginate(InstanceId=instance_id):
                for summary in page.get("RoutingProfileSummaryList", []):
                    out[summary["Name"]] = summary["Arn"]
            return out
        except (BotoCoreError, ClientError) as exc:
            raise DirectoryError(
                f"Amazon Connect ListRoutingProfiles failed for instance '{instance_id}': {exc}"
            ) from None
