"""`argus query`'s sandbox: once the traces are loaded, the SQL reads the loaded relations only.

The SQL comes from the command line, but it is often pasted from a ticket, a notebook or a CI
config someone else wrote, and DuckDB runs it with the user's rights: `COPY ... TO` writes any
file, `read_text`/`read_csv` read any file, `ATTACH` opens other databases, `INSTALL`/`LOAD`
fetch and run extensions, and `SET` undoes any of it. So after the load (which needs the files)
and before the user's SQL, the connection is closed around what it already holds:

- `enable_external_access = false`: no file or URL is opened any more, for reading or writing
  (COPY, read_*, glob, ATTACH of a file, EXPORT DATABASE, Python objects by name). The database
  already attached (a work database file for a large load) and the spill directory set before
  stay usable, so large queries still work.
- `autoinstall_known_extensions`, `autoload_known_extensions = false`: nothing is fetched or
  loaded behind a function call; an explicit INSTALL or LOAD of a non-built-in extension fails
  on the external access check.
- `lock_configuration = true`: no `SET`/`RESET`/`PRAGMA` of a setting, so none of the above can be
  turned back on (DuckDB refuses every configuration change from here on).

`--unsafe-sql` skips all of it: the SQL then runs with the user's full rights.
"""

from __future__ import annotations

import duckdb

from argus_cli.diagnostics import UsageError

# In this order: the lock must come last, since it refuses the others.
SANDBOX_SETTINGS = (
    "SET enable_external_access = false",
    "SET autoinstall_known_extensions = false",
    "SET autoload_known_extensions = false",
    "SET lock_configuration = true",
)

UNSAFE_FLAG = "--unsafe-sql"


def seal(con: duckdb.DuckDBPyConnection) -> None:
    """Turn off external access, extension installs and loads, and configuration changes."""
    for statement in SANDBOX_SETTINGS:
        con.execute(statement)


def run_sql(
    con: duckdb.DuckDBPyConnection, sql: str, *, unsafe: bool = False
) -> duckdb.DuckDBPyConnection:
    """Run the user's SQL, sealed unless `unsafe`; a refused or failing statement is a
    UsageError of one line (exit 2)."""
    if not unsafe:
        seal(con)
    try:
        return con.execute(sql)
    except duckdb.Error as exc:
        line = _first_line(exc)
        if not unsafe and _refused(exc):
            raise UsageError(
                f"query refused: {line} (argus query reads only the loaded hops, intents and "
                f"outcomes; {UNSAFE_FLAG} gives the SQL your full rights)"
            ) from None
        raise UsageError(f"query failed: {line}") from None


def _refused(exc: duckdb.Error) -> bool:
    """An error of the sandbox: a file, URL or extension it closed, or a locked setting."""
    return isinstance(exc, duckdb.PermissionException) or "configuration has been locked" in str(
        exc
    )


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
