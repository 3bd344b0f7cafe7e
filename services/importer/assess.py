"""Validating and planning one chunk of subjects (CPU only, no database): runs in a thread of whichever
importer worker took the chunk (`services.importer.validation`).

Each subject with its websites gets the wizard's rules (`FilingData` + `check_filing`). A subject that
passes records the keys the file may hold once (certificate, principal mobiles, domains, the generated
username): the file-wide rules compare them across every chunk when the last chunk is recorded
(`validation.repeats`). Clean subjects are planned: the canonical form (so filing need not validate the
normalised values again), generated sponsor credentials (hash only in the item, plaintext only in the
sealed credentials of the chunk), sealed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import orjson
from pydantic import ValidationError

from services.importer import columns as C
from services.importer.errors import RowError
from services.importer.sealing import RESULT_PURPOSE, SEAL_PURPOSE
from shared import crypto
from shared.auth import generate_password, generate_username, hash_generated_password
from shared.contracts.filing import pack_items
from shared.errors_zh import translate_errors
from shared.filing_data import FilingData, canonical, check_filing, principal_mobiles, rule_keys, subject_key

# kinds of import_keys (the file-wide rules)
CERT, DOMAIN, MOBILE, USERNAME = 1, 2, 3, 4


@dataclass
class Plan:
    """The chunks of (part of) a file being planned. While the file is clean, each subject gets generated
    credentials (the hash travels sealed with the item, the plaintext is sealed per chunk in
    `import_chunks.credentials`, so the result holds exactly the chunks filing committed). Once an error is
    found the rest is planned for the existing-filings check only (no credentials)."""

    secret: str  # the key filing opens the items with (get_settings: every service's)
    result_secret: str  # the key this service opens the credentials with (ctx.settings)
    job_id: uuid.UUID
    chunk_websites: int
    clean: bool = True
    usernames: set[str] = field(default_factory=set)
    items: list[dict] = field(default_factory=list)
    refs: list[dict] = field(default_factory=list)
    creds: list[list] = field(default_factory=list)
    websites_in_chunk: int = 0
    chunk_no: int = 0
    chunks: list[tuple] = field(default_factory=list)  # rows ready for import_chunks
    subjects: int = 0
    websites: int = 0
    validated: int = 0
    pos: int = 0  # the current subject's position (order of errors and keys)
    # rows for import_keys without the job and chunk: (kind, key, pos, subject, sheet, row, field, value,
    # first_row, quiet)
    keys: list[tuple] = field(default_factory=list)

    def flush(self) -> None:
        """Close the current chunk and seal it: the items for filing, the dry run's keys, the credentials."""
        if not self.items:
            return
        self.chunk_no += 1
        items, creds, context = self.items, self.creds, f"{self.job_id}:{self.chunk_no}"
        body = orjson.dumps(items)  # UTF-8, compact: what json.dumps(ensure_ascii=False) gave
        sealed = crypto.seal(self.secret, SEAL_PURPOSE, pack_items(body), context)
        # the dry run's payload (`BatchCheck.keys_only`): the rule keys and usernames only, a
        # twentieth of the items, so the check phase does not carry every item through the outbox,
        # the broker and filing a second time
        check = orjson.dumps([{"k": it["k"], "sponsor": [it["sponsor"][0], ""], "c": 1} for it in items])
        check_sealed = crypto.seal(self.secret, SEAL_PURPOSE, pack_items(check), context + ":check")
        secret_creds = (crypto.seal_bytes(self.result_secret, RESULT_PURPOSE, orjson.dumps(creds), context)
                        if creds and len(creds) == len(items) else None)
        self.chunks.append((self.job_id, self.chunk_no, len(items), self.websites_in_chunk, sealed, self.refs,
                            secret_creds, check_sealed))
        self.items, self.refs, self.websites_in_chunk, self.creds = [], [], 0, []


