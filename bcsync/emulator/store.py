"""The emulator's state: one SQLite file in WAL mode, created from a seed.

One connection per Store, guarded by a lock: handlers run short synchronous transactions, and WAL
plus `BEGIN IMMEDIATE` for writes keep other processes on the same file (a `reset`) safe.
"""

from __future__ import annotations

import json
import sqlite3
import stat
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .errors import EmulatorError
from .params import page_info
from .seed import ASSET_TYPES

SCHEMA_VERSION = "3"
DEFAULT_APP = "local-app"
# Written into the SQLite header (PRAGMA application_id): how the emulator knows a file is its own
# and refuses to open or overwrite anyone else's database. "bcsE" in ASCII.
APPLICATION_ID = 0x62637345
SQLITE_MAGIC = b"SQLite format 3\x00"

DDL = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE users (
    user_id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
    token TEXT UNIQUE, app_id TEXT NOT NULL);
CREATE TABLE business_centers (
    bc_id TEXT PRIMARY KEY, name TEXT NOT NULL, company TEXT NOT NULL, currency TEXT NOT NULL,
    timezone TEXT NOT NULL, registered_area TEXT NOT NULL, type TEXT NOT NULL,
    managed INTEGER NOT NULL);
CREATE TABLE members (
    bc_id TEXT NOT NULL, email TEXT NOT NULL, user_id TEXT, user_name TEXT NOT NULL,
    user_role TEXT NOT NULL, finance_role TEXT, relation_status TEXT NOT NULL, invited_at REAL,
    PRIMARY KEY (bc_id, email));
CREATE UNIQUE INDEX members_by_user ON members (bc_id, user_id) WHERE user_id IS NOT NULL;
CREATE TABLE invite_grants (
    bc_id TEXT NOT NULL, email TEXT NOT NULL, asset_id TEXT NOT NULL, role TEXT NOT NULL,
    PRIMARY KEY (bc_id, email, asset_id));
CREATE TABLE assets (
    asset_type TEXT NOT NULL, asset_id TEXT NOT NULL, bc_id TEXT NOT NULL, name TEXT NOT NULL,
    account_type TEXT, relation_status TEXT NOT NULL DEFAULT 'BOUND',
    PRIMARY KEY (asset_type, asset_id));
CREATE TABLE asset_groups (
    group_id TEXT PRIMARY KEY, bc_id TEXT NOT NULL, name TEXT NOT NULL);
CREATE TABLE asset_group_assets (
    group_id TEXT NOT NULL, asset_type TEXT NOT NULL, asset_id TEXT NOT NULL,
    PRIMARY KEY (group_id, asset_type, asset_id));
CREATE TABLE asset_group_members (
    group_id TEXT NOT NULL, user_id TEXT NOT NULL, role TEXT NOT NULL,
    PRIMARY KEY (group_id, user_id));
CREATE TABLE grants (
    bc_id TEXT NOT NULL, user_id TEXT NOT NULL, asset_type TEXT NOT NULL, asset_id TEXT NOT NULL,
    role TEXT NOT NULL, PRIMARY KEY (bc_id, user_id, asset_type, asset_id));
CREATE TABLE partners (bc_id TEXT NOT NULL, partner_id TEXT NOT NULL,
    PRIMARY KEY (bc_id, partner_id));
CREATE TABLE shares (
    bc_id TEXT NOT NULL, partner_id TEXT NOT NULL, asset_type TEXT NOT NULL,
    asset_id TEXT NOT NULL, role TEXT NOT NULL,
    PRIMARY KEY (bc_id, partner_id, asset_type, asset_id));
CREATE TABLE changelog (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, bc_id TEXT NOT NULL, ts REAL NOT NULL,
    activity_type TEXT NOT NULL, operator_id TEXT NOT NULL, activity_log TEXT NOT NULL);
CREATE INDEX changelog_by_bc ON changelog (bc_id, ts);
-- What each endpoint filters on, so a call costs its page, not the BC: pages of a BC's
-- members in order, an asset's grants
-- (asset/member/get, unshare), a BC's assets by type, what partners share with a BC, invitations
-- due for acceptance.
CREATE INDEX members_by_bc ON members (bc_id);
CREATE INDEX members_invited ON members (invited_at) WHERE relation_status = 'PENDING';
CREATE INDEX grants_by_asset ON grants (bc_id, asset_type, asset_id);
CREATE INDEX assets_by_bc ON assets (bc_id, asset_type);
CREATE INDEX shares_by_partner ON shares (partner_id, asset_type, asset_id);
"""
TABLES = (
    "meta", "users", "business_centers", "members", "invite_grants", "assets", "grants",
    "partners", "shares", "changelog", "asset_groups", "asset_group_assets",
    "asset_group_members",
)  # fmt: skip


def encode_role(role: str | list[str]) -> str:
    """Roles are stored as text; a TT_ACCOUNT role set as its sorted, comma-joined values."""
    return ",".join(sorted(set(role))) if isinstance(role, list) else role


def decode_role(asset_type: str, role: str) -> str | list[str]:
    """The wire form of a stored role."""
    return role.split(",") if asset_type == "TT_ACCOUNT" else role


def format_time(ts: float) -> str:
    """The changelog's time format: "YYYY-MM-DD HH:MM:SS", UTC."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


