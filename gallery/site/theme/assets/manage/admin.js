// @ts-check
// The system administrator's screens: tenants (with their images and bytes against their limits), tenant profiles
// (ThingsBoard's two file limits), and users (create, enable or disable, reset a password, delete). Each is a table
// drawn from the API, with dialogs for what changes; errors in plain words, nothing done without a confirmation.

import { append, h, iconButton } from "./dom.js";
import { confirm, modal } from "./dialogs.js";
import { formatSize, plainError } from "./format.js";

/** @typedef {{api: import("./api.js").Api, notify: (message: string, kind?: "info" | "error") => void, me: () => string}} AdminUi */

const UNITS = [["bytes", 1], ["KB", 1024], ["MB", 1024 ** 2], ["GB", 1024 ** 3]];
const ROLES = { SYS_ADMIN: "System administrator", TENANT_ADMIN: "Tenant administrator", CUSTOMER_USER: "Customer user" };

/** A limit in words, with the exact bytes for the record. @param {number} bytes */
export const limitText = (bytes) => (bytes > 0 ? formatSize(bytes) : "No limit");

/** @param {AdminUi} ui @param {string} section "tenants" | "profiles" | "users" @param {HTMLElement} into */
export async function showSection(ui, section, into) {
  into.setAttribute("aria-busy", "true");
  try {
    if (section === "tenants") await tenants(ui, into);
    else if (section === "profiles") await profiles(ui, into);
    else await users(ui, into);
  } catch (error) {
    into.replaceChildren(h("p", { class: "m-error", role: "alert" }, plainError(error)));
  }
  into.removeAttribute("aria-busy");
}

/** @param {string} title @param {string} action @param {() => void} onAction @param {Node} table */
const frame = (title, action, onAction, table) => [
  h("div", { class: "m-admin-head" }, h("h2", {}, title), h("button", { type: "button", class: "primary", onclick: onAction }, action)),
  table,
];

/** @param {string[]} headings @param {Node[][]} rows @param {string} empty */
function adminTable(headings, rows, empty) {
  if (!rows.length) return h("p", { class: "m-note" }, empty);
  return h("div", { class: "m-table-wrap" }, h("table", { class: "m-table m-admin-table" },
    h("thead", {}, h("tr", {}, headings.map((name) => h("th", { scope: "col" }, name)))),
    h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((cell, i) => (i === 0 ? h("th", { scope: "row" }, cell) : h("td", {}, cell))))))));
}

/** A byte limit as a number and a unit, read back exactly. @param {string} label @param {number} bytes */
function limitField(label, bytes) {
  const id = `limit-${Math.random().toString(36).slice(2)}`;
  const [unit, factor] = [...UNITS].reverse().find(([, f]) => bytes > 0 && bytes % Number(f) === 0) ?? UNITS[2];
  const amount = h("input", { id, type: "number", min: 0, step: "any", value: bytes ? String(bytes / Number(factor)) : "0", inputmode: "decimal", "aria-describedby": `${id}-exact` });
  const units = h("select", { "aria-label": `${label}: unit` }, UNITS.map(([name]) => h("option", { value: name, selected: name === unit }, name)));
  const exact = h("p", { class: "m-hint", id: `${id}-exact`, "aria-live": "polite" });
  const read = () => {
    const factorOf = Number(UNITS.find(([name]) => name === units.value)?.[1] ?? 1);
    return Math.round(Number(amount.value || 0) * factorOf);
  };
  const say = () => { const value = read(); exact.textContent = value > 0 ? `${value.toLocaleString("en")} bytes` : "0: no limit"; };
  amount.addEventListener("input", say);
  units.addEventListener("change", say);
  say();
  const field = h("div", { class: "m-field" }, h("label", { for: id }, label), h("div", { class: "m-inline" }, amount, units), exact);
  return { field, read, amount };
}

/** @param {AdminUi} ui @param {HTMLElement} into */
async function tenants(ui, into) {
  const [list, profileList] = await Promise.all([ui.api.everyOne("tenants"), ui.api.everyOne("tenantProfiles")]);
  const byId = new Map(profileList.map((p) => [p.id.id, p]));
  const rows = list.map((tenant) => {
    const profile = byId.get(tenant.tenantProfileId?.id);
    const total = profile?.profileData?.configuration?.maxResourcesInBytes ?? 0;
    const used = `${formatSize(tenant.resourcesInBytes ?? 0)} of ${total > 0 ? formatSize(total) : "no limit"}`;
    return [
      tenant.title,
      profile?.name ?? "—",
      String(tenant.imageCount ?? 0),
      used,
      iconButton("delete", `Delete tenant: ${tenant.title}`, async () => {
        const yes = await confirm("Delete tenant", `Delete “${tenant.title}”, its ${tenant.imageCount ?? 0} image(s), its users and its dashboards? This cannot be undone.`, { action: "Delete tenant" });
        if (!yes) return;
        try { await ui.api.deleteTenant(tenant.id.id); ui.notify(`Deleted tenant “${tenant.title}”`); } catch (error) { ui.notify(plainError(error), "error"); }
        showSection(ui, "tenants", into);
      }),
    ];
  });
  into.replaceChildren(...frame("Tenants", "Create tenant", () => tenantDialog(ui, profileList, () => showSection(ui, "tenants", into)),
    adminTable(["Name", "Profile", "Images", "Used", "Actions"], rows, "No tenants yet.")));
}

