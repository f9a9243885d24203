// vigil's four-colour map: enterprises as markers in their risk colour (with a letter, never
// colour alone), clustered (a cluster takes its worst member's colour and counts its members
// by colour), counties as a choropleth of their control index, live over server-sent events,
// with an open-warnings feed, filters, a drill-down panel and deep links (#enterprise=ID,
// #region=ID). Leaflet, Leaflet.markercluster and d3-delaunay are served by vigil itself.
"use strict";

const COLORS = ["red", "orange", "yellow", "blue"]; // worst first
const LETTER = { red: "R", orange: "O", yellow: "Y", blue: "B" };

const WORDS = {
  en: {},
  zh: {
    tagline: "一张图 · 一个码 · 一个指数", red: "红", orange: "橙", yellow: "黄", blue: "蓝", colour: "颜色",
    county: "区县", park: "园区", warnings: "未关闭预警", select: "点击企业或区县查看详情。", all: "全部",
    legend: "点：企业风险码（字母 R/O/Y/B 与颜色）；聚合点取其中最高风险的颜色，并按颜色计数。区域：区县管控指数 CPI（蓝 ≥ 85 管控良好，黄 70–84，橙 55–69，红 < 55）。点击点、聚合点或区域。",
    "Active warnings": "活动预警", "Permits in progress": "进行中的作业票", "Quota ledger": "任务台账", County: "区县", city: "市",
    enterprises: "家企业", live: "实时", "reconnecting…": "重连中…", since: "起",
    Enterprises: "企业", Enterprise: "企业", Warnings: "预警", "Today's inspection plan": "今日检查计划",
    capacity: "检查能力", teams: "组数", Plan: "生成", shown: "显示", "ERI, last 24 h": "近24小时风险指数",
  },
};
const LANG = (navigator.language || "en").toLowerCase().startsWith("zh") ? "zh" : "en";
const t = (key) => WORDS[LANG][key] || key;

const state = { enterprises: new Map(), regions: [], outlines: "positions", warnings: [], markers: new Map() };
let map, cluster, areas, borders;

const $ = (id) => document.getElementById(id);
const text = (s) => document.createTextNode(s == null ? "" : String(s));
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  for (const c of children) node.append(typeof c === "object" && c !== null ? c : text(c));
  return node;
}
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const badge = (color) => el("span", { class: `badge ${color}` }, t(color).toUpperCase());
// A read token (api.read_token) comes in the page's fragment, #token=..., which browsers never
// send to the server; requests carry it as a header, event streams (no headers) as a parameter.
const TOKEN = new URLSearchParams(location.hash.slice(1)).get("token");
const withToken = (url) => (TOKEN ? `${url}${url.includes("?") ? "&" : "?"}access_token=${encodeURIComponent(TOKEN)}` : url);
const getJson = (url) => fetch(url, TOKEN ? { headers: { Authorization: `Bearer ${TOKEN}` } } : {}).then((r) => { if (!r.ok) throw new Error(`${url}: ${r.status}`); return r.json(); });
const located = (e) => e.lat != null && e.lon != null;

// --- markers and clusters ---------------------------------------------------------------

function icon(e) {
  return L.divIcon({
    className: `enterprise ${e.color}`,
    html: `<span data-id="${esc(e.enterprise_id)}" data-color="${e.color}">${LETTER[e.color]}</span>`,
    iconSize: [18, 18],
  });
}

function clusterIcon(group) {
  const counts = { red: 0, orange: 0, yellow: 0, blue: 0 };
  for (const m of group.getAllChildMarkers()) counts[m.options.color] += 1;
  const worst = COLORS.find((c) => counts[c] > 0) || "blue";
  const by = COLORS.filter((c) => counts[c]).map((c) => `<i class="${c}">${counts[c]}</i>`).join("");
  const size = 36 + Math.min(24, 4 * Math.log2(group.getChildCount()));
  return L.divIcon({
    className: `cluster ${worst}`,
    html: `<b data-worst="${worst}">${group.getChildCount()}</b><span class="by">${by}</span>`,
    iconSize: [size, size],
  });
}

