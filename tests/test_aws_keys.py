"""The aws backend's item keys: made in `gallery/storage/aws/keys.py` alone, and still the strings existing tables
hold. Each concept store of the catalog also stands alone on its own protocol. (In-process moto: local session.)"""

from __future__ import annotations

import ast
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TypeGuard

import pytest

from gallery.domain.model import SYSTEM_TENANT_ID, Dashboard, ImageInfo, SubType, Tenant, TenantProfile
from gallery.storage.aws import keys
from gallery.storage.aws.accounts import DynamoAccounts
from gallery.storage.aws.catalog import DynamoCatalog
from gallery.storage.aws.dashboards import DynamoDashboards
from gallery.storage.aws.images import DynamoImages
from gallery.storage.protocols import AccountCatalog, DashboardCatalog, ImageCatalog
from tests.storage_fixtures import backend, image

PACKAGE = Path(__file__).resolve().parent.parent / "gallery" / "storage" / "aws"
# A key prefix (`T#`, `PR#`, `UPS#`), a separator between key parts (`f"{a}#{b}"`), a fixed partition or sort key.
# Expression attribute names (`#n`) and values (`:n`) are not keys.
_PREFIX = re.compile(r"[A-Z]#|^#$|^slot-")
_FIXED = {"TENANT", "TENANTS", "USERS", "PROFILES", "PROFILE_DEFAULT"}


def _is_key_call(node: ast.AST) -> TypeGuard[ast.Call]:
    return isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "Key"


def key_literals(source: str) -> Iterator[tuple[int, str]]:
    """Where the source spells a key itself: a key-like string (alone or as a part of an f-string), an item literal
    with a `pk` or `sk`, or a `Key(…)` made from a string literal."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if _PREFIX.search(node.value) or node.value in _FIXED:
                yield node.lineno, node.value
        elif isinstance(node, ast.Dict):
            named = [k.value for k in node.keys if isinstance(k, ast.Constant) and k.value in {"pk", "sk"}]
            if named:
                yield node.lineno, f"an item literal with {named}"
        elif _is_key_call(node) and any(isinstance(arg, ast.Constant | ast.JoinedStr) for arg in node.args):
            yield node.lineno, "Key(…) of a literal"


def test_the_check_finds_keys_spelt_out() -> None:
    found = key_literals(
        'a = f"T#{t}"\nb = {"pk": x, "sk": "S"}\nc = "TENANTS"\nd = keys.Key("X", y)\ne = f"{a}#{b}"\nf = "slot-1"'
    )
    assert sorted(line for line, _ in found) == [1, 2, 3, 4, 5, 6]
    assert list(key_literals('n = {"#n": "name"}\ne = "SET #n = :n, x = :x"\nf = f"#n{i}"\nt = "S"')) == []


def test_no_module_but_keys_spells_a_key() -> None:
    modules = sorted(PACKAGE.glob("*.py"))
    assert len(modules) > 10
    found = {
        f"{path.name}:{line}": what
        for path in modules
        if path.name != "keys.py"
        for line, what in key_literals(path.read_text())
    }
    assert found == {}


def test_keys_are_the_strings_tables_already_hold() -> None:
    t, pk = "t1", keys.Key
    assert keys.tenant(t) == pk("T#t1", "TENANT")
    assert keys.image(t, "a.png") == pk("T#t1", "I#a.png")
    assert keys.listing(t, SubType.SCADA_SYMBOL) == "T#t1#S#SCADA_SYMBOL"
    assert keys.dashboard(t, "d") == pk("T#t1", "D#d")
    assert keys.member(t, "A@B.example", "u") == pk("T#t1", "U#a@b.example#u")
    assert keys.member_email("U#a@b.example#u") == "a@b.example"
    assert keys.tenant_name("Acme") == pk("TN#Acme", "TN")
    assert keys.tenant_entry("Acme", t) == pk("TENANTS", "acme#t1")
    assert keys.public_key("k") == pk("P#k", "P")
    assert keys.blob("e") == pk("B#e", "B")
    assert keys.dashboard_owner("d") == pk("DASH#d", "D")
    link, system = "tb-image;/api/images/tenant/a.png", "tb-image;/api/images/system/s.png"
    assert keys.reference_partitions(t, link) == [f"R#t1#{link}", f"R#{link}"]
    assert keys.reference_partitions(t, system) == [f"R#{system}"]
    assert keys.reference_partitions(None, link) == [f"R#{link}"]
    assert keys.referrer("R#x", t, "d") == pk("R#x", "t1#d")
    assert keys.user("u") == pk("U#u", "U")
    assert keys.email("A@B.example") == pk("E#a@b.example", "E")
    assert keys.user_entry("A@B.example", "u") == pk("USERS", "a@b.example#u")
    assert keys.profile("p") == pk("PR#p", "PR")
    assert keys.profile_name("Big") == pk("PN#Big", "PN")
    assert keys.profile_entry("Big", "p") == pk("PROFILES", "big#p")
    assert pk("PROFILE_DEFAULT", "D") == keys.DEFAULT_PROFILE
    assert keys.listed_name("big#p") == "big"
    assert keys.session("s") == pk("S#s", "S")
    assert keys.failures("k") == pk("F#k", "F")
    assert keys.upload_slot(t, 3) == pk("UPS#t1", "slot-3")
    assert keys.upload(t, "up") == pk("UP#t1", "up")
    row: ImageInfo = image(t, "a.png", title="Logo B", created=42)
    assert keys.image_fields(row) == {
        "pk": "T#t1",
        "sk": "I#a.png",
        "lpk": "T#t1#S#IMAGE",
        "csk": f"000000000000042\x00{row.id}",
        "tsk": f"logo b\x00{row.id}",
    }


@pytest.fixture
def catalog(tmp_path: Path) -> Iterator[DynamoCatalog]:
    with backend("aws", tmp_path) as storage:
        assert isinstance(storage.catalog, DynamoCatalog)
        yield storage.catalog


def test_each_concept_store_stands_alone_on_its_protocol(catalog: DynamoCatalog) -> None:
    images: ImageCatalog = DynamoImages(catalog.table)
    dashboards: DashboardCatalog = DynamoDashboards(catalog.table)
    accounts: AccountCatalog = DynamoAccounts(catalog.table)
    accounts.insert_profile(TenantProfile("p", "Plain"))
    tenant = str(uuid.uuid4())
    accounts.insert_tenant(Tenant(tenant, "Alone", "p"))
    row = image(tenant, "a.png")
    images.insert_image(row, 0)
    dashboards.save_dashboard(Dashboard("d", tenant, "D", f"tb-image;{row.link}", {}))
    assert [d.id for d in dashboards.dashboards_referring(f"tb-image;{row.link}", tenant, 10)] == ["d"]
    assert accounts.delete_tenant(tenant) == [row]
    assert images.get_image(tenant, "a.png") is None
    assert dashboards.get_dashboard(tenant, "d") is None
    assert accounts.get_tenant(SYSTEM_TENANT_ID) is not None  # made by the catalog, not by a part of it
