"""Where every item of the aws backend's one DynamoDB table lives: each partition key (`pk`) and sort key (`sk`) any
store writes or reads is made here, and nowhere else (`tests/test_aws_keys.py` checks), so this table is the whole
layout. The strings are what existing tables hold: changing one puts data out of reach.

Item layout (pk, sk):
- `T#<tenant>`, `TENANT`        the tenant: name, profile, usage in bytes, image counts per sub type
- `T#<tenant>`, `I#<key>`       an image; GSI `by_created` (lpk, csk) and `by_title` (lpk, tsk) order a sub type, with
                                lpk `T#<tenant>#S#<sub type>`
- `T#<tenant>`, `G#<tag>#<key>` an image's tag: on the same indexes with lpk `T#<tenant>#S#<sub type>#G#<tag>`, so
                                a tag filter reads in creation or title order; `image_sk` names the image
- `T#<tenant>`, `N#<sub type>#<tag>`  how many of the tenant's images of that sub type carry the tag
- `X#<tenant>#<sub type>#<gram>`, `<key>`  the image `<key>` of that sub type has the three characters `<gram>` in
                                its texts (`grams.py`: substring search); `i`, `v`: that image's id and version
- `T#<tenant>`, `D#<id>`        a dashboard;  `T#<tenant>`, `U#<email>#<id>`  a user's membership
- `P#<public key>`, `P`         public key → (tenant, key); its existence makes public keys unique, and when its
                                image goes it stays, without a key, reserving the public key to its tenant for good
- `B#<etag>`, `B`               how many image rows refer to these bytes
- `R#<tenant>#<reference>`, `<tenant>#<dashboard>`   a dashboard holding `tb-image;<link>` of its tenant's image;
  `R#<reference>` for a system image's link (which any tenant may hold). Items from before the tenant was in the
  key (`R#<reference>` for tenant links too) are still read and removed.
- `DASH#<id>`, `D`              which tenant a dashboard id belongs to (ids are unique across tenants)
- `U#<id>`, `U` a user; `E#<email>`, `E` e-mail → id; `USERS`, `<email>#<id>` the list of users
- `PR#<id>`, `PR` a profile; `PN#<name>`, `PN` name → id; `PROFILES`, `<name>#<id>` the list;
  `PROFILE_DEFAULT`, `D` → the default's id
- `TN#<name>`, `TN` tenant name → id; `TENANTS`, `<name>#<id>` the list of tenants
- `S#<session>`, `S` a session; `F#<key>`, `F` failed sign-ins under a key (an account, a client address)
- `UPS#<tenant>`, `slot-<n>` one of a tenant's places for an open upload; `UP#<tenant>`, `<upload>` the place it holds
- `W#<site>`, `SITE` / `L#<list>`  a published site (`site_state.py`): what waits to be rendered; each list's counts
- `W#<site>#L#<list>`, `B#<block>` / `M#<block>#<rank>`  a list's blocks and its cards in them
- `W#<site>#I#<id>`, `I` an image the site shows; `W#<site>#K#<key>`, `K` which image a key shows;
  `W#<site>#F#<path>`, `<id>` an image whose page uses a content-named file (one item each: a logo uploaded under
  10,000 keys has 10,000 users, past what one item holds)

List entries, memberships and `E#` e-mails are case-folded (a lookup by e-mail ignores case, lists sort as people
expect); `TN#` and `PN#` keep a name as given. Sessions, failed sign-ins and upload places carry the table's TTL
attribute, `expires_at`, and go by themselves.
"""

from __future__ import annotations

from typing import NamedTuple

from gallery.domain.model import TB_IMAGE_PREFIX, ImageInfo, Scope, SubType, images_path

TTL_ATTRIBUTE = "expires_at"
# The two indexes list one sub type of a tenant's images: name → the sort attribute of each, on `LISTING`.
LISTING = "lpk"
BY_CREATED, BY_TITLE = "by_created", "by_title"
INDEXES = {BY_CREATED: "csk", BY_TITLE: "tsk"}
# Sort-key prefixes of what a tenant's partition holds besides the tenant item.
IMAGES, DASHBOARDS, MEMBERS, TAGGED, TAG_COUNTS = "I#", "D#", "U#", "G#", "N#"
USERS, PROFILES, TENANTS = "USERS", "PROFILES", "TENANTS"
_SYSTEM_LINK = TB_IMAGE_PREFIX + images_path(Scope.SYSTEM)


class Key(NamedTuple):
    pk: str
    sk: str