/**
 * A dialog around a form: Cancel, and a submit button that runs `save`; what it resolves to is announced and the
 * dialog closes, what it throws is shown in plain words and the dialog stays.
 * @param {AdminUi} ui @param {string} title @param {string} submitLabel @param {Node[]} fields
 * @param {() => Promise<string>} save @param {() => void} [done]
 */
function formDialog(ui, title, submitLabel, fields, save, done = () => {}) {
  const dialog = modal(title);
  const id = `admin-form-${++forms}`;
  const error = h("p", { class: "m-error", role: "alert" });
  const form = h("form", { class: "m-form", id }, ...fields, error);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    try {
      const message = await save();
      dialog.close();
      ui.notify(message);
      done();
    } catch (failure) {
      error.textContent = plainError(failure);
    }
  });
  append(dialog.body, form);
  append(dialog.footer, h("button", { type: "button", onclick: () => dialog.close() }, "Cancel"),
    h("button", { type: "submit", class: "primary", form: id }, submitLabel));
  dialog.show();
  const first = form.querySelector("input, select");
  if (first instanceof HTMLElement) first.focus();
}
let forms = 0;

/** @param {string} label @param {HTMLElement} control */
const field = (label, control) => h("div", { class: "m-field" }, h("label", { for: control.id }, label), control);

/** @param {AdminUi} ui @param {any[]} profileList @param {() => void} done */
function tenantDialog(ui, profileList, done) {
  const name = h("input", { id: "tenant-name", type: "text", required: true, autocomplete: "off" });
  const profile = h("select", { id: "tenant-profile" }, profileList.map((p) => h("option", { value: p.id.id, selected: p.default }, `${p.name} (largest image ${limitText(p.profileData?.configuration?.maxResourceSize ?? 0)}, total ${limitText(p.profileData?.configuration?.maxResourcesInBytes ?? 0)})`)));
  formDialog(ui, "Create tenant", "Create", [field("Name", name), field("Tenant profile", profile)], async () => {
    const made = await ui.api.saveTenant({ title: name.value.trim(), tenantProfileId: { entityType: "TENANT_PROFILE", id: profile.value } });
    return `Created tenant “${made.title}”`;
  }, done);
}

/** @param {AdminUi} ui @param {HTMLElement} into */
async function profiles(ui, into) {
  const list = await ui.api.everyOne("tenantProfiles");
  const refresh = () => showSection(ui, "profiles", into);
  const rows = list.map((profile) => {
    const limits = profile.profileData?.configuration ?? {};
    return [
      profile.name,
      h("span", { title: `${limits.maxResourceSize ?? 0} bytes` }, limitText(limits.maxResourceSize ?? 0)),
      h("span", { title: `${limits.maxResourcesInBytes ?? 0} bytes` }, limitText(limits.maxResourcesInBytes ?? 0)),
      profile.default ? "Default" : "",
      h("span", { class: "m-row-actions" },
        iconButton("edit", `Edit profile: ${profile.name}`, () => profileDialog(ui, profile, refresh)),
        !profile.default && iconButton("delete", `Delete profile: ${profile.name}`, async () => {
          if (!(await confirm("Delete tenant profile", `Delete the profile “${profile.name}”?`, { action: "Delete profile" }))) return;
          try { await ui.api.deleteProfile(profile.id.id); ui.notify(`Deleted profile “${profile.name}”`); } catch (error) { ui.notify(plainError(error), "error"); }
          refresh();
        })),
    ];
  });
  into.replaceChildren(...frame("Tenant profiles", "Create profile", () => profileDialog(ui, null, refresh),
    adminTable(["Name", "Largest image", "All images", "Default", "Actions"], rows, "No profiles yet.")));
}