# A BC's assets of one type: those it owns (OWNER_BC), then those partners share with it.
_BC_ASSETS = (
    "SELECT a.*, 'OWNER_BC' AS relation_type, o.name AS owner_bc_name, NULL AS share_role, "
    "a.rowid AS pos FROM assets a JOIN business_centers o ON o.bc_id = a.bc_id "
    "WHERE a.bc_id = ? AND a.asset_type = ?{owned} "
    "UNION ALL "
    "SELECT a.*, 'OWNER_PARTNER', o.name, s.role, s.rowid FROM shares s "
    "JOIN assets a ON a.asset_type = s.asset_type AND a.asset_id = s.asset_id "
    "JOIN business_centers o ON o.bc_id = a.bc_id "
    "WHERE s.partner_id = ? AND s.asset_type = ?{shared}"
)
BC_ASSETS = _BC_ASSETS.format(owned="", shared="")
BC_ASSET_ORDER = "relation_type, pos"
# One of them by key: each branch narrowed to the asset id, so its index answers.
BC_ASSET = _BC_ASSETS.format(owned=" AND a.asset_id = ?", shared=" AND s.asset_id = ?")


def bc_asset_args(bc_id: str, asset_type: str) -> tuple[str, ...]:
    """The parameters of BC_ASSETS."""
    return (bc_id, asset_type, bc_id, asset_type)


class Tx:
    """One open transaction with the queries every endpoint needs."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def one(self, sql: str, *args: Any) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.conn.execute(sql, args).fetchone()
        return row

    def all(self, sql: str, *args: Any) -> list[sqlite3.Row]:
        return self.conn.execute(sql, args).fetchall()

    def run(self, sql: str, *args: Any) -> int:
        return self.conn.execute(sql, args).rowcount

    def scalar(self, sql: str, *args: Any) -> Any:
        row = self.conn.execute(sql, args).fetchone()
        return row[0] if row else None

    def log(self, bc_id: str, ts: float, activity_type: str, operator_id: str, text: str) -> None:
        """Append one activity-log entry (every write does)."""
        self.run(
            "INSERT INTO changelog (bc_id, ts, activity_type, operator_id, activity_log) "
            "VALUES (?, ?, ?, ?, ?)",
            bc_id, ts, activity_type, operator_id, text,
        )  # fmt: skip

    def bc(self, bc_id: str) -> sqlite3.Row | None:
        return self.one("SELECT * FROM business_centers WHERE bc_id = ?", bc_id)

    def user_by_token(self, token: str) -> sqlite3.Row | None:
        return self.one("SELECT * FROM users WHERE token = ?", token)

    def user_by_email(self, email: str) -> sqlite3.Row | None:
        return self.one("SELECT * FROM users WHERE email = ?", email.lower())

    def member_by_email(self, bc_id: str, email: str) -> sqlite3.Row | None:
        return self.one("SELECT * FROM members WHERE bc_id = ? AND email = ?", bc_id, email.lower())

    def member_by_user(self, bc_id: str, user_id: str) -> sqlite3.Row | None:
        return self.one(
            "SELECT * FROM members WHERE bc_id = ? AND user_id = ? AND relation_status = 'BOUND'",
            bc_id, user_id,
        )  # fmt: skip

    def asset(self, asset_type: str, asset_id: str) -> sqlite3.Row | None:
        return self.one(
            "SELECT * FROM assets WHERE asset_type = ? AND asset_id = ?", asset_type, asset_id
        )

    def bc_asset(self, bc_id: str, asset_type: str, asset_id: str) -> sqlite3.Row | None:
        """One asset of a BC (owned or shared with it), or None; looked up by key."""
        key = (bc_id, asset_type, asset_id)
        return self.one(f"{BC_ASSET} LIMIT 1", *key, *key)

    def page(
        self, select: str, order: str, args: Sequence[Any], page: int, size: int, cap: int = 0
    ) -> tuple[list[sqlite3.Row], dict[str, int]]:
        """One page of `select`, counted and cut in SQL; at most `cap` rows when cap is set.

        Pages come from SQL, not from every row sliced in Python, so a call costs what its page
        costs, not what the BC holds.
        """
        total = self.scalar(f"SELECT COUNT(*) FROM ({select})", *args)
        start = (page - 1) * size
        limit = min(size, cap) if cap else size
        rows = []
        if start < total:  # also keeps a huge page number out of SQLite's 64-bit OFFSET
            rows = self.all(f"{select} ORDER BY {order} LIMIT ? OFFSET ?", *args, limit, start)
        return rows, page_info(total, page, size)


def _check_file(path: Path) -> None:
    """Refuse what cannot be an emulator database: not a regular file, or not SQLite."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return  # a new database
    if not stat.S_ISREG(info.st_mode):
        raise EmulatorError(f"{path} is not a regular file; choose another --db")
    if info.st_size == 0:
        return
    with path.open("rb") as fh:
        header = fh.read(len(SQLITE_MAGIC))
    if header != SQLITE_MAGIC:
        raise EmulatorError(
            f"{path} is not an emulator database (not even SQLite); refusing to open or overwrite "
            "it. Choose another --db, or remove the file yourself if it is disposable."
        )


