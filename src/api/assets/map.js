// vigil's four-colour map: enterprises as points in their risk colour (with a letter, never
// colour alone), counties as areas coloured by their control index, live over server-sent
// events, with a warnings feed, filters and a drill-down panel. No external assets.
"use strict";

const COLORS = ["red", "orange", "yellow", "blue"];
const LETTER = { red: "R", orange: "O", yellow: "Y", blue: "B" };
const SVG = "http://www.w3.org/2000/svg";
const state = { enterprises: new Map(), regions: [], warnings: [], bounds: null };

const $ = (id) => document.getElementById(id);
const text = (s) => document.createTextNode(s == null ? "" : String(s));
function el(tag, attrs, ...children) {
  const node = tag.startsWith("svg:") ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  for (const c of children) node.append(typeof c === "object" && c !== null ? c : text(c));
  return node;
}
const badge = (color) => el("span", { class: `badge ${color}` }, `${color.toUpperCase()}`);
// A read token (api.read_token) comes in the page's fragment, #token=..., which browsers never
// send to the server; requests carry it as a header, event streams (no headers) as a parameter.
const TOKEN = new URLSearchParams(location.hash.slice(1)).get("token");
const withToken = (url) => (TOKEN ? `${url}${url.includes("?") ? "&" : "?"}access_token=${encodeURIComponent(TOKEN)}` : url);
const getJson = (url) => fetch(url, TOKEN ? { headers: { Authorization: `Bearer ${TOKEN}` } } : {}).then((r) => { if (!r.ok) throw new Error(`${url}: ${r.status}`); return r.json(); });

// Equirectangular projection onto the 1000 x 700 view box, fitted to every shape and point.
function fitBounds() {
  let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
  const take = (lon, lat) => { x0 = Math.min(x0, lon); x1 = Math.max(x1, lon); y0 = Math.min(y0, lat); y1 = Math.max(y1, lat); };
  for (const r of state.regions) for (const [lon, lat] of r.polygon) take(lon, lat);
  for (const e of state.enterprises.values()) if (e.lon != null) take(e.lon, e.lat);
  if (!isFinite(x0)) { x0 = 0; x1 = 1; y0 = 0; y1 = 1; }
  const pad = 0.05 * Math.max(x1 - x0, y1 - y0, 0.01);
  state.bounds = { x0: x0 - pad, x1: x1 + pad, y0: y0 - pad, y1: y1 + pad };
}
function project(lon, lat) {
  const b = state.bounds;
  const scale = Math.min(1000 / (b.x1 - b.x0), 700 / (b.y1 - b.y0));
  return [(lon - b.x0) * scale, 700 - (lat - b.y0) * scale];
}

function renderRegions() {
  const g = $("regions");
  g.replaceChildren();
  for (const r of state.regions) {
    const points = r.polygon.map(([lon, lat]) => project(lon, lat).join(",")).join(" ");
    const shape = el("svg:polygon", { class: `region ${r.color}`, points, "data-region": r.region_id, "data-color": r.color });
    shape.append(el("svg:title", {}, `${r.region_id}: CPI ${r.cpi} (${r.color})`));
    shape.addEventListener("click", () => showRegion(r.region_id));
    const [lx, ly] = project(r.label_at[0], r.label_at[1]);
    g.append(shape, el("svg:text", { class: "region-label", x: lx, y: ly }, `${r.region_id} · CPI ${r.cpi} (${r.color})`));
  }
}

function renderEnterprise(e) {
  let node = document.querySelector(`.enterprise[data-id="${e.enterprise_id}"]`);
  if (!node) {
    node = el("svg:g", { "data-id": e.enterprise_id });
    node.append(el("svg:circle", { r: 7 }), el("svg:text", {}), el("svg:title", {}));
    node.addEventListener("click", () => showEnterprise(e.enterprise_id));
    $("enterprises").append(node);
  }
  const [x, y] = project(e.lon ?? 0, e.lat ?? 0);
  node.setAttribute("class", `enterprise ${e.color}`);
  node.setAttribute("data-color", e.color);
  node.setAttribute("data-region", e.region_id);
  node.setAttribute("data-park", e.park_id || "");
  node.setAttribute("transform", `translate(${x.toFixed(1)},${y.toFixed(1)})`);
  node.querySelector("text").textContent = LETTER[e.color];
  node.querySelector("title").textContent = `${e.name} (${e.enterprise_id}): ${e.color}, ERI ${e.eri}`;
}

function applyFilters() {
  const colors = new Set([...document.querySelectorAll('input[name="color"]:checked')].map((i) => i.value));
  const region = $("filter-region").value, park = $("filter-park").value;
  for (const node of document.querySelectorAll(".enterprise")) {
    const shown = colors.has(node.dataset.color) && (!region || node.dataset.region === region) && (!park || node.dataset.park === park);
    node.classList.toggle("hidden", !shown);
  }
  for (const c of COLORS) $(`count-${c}`).textContent = document.querySelectorAll(`.enterprise.${c}:not(.hidden)`).length;
}

function fillSelect(select, values) {
  const current = select.value;
  select.replaceChildren(el("option", { value: "" }, "all"), ...[...values].sort().map((v) => el("option", { value: v }, v)));
  select.value = current;
}

function renderAll() {
  fitBounds();
  renderRegions();
  $("enterprises").replaceChildren();
  for (const e of state.enterprises.values()) renderEnterprise(e);
  fillSelect($("filter-region"), new Set([...state.enterprises.values()].map((e) => e.region_id)));
  fillSelect($("filter-park"), new Set([...state.enterprises.values()].map((e) => e.park_id).filter(Boolean)));
  applyFilters();
}

