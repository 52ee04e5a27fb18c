"""The composition root: what a server, a worker, the in-process mock and the pytest plugin run on.

`build_services(settings)` is the one place that opens the store and the blob store and makes
the URL signer, the routing-profile directory and the import runner; `server.build_app(settings)`
puts an HTTP `App` in front of them. Nothing else constructs these, so every way of running
qconnect-local is wired alike.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from qconnect_local.blobs import BlobStore, open_blob_store
from qconnect_local.blobs.signed_urls import UrlSigner
from qconnect_local.config import Settings
from qconnect_local.importing.routing_profiles import (
    AWS,
    AmazonConnectDirectory,
    LocalDirectory,
    RoutingProfileDirectory,
    load_directory_file,
)
from qconnect_local.importing.runner import ImportRunner
from qconnect_local.operations import routing_profiles
from qconnect_local.storage import Store, open_store
from qconnect_local.unhappy.faults import FaultRegistry


@dataclass
class Services:
    settings: Settings
    store: Store
    blobs: BlobStore
    signer: UrlSigner
    directory: RoutingProfileDirectory
    # Epoch seconds for what the API stamps and expires (timestamps, URL and upload expiry);
    # tests pass a clock they move instead of sleeping.
    clock: Callable[[], float] = time.time
    runner: ImportRunner = field(init=False)
    faults: FaultRegistry | None = None  # the fault-injection rules of a server (docs/unhappy-paths.md)

    def seed_directory(self) -> None:
        """Loads `--connect-directory FILE` into the local directory (at start and after a reset)."""
        source = self.settings.imports.connect_directory
        if source and source != AWS:
            instances = load_directory_file(source, self.settings.account_id, self.settings.region)
            routing_profiles.replace_instances(self.store, instances)

    def reset(self) -> None:
        """Wipes every account's state (the store is the App's first reset hook)."""
        self.blobs.clear()
        self.seed_directory()

    def stop(self) -> None:
        """Stops the import runner and closes the blob store (the store closes last, in App)."""
        self.runner.stop()
        self.blobs.close()


def build_services(
    settings: Settings,
    store: Store | None = None,
    runner_class: type[ImportRunner] = ImportRunner,
    clock: Callable[[], float] = time.time,
) -> Services:
    settings.prepare()
    opened = store is None
    store = store or open_store(settings.database, settings.hardening.lock_timeout_seconds)
    try:
        shared_secret = store.shared_secret("url-signing-key")
        if shared_secret is not None:  # every server and worker of a shared store signs alike
            settings.shared_key = shared_secret
        signer = UrlSigner(settings.secret_key())
        source = settings.imports.connect_directory
        directory: RoutingProfileDirectory = AmazonConnectDirectory() if source == AWS else LocalDirectory(store)
        services = Services(settings, store, open_blob_store(settings, signer), signer, directory, clock)
    except BaseException:
        if opened:  # a blob store that cannot be reached must not leave the database open
            store.close()
        raise
    services.runner = runner_class(services)
    return services
