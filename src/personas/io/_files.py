"""Files as personas finds them, for every reader (user tables and event logs): whether a
path exists and can be read, its format told by its content, its compression, the head of
its text and the encoding of that text, the one data file of a zip download, and the data
files of a folder."""

from __future__ import annotations

import bz2
import difflib
import gzip
import lzma
import os
import shutil
import tempfile
import zipfile
import zlib
from pathlib import Path

import pyarrow as pa

from personas.errors import FileFormatError, InputFileError

__all__ = [
    "DATA_FILES",
    "EXCEL_FILES",
    "HEAD_BYTES",
    "JSON_FILES",
    "SUPPORTED",
    "check_path",
    "compression",
    "decode_head",
    "detect_format",
    "folder_files",
    "open_decompressed",
    "raw_head",
    "read_head",
    "TEXT_FILES",
    "text_head",
    "unzip_one",
]

HEAD_BYTES = 1 << 20
EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".tab": "csv",
    ".txt": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".xlsx": "excel",
    ".xlsm": "excel",
    ".xls": "excel",
    ".duckdb": "duckdb",
    ".ddb": "duckdb",
    ".db": "duckdb",
    ".zip": "zip",
}
COMPRESSIONS = {".gz": "gzip", ".bz2": "bz2", ".xz": "xz", ".zst": "zstd"}
SUPPORTED = (
    "CSV/TSV (optionally gzip/bz2/xz), Parquet, JSON lines, Excel (.xlsx), DuckDB, or a zip "
    "holding one of those"
)


def check_path(path: Path) -> Path:
    path = path.expanduser()
    if not path.exists():
        parent = path.parent if str(path.parent) else Path(".")
        hint = ""
        if parent.is_dir():
            close = difflib.get_close_matches(path.name, os.listdir(parent), n=3, cutoff=0.6)
            if close:
                hint = " Did you mean " + " or ".join(repr(str(parent / c)) for c in close) + "?"
        elif str(parent) not in ("", "."):
            hint = f" The folder {str(parent)!r} does not exist either."
        raise InputFileError(
            f"File {str(path)!r} does not exist (looked for {str(path.absolute())!r}).{hint} "
            "Check the path and the current directory."
        )
    if path.is_dir():
        return path  # (read by the data files it holds: see folder_files)
    if not os.access(path, os.R_OK):
        raise InputFileError(
            f"File {str(path)!r} cannot be read: permission denied. "
            "Fix its permissions (chmod +r) or run as a user who can read it."
        )
    return path


def compression(path: Path, head: bytes) -> str | None:
    if head[:2] == b"\x1f\x8b":
        return "gzip"
    if head[:3] == b"BZh":
        return "bz2"
    if head[:6] == b"\xfd7zXZ\x00":
        return "xz"
    if head[:4] == b"\x28\xb5\x2f\xfd":
        return "zstd"
    return None


def raw_head(path: Path, n: int = 16) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(n)


def detect_format(path: Path) -> str:
    head = raw_head(path)
    if head[:4] == b"PAR1":
        return "parquet"
    if head[8:12] == b"DUCK":
        return "duckdb"
    if head[:4] == b"PK\x03\x04":  # a workbook is a zip too: its parts say which
        try:
            with zipfile.ZipFile(path) as archive:
                names = set(archive.namelist())
        except zipfile.BadZipFile:  # (damaged: a zip by its name, else a workbook)
            return "zip" if path.suffix.lower() == ".zip" else "excel"
        workbook = "[Content_Types].xml" in names or "xl/workbook.xml" in names
        return "excel" if workbook else "zip"
    if head[:16] == b"SQLite format 3\x00":
        raise FileFormatError(
            f"{path.name} is a SQLite database, which personas does not read directly. "
            "Export the table to CSV or Parquet (sqlite3 -header -csv db 'select * from t'), "
            "or load it into DuckDB and pass the .duckdb file."
        )
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in COMPRESSIONS:
        suffixes = suffixes[:-1]
    ext = suffixes[-1] if suffixes else ""
    if ext in EXTENSIONS and EXTENSIONS[ext] in ("csv", "jsonl"):
        if EXTENSIONS[ext] == "csv" and _json_object(text_head(path, 1 << 16)):
            return "jsonl"  # (JSON lines named .csv or .txt: read by their content)
        return EXTENSIONS[ext]
    if ext in EXTENSIONS and EXTENSIONS[ext] in ("parquet", "excel", "duckdb", "zip"):
        raise FileFormatError(
            f"{path.name} is named like a {EXTENSIONS[ext]} file but its content is not one "
            f"(it starts with {head[:8]!r}). The file may be damaged or misnamed; re-export it."
        )
    text = text_head(path, 4096).lstrip()
    if text.startswith(("{", "[")):
        return "jsonl"
    return "csv"


def _json_object(text: str) -> bool:
    """Whether the first line of ``text`` is a JSON object."""
    import json

    first = text.lstrip().split("\n", 1)[0]
    try:
        return first.startswith("{") and isinstance(json.loads(first), dict)
    except ValueError:
        return False


def open_decompressed(path: Path):
    comp = compression(path, raw_head(path))
    if comp == "gzip":
        return gzip.open(path, "rb"), comp
    if comp == "bz2":
        return bz2.open(path, "rb"), comp
    if comp == "xz":
        return lzma.open(path, "rb"), comp
    if comp == "zstd":
        return pa.input_stream(str(path), compression="zstd"), comp
    return open(path, "rb"), None


