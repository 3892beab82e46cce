-- Every table of the local backend, in its one SQLite file. Run on every open, so only IF NOT EXISTS statements:
-- a new file gets everything, an older one what it lacks. A column added to a table after its first release goes
-- into database.py's COLUMNS_SINCE as well, because CREATE TABLE IF NOT EXISTS leaves an existing table as it is.

-- The catalog: accounts.
CREATE TABLE IF NOT EXISTS tenant_profiles (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    max_resource_size INTEGER NOT NULL DEFAULT 0,
    max_resources_in_bytes INTEGER NOT NULL DEFAULT 0,
    is_default INTEGER NOT NULL DEFAULT 0,
    created_time INTEGER NOT NULL,
    public_metadata INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS tenants (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    profile_id TEXT NOT NULL REFERENCES tenant_profiles(id),
    usage_bytes INTEGER NOT NULL DEFAULT 0 CHECK (usage_bytes >= 0),
    created_time INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE COLLATE NOCASE,
    authority TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    first_name TEXT NOT NULL DEFAULT '',
    last_name TEXT NOT NULL DEFAULT '',
    created_time INTEGER NOT NULL,
    token_generation INTEGER NOT NULL DEFAULT 0,
    enabled INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS users_by_tenant ON users (tenant_id, email);

-- The catalog: images.
CREATE TABLE IF NOT EXISTS images (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    resource_key TEXT NOT NULL,
    title TEXT NOT NULL,
    file_name TEXT NOT NULL,
    sub_type TEXT NOT NULL,
    public INTEGER NOT NULL,
    public_key TEXT NOT NULL UNIQUE,
    media_type TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    preview_media_type TEXT NOT NULL,
    preview_width INTEGER NOT NULL,
    preview_height INTEGER NOT NULL,
    preview_size INTEGER NOT NULL,
    preview_etag TEXT NOT NULL,
    created_time INTEGER NOT NULL,
    updated_time INTEGER NOT NULL,
    version INTEGER NOT NULL,
    has_alpha INTEGER,  -- NULL: stored before it was recorded
    title_fold TEXT,  -- the title case-folded (Python's casefold): what title order reads
    alt_text TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    tags TEXT NOT NULL DEFAULT '[]',  -- a JSON array of tags, as validation.tags made them
    search_fold TEXT,  -- ImageInfo.search_text: title, alt text, description and tags, folded: what search reads
    public_size INTEGER,  -- the public copy (ImageInfo.public_original; its type and size are the original's)
    public_etag TEXT,  -- NULL: stored before public copies were kept
    UNIQUE (tenant_id, resource_key)
);
-- Every public key ever used, and the tenant it belongs to for good: a deleted image's link is never anyone else's.
CREATE TABLE IF NOT EXISTS public_keys (
    public_key TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS images_by_created ON images (tenant_id, sub_type, created_time, id);
CREATE INDEX IF NOT EXISTS images_by_etag ON images (etag);
CREATE INDEX IF NOT EXISTS images_by_preview_etag ON images (preview_etag);

-- A count that moves with every change a static site shows (an image added, changed or removed, by any process):
-- `gallery serve` polls it to keep its site current. Learning `has_alpha` changes nothing a visitor sees.
CREATE TABLE IF NOT EXISTS image_changes (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    count INTEGER NOT NULL
);
INSERT OR IGNORE INTO image_changes (id, count) VALUES (1, 0);
CREATE TRIGGER IF NOT EXISTS image_added AFTER INSERT ON images
BEGIN UPDATE image_changes SET count = count + 1 WHERE id = 1; END;
CREATE TRIGGER IF NOT EXISTS image_changed AFTER UPDATE OF
    tenant_id, resource_key, title, file_name, sub_type, public, public_key, media_type, width, height, size, etag,
    preview_media_type, preview_width, preview_height, preview_size, preview_etag, created_time, updated_time, version
ON images
BEGIN UPDATE image_changes SET count = count + 1 WHERE id = 1; END;
CREATE TRIGGER IF NOT EXISTS image_removed AFTER DELETE ON images
BEGIN UPDATE image_changes SET count = count + 1 WHERE id = 1; END;

-- Which images changed, in order, by any process: a living site reads what changed since its last build rather than
-- the whole catalog (`ImageCatalog.changes_since`). The same changes as the count's; only the newest 10,000 are
-- kept (a reader further behind reads everything again). AUTOINCREMENT: a number is never used twice.
CREATE TABLE IF NOT EXISTS image_change_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    image_id TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS image_added_logged AFTER INSERT ON images
BEGIN INSERT INTO image_change_log (image_id) VALUES (NEW.id); END;
CREATE TRIGGER IF NOT EXISTS image_changed_logged AFTER UPDATE OF
    tenant_id, resource_key, title, file_name, sub_type, public, public_key, media_type, width, height, size, etag,
    preview_media_type, preview_width, preview_height, preview_size, preview_etag, created_time, updated_time, version
ON images
BEGIN INSERT INTO image_change_log (image_id) VALUES (NEW.id); END;
CREATE TRIGGER IF NOT EXISTS image_removed_logged AFTER DELETE ON images
BEGIN INSERT INTO image_change_log (image_id) VALUES (OLD.id); END;
CREATE TRIGGER IF NOT EXISTS image_change_log_bounded AFTER INSERT ON image_change_log
BEGIN DELETE FROM image_change_log WHERE seq <= NEW.seq - 10000; END;

-- The catalog: dashboards.
CREATE TABLE IF NOT EXISTS dashboards (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    title TEXT NOT NULL,
    image TEXT,
    configuration TEXT NOT NULL,
    created_time INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS dashboards_by_tenant ON dashboards (tenant_id, title);

-- The auth store: sessions and failed sign-ins.
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    jti TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_by_expiry ON sessions (expires_at);
CREATE TABLE IF NOT EXISTS login_failures (
    key TEXT PRIMARY KEY,
    count INTEGER NOT NULL,
    last REAL NOT NULL,
    previous REAL
);
CREATE INDEX IF NOT EXISTS login_failures_by_last ON login_failures (last);

-- The upload ledger: open large uploads.
CREATE TABLE IF NOT EXISTS staged_uploads (
    upload TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    finished INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS staged_uploads_by_tenant ON staged_uploads (tenant_id, expires_at);