/** @param {AdminUi} ui @param {any} profile null for a new one @param {() => void} done */
function profileDialog(ui, profile, done) {
  const limits = profile?.profileData?.configuration ?? {};
  const name = h("input", { id: "profile-name", type: "text", required: true, value: profile?.name ?? "", autocomplete: "off" });
  const size = limitField("Largest image", limits.maxResourceSize ?? 0);
  const total = limitField("All images together", limits.maxResourcesInBytes ?? 0);
  const isDefault = h("input", { id: "profile-default", type: "checkbox", checked: Boolean(profile?.default) });
  const fields = [field("Name", name), size.field, total.field, h("label", { class: "m-check" }, isDefault, " Default for new tenants")];
  formDialog(ui, profile ? "Edit tenant profile" : "Create tenant profile", "Save", fields, async () => {
    const saved = await ui.api.saveProfile({
      ...(profile ? { id: profile.id } : {}),
      name: name.value.trim(),
      default: isDefault.checked,
      profileData: { configuration: { type: "DEFAULT", maxResourceSize: size.read(), maxResourcesInBytes: total.read() } },
    });
    return `Saved profile “${saved.name}”`;
  }, done);
}

/** @param {AdminUi} ui @param {HTMLElement} into */
async function users(ui, into) {
  const [list, tenantList] = await Promise.all([ui.api.everyOne("users"), ui.api.everyOne("tenants")]);
  const tenantNames = new Map(tenantList.map((t) => [t.id.id, t.title]));
  const refresh = () => showSection(ui, "users", into);
  const rows = list.map((user) => {
    const enabled = user.additionalInfo?.userCredentialsEnabled !== false;
    const me = user.email === ui.me();
    return [
      user.email,
      ROLES[/** @type {keyof typeof ROLES} */ (user.authority)] ?? user.authority,
      user.authority === "SYS_ADMIN" ? "—" : (tenantNames.get(user.tenantId?.id) ?? "—"),
      enabled ? "Enabled" : "Disabled",
      h("span", { class: "m-row-actions" },
        !me && h("button", { type: "button", onclick: async () => {
          try { await ui.api.setEnabled(user.id.id, !enabled); ui.notify(`${enabled ? "Disabled" : "Enabled"} ${user.email}`); } catch (error) { ui.notify(plainError(error), "error"); }
          refresh();
        } }, enabled ? `Disable` : `Enable`),
        h("button", { type: "button", onclick: () => passwordDialog(ui, user) }, "Reset password"),
        !me && iconButton("delete", `Delete user: ${user.email}`, async () => {
          if (!(await confirm("Delete user", `Delete ${user.email}? Their sessions end at once.`, { action: "Delete user" }))) return;
          try { await ui.api.deleteUser(user.id.id); ui.notify(`Deleted ${user.email}`); } catch (error) { ui.notify(plainError(error), "error"); }
          refresh();
        })),
    ];
  });
  into.replaceChildren(...frame("Users", "Create user", () => userDialog(ui, tenantList, refresh),
    adminTable(["E-mail", "Role", "Tenant", "Status", "Actions"], rows, "No users yet.")));
}

/** @param {AdminUi} ui @param {any[]} tenantList @param {() => void} done */
function userDialog(ui, tenantList, done) {
  const email = h("input", { id: "user-email", type: "email", required: true, autocomplete: "off" });
  const password = h("input", { id: "user-password", type: "password", required: true, autocomplete: "new-password" });
  const role = h("select", { id: "user-role" }, Object.entries(ROLES).map(([value, label]) => h("option", { value, selected: value === "TENANT_ADMIN" }, label)));
  const tenant = h("select", { id: "user-tenant" }, tenantList.map((t) => h("option", { value: t.id.id }, t.title)));
  const tenantField = field("Tenant", tenant);
  role.addEventListener("change", () => { tenantField.hidden = role.value === "SYS_ADMIN"; });
  const fields = [field("E-mail", email), field("Password", password), field("Role", role), tenantField];
  formDialog(ui, "Create user", "Create", fields, async () => {
    const made = await ui.api.createUser({
      email: email.value.trim(), password: password.value, authority: role.value,
      ...(role.value === "SYS_ADMIN" ? {} : { tenantId: { entityType: "TENANT", id: tenant.value } }),
    });
    return `Created ${made.email}`;
  }, done);
}

/** @param {AdminUi} ui @param {any} user */
function passwordDialog(ui, user) {
  const password = h("input", { id: "reset-password", type: "password", required: true, autocomplete: "new-password" });
  const fields = [h("p", {}, `A new password for ${user.email}. Their sessions end; they sign in with it.`), field("New password", password)];
  formDialog(ui, "Reset password", "Set password", fields, async () => {
    await ui.api.setPassword(user.id.id, password.value);
    return `Set a new password for ${user.email}`;
  });
}
