"""First filings in bulk: the write path of the importer's chunks (`filing.batch.import`).

`create_first_filings` writes, for a whole chunk of subjects, exactly the rows and the
`filing.application.submitted` events that `entry.store.create_first_filing` writes for one (the
same columns, statuses, audit entries and snapshots, built with the same helpers of
`entry/rows.py`), but set-based. Two ways, the same rows (built once as tuples, `_TABLES`):
- the import's (`copy=True`, in the chunk's transaction): one statement checks the database rules
  of the whole chunk and, when nothing conflicts, writes the outbox row and NOTIFYs the relay; then
  each table's rows go by binary COPY (users, subjects, subject_mobiles, websites, domains, accesses,
  applications, application_versions, application_status_history, audit_log) — no JSON parameters
  to encode and parse;
- the API's group commit (`entry/submits.py`): the rules and every insert in one statement, the
  rows as `jsonb_to_recordset` parameters — one round trip, atomic without BEGIN/COMMIT.
Each item is dumped once (`model_dump`) for its version payload, rows and event; the event is built
in its contract's JSON form (`rows.submitted_event_json`) and written with `Outbox.row_json`.

What is not repeated: `check_filing`. The importer ran `FilingData` + `check_filing` on every
item and sealed the chunk (AES-GCM, bound to job and chunk); here the item has been parsed
again with `FilingData` (the structural validation, needed anyway) and is put in canonical
form with the validating normalisers of `canonical` (certificate and ID numbers, home URLs,
IP ranges) — an item that fails them is refused with the full `validate_filing` errors (422).
Items the importer sealed already in canonical form (`checked=True`, the `"c"` flag of
`services/filing/entry/batch.py`) only get the non-validating rest of `canonical`.

Database rules (DOMAIN §5.10): the certificate, principal mobiles and domains of every item
against the database (with the filing blacklist and the keys a file being imported reserved) in
that statement, and against the other items of the chunk in Python first (the
importer already refuses such files; this keeps the chunk's answer the same as the per-subject
path). The partial unique indexes of migration 020 stay the backstop under concurrency: a lost
race raises `BulkRefused` with the item it concerns (with COPY: the COPY of the table whose index
refuses it fails, the tables before it written in the transaction). Any conflict → `BulkRefused`
and nothing is written, or the transaction is left for the caller to roll back.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Hashable, Sequence
from typing import Any

import asyncpg
import orjson
from pydantic_core import to_jsonable_python

from services.filing import reservations
from services.filing.entry.model import (
    LIVE_EXCLUDED,
    CreatedFiling,
    FilingError,
    conflict_error,
    race_error,
    username_taken,
    validate_filing,
    violated_key,
)
from services.filing.entry.rows import (
    access_row,
    domain_rows,
    preapproval_types,
    subject_row,
    submitted_event_json,
    version_payload,
    website_row,
)
from shared import codes, logs
from shared import validate as v
from shared.blacklist import cert_digest
from shared.contracts.filing import ApplicationsSubmitted, ApplicationSubmitted
from shared.filing_data import FilingData, canonical, domain_paths, principal_mobiles, subject_key
from shared.ids import uuid7
from shared.outbox import Outbox, notify_channel

Item = tuple[FilingData, tuple[str, str], Hashable]  # (data, (username, password_hash), row_key)


class BulkRefused(Exception):
    """The chunk is refused; nothing was written. `conflicts`: [(row_key, FilingError)] in item order."""

    def __init__(self, conflicts: list[tuple[Hashable, FilingError]]) -> None:
        super().__init__(f"{len(conflicts)} conflicts")
        self.conflicts = conflicts


# The database rules of DOMAIN §5.10 for a whole chunk. The status predicates are written as the
# partial unique indexes' (subjects_cert_live, domains_live, subject_mobiles_live) so they are used;
# each key is looked up through a LATERAL … LIMIT 1 (at most one live row per key: the unique
# indexes), which keeps it an index probe per key; `= ANY($n)` and plain joins were answered with
# sequential scans of the whole tables once they held a few thousand rows.
_CONFLICTS_TEMPLATE = """
SELECT 'cert' AS kind, s.family, s.key, s.number, s.status, NULL::text AS reason
  FROM unnest($c1::text[], $c2::text[]) AS k(family, number),
       LATERAL (SELECT s.cert_family AS family, s.cert_number AS key, s.subject_no AS number, s.status
                  FROM subjects s
                 WHERE s.cert_family = k.family AND s.cert_number = k.number
                   AND s.status NOT IN ('CANCELLED', 'WITHDRAWN') LIMIT 1) s
