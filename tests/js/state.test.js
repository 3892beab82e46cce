// The management page's state lives in its URL: every state survives a round trip, and a URL someone typed or
// edited can never produce a state the page cannot show.
import assert from "node:assert/strict";
import { test } from "node:test";

import { DEFAULTS, PAGE_SIZES, parseState, stateQuery } from "../../gallery/site/theme/assets/manage/state.js";

test("no query: the defaults, with the view chosen last", () => {
  assert.deepEqual(parseState("", null), DEFAULTS);
  assert.equal(parseState("", "grid").view, "grid");
  assert.equal(parseState("?view=list", "grid").view, "list"); // the link wins over the memory
});

test("every state comes back from its own query", () => {
  for (const view of ["list", "grid"]) {
    for (const pageSize of PAGE_SIZES) {
      for (const [property, direction] of [["createdTime", "desc"], ["title", "asc"], ["title", "desc"]]) {
        for (const textSearch of ["", "logo", "a&b=c #d", "ünï 图"]) {
          const tags = textSearch === "logo" ? ["pump", "boiler-room"] : [];
          const state = { view, page: 3, pageSize, property, direction, textSearch, system: textSearch === "", tags };
          assert.deepEqual(parseState(`?${stateQuery(state)}`, null), state);
        }
      }
    }
  }
});

test("only what differs from the defaults is written, and the view always", () => {
  assert.equal(stateQuery(DEFAULTS), "view=list");
  assert.equal(stateQuery({ ...DEFAULTS, textSearch: "logo", system: true }), "view=list&textSearch=logo&includeSystemImages=true");
});

test("a tag filter is a list without blanks or repeats", () => {
  assert.deepEqual(parseState("?tags=pump,,red,pump, ", null).tags, ["pump", "red"]);
  assert.equal(stateQuery({ ...DEFAULTS, tags: ["pump", "red"] }), "view=list&tags=pump%2Cred");
});

test("values a page cannot show fall back to the defaults", () => {
  const hostile = parseState("?view=table&page=-1&pageSize=7&property=password&direction=sideways&includeSystemImages=yes", null);
  assert.deepEqual(hostile, DEFAULTS);
  assert.equal(parseState("?page=1.5", null).page, 0);
  assert.equal(parseState("?direction=ASC", null).direction, "asc");
});