def read_head(path: Path, n: int = HEAD_BYTES) -> tuple[bytes, str | None]:
    """The first ``n`` bytes of the file, decompressed, and its compression; a clear error
    when the compressed data end too soon or are damaged (a download cut short)."""
    fh, packed = open_decompressed(path)
    try:
        with fh:
            return fh.read(n), packed
    except (EOFError, OSError, ValueError, lzma.LZMAError, zlib.error) as exc:
        raise FileFormatError(
            f"{path.name} holds {packed or 'compressed'} data that end too soon or are "
            f"damaged ({exc}). Download or compress the file again."
        ) from None


def text_head(path: Path, n: int = HEAD_BYTES) -> str:
    return read_head(path, n)[0].decode("utf-8", errors="replace")


def decode_head(raw: bytes, path: Path, encoding: str | None) -> tuple[str, str]:
    """Return (text, encoding) of the head, choosing utf-8, utf-16 or cp1252/latin-1."""
    if encoding:
        try:
            return raw.decode(encoding, errors="strict"), encoding
        except LookupError as exc:
            raise FileFormatError(
                f"Unknown encoding {encoding!r} given for {path.name}. "
                "Use a Python codec name such as utf-8, latin-1 or cp1252."
            ) from exc
        except UnicodeDecodeError as exc:
            raise FileFormatError(
                f"{path.name} is not valid {encoding} at byte {exc.start} of its head. "
                "Leave out --encoding to let personas detect it."
            ) from exc
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16", errors="replace"), "utf-16"
    if b"\x00" in raw[:8192]:
        raise FileFormatError(
            f"{path.name} looks like a binary file, not text: it contains NUL bytes "
            f"(starts with {raw[:12]!r}). personas reads {SUPPORTED}. Give a file in one "
            "of those formats."
        )
    decoder = __import__("codecs").getincrementaldecoder("utf-8")()
    try:
        return decoder.decode(raw, final=False), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return raw.decode("latin-1"), "latin-1"


EXCEL_FILES = (".xlsx", ".xlsm", ".xls")
JSON_FILES = tuple(f".{x}{z}" for x in ("json", "jsonl", "ndjson") for z in ("", ".gz"))
TEXT_FILES = (".csv", ".csv.gz", ".gz", ".tsv", ".txt", ".bz2", ".zst", ".dat")
DATA_FILES = (*TEXT_FILES, ".parquet", ".parq", *JSON_FILES, *EXCEL_FILES)


def unzip_one(path: Path) -> tuple[Path, str, str]:
    """The one data file of a zip archive (Kaggle's and the UCI's downloads), unpacked into
    a temporary folder: (its path, its name in the archive, the folder to remove when done).
    A zip of several data files, or of none, is an error listing them."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = [
                m
                for m in archive.infolist()
                if not m.is_dir()
                and not m.filename.startswith("__MACOSX/")
                and not Path(m.filename).name.startswith(".")
            ]
            data = [m for m in members if m.filename.lower().endswith(DATA_FILES)]
            if len(data) != 1:
                names = ", ".join(m.filename for m in (data or members)[:8]) or "nothing"
                what = "several data files" if data else "no CSV, Parquet, JSON or Excel file"
                raise InputFileError(
                    f"{path.name} holds {what} ({names}). Unzip it and give the file "
                    "with the data (or a folder of files that share their columns)."
                )
            folder = tempfile.mkdtemp(prefix="personas-zip-")
            try:
                inner = Path(archive.extract(data[0], folder))
            except BaseException:
                shutil.rmtree(folder, ignore_errors=True)
                raise
    except zipfile.BadZipFile as exc:
        raise InputFileError(f"{path.name} is not a readable zip archive ({exc}).") from None
    return inner, data[0].filename, folder


def folder_files(path: Path) -> list[str]:
    """Every data file of a folder (in subfolders too; hidden files and macOS' resource
    forks left out), which must be of one format: Parquet, delimited text or JSON."""
    found: dict[str, list[str]] = {}
    for file in sorted(path.rglob("*")):
        parts = file.relative_to(path).parts
        if not file.is_file() or any(p.startswith(".") or p == "__MACOSX" for p in parts):
            continue
        suffixes = [s.lower() for s in file.suffixes]
        if suffixes and suffixes[-1] in COMPRESSIONS:
            suffixes = suffixes[:-1]
        ext = suffixes[-1] if suffixes else ""
        fmt = EXTENSIONS.get(ext)
        if fmt in ("csv", "parquet", "jsonl") and ext != ".txt":  # (a readme is no data)
            found.setdefault(fmt, []).append(str(file))
    if len(found) > 1:
        kinds = ", ".join(f"{len(v)} {k} ({Path(v[0]).name}…)" for k, v in found.items())
        raise InputFileError(
            f"The folder {path.name} holds data files of several formats: {kinds}. Give a "
            "folder of one format, or a glob naming the files to read (e.g. "
            f"'{path.name}/*.csv')."
        )
    if not found:
        other = sorted({p.suffix for p in path.rglob("*") if p.is_file()})
        raise InputFileError(
            f"The folder {path.name} holds no Parquet, CSV or JSON files (it holds "
            f"{', '.join(other[:8]) or 'no files'}). Give a folder of data files, or a glob."
        )
    return next(iter(found.values()))
