// The size words the pages show are the server's (`gallery.domain.errors.display_size`), so a hint and a refusal agree.
import assert from "node:assert/strict";
import { test } from "node:test";

import { formatSize } from "../../gallery/site/theme/assets/lib/format.js";
import { formatDate, resolution, summary } from "../../gallery/site/theme/assets/manage/format.js";

test("sizes are whole units rounded down, as the server words them", () => {
  const cases = [
    [0, "0 bytes"],
    [1023, "1023 bytes"],
    [1024, "1 KB"],
    [20_000, "19 KB"], // the server's refusal says 19 KB: so must the hint
    [1_048_575, "1023 KB"],
    [1_048_576, "1 MB"],
    [52_428_800, "50 MB"],
    [2 ** 30 * 3 + 5, "3 GB"],
  ];
  for (const [bytes, words] of cases) assert.equal(formatSize(bytes), words, `${bytes} bytes`);
});

test("dates are ThingsBoard's yyyy-MM-dd HH:mm:ss in local time", () => {
  const ms = new Date(2026, 0, 2, 3, 4, 5).getTime();
  assert.equal(formatDate(ms), "2026-01-02 03:04:05");
});

test("an image's resolution and summary never read as blanks", () => {
  const image = { title: "x", resourceKey: "x", link: "/api/images/tenant/x", public: false, createdTime: 0 };
  assert.equal(resolution(image), "0×0");
  assert.equal(summary({ ...image, descriptor: { mediaType: "image/png", width: 40, height: 30, size: 2048, etag: "" } }), "40×30 | 2 KB");
});