// The filters as last set (read from the form when it changes, not per enterprise).
const filters = { colors: new Set(COLORS), region: "", park: "" };
function readFilters() {
  filters.colors = new Set([...document.querySelectorAll('input[name="color"]:checked')].map((i) => i.value));
  filters.region = $("filter-region").value;
  filters.park = $("filter-park").value;
}
function shown(e) {
  return filters.colors.has(e.color) && (!filters.region || e.region_id === filters.region) && (!filters.park || e.park_id === filters.park);
}

function markerOf(e) {
  let marker = state.markers.get(e.enterprise_id);
  if (!marker) {
    marker = L.marker([e.lat, e.lon], { icon: icon(e), color: e.color, title: "" });
    marker.on("click", () => openEnterprise(e.enterprise_id));
    state.markers.set(e.enterprise_id, marker);
  }
  return marker;
}

// Which markers the cluster holds follows the filters; a marker's colour follows its record.
function syncMarkers() {
  const add = [], remove = [];
  for (const e of state.enterprises.values()) {
    if (!located(e)) continue;
    const marker = markerOf(e);
    const inside = cluster.hasLayer(marker);
    if (shown(e) && !inside) add.push(marker);
    if (!shown(e) && inside) remove.push(marker);
  }
  if (remove.length) cluster.removeLayers(remove);
  if (add.length) cluster.addLayers(add);
  renderCounts();
}

function updateEnterprise(e) {
  const marker = state.markers.get(e.enterprise_id);
  if (marker && located(e)) {
    const moved = !marker.getLatLng().equals([e.lat, e.lon]);
    const recoloured = marker.options.color !== e.color;
    marker.options.color = e.color;
    if (recoloured) marker.setIcon(icon(e));
    if (moved) marker.setLatLng([e.lat, e.lon]);
    if ((recoloured || moved) && cluster.hasLayer(marker)) cluster.refreshClusters(marker);
  }
  // Only this enterprise's marker joins or leaves: a refresh streams thousands of records.
  if (located(e)) {
    const marker = markerOf(e), inside = cluster.hasLayer(marker);
    if (shown(e) && !inside) cluster.addLayer(marker);
    if (!shown(e) && inside) cluster.removeLayer(marker);
  }
  later("counts", renderCounts);
  later("table", renderTable);
}

// Records stream in by the thousand: what depends on all of them is drawn again at most
// every quarter second.
const pending = new Set();
function later(what, draw) {
  if (pending.has(what)) return;
  pending.add(what);
  setTimeout(() => { pending.delete(what); draw(); }, 250);
}

function renderCounts() {
  const counts = { red: 0, orange: 0, yellow: 0, blue: 0 };
  for (const e of state.enterprises.values()) if (shown(e)) counts[e.color] += 1;
  for (const c of COLORS) $(`count-${c}`).textContent = counts[c];
}

// --- counties ------------------------------------------------------------------------------

