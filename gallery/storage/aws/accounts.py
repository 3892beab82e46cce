"""Tenant profiles, tenants and users on DynamoDB (`AccountCatalog`).

Names and e-mails are unique through pointer items claimed in the same transaction as the thing they name
(`attribute_not_exists`), and every kind is also listed under one partition sorted by folded name, so lists and
searches read that partition and never scan. A profile counts the tenants that use it, so deleting one in use fails
inside its own transaction.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from typing import TypeVar

from gallery.domain import errors
from gallery.domain.model import SYSTEM_TENANT_ID, Authority, ImageInfo, Page, PageQuery, Tenant, TenantProfile, User
from gallery.storage.aws import keys
from gallery.storage.aws.dashboards import DynamoDashboards
from gallery.storage.aws.images import POSTED, DynamoImages
from gallery.storage.aws.table import Item, TableStore
from gallery.storage.aws.transactions import Transaction

T = TypeVar("T")


def _tenant_item(tenant: Tenant) -> Item:
    return {
        **keys.tenant(tenant.id)._asdict(),
        "kind": "tenant",
        "id": tenant.id,
        "name": tenant.name,
        "profile_id": tenant.profile_id,
        "created_time": tenant.created_time,
        "usage": 0,
        POSTED: True,  # no image yet: each one's search postings are written with it
    }


def _profile_item(profile: TenantProfile) -> Item:
    return {
        **keys.profile(profile.id)._asdict(),
        "kind": "profile",
        "id": profile.id,
        "name": profile.name,
        "max_resource_size": profile.max_resource_size,
        "max_resources_in_bytes": profile.max_resources_in_bytes,
        "is_default": profile.is_default,
        "created_time": profile.created_time,
        "public_metadata": profile.public_metadata,
    }


def _user_item(user: User) -> Item:
    return {
        **keys.user(user.id)._asdict(),
        "kind": "user",
        "id": user.id,
        "email": user.email,
        "authority": user.authority.value,
        "tenant_id": user.tenant_id,
        "customer_id": user.customer_id,
        "password_hash": user.password_hash,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "created_time": user.created_time,
    }


def _tenant_from(item: Item) -> Tenant:
    return Tenant(item["id"], item["name"], item["profile_id"], item["created_time"])


def _profile_from(item: Item) -> TenantProfile:
    return TenantProfile(
        item["id"],
        item["name"],
        item["max_resource_size"],
        item["max_resources_in_bytes"],
        bool(item.get("is_default", False)),
        item["created_time"],
        bool(item.get("public_metadata", False)),
    )


def _user_from(item: Item) -> User:
    return User(
        id=item["id"],
        email=item["email"],
        authority=Authority(item["authority"]),
        tenant_id=item["tenant_id"],
        password_hash=item["password_hash"],
        first_name=item.get("first_name", ""),
        last_name=item.get("last_name", ""),
        customer_id=item["customer_id"],
        created_time=item["created_time"],
        token_generation=int(item.get("token_generation", 0)),
        enabled=bool(item.get("enabled", True)),
    )


def _claim_name(tx: Transaction, pointer: keys.Key, entry: keys.Key, owner: str, failure: errors.GalleryError) -> None:
    """A unique name: its pointer, claimed, and its entry in the list of its kind."""
    tx.claim(pointer, failure, id=owner)
    tx.put({**entry._asdict(), "id": owner})


def _release_name(tx: Transaction, pointer: keys.Key, entry: keys.Key) -> None:
    tx.delete(pointer)
    tx.delete(entry)


def _claim_profile_name(tx: Transaction, profile: TenantProfile) -> None:
    pointer, entry = keys.profile_name(profile.name), keys.profile_entry(profile.name, profile.id)
    _claim_name(tx, pointer, entry, profile.id, errors.AlreadyExists(f"Tenant profile '{profile.name}' already exists"))


def _claim_tenant_name(tx: Transaction, tenant: Tenant) -> None:
    pointer, entry = keys.tenant_name(tenant.name), keys.tenant_entry(tenant.name, tenant.id)
    _claim_name(tx, pointer, entry, tenant.id, errors.AlreadyExists(f"Tenant '{tenant.name}' already exists"))


def _count_tenant(tx: Transaction, profile_id: str) -> None:
    """One more tenant on the profile, which must exist."""
    failure = errors.NotFound("Tenant profile not found")
    tx.update(keys.profile(profile_id), "ADD tenants :one", {":one": 1}, "attribute_exists(pk)", failure)


def _uncount_tenant(tx: Transaction, profile_id: str) -> None:
    tx.update(keys.profile(profile_id), "ADD tenants :m", {":m": -1})


class DynamoAccounts(TableStore):
    def ensure_system_tenant(self) -> None:
        if self.table.get(keys.tenant(SYSTEM_TENANT_ID)) is not None:
            return
        tx = Transaction(self.table)
        tx.put(_tenant_item(Tenant(SYSTEM_TENANT_ID, "System", SYSTEM_TENANT_ID, 0)), "attribute_not_exists(pk)")
        with contextlib.suppress(errors.Conflict):  # created concurrently by another process
            tx.commit()

    def _listed(
        self, page: PageQuery, entries: Iterable[Item], name_of: Callable[[str], str], fetch: Callable[[str], T | None]
    ) -> Page[T]:
        """Entries of a list (sorted by folded name, `name_of` their sort key): filter by name, page, then fetch
        the page's items."""
        needle = page.text_search.casefold()
        matching = [e for e in entries if needle in name_of(e["sk"])]
        chosen = [fetch(e["id"]) for e in matching[page.offset : page.offset + page.page_size]]
        return Page([item for item in chosen if item is not None], len(matching), page)

    # --- tenant profiles ----------------------------------------------------------------------------------------------
    def _set_default(self, tx: Transaction, profile: TenantProfile) -> None:
        current = self.table.get(keys.DEFAULT_PROFILE)
        if current is not None and current["id"] != profile.id:
            tx.update(keys.profile(current["id"]), "SET is_default = :f", {":f": False})
        tx.put({**keys.DEFAULT_PROFILE._asdict(), "id": profile.id})

    def insert_profile(self, profile: TenantProfile) -> None:
        tx = Transaction(self.table)
        tx.put(_profile_item(profile), "attribute_not_exists(pk)", errors.AlreadyExists())
        _claim_profile_name(tx, profile)
        if profile.is_default:
            self._set_default(tx, profile)
        tx.commit()

    def update_profile(self, profile: TenantProfile) -> None:
        old = self.get_profile(profile.id)
        if old is None:
            raise errors.NotFound()
        tx = Transaction(self.table)
        tx.put(_profile_item(profile), "attribute_exists(pk)", errors.NotFound())
        if old.name != profile.name:
            _release_name(tx, keys.profile_name(old.name), keys.profile_entry(old.name, old.id))
            _claim_profile_name(tx, profile)
        if profile.is_default:
            self._set_default(tx, profile)
        elif old.is_default:
            tx.delete(keys.DEFAULT_PROFILE)
        tx.commit()

    def get_profile(self, profile_id: str) -> TenantProfile | None:
        item = self.table.get(keys.profile(profile_id))
        return None if item is None else _profile_from(item)

    def default_profile(self) -> TenantProfile | None:
        pointer = self.table.get(keys.DEFAULT_PROFILE)
        return None if pointer is None else self.get_profile(pointer["id"])

    def list_profiles(self, page: PageQuery) -> Page[TenantProfile]:
        return self._listed(page, self.table.partition(keys.PROFILES), keys.listed_name, self.get_profile)

    def delete_profile(self, profile_id: str) -> bool:
        profile = self.get_profile(profile_id)
        if profile is None:
            return False
        tx = Transaction(self.table)
        tx.delete(
            keys.profile(profile_id),
            "attribute_not_exists(tenants) OR tenants = :zero",
            errors.Conflict("The tenant profile is in use by a tenant"),
            {":zero": 0},
        )
        _release_name(tx, keys.profile_name(profile.name), keys.profile_entry(profile.name, profile_id))
        if profile.is_default:
            tx.delete(keys.DEFAULT_PROFILE)
        tx.commit()
        return True

    # --- tenants ------------------------------------------------------------------------------------------------------
    def insert_tenant(self, tenant: Tenant) -> None:
        tx = Transaction(self.table)
        tx.put(_tenant_item(tenant), "attribute_not_exists(pk)", errors.AlreadyExists())
        _claim_tenant_name(tx, tenant)
        _count_tenant(tx, tenant.profile_id)
        tx.commit()

    def update_tenant(self, tenant: Tenant) -> None:
        old = self.get_tenant(tenant.id)
        if old is None:
            raise errors.NotFound()
        tx = Transaction(self.table)
        tx.update(
            keys.tenant(tenant.id),
            "SET #n = :n, profile_id = :p",
            {":n": tenant.name, ":p": tenant.profile_id},
            "attribute_exists(pk)",
            errors.NotFound(),
            {"#n": "name"},
        )
        if old.name != tenant.name:
            _release_name(tx, keys.tenant_name(old.name), keys.tenant_entry(old.name, old.id))
            _claim_tenant_name(tx, tenant)
        if old.profile_id != tenant.profile_id:
            _uncount_tenant(tx, old.profile_id)
            _count_tenant(tx, tenant.profile_id)
        tx.commit()

    def get_tenant(self, tenant_id: str) -> Tenant | None:
        item = self.table.get(keys.tenant(tenant_id))
        return None if item is None else _tenant_from(item)

    def find_tenant(self, name: str) -> Tenant | None:
        pointer = self.table.get(keys.tenant_name(name))
        return None if pointer is None else self.get_tenant(pointer["id"])

    def list_tenants(self, page: PageQuery) -> Page[Tenant]:
        return self._listed(page, self.table.partition(keys.TENANTS), keys.listed_name, self.get_tenant)

    def delete_tenant(self, tenant_id: str) -> list[ImageInfo]:
        """Each image, dashboard and user in a transaction of its own, then the tenant (conditioned on its being
        there, so two deletes at once release its name and profile count once): interrupted, it leaves a tenant
        with less in it, and running it again finishes it."""
        tenant = self.get_tenant(tenant_id)
        if tenant is None:
            raise errors.NotFound()
        items = list(self.table.partition(keys.tenant_partition(tenant_id)))
        images, dashboards = DynamoImages(self.table), DynamoDashboards(self.table)
        removed = [images.delete_image(tenant_id, i["resource_key"]) for i in items if i["sk"].startswith(keys.IMAGES)]
        for item in items:
            if item["sk"].startswith(keys.DASHBOARDS):
                dashboards.delete_dashboard(tenant_id, item["id"])
            elif item["sk"].startswith(keys.MEMBERS):
                self.delete_user(item["id"])
            elif item["sk"].startswith(keys.TAG_COUNTS):
                self.table.delete(keys.Key(item["pk"], item["sk"]))  # its images' deletes have counted it down
        tx = Transaction(self.table)
        tx.delete(keys.tenant(tenant_id), "attribute_exists(pk)", errors.NotFound())
        _release_name(tx, keys.tenant_name(tenant.name), keys.tenant_entry(tenant.name, tenant_id))
        _uncount_tenant(tx, tenant.profile_id)
        tx.commit()
        return [image for image in removed if image is not None]  # None: gone already, released by its deleter

    # --- users --------------------------------------------------------------------------------------------------------
    def insert_user(self, user: User) -> None:
        tx = Transaction(self.table)
        tx.put(_user_item(user), "attribute_not_exists(pk)", errors.AlreadyExists())
        failure = errors.AlreadyExists(f"User with email '{user.email}' already present in database!")
        tx.claim(keys.email(user.email), failure, id=user.id)
        tx.put({**keys.user_entry(user.email, user.id)._asdict(), "id": user.id})
        tx.put({**keys.member(user.tenant_id, user.email, user.id)._asdict(), "id": user.id})
        tx.commit()

    def change_user(
        self, user_id: str, *, password_hash: str | None = None, enabled: bool | None = None
    ) -> User | None:
        sets: list[str] = []
        values: Item = {":one": 1}
        if password_hash is not None:
            sets.append("password_hash = :hash")
            values[":hash"] = password_hash
        if enabled is not None:
            sets.append("enabled = :enabled")
            values[":enabled"] = enabled
        expression = "ADD token_generation :one" + (f" SET {', '.join(sets)}" if sets else "")
        item = self.table.update_if(keys.user(user_id), expression, "attribute_exists(pk)", values)
        return None if item is None else _user_from(item)

    def get_user(self, user_id: str) -> User | None:
        item = self.table.get(keys.user(user_id))
        return None if item is None else _user_from(item)

    def find_user(self, email: str) -> User | None:
        pointer = self.table.get(keys.email(email))
        return None if pointer is None else self.get_user(pointer["id"])

    def list_users(self, tenant_id: str | None, page: PageQuery) -> Page[User]:
        if tenant_id is None:
            return self._listed(page, self.table.partition(keys.USERS), keys.listed_name, self.get_user)
        members = self.table.partition(keys.tenant_partition(tenant_id), keys.MEMBERS)
        return self._listed(page, members, keys.member_email, self.get_user)

    def delete_user(self, user_id: str) -> bool:
        user = self.get_user(user_id)
        if user is None:
            return False
        tx = Transaction(self.table)
        tx.delete(keys.user(user_id))
        tx.delete(keys.email(user.email))
        tx.delete(keys.user_entry(user.email, user_id))
        tx.delete(keys.member(user.tenant_id, user.email, user_id))
        tx.commit()
        return True

    def has_users(self) -> bool:
        return next(iter(self.table.partition(keys.USERS, Limit=1)), None) is not None
