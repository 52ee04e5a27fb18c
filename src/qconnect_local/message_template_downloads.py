"""GET /_qconnect/message-template-attachments/{attachmentId}: a message template attachment's
file through the signed link that GetMessageTemplate, RenderMessageTemplate and
CreateMessageTemplateAttachment hand out (S3's error shapes, as the other signed links)."""

from __future__ import annotations

import base64
import mimetypes
from typing import Any
from urllib.parse import quote

from qconnect_local.blobs.signed_urls import SignatureProblem
from qconnect_local.importing.endpoints import _respond, _xml_error
from qconnect_local.public_urls import signing_host


def install(app: Any) -> None:
    signer = app.services.signer

    def load(attachment_id: str) -> tuple[str, str] | None:
        with app.store.read() as session:
            found: tuple[str, str] | None = session.get_message_template_attachment(attachment_id)
            return found

    async def download(req: Any) -> None:
        try:
            signer.verify(
                req.method,
                signing_host(app.settings, req.headers),
                req.path,
                req.query,
                req.headers,
                app.services.clock(),
            )
        except SignatureProblem as problem:
            await _xml_error(req, problem.status, problem.code, problem.message)
            return
        found = await app.run_sync(load, req.match["attachment_id"])
        if found is None:
            await _xml_error(req, 404, "NoSuchKey", "The specified key does not exist.")
            return
        name, body = found
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        # RFC 6266/5987: a UTF-8 file name survives the latin-1 header encoding.
        disposition = f"attachment; filename*=UTF-8''{quote(name, safe='')}"
        await _respond(req, 200, base64.b64decode(body), content_type, {"content-disposition": disposition})

    app.add_internal_route("GET", r"/_qconnect/message-template-attachments/(?P<attachment_id>[a-f0-9-]{36})", download)