// Without boundaries, a county is the union of its enterprises' Voronoi cells (the part of the
// plane nearer them than any other enterprise), so neighbours meet and never overlap; the
// borders are the cell edges between enterprises of different counties. Longitudes are scaled
// by cos(latitude), so a cell is near-isotropic on the ground.
function positionOutlines(regions) {
  const sites = [...state.enterprises.values()].filter(located);
  if (sites.length === 0) return { cells: new Map(), borders: [] };
  const k = Math.cos((sites.reduce((s, e) => s + e.lat, 0) / sites.length) * Math.PI / 180);
  const xy = sites.map((e) => [e.lon * k, e.lat]);
  let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const [x, y] of xy) { x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y); }
  const pad = 0.1 * Math.max(x1 - x0, y1 - y0, 0.05);
  const voronoi = d3.Delaunay.from(xy).voronoi([x0 - pad, y0 - pad, x1 + pad, y1 + pad]);
  const toLatLng = ([x, y]) => [y, x / k];
  const cells = new Map();
  sites.forEach((e, i) => {
    const cell = voronoi.cellPolygon(i);
    if (!cell || !regions.has(e.region_id)) return;
    if (!cells.has(e.region_id)) cells.set(e.region_id, []);
    cells.get(e.region_id).push([cell.map(toLatLng)]);
  });
  const segments = [];
  const key = ([x, y]) => `${x.toFixed(9)},${y.toFixed(9)}`;
  sites.forEach((e, i) => {
    const cell = voronoi.cellPolygon(i);
    if (!cell) return;
    for (const j of voronoi.neighbors(i)) {
      if (j < i || sites[j].region_id === e.region_id) continue;
      const other = new Set((voronoi.cellPolygon(j) || []).map(key));
      const shared = cell.slice(0, -1).filter((p) => other.has(key(p)));
      if (shared.length >= 2) segments.push(shared.slice(0, 2).map(toLatLng));
    }
  });
  return { cells, borders: segments };
}

function renderRegions() {
  areas.clearLayers();
  borders.clearLayers();
  const regions = new Map(state.regions.map((r) => [r.region_id, r]));
  const derived = state.outlines === "boundaries" ? null : positionOutlines(regions);
  for (const r of state.regions) {
    const style = { className: `region ${r.color}`, stroke: state.outlines === "boundaries", weight: 1.2, color: "#4a5058", fillOpacity: 0.22 };
    let layer;
    if (r.boundary) layer = L.geoJSON(r.boundary, { style: () => style });
    else if (derived && derived.cells.has(r.region_id)) layer = L.polygon(derived.cells.get(r.region_id), style);
    else continue;
    layer.on("click", () => openRegion(r.region_id));
    // Below the county's centre, where its enterprises' cluster usually sits.
    layer.bindTooltip(`${r.region_id} · CPI ${r.cpi}`, { permanent: true, direction: "bottom", offset: [0, 22], className: "region-label" });
    layer.addTo(areas);
    layer.eachLayer ? layer.eachLayer((l) => tag(l, r)) : tag(layer, r);
  }
  if (derived && derived.borders.length) L.polyline(derived.borders, { className: "border", interactive: false }).addTo(borders);
  declutterLabels();
}

function tag(layer, r) {
  const node = layer.getElement && layer.getElement();
  if (node) { node.dataset.region = r.region_id; node.dataset.color = r.color; }
}

// County labels that would overlap a larger county's are hidden until zoomed in.
function declutterLabels() {
  const placed = [];
  const labels = [...document.querySelectorAll(".region-label")];
  labels.forEach((l) => l.classList.remove("crowded"));
  const rects = labels.map((l) => [l, l.getBoundingClientRect()]);
  for (const [label, r] of rects) {
    const hit = placed.some((p) => r.left < p.right && r.right > p.left && r.top < p.bottom && r.bottom > p.top);
    if (hit) label.classList.add("crowded"); else placed.push(r);
  }
}

// --- panels -------------------------------------------------------------------------------

function fillSelect(select, values, all) {
  const current = select.value;
  select.replaceChildren(el("option", { value: "" }, t(all || "all")), ...[...values].sort().map((v) => el("option", { value: v }, v)));
  select.value = current;
}