def _assess_one(key: str, s_row: int, s_cells: list[str], s_bad: list[str], websites: list, plan: Plan
                ) -> tuple[list[RowError], FilingData | None]:
    """One subject with its websites: the wizard's rules; a subject that passes records its file-wide keys
    (`plan.keys`) and is returned in canonical form (`canonical`), ready to be sealed for filing."""
    sidx, widx = C.SUBJECT_IDX, C.WEBSITE_IDX
    found: list[RowError] = []
    seen = {(C.SUBJECT_SHEET, s_row, k) for k in s_bad}
    for w_row, _, w_bad in websites:
        seen.update((C.WEBSITE_SHEET, w_row, k) for k in w_bad)

    def report(sheet: str, row: int, col: str, message: str, cells: list[str], idx: dict[str, int]) -> None:
        if (sheet, row, col) in seen:
            return
        seen.add((sheet, row, col))
        found.append(RowError(sheet, row, col, cells[idx[col]] if col in idx else "", message))

    def cell_of(path: str) -> tuple[str, int, str, list[str], dict[str, int]]:
        sheet, index, col = C.locate(path)
        if sheet == C.WEBSITE_SHEET and index is not None and index < len(websites):
            w_row, w_cells, _ = websites[index]
            return sheet, w_row, col, w_cells, widx
        return C.SUBJECT_SHEET, s_row, col if sheet == C.SUBJECT_SHEET else "subject_key", s_cells, sidx

    def report_path(path: str, message: str) -> None:
        sheet, row, col, cells, idx = cell_of(path)
        if path == "websites":
            message = f"该主体的网站（网站表中的行）：{message}"
        report(sheet, row, col, message, cells, idx)

    if not websites:
        report(C.SUBJECT_SHEET, s_row, "subject_key", "该主体没有网站：网站表中没有使用此主体编号的行", s_cells, sidx)
        return found, None
    cell_errors: list = []
    s_input = C.subject_input(s_cells, cell_errors)
    for ce in cell_errors:
        report(C.SUBJECT_SHEET, s_row, ce.key, ce.message, s_cells, sidx)
    w_inputs = []
    for w_row, w_cells, _ in websites:
        cell_errors = []
        w_inputs.append(C.website_input(w_cells, cell_errors))
        for ce in cell_errors:
            report(C.WEBSITE_SHEET, w_row, ce.key, ce.message, w_cells, widx)
    data = None
    try:
        data = FilingData.model_validate({"subject": s_input, "websites": w_inputs})
    except ValidationError as e:
        for err in translate_errors(e):
            report_path(err["field"], err["message"])
    if data is None:
        return found, None
    # check_filing with normalize=True validates each certificate/ID number, home URL and IP range once
    # and keeps its normalised form, so `canonical` need not validate them again; its answer is the
    # plain check's (principals are compared in normalised form either way)
    errors = check_filing(data, normalize=True)
    for err in errors:
        report_path(err["field"], err["message"])
    if found:
        return found, None
    # file-wide rules (the same certificate, domain or mobile in two subjects): the keys, with the cell a
    # repeat is reported at, in the order the rules report them; compared across the file by the last chunk
    first: set[tuple[int, str]] = set()

    def record(kind: int, value_key: str, path: str, first_row: int) -> None:
        if (kind, value_key) in first:
            return  # twice in one subject: the subject's own rules (check_filing) speak of that
        first.add((kind, value_key))
        sheet, row, col, cells, idx = cell_of(path)
        plan.keys.append((kind, value_key, plan.pos, key, C.SHEET_NO[sheet], row, col,
                          cells[idx[col]] if col in idx else "", first_row, (sheet, row, col) in seen))

    cert = subject_key(data.subject, normalized=True)
    record(CERT, f"{cert[0]}:{cert[1]}", "subject.cert_number", s_row)
    for i, w in enumerate(data.websites):
        for j, d in enumerate(w.domains):
            record(DOMAIN, d, f"websites[{i}].domains[{j}]", websites[i][0])
    for mobile, path in principal_mobiles(data).items():
        record(MOBILE, mobile, path, s_row)
    # the canonical form (certificate/ID numbers, home URLs, IPs normalised; same-as-subject principal
    # dropped): filing finishes it without validating those values again (`"c": 1`, services/filing/entry/batch.py)
    return found, canonical(data, copy=False, checked=True)