UNION ALL
SELECT 'mobile', NULL, m.mobile, NULL, NULL, NULL
  FROM unnest($c3::text[]) AS k(mobile),
       LATERAL (SELECT m.mobile FROM subject_mobiles m WHERE m.mobile = k.mobile AND m.active LIMIT 1) m
UNION ALL
SELECT 'domain', NULL, d.ascii, d.website_no, d.status, NULL
  FROM unnest($c4::text[]) AS k(ascii),
       LATERAL (SELECT d.ascii, w.website_no, d.status
                  FROM domains d JOIN websites w ON w.id = d.website_id
                 WHERE d.ascii = k.ascii AND d.status NOT IN ('CANCELLED', 'WITHDRAWN') LIMIT 1) d
UNION ALL
SELECT 'username', NULL, u.name, NULL, NULL, NULL
  FROM unnest($c5::text[]) AS k(name),
       LATERAL (SELECT lower(u.username) AS name FROM users u WHERE lower(u.username) = k.name LIMIT 1) u
UNION ALL
SELECT 'reserved', r.kind, r.key, r.job_id, NULL, NULL
  FROM unnest($c6::text[], $c7::text[]) AS k(kind, key),
       LATERAL (SELECT r.kind, r.key, r.job_id FROM batch_reservations r
                 WHERE r.kind = k.kind AND r.key = k.key AND r.expires_at > now()
                   AND r.job_id IS DISTINCT FROM $c8) r
UNION ALL  -- the filing blacklist (blacklist.blacklist_rows): certificates by digest, domains
SELECT 'blacklist_cert', NULL, b.cert_digest, NULL, NULL, b.reason
  FROM blacklist b WHERE b.active AND b.kind = 'SUBJECT' AND b.cert_digest = ANY($c9::text[])
UNION ALL
SELECT 'blacklist_domain', NULL, d, NULL, NULL, b.reason
  FROM blacklist b, unnest(b.domains) AS d
 WHERE b.active AND b.kind = 'WEBSITE' AND b.domains && $c4::text[] AND d = ANY($c4::text[])