function feedItem(w) {
  const evidence = Object.entries(w.evidence || {}).slice(0, 4).map(([k, v]) => `${k}=${v}`).join(", ");
  const li = el("li", { "data-warning": w.id, "data-color": w.color }, badge(w.color), " ", `${w.state} ${w.rule_id} · ${w.enterprise_id} · ${w.message}`);
  li.append(el("div", { class: "evidence" }, evidence));
  li.addEventListener("click", () => openEnterprise(w.enterprise_id));
  return li;
}
// The open warnings, filtered by colour, rule and county.
function renderFeed() {
  const color = $("feed-color").value, rule = $("feed-rule").value, region = $("feed-region").value;
  const kept = state.warnings.filter((w) => (!color || w.color === color) && (!rule || w.rule_id === rule) && (!region || w.region_id === region));
  $("feed").replaceChildren(...kept.slice(0, 100).map(feedItem));
  $("feed-count").textContent = kept.length === state.warnings.length ? `(${kept.length})` : `(${kept.length} / ${state.warnings.length})`;
  fillSelect($("feed-rule"), new Set(state.warnings.map((w) => w.rule_id)), "all rules");
  fillSelect($("feed-region"), new Set(state.warnings.map((w) => w.region_id).filter(Boolean)), "all counties");
  renderTable();
}

// --- the enterprises table ----------------------------------------------------------------

const TABLE_ROWS = 200;
const table = { key: "eri", descending: true };
const RANK = { red: 0, orange: 1, yellow: 2, blue: 3 };

function openWarningsOf() {
  const counts = new Map();
  for (const w of state.warnings) counts.set(w.enterprise_id, (counts.get(w.enterprise_id) || 0) + 1);
  return counts;
}

// The enterprises the filters show, sorted by the chosen column; the first TABLE_ROWS drawn.
function renderTable() {
  const warnings = openWarningsOf();
  const value = (e) => ({ name: e.name || e.enterprise_id, region_id: e.region_id, color: -RANK[e.color], eri: e.eri, warnings: warnings.get(e.enterprise_id) || 0 })[table.key];
  const rows = [...state.enterprises.values()].filter(shown).sort((a, b) => {
    const [x, y] = [value(a), value(b)];
    const order = typeof x === "number" ? x - y : String(x).localeCompare(String(y));
    return (table.descending ? -order : order) || a.enterprise_id.localeCompare(b.enterprise_id);
  });
  $("table-count").textContent = rows.length > TABLE_ROWS ? `(${TABLE_ROWS} ${t("shown")} / ${rows.length})` : `(${rows.length})`;
  $("table-count").dataset.total = rows.length;
  $("enterprise-table").querySelector("tbody").replaceChildren(...rows.slice(0, TABLE_ROWS).map((e) => {
    const tr = el("tr", { "data-id": e.enterprise_id },
      el("td", {}, `${e.name || ""} (${e.enterprise_id})`), el("td", {}, e.region_id), el("td", {}, badge(e.color)),
      el("td", { class: "num" }, e.eri), el("td", { class: "num" }, warnings.get(e.enterprise_id) || 0));
    tr.addEventListener("click", () => openEnterprise(e.enterprise_id));
    return tr;
  }));
  for (const th of document.querySelectorAll("#enterprise-table th[data-sort]")) {
    th.classList.toggle("sorted", th.dataset.sort === table.key);
    th.classList.toggle("ascending", th.dataset.sort === table.key && !table.descending);
  }
}

function sortBy(key) {
  table.descending = table.key === key ? !table.descending : key !== "name" && key !== "region_id";
  table.key = key;
  renderTable();
}

function row(label, value, cls) { return el("tr", {}, el("th", {}, label), el("td", { class: cls || "num" }, value)); }

