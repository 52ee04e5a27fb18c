"""Pure unit tests of the import's CSV format and its fast validator (no server)."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qconnect_local.errors import ValidationException
from qconnect_local.importing.csv_format import FileProblem, RowMapper, RowProblem, parse_header, read_rows
from qconnect_local.importing.fastcheck import compile_shape
from qconnect_local.protocol.model import service_model
from qconnect_local.protocol.validation import validate

SHAPE = service_model().operation_model("CreateQuickResponse").input_shape
FAST = compile_shape(SHAPE)

text = st.one_of(st.none(), st.text(max_size=12), st.text(min_size=95, max_size=110), st.integers(), st.booleans())
inputs = st.fixed_dictionaries(
    {
        "knowledgeBaseId": st.sampled_from(["12345678-1234-1234-1234-123456789012", "NOT-A-UUID", ""]),
        "name": text,
        "content": st.one_of(st.fixed_dictionaries({"content": text}), st.just({}), text),
    },
    optional={
        "shortcutKey": text,
        "description": text,
        "language": text,
        "isActive": st.one_of(st.booleans(), text),
        "contentType": st.sampled_from(["application/x.quickresponse;format=plain", "text/plain", ""]),
        "channels": st.one_of(st.lists(text, max_size=3), text),
        "groupingConfiguration": st.fixed_dictionaries(
            {},
            optional={
                "criteria": text,
                "values": st.lists(st.one_of(text, st.text(min_size=2040, max_size=2050)), max_size=2),
            },
        ),
    },
)


@settings(max_examples=200, deadline=None)
@given(inputs)
def test_fast_check_agrees_with_the_api_validator(params):
    try:
        validate(SHAPE, params)
        valid = True
    except ValidationException:
        valid = False
    assert FAST(params) == valid


def rows_of(data: bytes):
    header, rows = read_rows(io.BytesIO(data))
    return header, list(rows)


def test_header_aliases_and_problems():
    header = parse_header(["NAME", "shortcut_key", "Content", "Routing Profiles", "Error"])
    assert [c.name if c else None for c in header.columns] == [
        "Name",
        "Shortcut key",
        "Content",
        "Routing Profile",
        None,
    ]
    with pytest.raises(FileProblem, match="twice"):
        parse_header(["Name", "Content", "content"])
    with pytest.raises(FileProblem, match="lacks the required column"):
        parse_header(["Name"])


def test_rows_keep_their_starting_line_and_cells_verbatim():
    _, rows = rows_of(b'\xef\xbb\xbfName,Content\r\n\r\n a ,"x\r\ny"\r\nb,c\n')
    assert [(r.line, r.cells) for r in rows] == [(3, [" a ", "x\r\ny"]), (5, ["b", "c"])]


def test_row_mapping():
    header, rows = rows_of(
        b"Name,Content,Channels,Active,Content type,Routing Profile\r\n"
        b"n,c,Chat|Email,No,Rich text,A|B\r\nm,d,,,,All\r\n"
    )
    mapper = RowMapper(header, "kb", lambda names: [f"arn:{n}" for n in names])
    assert mapper.to_input(rows[0]) == {
        "knowledgeBaseId": "kb",
        "name": "n",
        "content": {"content": "c"},
        "channels": ["Chat", "Email"],
        "isActive": False,
        "contentType": "application/x.quickresponse;format=markdown",
        "groupingConfiguration": {"criteria": "RoutingProfileArn", "values": ["arn:A", "arn:B"]},
    }
    assert mapper.to_input(rows[1]) == {"knowledgeBaseId": "kb", "name": "m", "content": {"content": "d"}}
    with pytest.raises(RowProblem, match="Active"):
        mapper.to_input(type(rows[0])(9, ["n", "c", "", "maybe"]))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["", "x", "Chat|Email", "yes", "No", "maybe", "markdown", "All", "P1|P2", "<*Required field>", "en_US"]
        ),
        min_size=9,
        max_size=9,
    ),
    st.permutations(
        [
            "Name",
            "Content",
            "Shortcut key",
            "Description",
            "Channels",
            "Language",
            "Content type",
            "Active",
            "Routing Profile",
        ]
    ),
)
def test_the_common_row_path_maps_like_the_general_one(cells, columns):
    """`to_input`'s loop for complete rows gives the same input, members in the same order, and
    the same RowProblem as the general path, for every column order."""
    from qconnect_local.importing.csv_format import Row

    mapper = RowMapper(parse_header(columns), "kb", lambda names: [f"arn:{n}" for n in names])

    def outcome(fn):
        try:
            return list(fn().items())
        except RowProblem as exc:
            return ("problem", str(exc))

    assert outcome(lambda: mapper.to_input(Row(2, list(cells)))) == outcome(lambda: mapper._to_input(list(cells)))


class _CountingReader(io.BytesIO):
    """A file that counts the reads made of it (each read of a real file gives up the GIL)."""

    reads = 0

    def read(self, size=-1):
        self.reads += 1
        return super().read(size)

    def read1(self, size=-1):
        self.reads += 1
        return super().read1(size)


def test_the_file_is_read_in_big_chunks():
    """Every read of the upload gives up the GIL, and restarts the wait of an import's writer
    thread for it (see READ_CHUNK_BYTES): a 2.6 MB file must take a handful of reads, not the
    ~330 of TextIOWrapper's 8 KiB default. The rows are all there all the same, across the
    seams between chunks (quoted cells with newlines and commas)."""
    from qconnect_local.importing.csv_format import READ_CHUNK_BYTES

    line = 'name-{:06d},"content, with a comma and a ""quote""\nand a newline"\r\n'
    body = ("Name,Content\r\n" + "".join(line.format(i) for i in range(40_000))).encode()
    assert len(body) > 8 * READ_CHUNK_BYTES
    stream = _CountingReader(body)
    header, rows = read_rows(stream)
    got = [row.cells for row in rows]
    assert header.cells == ["Name", "Content"]
    assert got == [[f"name-{i:06d}", 'content, with a comma and a "quote"\nand a newline'] for i in range(40_000)]
    assert stream.reads <= len(body) // READ_CHUNK_BYTES + 3