def _entry(name: str, item_id: str) -> str:
    """A list partition's sort key: case-folded name first, so the list comes sorted by name."""
    return f"{name.casefold()}#{item_id}"


def listed_name(sk: str) -> str:
    """The folded name of a list entry (`USERS`, `PROFILES`, `TENANTS`)."""
    return sk.rsplit("#", 1)[0]


# --- a tenant's partition ---------------------------------------------------------------------------------------------
def tenant_partition(tenant_id: str) -> str:
    return f"T#{tenant_id}"


def tenant(tenant_id: str) -> Key:
    return Key(tenant_partition(tenant_id), "TENANT")


def image(tenant_id: str, resource_key: str) -> Key:
    return Key(tenant_partition(tenant_id), IMAGES + resource_key)


def image_owner(key: Key) -> str | None:
    """The tenant whose image the item at `key` is, or None when it is not an image (a DynamoDB stream's record
    names only the item's keys)."""
    if key.pk.startswith(tenant_partition("")) and key.sk.startswith(IMAGES) and "#" not in key.pk[2:]:
        return key.pk.removeprefix(tenant_partition(""))
    return None


def resource_key(key: Key) -> str:
    """The resource key of the image item at `key` (`image_owner` says it is one)."""
    return key.sk.removeprefix(IMAGES)


# The stream records of image items, as a Lambda event filter: the publisher is started by nothing else (sign-ins,
# sessions, counters and expiries stay out). deploy/stack.yaml carries it; a test keeps the two equal. A superset of
# `image_owner`, which the publisher still asks of each record.
IMAGE_RECORDS = {"dynamodb": {"Keys": {"pk": {"S": [{"prefix": "T#"}]}, "sk": {"S": [{"prefix": IMAGES}]}}}}


def listing(tenant_id: str, sub_type: SubType) -> str:
    return f"T#{tenant_id}#S#{sub_type.value}"


def image_fields(info: ImageInfo) -> dict[str, str]:
    """The image's primary key and its place in both indexes."""
    return {
        **image(info.tenant_id, info.resource_key)._asdict(),
        LISTING: listing(info.tenant_id, info.sub_type),
        INDEXES[BY_CREATED]: f"{info.created_time:015d}\x00{info.id}",
        # NUL sorts below every character a title may hold (titles cannot contain it), so "a" precedes "a b".
        INDEXES[BY_TITLE]: f"{info.title.casefold()}\x00{info.id}",
    }


def tag_listing(tenant_id: str, sub_type: SubType, tag: str) -> str:
    return f"{listing(tenant_id, sub_type)}#{TAGGED}{tag}"


def tagged(info: ImageInfo, tag: str) -> dict[str, str]:
    """An image's entry under one of its tags, ordered in both indexes as the image is (tags hold no `#`)."""
    fields = image_fields(info)
    return {
        **tag_entry(info.tenant_id, tag, info.resource_key)._asdict(),
        LISTING: tag_listing(info.tenant_id, info.sub_type, tag),
        INDEXES[BY_CREATED]: fields[INDEXES[BY_CREATED]],
        INDEXES[BY_TITLE]: fields[INDEXES[BY_TITLE]],
        "image_sk": fields["sk"],
    }


def tag_entry(tenant_id: str, tag: str, resource_key: str) -> Key:
    return Key(tenant_partition(tenant_id), f"{TAGGED}{tag}#{resource_key}")


def tag_count(tenant_id: str, sub_type: SubType, tag: str) -> Key:
    return Key(tenant_partition(tenant_id), f"{TAG_COUNTS}{sub_type.value}#{tag}")


def counted_tag(sk: str) -> str:
    """The tag a `tag_count` item counts."""
    return sk.split("#", 2)[2]


def gram_partition(tenant_id: str, sub_type: SubType, gram: str) -> str:
    return f"X#{tenant_id}#{sub_type.value}#{gram}"


def posting(tenant_id: str, sub_type: SubType, gram: str, resource_key: str) -> Key:
    return Key(gram_partition(tenant_id, sub_type, gram), resource_key)


def dashboard(tenant_id: str, dashboard_id: str) -> Key:
    return Key(tenant_partition(tenant_id), DASHBOARDS + dashboard_id)


def member(tenant_id: str, address: str, user_id: str) -> Key:
    return Key(tenant_partition(tenant_id), f"{MEMBERS}{address.casefold()}#{user_id}")


def member_email(sk: str) -> str:
    return sk.split("#")[1]


