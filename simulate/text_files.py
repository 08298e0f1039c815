"""Reading a study's text files: UTF-8, and where the bytes are not, which byte.

A study folder's files are UTF-8. A table file (``table1.tsv``, or ``.csv``) is often
saved from a spreadsheet program, which may begin it with a byte-order mark (Excel's
"CSV UTF-8", Notepad) or save it in a Windows code page (Excel's "Text (Tab delimited)").
The mark is dropped: a table has no rule against it, and read as text it became part of
the first line, so a leading comment line was taken for the header and every declared
column was reported missing. A byte that is not UTF-8 is named by line, column and value
(with what it would be in Latin-1), never as a codec's byte offset.
"""
from __future__ import annotations

from pathlib import Path

__all__ = ["BOM", "not_utf8", "read_text_file", "separator_hint"]

#: The UTF-8 byte-order mark.
BOM = b"\xef\xbb\xbf"


def not_utf8(data: bytes, exc: UnicodeDecodeError) -> tuple[int, int, str]:
    """Where ``data`` stops being UTF-8 and what to say about it.

    Parameters
    ----------
    data : bytes
        The file's bytes.
    exc : UnicodeDecodeError
        The error of ``data.decode("utf-8")``.

    Returns
    -------
    tuple
        ``(line, column, message)``, line and column counted from 1 (the column in bytes).
    """
    start = exc.start
    line = data.count(b"\n", 0, start) + 1
    column = start - (data.rfind(b"\n", 0, start) + 1) + 1
    byte = data[start]
    latin = bytes([byte]).decode("latin-1")
    guess = f" (in Latin-1 that byte is {latin!r})" if latin.isprintable() else ""
    return line, column, f"byte 0x{byte:02X} is not UTF-8{guess}"


def read_text_file(path: str | Path, what: str = "table") -> str:
    """The text of a file a user saves with a desktop program (a table; a paper's text),
    UTF-8 with or without a byte-order mark; ``what`` names it in the message.

    Raises
    ------
    OSError
        The file cannot be read.
    ValueError
        A byte is not UTF-8: the message names the file, line, column and byte.
    """
    path = Path(path)
    data = path.read_bytes()
    if data.startswith(BOM):
        data = data[len(BOM):]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column, problem = not_utf8(data, exc)
        raise ValueError(f"{path.name}: line {line}, column {column}: {problem}; save the "
                         f"{what} as UTF-8") from None


def separator_hint(name: str, header: list[str]) -> str:
    """What to say when a table's header came out as one cell holding another separator
    (a ``.csv`` saved with semicolons, as a spreadsheet program does where the decimal
    mark is a comma; a ``.tsv`` that is comma-separated); '' otherwise."""
    if len(header) != 1:
        return ""
    read = "comma" if name.lower().endswith(".csv") else "tab"
    for sep, word in ((";", "semicolon"), ("\t", "tab"), (",", "comma")):
        if word != read and sep in header[0]:
            return (f" (the header is one cell holding {word}s: a {name.rsplit('.', 1)[-1]} "
                    f"file is read {read}-separated; save the table tab-separated as .tsv "
                    "or comma-separated as .csv)")
    return ""
