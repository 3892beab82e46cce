-- What the local backend derives from its tables, kept by triggers: run on every open after schema.sql and after an
-- older file has gained its new columns (so only IF NOT EXISTS statements); database.py fills what is new from the
-- rows the first time. These keep a list page and a title search costing the same in a tenant of 100,000 images as
-- in one of 1,000.

-- Title order reads the folded title through an index, as creation order reads images_by_created.
CREATE INDEX IF NOT EXISTS images_by_title ON images (tenant_id, sub_type, title_fold, id);

-- The public copies' bytes, looked up when bytes are released.
CREATE INDEX IF NOT EXISTS images_by_public_etag ON images (public_etag);

-- How many images each tenant holds of each sub type: a list's total without counting rows.
CREATE TABLE IF NOT EXISTS image_counts (
    tenant_id TEXT NOT NULL,
    sub_type TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, sub_type)
);
CREATE TRIGGER IF NOT EXISTS image_counted AFTER INSERT ON images
BEGIN
    INSERT INTO image_counts (tenant_id, sub_type, count) VALUES (new.tenant_id, new.sub_type, 1)
    ON CONFLICT (tenant_id, sub_type) DO UPDATE SET count = count + 1;
END;
CREATE TRIGGER IF NOT EXISTS image_uncounted AFTER DELETE ON images
BEGIN
    UPDATE image_counts SET count = count - 1 WHERE tenant_id = old.tenant_id AND sub_type = old.sub_type;
END;
CREATE TRIGGER IF NOT EXISTS image_recounted AFTER UPDATE OF tenant_id, sub_type ON images
BEGIN
    UPDATE image_counts SET count = count - 1 WHERE tenant_id = old.tenant_id AND sub_type = old.sub_type;
    INSERT INTO image_counts (tenant_id, sub_type, count) VALUES (new.tenant_id, new.sub_type, 1)
    ON CONFLICT (tenant_id, sub_type) DO UPDATE SET count = count + 1;
END;

-- Substrings of what search reads (SQLite's trigram tokenizer): a search reads the images that match, not the
-- tenant. It replaced an index of titles alone, dropped here from older files.
DROP TRIGGER IF EXISTS image_titles_added;
DROP TRIGGER IF EXISTS image_titles_removed;
DROP TRIGGER IF EXISTS image_titles_changed;
DROP TABLE IF EXISTS image_titles;
CREATE VIRTUAL TABLE IF NOT EXISTS image_search USING fts5(
    search_fold, content = 'images', content_rowid = 'rowid', tokenize = 'trigram'
);
CREATE TRIGGER IF NOT EXISTS image_search_added AFTER INSERT ON images
BEGIN
    INSERT INTO image_search (rowid, search_fold) VALUES (new.rowid, new.search_fold);
END;
CREATE TRIGGER IF NOT EXISTS image_search_removed AFTER DELETE ON images
BEGIN
    INSERT INTO image_search (image_search, rowid, search_fold) VALUES ('delete', old.rowid, old.search_fold);
END;
CREATE TRIGGER IF NOT EXISTS image_search_changed AFTER UPDATE OF search_fold ON images
BEGIN
    INSERT INTO image_search (image_search, rowid, search_fold) VALUES ('delete', old.rowid, old.search_fold);
    INSERT INTO image_search (rowid, search_fold) VALUES (new.rowid, new.search_fold);
END;

-- One row per tag an image carries, in the orders a list reads (creation, title): a tag filter reads its images
-- through an index as an unfiltered list reads images_by_created, and counts them from image_tag_counts.
CREATE TABLE IF NOT EXISTS image_tags (
    tenant_id TEXT NOT NULL,
    sub_type TEXT NOT NULL,
    tag TEXT NOT NULL,
    created_time INTEGER NOT NULL,
    title_fold TEXT NOT NULL,
    id TEXT NOT NULL,
    PRIMARY KEY (tenant_id, sub_type, tag, created_time, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS image_tags_by_title ON image_tags (tenant_id, sub_type, tag, title_fold, id);
CREATE TRIGGER IF NOT EXISTS image_tags_added AFTER INSERT ON images
BEGIN
    INSERT INTO image_tags (tenant_id, sub_type, tag, created_time, title_fold, id)
    SELECT new.tenant_id, new.sub_type, value, new.created_time, new.title_fold, new.id FROM json_each(new.tags);
END;
CREATE TRIGGER IF NOT EXISTS image_tags_removed AFTER DELETE ON images
BEGIN
    DELETE FROM image_tags WHERE tenant_id = old.tenant_id AND sub_type = old.sub_type
        AND tag IN (SELECT value FROM json_each(old.tags)) AND created_time = old.created_time AND id = old.id;
END;
CREATE TRIGGER IF NOT EXISTS image_tags_changed AFTER UPDATE OF tenant_id, sub_type, tags, created_time, title_fold
ON images
BEGIN
    DELETE FROM image_tags WHERE tenant_id = old.tenant_id AND sub_type = old.sub_type
        AND tag IN (SELECT value FROM json_each(old.tags)) AND created_time = old.created_time AND id = old.id;
    INSERT INTO image_tags (tenant_id, sub_type, tag, created_time, title_fold, id)
    SELECT new.tenant_id, new.sub_type, value, new.created_time, new.title_fold, new.id FROM json_each(new.tags);
END;

-- How many images carry each tag: a tag filter's total, and the tags a list offers to filter by.
CREATE TABLE IF NOT EXISTS image_tag_counts (
    tenant_id TEXT NOT NULL,
    sub_type TEXT NOT NULL,
    tag TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, sub_type, tag)
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS image_tag_counted AFTER INSERT ON image_tags
BEGIN
    INSERT INTO image_tag_counts (tenant_id, sub_type, tag, count) VALUES (new.tenant_id, new.sub_type, new.tag, 1)
    ON CONFLICT (tenant_id, sub_type, tag) DO UPDATE SET count = count + 1;
END;
CREATE TRIGGER IF NOT EXISTS image_tag_uncounted AFTER DELETE ON image_tags
BEGIN
    UPDATE image_tag_counts SET count = count - 1
    WHERE tenant_id = old.tenant_id AND sub_type = old.sub_type AND tag = old.tag;
    DELETE FROM image_tag_counts
    WHERE tenant_id = old.tenant_id AND sub_type = old.sub_type AND tag = old.tag AND count <= 0;
END;

-- A change to what the site shows, like image_changed in schema.sql, for the columns added since (a trigger of its
-- own: an older file keeps the first one as it was made).
CREATE TRIGGER IF NOT EXISTS image_texts_changed AFTER UPDATE OF alt_text, description, tags, public_etag ON images
BEGIN
    UPDATE image_changes SET count = count + 1 WHERE id = 1;
    INSERT INTO image_change_log (image_id) VALUES (NEW.id);
END;
