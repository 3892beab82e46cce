"""The `gallery` command's contract: the exact forms other tools rely on."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from gallery.cli import main
from gallery.config import Settings
from gallery.domain import errors
from gallery.wiring import Gallery
from tests.conftest import JWT_SECRET
from tests.helpers import png

UUID = re.compile(r"^[0-9a-f-]{36}$")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"GALLERY_DATA_DIR": str(tmp_path / "cli-data"), "GALLERY_JWT_SECRET": JWT_SECRET}


def run(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env=env)
    return result.exit_code, result.output.strip()


def open_gallery(env: dict[str, str]) -> Gallery:
    return Gallery.open(Settings.from_env(env))


def test_tenants_create_prints_the_id_and_sets_limits(env: dict[str, str]) -> None:
    code, out = run(env, "tenants", "create", "Acme", "--max-resource-size", "100", "--max-resources-bytes", "5000")
    assert code == 0, out
    assert UUID.match(out)
    gallery = open_gallery(env)
    tenant = gallery.accounts.get_tenant(out)
    profile = gallery.accounts.get_profile(tenant.profile_id)
    assert (tenant.name, profile.max_resource_size, profile.max_resources_in_bytes) == ("Acme", 100, 5000)
    gallery.close()
    code, listing = run(env, "tenants", "list")
    assert code == 0
    assert f"{out}\t0\tAcme" in listing


def test_users_create_by_tenant_name_or_id(env: dict[str, str]) -> None:
    _, tenant_id = run(env, "tenants", "create", "Acme")
    code, by_name = run(
        env, "users", "create", "a@acme.example", "--password", "pw123456", "--role", "TENANT_ADMIN", "--tenant", "Acme"
    )
    assert code == 0, by_name
    code, by_id = run(
        env,
        "users",
        "create",
        "c@acme.example",
        "--password",
        "pw123456",
        "--role",
        "CUSTOMER_USER",
        "--tenant",
        tenant_id,
    )
    assert code == 0, by_id
    code, root = run(env, "users", "create", "root@example.com", "--password", "pw123456", "--role", "SYS_ADMIN")
    assert code == 0, root
    gallery = open_gallery(env)
    assert gallery.accounts.get_user(by_name).tenant_id == tenant_id
    assert gallery.accounts.get_user(by_id).tenant_id == tenant_id
    assert gallery.sessions.login("a@acme.example", "pw123456").token
    gallery.close()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["users", "create", "x@y.z", "--password", "pw123456", "--role", "TENANT_ADMIN", "--tenant", "Nope"], "Nope"),
        (["users", "create", "x@y.z", "--password", "pw123456", "--role", "TENANT_ADMIN"], "needs a tenant"),
        (["users", "create", "x@y.z", "--password", "short", "--role", "SYS_ADMIN"], "at least 8"),
        (["tenants", "create", ""], "should be specified"),
        (["tenants", "create", "T", "--max-resource-size", "-5"], "-5"),
    ],
)
def test_mistakes_are_one_line_and_non_zero(env: dict[str, str], args: list[str], message: str) -> None:
    code, out = run(env, *args)
    assert code != 0
    assert message in out
    assert "Traceback" not in out


def test_duplicate_tenant_is_refused(env: dict[str, str]) -> None:
    assert run(env, "tenants", "create", "Acme")[0] == 0
    code, out = run(env, "tenants", "create", "Acme")
    assert code == 1
    assert "already exists" in out


def test_gc_removes_only_unreferenced_blobs(env: dict[str, str]) -> None:
    gallery = open_gallery(env)
    orphan = png(color=(3, 3, 3))
    import hashlib

    orphan_etag = hashlib.sha256(orphan).hexdigest()
    gallery.storage.blobs.put(orphan_etag, orphan)
    from gallery.demo import as_principal
    from gallery.domain.model import Authority

    admin = gallery.accounts.create_user("root@example.com", "pw123456", Authority.SYS_ADMIN)
    kept = gallery.images.upload(as_principal(admin), "kept.png", png(), None, None)
    gallery.close()
    code, out = run(env, "gc")
    assert (code, out) == (
        0,
        "removed 1 unreferenced blob(s)\nremoved 0 abandoned upload(s)\nremoved 0 interrupted write(s)",
    )
    gallery = open_gallery(env)
    assert not gallery.storage.blobs.exists(orphan_etag)
    assert gallery.storage.blobs.exists(kept.etag)
    gallery.close()


def test_first_run_demo_seeds_accounts_and_samples(env: dict[str, str]) -> None:
    from gallery.demo import DEMO_TENANT, TENANT_ADMIN, first_run

    gallery = open_gallery(env)
    logins = first_run(gallery, demo=True)
    assert [login.email for login in logins][1] == TENANT_ADMIN[0]
    assert first_run(gallery, demo=True) == []  # only on the first run
    tenant = gallery.accounts.resolve_tenant(DEMO_TENANT)
    assert gallery.images.usage(tenant.id) > 0
    assert gallery.sessions.login(*TENANT_ADMIN).token
    gallery.close()


def test_first_run_without_demo_creates_only_a_sysadmin_with_a_random_password(env: dict[str, str]) -> None:
    from gallery.demo import first_run

    gallery = open_gallery(env)
    (login,) = first_run(gallery, demo=False)
    assert login.password != "sysadmin"
    assert len(login.password) >= 12
    assert gallery.sessions.login(login.email, login.password).token
    gallery.close()


def test_gc_removes_uploads_staged_longer_ago_than_a_ticket_lives(env: dict[str, str]) -> None:
    import os
    import time
    import uuid

    gallery = open_gallery(env)
    staging = gallery.storage.staging
    tenant = str(uuid.uuid4())
    old, fresh = f"{tenant}/{uuid.uuid4().hex}", f"{tenant}/{uuid.uuid4().hex}"
    for name in (old, fresh):
        staging.store(name, io.BytesIO(b"partial"), 100)
    stale = time.time() - gallery.settings.upload_ttl - 60
    os.utime(gallery.settings.data_dir / "staging" / old, (stale, stale))
    gallery.close()
    code, out = run(env, "gc")
    assert (code, out.splitlines()[1]) == (0, "removed 1 abandoned upload(s)")
    assert staging.read(fresh, 100) == b"partial"
    with pytest.raises(errors.NotFound):
        staging.read(old, 100)


def test_users_create_asks_for_the_password_when_not_given(env: dict[str, str]) -> None:
    """A password on the command line stays in shell history and `ps`: asked for, twice, without echo."""
    result = CliRunner().invoke(
        main, ["users", "create", "asked@example.com", "--role", "SYS_ADMIN"], env=env, input="pw123456\npw123456\n"
    )
    assert result.exit_code == 0, result.output
    assert "pw123456" not in result.output
    gallery = open_gallery(env)
    try:
        assert gallery.sessions.login("asked@example.com", "pw123456", "127.0.0.1").token
    finally:
        gallery.close()