def _check_owner(conn: sqlite3.Connection, path: Path) -> None:
    """Refuse an SQLite database the emulator did not create; an empty one is fine."""
    if conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID:
        return
    names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    if not names:
        return
    # Databases from before the header mark: the emulator's meta table says so.
    if "meta" in names and _has_schema_version(conn):
        return
    shown = ", ".join(sorted(names)[:5]) + (", ..." if len(names) > 5 else "")
    raise EmulatorError(
        f"{path} is an SQLite database that the emulator did not create (tables: {shown}); "
        "refusing to open or overwrite it. Choose another --db."
    )


def _has_schema_version(conn: sqlite3.Connection) -> bool:
    try:
        row = conn.execute("SELECT 1 FROM meta WHERE key = 'schema_version'").fetchone()
    except sqlite3.Error:  # someone else's table called meta
        return False
    return row is not None


def _lower(text: Any) -> Any:
    return text.lower() if isinstance(text, str) else text


class Store:
    """The SQLite file and its single guarded connection."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            _check_file(self.path)
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        except (OSError, sqlite3.Error) as exc:
            raise EmulatorError(f"cannot open the emulator database {self.path}: {exc}") from None
        try:
            conn.row_factory = sqlite3.Row
            # Keyword filters match Python's str.lower(), which SQLite's lower() (ASCII) is not.
            conn.create_function("py_lower", 1, _lower, deterministic=True)
            conn.execute("PRAGMA busy_timeout = 5000")
            _check_owner(conn, self.path)  # before WAL mode, which would change the file
            conn.execute("PRAGMA journal_mode = WAL")
        except sqlite3.Error as exc:
            conn.close()
            raise EmulatorError(f"cannot open the emulator database {self.path}: {exc}") from None
        except EmulatorError:
            conn.close()
            raise
        self._conn = conn
        self._lock = threading.RLock()

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()

    @contextmanager
    def transaction(self, write: bool = False) -> Iterator[Tx]:
        """A transaction; writes take the database lock up front so they never deadlock."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield Tx(self._conn)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def copy_to(self, other: Store) -> None:
        """Make OTHER an exact copy of this database (SQLite's online backup)."""
        with self._lock, other._lock:
            self._conn.backup(other._conn)

    def is_initialised(self) -> bool:
        """Whether the file holds an emulator database; raise EmulatorError for a foreign one."""
        with self.transaction() as tx:
            if not tx.one("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'"):
                return False
            version = tx.scalar("SELECT value FROM meta WHERE key = 'schema_version'")
        if version != SCHEMA_VERSION:
            raise EmulatorError(
                f"{self.path} was written by another emulator version ({version}); "
                "recreate it with `bcsync emulator reset --seed FILE`"
            )
        return True

    def meta(self, key: str) -> Any:
        """A JSON value stored in the meta table."""
        with self.transaction() as tx:
            value = tx.scalar("SELECT value FROM meta WHERE key = ?", key)
        return None if value is None else json.loads(value)

    def create(self, seed: dict[str, Any], now: float) -> None:
        """Drop everything and build the world described by a validated seed."""
        with self.transaction(write=True) as tx:
            for table in TABLES:
                tx.run(f"DROP TABLE IF EXISTS {table}")
            for statement in DDL.split(";"):
                if statement.strip():
                    tx.run(statement)
            tx.run(f"PRAGMA application_id = {APPLICATION_ID}")
            meta = {
                "schema_version": SCHEMA_VERSION,
                "seed": json.dumps(seed),
                "settings": json.dumps(seed["settings"]),
                "created_at": json.dumps(now),
            }
            for key, value in meta.items():
                tx.run("INSERT INTO meta VALUES (?, ?)", key, value)
            _insert_seed(tx, seed, now)
            # Statistics for the query planner: without them it counts an asset's grants by
            # scanning every grant of the BC (100,000 at TikTok's limits) instead of the index.
            tx.run("ANALYZE")