def tenant_name(name: str) -> Key:
    return Key(f"TN#{name}", "TN")


def tenant_entry(name: str, tenant_id: str) -> Key:
    return Key(TENANTS, _entry(name, tenant_id))


# --- images' pointers and counts --------------------------------------------------------------------------------------
def public_key(key: str) -> Key:
    return Key(f"P#{key}", "P")


def blob(etag: str) -> Key:
    return Key(f"B#{etag}", "B")


# --- dashboards' lookups ----------------------------------------------------------------------------------------------
def dashboard_owner(dashboard_id: str) -> Key:
    return Key(f"DASH#{dashboard_id}", "D")


def reference_partitions(tenant_id: str | None, reference: str) -> list[str]:
    """Where a dashboard's reference lives (first), and where it may live from before (the rest); with no tenant,
    the one partition shared by all. A tenant link is tenant-relative: kept under the tenant, one tenant's many
    dashboards never load another's lookups."""
    if tenant_id is None or reference.startswith(_SYSTEM_LINK):
        return [f"R#{reference}"]
    return [f"R#{tenant_id}#{reference}", f"R#{reference}"]


def referrer(partition: str, tenant_id: str, dashboard_id: str) -> Key:
    return Key(partition, f"{tenant_id}#{dashboard_id}")


# --- users, profiles --------------------------------------------------------------------------------------------------
def user(user_id: str) -> Key:
    return Key(f"U#{user_id}", "U")


def email(address: str) -> Key:
    return Key(f"E#{address.casefold()}", "E")


def user_entry(address: str, user_id: str) -> Key:
    return Key(USERS, _entry(address, user_id))


def profile(profile_id: str) -> Key:
    return Key(f"PR#{profile_id}", "PR")


def profile_name(name: str) -> Key:
    return Key(f"PN#{name}", "PN")


def profile_entry(name: str, profile_id: str) -> Key:
    return Key(PROFILES, _entry(name, profile_id))


DEFAULT_PROFILE = Key("PROFILE_DEFAULT", "D")


# --- the auth store and the upload ledger -----------------------------------------------------------------------------
def session(session_id: str) -> Key:
    return Key(f"S#{session_id}", "S")


def failures(key: str) -> Key:
    return Key(f"F#{key}", "F")


def upload_slot(tenant_id: str, slot: int) -> Key:
    return Key(f"UPS#{tenant_id}", f"slot-{slot}")


def upload(tenant_id: str, upload_id: str) -> Key:
    return Key(f"UP#{tenant_id}", upload_id)


# --- a published site's state (`site_state.py`) -----------------------------------------------------------------------
SITE_LISTS, SITE_BLOCKS, SITE_MEMBERS = "L#", "B#", "M#"


def site(site_id: str) -> Key:
    return Key(f"W#{site_id}", "SITE")


def site_partition(site_id: str) -> str:
    return f"W#{site_id}"


def site_list(site_id: str, name: str) -> Key:
    return Key(site_partition(site_id), f"{SITE_LISTS}{name}")


def listed_site_list(sk: str) -> str:
    return sk.removeprefix(SITE_LISTS)


def site_blocks(site_id: str, name: str) -> str:
    """The partition of a list's blocks and its cards."""
    return f"W#{site_id}#L#{name}"


def site_block(site_id: str, name: str, block: int) -> Key:
    return Key(site_blocks(site_id, name), f"{SITE_BLOCKS}{block:010d}")


def block_number(sk: str) -> int:
    """The block a `site_block` or `site_member` sort key names."""
    return int(sk[2:12])


def site_member(site_id: str, name: str, block: int, rank: str) -> Key:
    return Key(site_blocks(site_id, name), f"{SITE_MEMBERS}{block:010d}#{rank}")


def site_rank(newest_first: int, image_id: str) -> str:
    """A card's place in its block: `newest_first` grows as the image is older."""
    return f"{newest_first:013d}#{image_id}"


def site_member_prefix(block: int) -> str:
    return f"{SITE_MEMBERS}{block:010d}#"


def site_image(site_id: str, image_id: str) -> Key:
    return Key(f"W#{site_id}#I#{image_id}", "I")


def site_key(site_id: str, resource_key: str) -> Key:
    return Key(f"W#{site_id}#K#{resource_key}", "K")


def site_file_users(site_id: str, path: str) -> str:
    return f"W#{site_id}#F#{path}"


def site_file_user(site_id: str, path: str, image_id: str) -> Key:
    return Key(site_file_users(site_id, path), image_id)