async function showEnterprise(id) {
  const d = await getJson(`/api/risk/${encodeURIComponent(id)}`);
  const r = d.risk, terms = r.terms;
  $("detail").replaceChildren(
    el("h2", { id: "detail-title", "data-enterprise": r.enterprise_id }, `${r.name} (${r.enterprise_id})`),
    el("p", {}, badge(r.color), ` ERI ${r.eri} · band ${r.band}`, r.floor ? ` · floor ${r.floor.color} (${r.floor.reason})` : "", ` · ${t("since")} ${r.color_since}`),
    el("table", { id: "detail-terms" },
      row("I inherent (0–40)", terms.inherent), row("D dynamic (0–45)", terms.dynamic),
      row("· alarms", terms.alarms), row("· data quality", terms.data_quality), row("· special work", terms.special_work),
      row("· operations", terms.operations), row("· people", terms.people),
      row("M management (0–15)", terms.management), row("E context ×", terms.context),
      row("ERI = min(100, I + E·(D + M))", r.eri)),
    sparkline(d.history || []),
    el("h2", {}, `${t("Active warnings")} (${d.warnings.length})`),
    el("ol", { id: "detail-warnings" }, ...d.warnings.map(feedItem)),
    el("h2", {}, `${t("Permits in progress")} (${d.permits.length})`),
    el("ul", { id: "detail-permits" }, ...d.permits.map((p) =>
      el("li", {}, `${p.permit_id} · ${p.type}${p.hot_grade ? " " + p.hot_grade : ""} · ${p.phase}${p.planned_end ? " · until " + p.planned_end : ""}`))),
  );
}

// The index over the last day: a line of the ERI on a 0–100 scale, a dot per quarter hour in
// its colour, the time axis the day before the newest point.
function sparkline(points) {
  const NS = "http://www.w3.org/2000/svg", W = 300, H = 48, DAY = 24 * 3600e3;
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("id", "detail-history");
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.setAttribute("role", "img");
  svg.dataset.points = points.length;
  if (points.length === 0) return svg;
  const end = Date.parse(points[points.length - 1].at);
  const x = (p) => (W - 4) * (1 - (end - Date.parse(p.at)) / DAY) + 2;
  const y = (p) => H - 2 - (H - 4) * Math.min(100, Math.max(0, p.eri)) / 100;
  const line = document.createElementNS(NS, "polyline");
  line.setAttribute("points", points.map((p) => `${x(p).toFixed(1)},${y(p).toFixed(1)}`).join(" "));
  line.setAttribute("class", "spark");
  svg.append(line);
  for (const p of points) {
    const dot = document.createElementNS(NS, "circle");
    dot.setAttribute("cx", x(p).toFixed(1)); dot.setAttribute("cy", y(p).toFixed(1)); dot.setAttribute("r", "2");
    dot.setAttribute("class", `dot ${p.color}`);
    const title = document.createElementNS(NS, "title");
    title.textContent = `${p.at}: ERI ${p.eri} (${p.color})`;
    dot.append(title);
    svg.append(dot);
  }
  const caption = el("p", { class: "hint" }, `${t("ERI, last 24 h")}: ${points[0].eri} → ${points[points.length - 1].eri}`);
  const box = el("div", { id: "detail-history-box" });
  box.append(svg, caption);
  return box;
}

async function showRegion(id) {
  const { counties } = await getJson("/api/regions");
  const r = counties.find((c) => c.region_id === id);
  if (!r) return;
  const c = r.components, q = r.quotas;
  const quota = (name, x) => el("tr", {}, el("th", {}, name), el("td", { class: "num" }, `${x.done} / ${x.required}`), el("td", {}, x.done >= x.required ? "met" : `short ${x.required - x.done}`));
  $("detail").replaceChildren(
    el("h2", { id: "detail-title", "data-region": r.region_id }, `${t("County")} ${r.region_id} (${t("city")} ${r.city_id})`),
    el("p", {}, badge(r.color), ` CPI ${r.cpi} · ${r.enterprises} ${t("enterprises")}`),
    el("table", { id: "detail-cpi" },
      row("warning timeliness (25)", c.timeliness), row("escalation containment (10)", c.containment),
      row("data quality (15)", c.data_quality), row("quota fulfilment (20)", c.quota),
      row("rectification closure (15)", c.rectification), row("outcome (15)", c.outcome)),
    el("h2", {}, t("Quota ledger")),
    el("table", { id: "detail-quotas" }, quota("self-inspection ≥ 50 %", q.self_check), quota("SPECIAL/L1 hot work ≥ 25 %", q.hot_work), quota("RED on site 100 %", q.red_onsite)),
    el("h2", {}, t("Today's inspection plan")),
    planForm(r.region_id),
    el("div", { id: "detail-plan" }),
  );
  await showPlan(r.region_id);
}