def _insert_seed(tx: Tx, seed: dict[str, Any], now: float) -> None:
    users = {u["email"]: u for u in seed["users"]}
    for u in seed["users"]:
        tx.run(
            "INSERT INTO users VALUES (?, ?, ?, ?, ?)",
            u["user_id"], u["email"], u["name"], u.get("token"), u.get("app_id", DEFAULT_APP),
        )  # fmt: skip
    for bc in seed["business_centers"]:
        tx.run(
            "INSERT INTO business_centers VALUES (?, ?, ?, ?, ?, ?, ?, 1)",
            bc["bc_id"], bc["name"], bc.get("company", bc["name"]), bc.get("currency", "USD"),
            bc.get("timezone", "Etc/GMT"), bc.get("registered_area", "US"),
            bc.get("type", "NORMAL"),
        )  # fmt: skip
    for ext in seed["external_business_centers"]:
        tx.run(
            "INSERT INTO business_centers VALUES (?, ?, ?, 'USD', 'Etc/GMT', 'US', 'NORMAL', 0)",
            ext["bc_id"], ext["name"], ext["name"],
        )  # fmt: skip
    for bc in seed["business_centers"]:
        _insert_bc(tx, bc, users, now)


def _insert_bc(tx: Tx, bc: dict[str, Any], users: dict[str, Any], now: float) -> None:
    bc_id = bc["bc_id"]
    for asset_type in ASSET_TYPES:
        for a in bc["assets"].get(asset_type, []):
            account_type = a.get("advertiser_account_type", "AUCTION")
            tx.run(
                "INSERT INTO assets VALUES (?, ?, ?, ?, ?, ?)",
                asset_type, a["id"], bc_id, a["name"],
                account_type if asset_type == "ADVERTISER" else None,
                a.get("relation_status", "BOUND"),
            )  # fmt: skip
    status: dict[str, str] = {}
    for m in bc["members"]:
        bound = m["status"] == "BOUND"
        user = users[m["email"]] if bound else {"user_id": None, "name": ""}
        tx.run(
            "INSERT INTO members VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            bc_id, m["email"], user["user_id"], user["name"],
            m["role"], m.get("finance_role"), m["status"], None if bound else now,
        )  # fmt: skip
        status[m["email"]] = m["status"]
    for g in bc["grants"]:
        role = encode_role(g.get("role", ""))  # pixels take no role
        if status[g["email"]] == "PENDING":
            tx.run(
                "INSERT INTO invite_grants VALUES (?, ?, ?, ?)",
                bc_id,
                g["email"],
                g["asset_id"],
                role,
            )
        else:
            user_id = users[g["email"]]["user_id"]
            tx.run(
                "INSERT INTO grants VALUES (?, ?, ?, ?, ?)",
                bc_id, user_id, g["asset_type"], g["asset_id"], role,
            )  # fmt: skip
    _insert_asset_groups(tx, bc_id, bc.get("asset_groups", []), users)
    for p in bc["partners"]:
        tx.run("INSERT INTO partners VALUES (?, ?)", bc_id, p["bc_id"])
        for s in p.get("shares", []):
            tx.run(
                "INSERT INTO shares VALUES (?, ?, ?, ?, ?)",
                bc_id, p["bc_id"], s["asset_type"], s["asset_id"], s.get("role") or "",
            )  # fmt: skip


def _insert_asset_groups(
    tx: Tx, bc_id: str, groups: list[dict[str, Any]], users: dict[str, Any]
) -> None:
    """Asset groups: ad accounts given to members together (read-only in the emulator)."""
    for g in groups:
        tx.run("INSERT INTO asset_groups VALUES (?, ?, ?)", g["asset_group_id"], bc_id, g["name"])
        for a in g.get("assets", []):
            tx.run(
                "INSERT INTO asset_group_assets VALUES (?, 'ADVERTISER', ?)",
                g["asset_group_id"], a,
            )  # fmt: skip
        for m in g.get("members", []):
            tx.run(
                "INSERT INTO asset_group_members VALUES (?, ?, ?)",
                g["asset_group_id"], users[m["email"].lower()]["user_id"], m["role"],
            )  # fmt: skip


