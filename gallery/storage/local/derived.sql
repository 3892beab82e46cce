-- What the local backend derives from its tables, kept by triggers: run on every open after schema.sql and after an
-- older file has gained its new columns (so only IF NOT EXISTS statements); database.py fills what is new from the
-- rows the first time. These keep a list page and a title search costing the same in a tenant of 100,000 images as
-- in one of 1,000.

-- Title order reads the folded title through an index, as creation order reads images_by_created.
CREATE INDEX IF NOT EXISTS images_by_title ON images (tenant_id, sub_type, title_fold, id);

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

-- Substrings of folded titles (SQLite's trigram tokenizer): a search reads the images that match, not the tenant.
CREATE VIRTUAL TABLE IF NOT EXISTS image_titles USING fts5(
    title_fold, content = 'images', content_rowid = 'rowid', tokenize = 'trigram'
);
CREATE TRIGGER IF NOT EXISTS image_titles_added AFTER INSERT ON images
BEGIN
    INSERT INTO image_titles (rowid, title_fold) VALUES (new.rowid, new.title_fold);
END;
CREATE TRIGGER IF NOT EXISTS image_titles_removed AFTER DELETE ON images
BEGIN
    INSERT INTO image_titles (image_titles, rowid, title_fold) VALUES ('delete', old.rowid, old.title_fold);
END;
CREATE TRIGGER IF NOT EXISTS image_titles_changed AFTER UPDATE OF title_fold ON images
BEGIN
    INSERT INTO image_titles (image_titles, rowid, title_fold) VALUES ('delete', old.rowid, old.title_fold);
    INSERT INTO image_titles (rowid, title_fold) VALUES (new.rowid, new.title_fold);
END;