def assess(group: list[tuple], plan: Plan, errors: list[tuple[int, RowError]]) -> None:
    """Validate subjects with their websites and plan the clean ones (runs in a thread). `errors` gets
    (subject position, error)."""
    accepted: list[tuple[_Accepted, dict]] = []
    for key, s_row, s_cells, s_bad, websites in group:
        plan.pos += 1
        found, data = _assess_one(key, s_row, s_cells, s_bad, websites, plan)
        plan.validated += len(websites)
        if found:
            errors.extend((plan.pos, e) for e in found)
            plan.clean = False
        elif data is not None:
            accepted.append((_Accepted.of(data), {"k": key, "s": s_row, "w": [w[0] for w in websites], "p": plan.pos}))
    if not accepted:
        return
    if not plan.clean:
        # the file is rejected already: its clean subjects are still checked against the existing
        # filings (every error in one pass), with a placeholder username and no credentials
        for data, ref in accepted:
            _plan_item(plan, data, ref, ["", ""], None)
        return
    # credentials: random username/password, the hash for filing, the plaintext only in the sealed
    # credentials of the chunk; a username generated twice in the file (in two chunks) is found with the
    # file-wide rules and the job is planned again
    creds = []
    for _data, ref in accepted:
        username = generate_username()
        while username in plan.usernames:
            username = generate_username()
        plan.usernames.add(username)
        plan.keys.append((USERNAME, username, ref["p"], ref["k"], 1, ref["s"], "subject_key", "", ref["s"], True))
        creds.append((username, generate_password()))
    # hashed here, one after the other: handing each hash to a thread pool (it once overlapped the validation)
    # cost 3× the CPU of the hash itself in thread switches (bench/README.md, Importer, sixth round)
    for (data, ref), (username, password) in zip(accepted, creds, strict=True):
        _plan_item(plan, data, ref, [username, hash_generated_password(password)],
                   [ref["k"], data.name, username, password, data.domains])


@dataclass(slots=True)
class _Accepted:
    """What planning takes from a subject that passed, taken as soon as it passed: the model itself (some
    forty objects) is dropped then, so the collector does not walk a chunk's worth of models again and
    again while the rest of the chunk is validated (~15 % of the CPU of `assess` with Python's default
    thresholds)."""

    json: orjson.Fragment  # the data as pydantic's JSON, embedded as is when the chunk is encoded (`seal`)
    keys: dict  # what filing's dry run looks up (certificate, mobiles, domains), so it need not parse "data"
    websites: int
    name: str
    domains: list[str]

    @classmethod
    def of(cls, data: FilingData) -> _Accepted:
        return cls(orjson.Fragment(data.model_dump_json()), rule_keys(data), len(data.websites), data.subject.name,
                   [d for w in data.websites for d in w.domains])


def _plan_item(plan: Plan, data: _Accepted, ref: dict, sponsor: list, cred: list | None) -> None:
    n = data.websites
    if plan.websites_in_chunk and plan.websites_in_chunk + n > plan.chunk_websites:
        plan.flush()
    # "c": the data is in canonical form (_assess_one)
    plan.items.append({"data": data.json, "sponsor": sponsor, "c": 1, "k": data.keys})
    plan.refs.append({"k": ref["k"], "s": ref["s"], "w": ref["w"]})
    if cred is not None:
        plan.creds.append(cred)
    plan.websites_in_chunk += n
    plan.subjects += 1
    plan.websites += n