// Today's plan for the county (GET /api/enforcement/plan), for the teams' capacity given.
function planForm(region) {
  const form = el("form", { id: "plan-form" },
    el("label", {}, `${t("capacity")} `, el("input", { id: "plan-capacity", type: "number", min: "0", max: "10000", value: "8" })),
    el("label", {}, `${t("teams")} `, el("input", { id: "plan-teams", type: "number", min: "1", max: "100", value: "2" })),
    el("button", { type: "submit" }, t("Plan")));
  form.addEventListener("submit", (ev) => { ev.preventDefault(); showPlan(region); });
  return form;
}

async function showPlan(region) {
  const today = new Date().toISOString().slice(0, 10);
  const query = new URLSearchParams({ region, date: today, capacity: $("plan-capacity").value, teams: $("plan-teams").value });
  const out = $("detail-plan");
  try {
    const plan = await getJson(`/api/enforcement/plan?${query}`);
    const ledger = plan.ledger.map((l) => `${l.pool} ${l.done_before + l.planned}/${l.required}`).join(" · ");
    out.replaceChildren(
      el("p", { class: "hint" }, `${plan.tasks.length} tasks${plan.over_capacity ? " (mandatory beyond capacity)" : ""} · ${ledger}`),
      el("table", { id: "detail-plan-tasks", "data-tasks": plan.tasks.length },
        ...plan.tasks.map((task) => el("tr", { "data-id": task.enterprise_id },
          el("td", {}, badge(task.color)), el("td", {}, task.enterprise_id), el("td", {}, `${task.pool} · ${task.mode}`),
          el("td", {}, task.reason_codes.slice(0, 3).join(", ")), el("td", {}, task.assigned_team)))),
    );
  } catch (e) {
    out.replaceChildren(el("p", { class: "hint" }, String(e.message)));
  }
}

// A click and a deep link open the same view: the hash names it, the hash change shows it.
function openEnterprise(id) { location.hash = `enterprise=${encodeURIComponent(id)}`; }
function openRegion(id) { location.hash = `region=${encodeURIComponent(id)}`; }

// Zooms (and spiderfies) until the marker shows; a zoom under way first finishes, or the
// clusterer would drop the request.
function reveal(marker) {
  if (map._animatingZoom) { map.once("zoomend", () => setTimeout(() => reveal(marker), 0)); return; }
  cluster.zoomToShowLayer(marker);
}

