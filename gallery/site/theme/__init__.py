"""The gallery's own light MkDocs theme (entry point `mkdocs.themes`: `gallery`): no site-wide navigation, so a page
stays small however many images the site holds."""
