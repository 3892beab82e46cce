// The page's copy of the link rule and snippet generator (`gallery/domain/embed.py` is the other; a Chromium test compares
// the two on awkward keys). Here: the rule itself, and that no title or key can add an element to a snippet.
import assert from "node:assert/strict";
import { test } from "node:test";

import { altOf, imagePath, pathSegment, snippets } from "../../gallery/site/theme/assets/lib/embed.js";

test("a key is one path segment, as tb-rest-client sends it", () => {
  assert.equal(pathSegment("logo.png?v=2"), "logo.png%3Fv%3D2");
  assert.equal(pathSegment("my img (1).png"), "my%20img%20%281%29.png");
  assert.equal(pathSegment("it's"), "it%27s");
  assert.equal(pathSegment("é"), "%C3%A9");
  assert.equal(pathSegment("plain-name_1.png"), "plain-name_1.png");
  for (const key of ['x"><img src=x>', "a#b", "100%", "~*!'()"]) {
    assert.match(pathSegment(key), /^[A-Za-z0-9\-._~%]+$/);
    assert.equal(decodeURIComponent(pathSegment(key)), key);
  }
});

test("system and tenant images link to their scope", () => {
  const image = (link) => ({ title: "t", resourceKey: "a b", link, public: false, createdTime: 0 });
  assert.equal(imagePath(image("/api/images/system/a%20b")), "/api/images/system/a%20b");
  assert.equal(imagePath(image("/api/images/tenant/a b")), "/api/images/tenant/a%20b"); // re-encoded, whatever `link` said
});

test("hostile titles and keys stay text in every snippet", () => {
  const image = {
    title: '"><script>alert(1)</script>',
    resourceKey: "x\"><img src=x onerror=alert(1)>.png",
    link: "/api/images/tenant/x",
    public: true,
    createdTime: 0,
    descriptor: { mediaType: "image/png", width: 4, height: 3, size: 1, etag: "e" },
  };
  const made = snippets(image, { publicUrl: "https://h/api/images/public/k", apiBase: "", componentUrl: "/assets/gallery-img.js" });
  assert.deepEqual(made.map((s) => s.id), ["html", "markdown", "component", "angular"]);
  for (const { id, code } of made) {
    if (id === "markdown") {
      assert.doesNotMatch(code, /(?<!\\)[<>]/, code); // every angle bracket escaped: never raw HTML
    } else {
      assert.doesNotMatch(code, /<script>alert|<img src=x/, code); // entities or percent-encoding, never markup
      assert.equal((code.match(/</g) ?? []).length, (code.match(/>/g) ?? []).length, code); // tags it opens, it closes
    }
  }
  assert.equal(snippets({ ...image, public: false }, { publicUrl: "", apiBase: "", componentUrl: "c.js" }).length, 2);
});

test("a snippet's alt is the alt text, or the title when there is none, and stays text", () => {
  const image = { title: "Title", resourceKey: "k.png", link: "/api/images/tenant/k.png", public: true, createdTime: 0 };
  assert.equal(altOf(image), "Title"); // no altText: JSON from ThingsBoard, or from before alt text
  assert.equal(altOf({ ...image, altText: "" }), "Title");
  assert.equal(altOf({ ...image, altText: "A red kite" }), "A red kite");
  const hostile = { ...image, altText: '"><script>alert(1)</script> [x]' };
  const [html, markdown] = snippets(hostile, { publicUrl: "https://h/p", apiBase: "", componentUrl: "c.js" });
  assert.equal(html.code, '<img src="https://h/p" alt="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt; [x]">');
  assert.equal(markdown.code, String.raw`!["\>\<script\>alert(1)\</script\> \[x\]](https://h/p)`);
});
