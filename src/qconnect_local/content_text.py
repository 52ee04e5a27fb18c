"""The text of a content file, for search: plain text, HTML, PDF and Word (DOCX) documents.

Each format is read by a maintained parser, never by hand: PDF by pypdf (pure Python, no system
libraries, the successor of PyPDF2), DOCX by python-docx, HTML by lxml (which python-docx
already brings; a real HTML parser that copes with broken markup). A file its parser cannot read
raises UnreadableContent, which makes the content CREATE_FAILED (or UPDATE_FAILED).
"""

from __future__ import annotations

import io
import logging
import re

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_SPACE = re.compile(r"[ \t\r\f\v]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


# pypdf logs every oddity of a damaged file as a warning; the content's status already says it.
logging.getLogger("pypdf").setLevel(logging.ERROR)


class UnreadableContent(Exception):
    """The file is not what its content type says, or is damaged."""


def extract_text(content_type: str, data: bytes) -> str:
    """The file's text, whitespace tidied (one space between words, one blank line between blocks)."""
    try:
        if content_type == PDF:
            text = _pdf(data)
        elif content_type == DOCX:
            text = _docx(data)
        elif content_type == "text/html":
            text = _html(data)
        else:  # text/plain, text/csv and the application/x.wisdom-json types are text as they are
            text = _decode(data)
    except UnreadableContent:
        raise
    except Exception as exc:  # each parser has its own error types; all mean "cannot read it"
        raise UnreadableContent(f"{type(exc).__name__}: {exc}") from exc
    return _tidy(text)


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableContent("the file is not UTF-8 text") from exc


def _pdf(data: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data), strict=False)
    return "\n\n".join(page.extract_text() or "" for page in reader.pages)


def _docx(data: bytes) -> str:
    import docx

    document = docx.Document(io.BytesIO(data))
    blocks = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            blocks.append(" ".join(cell.text for cell in row.cells))
    return "\n\n".join(blocks)


def _html(data: bytes) -> str:
    import lxml.html

    if not data.strip():
        return ""
    root = lxml.html.document_fromstring(data)
    for element in root.xpath("//script|//style|//noscript|//template"):
        element.drop_tree()
    # Block elements end a line, so that words of adjacent paragraphs do not run together.
    for element in root.iter("p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article"):
        element.tail = "\n" + (element.tail or "")
    return str(root.text_content())


def _tidy(text: str) -> str:
    lines = (_SPACE.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