async function openFromHash() {
  const m = location.hash.match(/^#(enterprise|region)=([^&]+)/);
  if (!m) return;
  const id = decodeURIComponent(m[2]);
  if (m[1] === "enterprise") {
    const marker = state.markers.get(id);
    if (marker && cluster.hasLayer(marker)) reveal(marker);
    await showEnterprise(id);
  } else {
    const inside = [...state.enterprises.values()].filter((e) => e.region_id === id && located(e)).map((e) => [e.lat, e.lon]);
    if (inside.length) map.fitBounds(L.latLngBounds(inside).pad(0.2));
    await showRegion(id);
  }
}

// --- wiring -------------------------------------------------------------------------------

function connect() {
  const risk = new EventSource(withToken("/api/risk/stream"));
  risk.onopen = () => { $("live").textContent = t("live"); $("live").dataset.state = "live"; };
  risk.onerror = () => { $("live").textContent = t("reconnecting…"); $("live").dataset.state = "reconnecting"; };
  risk.addEventListener("enterprise", (ev) => {
    const e = JSON.parse(ev.data);
    const fresh = !state.enterprises.has(e.enterprise_id);
    state.enterprises.set(e.enterprise_id, e);
    updateEnterprise(e);
    if (fresh) { later("selects", renderSelects); later("regions", renderRegions); }
  });
  // The indices are recomputed: take the counties again.
  risk.addEventListener("regions", async () => { await loadRegions(); renderRegions(); });
  const warnings = new EventSource(withToken("/api/warnings/stream"));
  warnings.addEventListener("warning", (ev) => {
    const w = JSON.parse(ev.data);
    state.warnings = [w, ...state.warnings.filter((x) => x.id !== w.id)].filter((x) => x.state !== "resolved");
    renderFeed();
  });
}

function renderSelects() {
  fillSelect($("filter-region"), new Set([...state.enterprises.values()].map((e) => e.region_id)));
  fillSelect($("filter-park"), new Set([...state.enterprises.values()].map((e) => e.park_id).filter(Boolean)));
}

async function loadRegions() {
  const shapes = await getJson("/api/map");
  state.regions = shapes.regions;
  state.outlines = shapes.outlines;
}

function translate() {
  document.documentElement.lang = LANG;
  for (const node of document.querySelectorAll("[data-i18n]")) {
    const word = WORDS[LANG][node.dataset.i18n];
    if (word) node.textContent = word;
  }
}

async function main() {
  translate();
  // No tile layer (the page works offline), so the zoom range is set here; clustering needs
  // it, and whole zoom levels (the clusterer keeps one set of clusters per level).
  map = L.map("map", { zoomSnap: 1, minZoom: 3, maxZoom: 18, attributionControl: false });
  areas = L.featureGroup().addTo(map);
  borders = L.featureGroup().addTo(map);
  cluster = L.markerClusterGroup({ iconCreateFunction: clusterIcon, showCoverageOnHover: false, chunkedLoading: true, maxClusterRadius: 60 }).addTo(map);
  map.on("zoomend moveend", declutterLabels);
  const [risk, warnings] = await Promise.all([getJson("/api/risk"), getJson("/api/warnings?state=open&limit=100"), loadRegions()]);
  for (const e of risk) state.enterprises.set(e.enterprise_id, e);
  state.warnings = warnings;
  const points = risk.filter(located).map((e) => [e.lat, e.lon]);
  if (points.length) map.fitBounds(L.latLngBounds(points).pad(0.1)); else map.setView([30, 120], 7);
  renderSelects();
  syncMarkers();
  renderRegions();
  renderFeed();
  document.querySelectorAll("#filters input, #filters select").forEach((i) => i.addEventListener("change", () => { readFilters(); syncMarkers(); renderTable(); }));
  document.querySelectorAll("#feed-filters select").forEach((i) => i.addEventListener("change", renderFeed));
  document.querySelectorAll("#enterprise-table th[data-sort]").forEach((th) => th.addEventListener("click", () => sortBy(th.dataset.sort)));
  window.addEventListener("hashchange", openFromHash);
  await openFromHash();
  document.body.dataset.ready = "true";
  connect();
}

// What the browser tests read: the page's model, not the clustered DOM.
window.vigil = {
  points: () => Object.fromEntries([...state.markers].filter(([, m]) => cluster.hasLayer(m))
    .map(([id, m]) => [id, [m.options.color, LETTER[m.options.color]]])),
  // Markers and clusters on screen (the clusterer fades out those of the zoom it left).
  shown: (selector) => [...document.querySelectorAll(selector)].filter((n) => getComputedStyle(n).opacity !== "0"),
  clusters: () => vigil.shown(".cluster").map((c) => ({ worst: c.querySelector("b").dataset.worst, size: +c.querySelector("b").textContent })),
  zoom: () => map.getZoom(),
  map: () => map,
  marker: (id) => state.markers.get(id),
  cluster: () => cluster,
};

main().catch((e) => { document.body.dataset.error = String(e); $("live").textContent = `error: ${e.message}`; });