def snapshot(tx: Tx) -> dict[str, Any]:
    """The current world in the seed's shape (tokens left out: they are secrets)."""
    settings = json.loads(tx.scalar("SELECT value FROM meta WHERE key = 'settings'"))
    users = [
        {"user_id": u["user_id"], "email": u["email"], "name": u["name"], "app_id": u["app_id"]}
        for u in tx.all("SELECT * FROM users ORDER BY rowid")
    ]
    bcs = [
        _snapshot_bc(tx, bc)
        for bc in tx.all("SELECT * FROM business_centers WHERE managed = 1 ORDER BY rowid")
    ]
    external = [
        {"bc_id": bc["bc_id"], "name": bc["name"]}
        for bc in tx.all("SELECT * FROM business_centers WHERE managed = 0 ORDER BY rowid")
    ]
    return {
        "version": 1,
        "settings": settings,
        "users": users,
        "business_centers": bcs,
        "external_business_centers": external,
    }


def _snapshot_bc(tx: Tx, bc: Any) -> dict[str, Any]:
    bc_id = bc["bc_id"]
    members = []
    for m in tx.all("SELECT * FROM members WHERE bc_id = ? ORDER BY rowid", bc_id):
        item = {"email": m["email"], "role": m["user_role"], "status": m["relation_status"]}
        if m["finance_role"]:
            item["finance_role"] = m["finance_role"]
        members.append(item)
    assets: dict[str, list[dict[str, Any]]] = {}
    for a in tx.all("SELECT * FROM assets WHERE bc_id = ? ORDER BY rowid", bc_id):
        item = {"id": a["asset_id"], "name": a["name"]}
        if a["relation_status"] != "BOUND":
            item["relation_status"] = a["relation_status"]
        if a["account_type"]:
            item["advertiser_account_type"] = a["account_type"]
        assets.setdefault(a["asset_type"], []).append(item)
    grants = [
        {
            "email": g["email"],
            "asset_type": g["asset_type"],
            "asset_id": g["asset_id"],
            **({"role": decode_role(g["asset_type"], g["role"])} if g["role"] else {}),
        }
        for g in tx.all(
            "SELECT u.email, g.* FROM grants g JOIN users u ON u.user_id = g.user_id "
            "WHERE g.bc_id = ? ORDER BY g.rowid",
            bc_id,
        )
    ]
    grants += [
        {
            "email": g["email"],
            "asset_type": "ADVERTISER",
            "asset_id": g["asset_id"],
            "role": g["role"],
        }
        for g in tx.all("SELECT * FROM invite_grants WHERE bc_id = ? ORDER BY rowid", bc_id)
    ]
    partners = []
    for p in tx.all("SELECT * FROM partners WHERE bc_id = ? ORDER BY rowid", bc_id):
        shares = [
            {
                "asset_type": s["asset_type"],
                "asset_id": s["asset_id"],
                **({"role": s["role"]} if s["role"] else {}),
            }
            for s in tx.all(
                "SELECT * FROM shares WHERE bc_id = ? AND partner_id = ? ORDER BY rowid",
                bc_id,
                p["partner_id"],
            )
        ]
        partners.append({"bc_id": p["partner_id"], "shares": shares})
    groups = _snapshot_groups(tx, bc_id)
    return {
        **({"asset_groups": groups} if groups else {}),
        "bc_id": bc_id,
        "name": bc["name"],
        "company": bc["company"],
        "currency": bc["currency"],
        "timezone": bc["timezone"],
        "registered_area": bc["registered_area"],
        "type": bc["type"],
        "members": members,
        "assets": assets,
        "grants": grants,
        "partners": partners,
    }


def _snapshot_groups(tx: Tx, bc_id: str) -> list[dict[str, Any]]:
    groups = []
    for g in tx.all("SELECT * FROM asset_groups WHERE bc_id = ? ORDER BY rowid", bc_id):
        gid = g["group_id"]
        assets = tx.all("SELECT asset_id FROM asset_group_assets WHERE group_id = ?", gid)
        members = tx.all(
            "SELECT u.email, m.role FROM asset_group_members m "
            "JOIN users u ON u.user_id = m.user_id WHERE m.group_id = ? ORDER BY m.rowid",
            gid,
        )
        groups.append(
            {
                "asset_group_id": gid,
                "name": g["name"],
                "assets": [a["asset_id"] for a in assets],
                "members": [{"email": m["email"], "role": m["role"]} for m in members],
            }
        )
    return groups