function feedItem(w) {
  const evidence = Object.entries(w.evidence || {}).slice(0, 4).map(([k, v]) => `${k}=${v}`).join(", ");
  const li = el("li", { "data-warning": w.id, "data-color": w.color }, badge(w.color), " ", `${w.state} ${w.rule_id} · ${w.enterprise_id} · ${w.message}`);
  li.append(el("div", { class: "evidence" }, evidence));
  li.addEventListener("click", () => showEnterprise(w.enterprise_id));
  return li;
}
function renderFeed() {
  $("feed").replaceChildren(...state.warnings.slice(0, 100).map(feedItem));
  $("feed-count").textContent = `(${state.warnings.length})`;
}

function row(label, value, cls) { return el("tr", {}, el("th", {}, label), el("td", { class: cls || "num" }, value)); }

async function showEnterprise(id) {
  const d = await getJson(`/api/risk/${encodeURIComponent(id)}`);
  const r = d.risk, t = r.terms;
  const panel = $("detail");
  panel.replaceChildren(
    el("h2", { id: "detail-title", "data-enterprise": r.enterprise_id }, `${r.name} (${r.enterprise_id})`),
    el("p", {}, badge(r.color), ` ERI ${r.eri} · band ${r.band}`, r.floor ? ` · floor ${r.floor.color} (${r.floor.reason})` : "", ` · since ${r.color_since}`),
    el("table", { id: "detail-terms" },
      row("I inherent (0–40)", t.inherent), row("D dynamic (0–45)", t.dynamic),
      row("· alarms", t.alarms), row("· data quality", t.data_quality), row("· special work", t.special_work),
      row("· operations", t.operations), row("· people", t.people),
      row("M management (0–15)", t.management), row("E context ×", t.context),
      row("ERI = min(100, I + E·(D + M))", r.eri)),
    el("h2", {}, `Active warnings (${d.warnings.length})`),
    el("ol", { id: "detail-warnings" }, ...d.warnings.map(feedItem)),
    el("h2", {}, `Permits in progress (${d.permits.length})`),
    el("ul", { id: "detail-permits" }, ...d.permits.map((p) =>
      el("li", {}, `${p.permit_id} · ${p.type}${p.hot_grade ? " " + p.hot_grade : ""} · ${p.phase}${p.planned_end ? " · until " + p.planned_end : ""}`))),
  );
}

async function showRegion(id) {
  const { counties } = await getJson("/api/regions");
  const r = counties.find((c) => c.region_id === id);
  if (!r) return;
  const c = r.components, q = r.quotas;
  const quota = (name, x) => el("tr", {}, el("th", {}, name), el("td", { class: "num" }, `${x.done} / ${x.required}`), el("td", {}, x.done >= x.required ? "met" : `short ${x.required - x.done}`));
  $("detail").replaceChildren(
    el("h2", { id: "detail-title", "data-region": r.region_id }, `County ${r.region_id} (city ${r.city_id})`),
    el("p", {}, badge(r.color), ` CPI ${r.cpi} · ${r.enterprises} enterprises`),
    el("table", { id: "detail-cpi" },
      row("warning timeliness (25)", c.timeliness), row("escalation containment (10)", c.containment),
      row("data quality (15)", c.data_quality), row("quota fulfilment (20)", c.quota),
      row("rectification closure (15)", c.rectification), row("outcome (15)", c.outcome)),
    el("h2", {}, "Quota ledger"),
    el("table", { id: "detail-quotas" }, quota("self-inspection ≥ 50 %", q.self_check), quota("SPECIAL/L1 hot work ≥ 25 %", q.hot_work), quota("RED on site 100 %", q.red_onsite)),
  );
}

function connect() {
  const risk = new EventSource(withToken("/api/risk/stream"));
  risk.onopen = () => { $("live").textContent = "live"; };
  risk.onerror = () => { $("live").textContent = "reconnecting…"; };
  risk.addEventListener("enterprise", (ev) => {
    const e = JSON.parse(ev.data);
    const fresh = !state.enterprises.has(e.enterprise_id);
    state.enterprises.set(e.enterprise_id, e);
    if (fresh) renderAll(); else { renderEnterprise(e); applyFilters(); }
  });
  // Outlines move with the enterprises: take the map again when the indices are recomputed.
  risk.addEventListener("regions", async () => { state.regions = (await getJson("/api/map")).regions; renderAll(); });
  const warnings = new EventSource(withToken("/api/warnings/stream"));
  warnings.addEventListener("warning", (ev) => {
    const w = JSON.parse(ev.data);
    state.warnings = [w, ...state.warnings.filter((x) => x.id !== w.id)].filter((x) => x.state !== "resolved");
    renderFeed();
  });
}

async function openFromHash() {
  const m = location.hash.match(/^#(enterprise|region)=(.+)$/);
  if (!m) return;
  if (m[1] === "enterprise") await showEnterprise(decodeURIComponent(m[2])); else await showRegion(decodeURIComponent(m[2]));
}

async function main() {
  const [risk, map, warnings] = await Promise.all([getJson("/api/risk"), getJson("/api/map"), getJson("/api/warnings?state=open&limit=100")]);
  for (const e of risk) state.enterprises.set(e.enterprise_id, e);
  state.regions = map.regions;
  state.warnings = warnings;
  renderAll();
  renderFeed();
  document.querySelectorAll("#filters input, #filters select").forEach((i) => i.addEventListener("change", applyFilters));
  window.addEventListener("hashchange", openFromHash);
  await openFromHash();
  document.body.dataset.ready = "true";
  connect();
}
main().catch((e) => { document.body.dataset.error = String(e); $("live").textContent = `error: ${e.message}`; });