"""


def _conflicts_sql(first: int) -> str:
    """The rules query with its nine parameters numbered from `first`."""
    return re.sub(r"\$c(\d)\b", lambda m: f"${first + int(m.group(1)) - 1}", _CONFLICTS_TEMPLATE)


_CONFLICTS_SQL = _conflicts_sql(1)
assert LIVE_EXCLUDED == ("CANCELLED", "WITHDRAWN")  # the literals above

# The tables of a first filing, in the order they are written (parents first: a COPY checks its rows'
# foreign keys when it ends), each with its columns and their types. The rows are built once, as tuples
# in this column order, for either way of writing them (`create_first_filings`): the statement below
# (each table's rows as JSON objects) or binary COPY.
_TABLES: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = tuple(
    (table, tuple(c.split()[0] for c in cols.split(",")), tuple(c.split()[1] for c in cols.split(",")))
    for table, cols in (
        ("users", "id uuid, username text, password_hash text, role text, provider_id text, display_name text,"
                  "created_by text"),
        ("subjects", "id uuid, provider_id text, sponsor_user_id uuid, nature text, cert_type text, cert_family text,"
                     "cert_number text, name text, cert_address text, province text, city text, county text,"
                     "mail_address text, investor_or_superior text, remark text, principal jsonb, status text,"
                     "filing_method text, source text, import_job_id text, created_by text, created_at timestamptz,"
                     "updated_at timestamptz"),
        ("subject_mobiles", "subject_id uuid, mobile text"),
        ("websites", "id uuid, subject_id uuid, provider_id text, position int, service_type text, name text,"
                     "home_urls jsonb, service_content jsonb, preapprovals jsonb, needs_preapproval boolean,"
                     "languages jsonb, remark text, principal_same_as_subject boolean, principal jsonb, status text,"
                     "created_by text, created_at timestamptz, updated_at timestamptz"),
        ("domains", "website_id uuid, subject_id uuid, position int, ascii text, unicode text, status text,"
                    "created_at timestamptz"),
        ("accesses", "website_id uuid, subject_id uuid, provider_id text, access_methods jsonb, ip_ranges jsonb,"
                     "server_locations jsonb, status text, created_by text, created_at timestamptz,"
                     "updated_at timestamptz"),
        ("applications", "id uuid, type text, status text, version int, subject_id uuid, provider_id text,"
                         "province text, filing_method text, source text, import_job_id text,"
                         "needs_preapproval boolean, status_at timestamptz, submitted_at timestamptz,"
                         "submitted_by text, created_at timestamptz, updated_at timestamptz"),
        ("application_versions", "application_id uuid, version int, payload json, submitted_at timestamptz,"
                                 "submitted_by text"),
        ("application_status_history", "application_id uuid, version int, status text, note text, actor text,"
                                       "at timestamptz"),
        ("audit_log", "entity text, entity_id uuid, subject_id uuid, action text, actor text, provider_id text,"
                      "at timestamptz, changes jsonb, request_id text"),
    )
)
_SUBJECT_FIELDS = _TABLES[1][1][3:16]  # subject_row's keys, in column order (nature … principal)
_WEBSITE_FIELDS = _TABLES[3][1][3:14]  # website_row's (position … principal)

# The outbox rows (as one array per column) and the relay's NOTIFY, after the rules query
# (`_conflicts_sql`); each written only when nothing conflicts (`go`).
_OUTBOX = """
ob AS (
  INSERT INTO outbox (id, exchange, routing_key, body, headers)
  SELECT o.id, o.exchange, o.routing_key, o.body, o.headers::jsonb
  FROM unnest(${0}::uuid[], ${1}::text[], ${2}::text[], ${3}::bytea[], ${4}::text[])
       AS o(id, exchange, routing_key, body, headers)
  WHERE (SELECT go.ok FROM go)
)
"""


def _gated_sql(inserts: str, notify: int, first_rule: int) -> str:
    """The rules query, then `inserts` (CTEs reading `go`); returns the conflict rows, or one row `ok`
    (with the relay's NOTIFY on channel `$notify`)."""
    return (
        "WITH conflicts AS (" + _conflicts_sql(first_rule) + "),\n"
        "go AS (SELECT NOT EXISTS (SELECT 1 FROM conflicts) AS ok),\n"
        + inserts
        + "SELECT kind, family, key, number, status, reason FROM conflicts\n"
          "UNION ALL\n"
          f"SELECT 'ok', NULL, pg_notify(${notify}, '')::text, NULL, NULL, NULL FROM go WHERE go.ok"
    )


# Every table of a first filing, for the whole chunk, in one statement with the rules query: each table's
# rows as one JSON array of objects ($1 – $10, `jsonb_to_recordset`), the outbox's as arrays ($11 – $15),
# the NOTIFY channel ($16), the rules' parameters ($17 – $25); as entry.store._INSERT_FILING_SQL does for
# one filing (the same columns and values). One round trip, atomic without a transaction of its own: the
# API's group commit (entry/submits.py) needs neither BEGIN nor COMMIT.
_GATED_INSERT_SQL = _gated_sql(
    "".join(
        f"t{n} AS (\n  INSERT INTO {table} ({', '.join(names)})\n"
        f"  SELECT {', '.join('x.' + c for c in names)}\n"
        f"  FROM jsonb_to_recordset(${n}::jsonb) AS x({', '.join(f'{c} {t}' for c, t in zip(names, types, strict=True))})\n"
        f"  WHERE (SELECT go.ok FROM go)\n),\n"
        for n, (table, names, types) in enumerate(_TABLES, start=1)
    ) + _OUTBOX.format(11, 12, 13, 14, 15),
    notify=16, first_rule=17,
)
# The import's way (`copy=True`): the rules query and the outbox in one statement ($1 – $5 the outbox's
# arrays, $6 the channel, $7 – $15 the rules), then each table's rows by binary COPY.
_GATED_OUTBOX_SQL = _gated_sql(_OUTBOX.format(1, 2, 3, 4, 5), notify=6, first_rule=7)


def _masked(principal: dict[str, Any] | None) -> dict[str, Any] | None:
    """A principal's dump with its ID number masked (what audit.scrub does to it)."""
    if principal is None or not isinstance(principal.get("id_number"), str):
        return principal
    return {**principal, "id_number": v.mask_id_number(principal["id_number"])}


def _masked_cert(srow: dict[str, Any]) -> str:
    """A personal subject's certificate number is the person's ID: masked as audit.scrub masks it."""
    return v.mask_id_number(srow["cert_number"]) if codes.is_personal_nature(srow["nature"]) else srow["cert_number"]


_Keys = tuple[tuple[str, str], dict[str, str], dict[str, str], str]  # cert key, mobiles, domain paths, username


def reservation_keys(keys: Sequence[_Keys | None]) -> list[tuple[str, str, int]]:
    """(kind, key, item index) of what an import reserves for its items (`reservations`)."""
    out: list[tuple[str, str, int]] = []
    for idx, k in enumerate(keys):
        if k is not None:
            cert, mobiles, paths, _username = k
            out += [(kind, key, idx) for kind, key in reservations.keys_of([cert], mobiles, paths)]
    return out


class _Rules:
    """The database rules of a chunk: its keys, and which item owns each (the first that names it)."""

    def __init__(self, keys: list[_Keys | None], own_job: str | None) -> None:
        self.keys = keys
        self.owner_cert: dict[tuple[str, str], int] = {}
        self.owner_mobile: dict[str, int] = {}
        self.owner_domain: dict[str, int] = {}
        self.owner_user: dict[str, int] = {}
        self.rows_of: dict[int, list[dict[str, Any]]] = {}  # the chunk's own conflicts
        self.user_taken: set[int] = set()
        for idx, k in enumerate(keys):
            if k is None:
                continue
            cert, mobiles, paths, username = k
            if cert in self.owner_cert:
                self.rows_of.setdefault(idx, []).append({"kind": "cert", "key": cert[1], "number": None})
            self.owner_cert.setdefault(cert, idx)
            for m in mobiles:
                if m in self.owner_mobile:
                    self.rows_of.setdefault(idx, []).append({"kind": "mobile", "key": m, "number": None})
                self.owner_mobile.setdefault(m, idx)
            for d in paths:
                if d in self.owner_domain:
                    self.rows_of.setdefault(idx, []).append({"kind": "domain", "key": d, "number": None})
                self.owner_domain.setdefault(d, idx)
            name = username.lower()
            if name in self.owner_user:
                self.user_taken.add(idx)
            self.owner_user.setdefault(name, idx)
        self.reserve = {(kind, key): idx for kind, key, idx in reservation_keys(keys)}
        # the blacklist knows certificates by digest only (blacklist.blacklist_rows)
        self.by_digest = {cert_digest(f, n): (f, n) for f, n in self.owner_cert if n}
        self.own_job = own_job

    @property
    def chunk_refused(self) -> bool:
        """Items of the chunk conflict with each other."""
        return bool(self.rows_of or self.user_taken)

    def params(self) -> list[Any]:
        """The nine parameters of the rules query (`_conflicts_sql`)."""
        certs = list(self.owner_cert)
        return [
            [c[0] for c in certs], [c[1] for c in certs], list(self.owner_mobile), list(self.owner_domain),
            list(self.owner_user), [k[0] for k in self.reserve], [k[1] for k in self.reserve], self.own_job,
            list(self.by_digest),
        ]

    def settle(self, found) -> tuple[list[tuple[int, FilingError]], set[int]]:
        """The refusals by item index (the chunk's own conflicts and the database's rows `found`), and
        the items whose username is taken."""
        rows_of = {idx: list(rows) for idx, rows in self.rows_of.items()}
        user_taken = set(self.user_taken)
        for r in found:
            kind = r["kind"]
            if kind == "username":
                user_taken.add(self.owner_user[r["key"]])
                continue
            if kind == "reserved":  # the row of reservations.rows: kind reserved_<kind>, the key as filed
                idx = self.reserve[(r["family"], r["key"])]
                key = r["key"].partition(":")[2] if r["family"] == "cert" else r["key"]
                rows_of.setdefault(idx, []).append({"kind": f"reserved_{r['family']}", "key": key, "number": None})
                continue
            family, key = r["family"], r["key"]
            if kind == "blacklist_cert":
                family, key = self.by_digest[key]
            if kind in ("cert", "blacklist_cert"):
                idx = self.owner_cert[(family, key)]
            elif kind == "mobile":
                idx = self.owner_mobile[key]
            else:
                idx = self.owner_domain[key]
            rows_of.setdefault(idx, []).append({"kind": kind, "key": key, "number": r["number"],
                                                "reason": r["reason"]})
        refused = []
        for idx, rows in sorted(rows_of.items()):
            _cert, mobiles, paths, _username = self.keys[idx]
            refused.append((idx, conflict_error(rows, mobiles, paths)))
        return refused, user_taken


async def find_conflicts(
    conn: asyncpg.Connection, keys: list[_Keys | None], *, own_job: str | None = None
) -> tuple[list[tuple[int, FilingError]], set[int]]:
    """The database rules of DOMAIN §5.10 for a whole chunk, in one query (the filing blacklist and the
    keys reserved by a file being imported — batch_reservations of another job than `own_job` —
    included); and the same rules between the chunk's own items, in Python (a later item meets an
    earlier one as the per-subject path would meet it: "in progress"). Returns the refusals by item
    index, and the items whose username is taken. `None` in `keys`: an item already refused."""
    rules = _Rules(keys, own_job)
    return rules.settle(await conn.fetch(_CONFLICTS_SQL, *rules.params()))


async def check_chunk(
    conn: asyncpg.Connection, items: Sequence[Item], *, normalized: bool = False, own_job: str | None = None
) -> tuple[list[tuple[Hashable, FilingError]], set[Hashable]]:
    """The dry run of `create_first_filings` (`filing.batch.check`): the database rules of every item
    (as `check_database_rules`, for the whole chunk in one query), writing nothing. Returns the
    refusals [(row_key, FilingError)] in item order and the row keys whose username is taken.
    `normalized`: the items are in canonical form (their certificate numbers need no normalising).
    `own_job`: the import job of the chunk (its own reservations are no conflict)."""
    keys = item_keys(items, normalized=normalized)
    refused, user_taken = await find_conflicts(conn, keys, own_job=own_job)
    return [(items[idx][2], e) for idx, e in refused], {items[idx][2] for idx in user_taken}


def item_keys(items: Sequence[Item], *, normalized: bool = False) -> list[_Keys | None]:
    return [
        (subject_key(data.subject, normalized=normalized), principal_mobiles(data), domain_paths(data), username)
        for data, (username, _h), _k in items
    ]


def sealed_keys(keys: Sequence[tuple[dict, str]]) -> list[_Keys | None]:
    """The rule keys that came with the items (`shared.filing_data.rule_keys`, sealed by the importer)."""
    return [((k["cert"][0], k["cert"][1]), k["mobiles"], k["domains"], username) for k, username in keys]


def _prepare(data: FilingData, checked: bool = False) -> FilingData:
    """The canonical form (in place), validating what `canonical` normalises; 422 when that fails.
    `checked`: the item came already in canonical form (see `create_first_filings`)."""
    try:
        return canonical(data, copy=False, checked=checked)
    except v.InvalidValue:
        return validate_filing(data, copy=False)  # raises FilingError with every error


async def create_first_filings(
    conn: asyncpg.Connection,
    *,
    provider_id: str,
    items: Sequence[Item],
    actor: str,
    import_job_id: str | None,
    outbox: Outbox | None = None,
    source: str = "import",
    checked: bool = False,
    correlation_ids: Sequence[str | None] | None = None,
    one_message: bool = False,
    copy: bool = False,
    canonical_form: bool = False,
) -> list[CreatedFiling]:
    """Create the first filings of a chunk on `conn` (the caller's transaction): all or nothing.

    `checked`: the items come in canonical form from the importer, which ran `check_filing` and
    `canonical` on them and sealed them (`services/filing/entry/batch.py`); they are still parsed with
    `FilingData` (structural validation), and `canonical(checked=True)` only finishes the form
    (multi-selects without repeats, same-as-subject principal dropped) instead of validating the
    certificate/ID numbers, home URLs and IPs a second time.

    `canonical_form`: the items are `validate_filing`'s own output (the API's group commit, which
    validated each in its request): already in canonical form, not put in it a second time.

    `correlation_ids`: per item, the request id for its audit entries and event (the API's group
    commit, `services/filing/entry/submits.py`); None → the current context's.

    `one_message`: the `filing.application.submitted` events go out as one `filing.applications.submitted`
    (an `EventRun`: consumers handle each event as if it came alone, under its own id) — an import chunk's
    250 events then cost one outbox row, one relay publish and one delivery per consumer.

    `copy`: the rules query (with the outbox row) first, then each table's rows by binary COPY, in the
    caller's transaction (or one of its own) — the import's way (`entry/batch.py`): no JSON parameters to
    encode and parse (a third less PostgreSQL CPU per subject, `bench/submit_serial.py bulk`), at the price
    of a round trip per table; a lost race fails the COPY of its table (→ `BulkRefused`, the transaction to
    roll back). Without it, the rules and every insert go in one statement (one round trip, atomic without
    a transaction: the API's group commit, `entry/submits.py`).

    Raises `BulkRefused` (nothing written) with the conflicts of every refused item."""
    outbox = outbox or Outbox("filing")
    refused: list[tuple[int, FilingError]] = []
    prepared: list[tuple[FilingData, dict[str, Any], dict[str, str], dict[str, str]]] = []
    dumps: list[dict[str, Any]] = []  # each item's model_dump(mode="json"), dumped once for every use
    for idx, (data, _sponsor, _key) in enumerate(items):
        try:
            data = data if canonical_form else _prepare(data, checked)
        except FilingError as e:
            refused.append((idx, e))
            data = None
        dump = data.model_dump(mode="json") if data is not None else {}
        srow = subject_row(data, dump) if data is not None else {}
        mobiles = principal_mobiles(data) if data is not None else {}
        paths = domain_paths(data) if data is not None else {}
        prepared.append((data, srow, mobiles, paths))
        dumps.append(dump)

    keys: list[_Keys | None] = [
        ((srow["cert_family"], srow["cert_number"]), mobiles, paths, username) if data is not None else None
        for (data, srow, mobiles, paths), (_d, (username, _h), _k) in zip(prepared, items, strict=True)
    ]
    rules = _Rules(keys, own_job=import_job_id if source == "import" else None)

    def refuse(found) -> BulkRefused:
        db_refused, user_taken = rules.settle(found)
        out = refused + db_refused + [(idx, username_taken()) for idx in user_taken]
        out.sort(key=lambda x: x[0])  # stable: an item's 422 before its conflicts
        return BulkRefused([(items[idx][2], e) for idx, e in out])

    if refused or rules.chunk_refused:  # refused already: the database's rules for the whole answer, no write
        raise refuse(await conn.fetch(_CONFLICTS_SQL, *rules.params()))

    # ---- the rows of every table (tuples in `_TABLES`' column order), as entry.store._insert builds them
    tables: list[list[tuple]] = [[] for _ in _TABLES]
    users, subjects, mobiles_rows, websites, domains, accesses, apps, versions, history, audit_rows = tables
    ob_rows: list[tuple] = []  # the outbox rows: (id, exchange, routing key, body, headers)
    run_events: list = []  # with `one_message`: the events, and the id of each, for one EventRun
    run_ids: list[uuid.UUID] = []
    created: list[CreatedFiling] = []
    channel = notify_channel(outbox.schema)

    def to_outbox(model, payload: dict[str, Any], correlation_id: str | None) -> uuid.UUID:
        env, (ob_id, exchange, routing_key, body, headers, _channel) = outbox.row_json(
            model, payload, provider_id=provider_id, correlation_id=correlation_id)
        ob_rows.append((ob_id, exchange, routing_key, body, orjson.dumps(headers).decode()))
        return env.id

    request_ids = correlation_ids or [None] * len(items)
    for (data, srow, mobiles, _paths), dump, (_d, (username, pw_hash), _k), request_id in zip(
        prepared, dumps, items, request_ids, strict=True
    ):
        request_id = request_id or logs.correlation_id.get()
        s = data.subject
        sponsor_id = str(uuid7())
        now = dt.datetime.now(dt.UTC)
        subject_id = str(uuid7())
        application_id = str(uuid7())
        website_ids = [str(uuid7()) for _ in data.websites]
        pre_types = preapproval_types(data)
        users.append((sponsor_id, username, pw_hash, "sponsor", provider_id, s.name, actor))
        subjects.append((subject_id, provider_id, sponsor_id, *[srow[k] for k in _SUBJECT_FIELDS], "PENDING",
                         "PROXY", source, import_job_id, actor, now, now))
        mobiles_rows += [(subject_id, m) for m in mobiles]
        # audit.Entry(...).row() for each entry: the same dicts, the ID numbers masked where they are
        # (the principals) rather than by the recursive audit.scrub (a third of the Python time)
        entries: list[tuple[str, str, str, dict[str, Any]]] = [
            ("subject", subject_id, "create", {**srow, "principal": _masked(srow["principal"]),
                                               "cert_number": _masked_cert(srow),
                                               "sponsor_user_id": sponsor_id, "sponsor_username": username}),
        ]
        for i, (w, wdump, wid) in enumerate(zip(data.websites, dump["websites"], website_ids, strict=True)):
            row = website_row(w, i, wdump)
            websites.append((wid, subject_id, provider_id, *[row[k] for k in _WEBSITE_FIELDS], "PENDING", actor,
                             now, now))
            domains += [(d["website_id"], d["subject_id"], d["position"], d["ascii"], d["unicode"], d["status"], now)
                        for d in domain_rows(w, wid, subject_id)]
            acc = access_row(w)
            accesses.append((wid, subject_id, provider_id, acc["access_methods"], acc["ip_ranges"],
                             acc["server_locations"], "PENDING", actor, now, now))
            entries.append(("website", wid, "create", {**row, "principal": _masked(row["principal"]),
                                                       "domains": wdump["domains"], "access": acc}))
        entries.append(("application", application_id, "submit",
                        {"type": "FIRST_FILING", "status": "PENDING_VERIFICATION", "version": 1, "source": source}))
        audit_rows += [(entity, entity_id, subject_id, action, actor, provider_id, now, changes, request_id)
                       for entity, entity_id, action, changes in entries]
        apps.append((application_id, "FIRST_FILING", "PENDING_VERIFICATION", 1, subject_id, provider_id, s.province,
                     "PROXY", source, import_job_id, bool(pre_types), now, now, actor, now, now))
        versions.append((application_id, 1, version_payload(data, subject_id, website_ids, dump), now, actor))
        history.append((application_id, 1, "PENDING_VERIFICATION", "提交首次备案", actor, now))
        # the event in its JSON form (submitted_event's dump), built from the item's dump
        event = submitted_event_json(
            application_id=application_id, type_="FIRST_FILING", provider_id=provider_id, dump=dump,
            subject_id=subject_id, website_ids=website_ids, submitted_at=to_jsonable_python(now),
            submitted_by=actor, source=source, import_job_id=import_job_id,
        )
        if one_message:
            event_id = uuid7()
            run_events.append(event)
            run_ids.append(event_id)
        else:
            event_id = to_outbox(ApplicationSubmitted, event, request_id)
        created.append(CreatedFiling(
            application_id=application_id,
            subject_id=subject_id,
            website_ids=website_ids,
            sponsor_user_id=sponsor_id,
            sponsor_username=username,
            sponsor_password=None,
            subject_name=s.name,
            province=s.province,
            submitted_at=now,
            preapproval_types=pre_types,
            event_id=str(event_id),
        ))
    if run_events:
        to_outbox(ApplicationsSubmitted, {"event_ids": [str(i) for i in run_ids], "events": run_events},
                  logs.correlation_id.get())
    # the statements take the outbox rows as one array per column
    ob_columns = [list(c) for c in zip(*ob_rows, strict=True)] or [[]] * 5
    try:
        if copy:
            found = await _copy(conn, tables, ob_columns, channel, rules)
        else:
            # the rules and every insert in one statement: nothing is written when a rule refuses an item
            found = await conn.fetch(
                _GATED_INSERT_SQL,
                *[[dict(zip(names, r, strict=True)) for r in rows]
                  for (_t, names, _ty), rows in zip(_TABLES, tables, strict=True)],
                *ob_columns, channel, *rules.params(),
            )
    except asyncpg.UniqueViolationError as e:  # lost a race with a concurrent filing: the chunk is refused
        raise BulkRefused([_race(e, items, prepared)]) from None
    conflicts = [r for r in found if r["kind"] != "ok"]
    if conflicts:
        raise refuse(conflicts)
    return created


async def _copy(conn: asyncpg.Connection, tables: list[list[tuple]], ob_columns: list[list], channel: str,
                rules: _Rules) -> list:
    """`copy=True`: the rules query and the outbox rows in one statement, then, when nothing conflicts,
    each table's rows by binary COPY — in the caller's transaction (asyncpg's otherwise). Returns the
    statement's rows (the conflicts, or one row `ok`)."""
    if not conn.is_in_transaction():
        async with conn.transaction():
            return await _copy(conn, tables, ob_columns, channel, rules)
    found = await conn.fetch(_GATED_OUTBOX_SQL, *ob_columns, channel, *rules.params())
    if any(r["kind"] != "ok" for r in found):
        return found  # nothing written
    for (table, names, _types), rows in zip(_TABLES, tables, strict=True):
        if rows:
            await conn.copy_records_to_table(table, records=rows, columns=names)
    return found


def _race(e: asyncpg.UniqueViolationError, items: Sequence[Item], prepared: list) -> tuple[Hashable, FilingError]:
    """The item a unique violation concerns (its key in the violation's detail), with the refusal."""
    key = violated_key(e)
    for (_data, (username, _h), row_key), (data, srow, mobiles, paths) in zip(items, prepared, strict=True):
        if key and (key in paths or key in mobiles or key.lower() == username.lower()
                    or key.endswith(f", {srow['cert_number']}")):
            return row_key, race_error(e, data)
    return items[0][2], race_error(e, prepared[0][0])
