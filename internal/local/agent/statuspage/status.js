// The agent's status page: polls /status/data.json and draws it with DOM calls and
// textContent only (app names and messages come from users' specs), and SVG charts.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
let timer = null;

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}

function svg(tag, attrs) {
  const e = document.createElementNS(SVG, tag);
  for (const k in attrs) e.setAttribute(k, String(attrs[k]));
  return e;
}

function fmtRate(v) { return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2); }
function fmtPct(v) { return (100 * v).toFixed(v >= 0.1 ? 1 : 2) + " %"; }
function fmtSec(v) {
  if (v >= 1) return v.toFixed(2) + " s";
  return (1000 * v).toFixed(v >= 0.01 ? 0 : 1) + " ms";
}
function fmtTime(s) {
  if (!s) return "";
  const d = new Date(s);
  return isNaN(d) ? "" : d.toLocaleString();
}
function fmtClock(ms, seconds) {
  const d = new Date(ms);
  const two = (n) => String(n).padStart(2, "0");
  return two(d.getHours()) + ":" + two(d.getMinutes()) + (seconds ? ":" + two(d.getSeconds()) : "");
}

// chart draws the series [{name, pts: [[ms, value]]}] as lines on one SVG; the SVG's
// data-points attribute counts the points plotted.
function chart(title, series, fmt, now, span) {
  const fig = el("figure");
  fig.appendChild(el("figcaption", null, title));
  const W = 400, H = 180, L = 48, R = 8, T = 8, B = 20;
  const s = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": title, preserveAspectRatio: "none" });
  let max = 0, plotted = 0;
  for (const ser of series) for (const p of ser.pts) if (p[1] > max) max = p[1];
  if (max <= 0) max = 1;
  max *= 1.1;
  const t0 = now - span;
  const x = (t) => L + (W - L - R) * Math.max(0, (t - t0) / span);
  const y = (v) => T + (H - T - B) * (1 - v / max);
  s.appendChild(svg("line", { x1: L, y1: H - B, x2: W - R, y2: H - B, class: "axis" }));
  s.appendChild(svg("line", { x1: L, y1: T, x2: L, y2: H - B, class: "axis" }));
  s.appendChild(svg("line", { x1: L, y1: y(max / 2.2), x2: W - R, y2: y(max / 2.2), class: "axis" }));
  const label = (tx, ty, anchor, text) => {
    const t = svg("text", { x: tx, y: ty, "text-anchor": anchor });
    t.textContent = text;
    s.appendChild(t);
  };
  label(L - 4, T + 8, "end", fmt(max / 1.1));
  label(L - 4, H - B, "end", fmt(0));
  const secs = span < 10 * 60 * 1000;
  label(L, H - 6, "start", fmtClock(t0, secs));
  label(W - R, H - 6, "end", fmtClock(now, secs));
  series.forEach((ser, i) => {
    if (ser.pts.length === 0) return;
    const pts = ser.pts.map((p) => x(p[0]).toFixed(1) + "," + y(p[1]).toFixed(1));
    if (pts.length === 1) pts.push(pts[0]);
    s.appendChild(svg("polyline", { points: pts.join(" "), class: "s" + (i % 6) }));
    plotted += ser.pts.length;
  });
  s.setAttribute("data-points", String(plotted));
  fig.appendChild(s);
  const legend = el("div", "legend");
  series.forEach((ser, i) => {
    const item = el("span");
    item.appendChild(el("span", "swatch c" + (i % 6)));
    item.appendChild(document.createTextNode(ser.name));
    legend.appendChild(item);
  });
  fig.appendChild(legend);
  return fig;
}

function table(headers, rows) {
  const t = el("table");
  const tr = el("tr");
  for (const h of headers) tr.appendChild(el("th", h.num ? "num" : null, h.name));
  t.appendChild(el("thead")).appendChild(tr);
  const body = el("tbody");
  for (const r of rows) {
    const row = el("tr");
    r.forEach((c, i) => {
      const td = el("td", headers[i].num ? "num" : null);
      if (c instanceof Node) td.appendChild(c); else td.textContent = c === undefined || c === null ? "" : String(c);
      row.appendChild(td);
    });
    body.appendChild(row);
  }
  t.appendChild(body);
  return t;
}

function badge(text, kind) { return el("span", "badge " + kind, text); }

function phaseKind(p) {
  if (p === "succeeded") return "ok";
  if (p === "rolled-back" || p === "failed") return "bad";
  return "warn";
}

function link(url) {
  const a = el("a", null, url);
  a.href = url;
  return a;
}

function renderAlerts(a) {
  const box = document.getElementById("alerts-body");
  box.replaceChildren();
  box.className = "";
  if (a && a.configured) {
    const p = el("p", "muted", "Alertmanager ");
    p.appendChild(link(a.url));
    if (a.prometheus) {
      p.appendChild(document.createTextNode(" · Prometheus "));
      p.appendChild(link(a.prometheus));
    }
    box.appendChild(p);
  }
  if (!a || !a.configured) {
    box.className = "muted";
    box.textContent = "No Alertmanager is configured: `pyship monitor up` runs Prometheus and Alertmanager under the agent.";
    return;
  }
  if (a.error) {
    box.appendChild(el("p", "error", "Alertmanager did not answer: " + a.error));
    return;
  }
  if (!a.firing || a.firing.length === 0) {
    box.appendChild(el("p", "muted", "None firing."));
    return;
  }
  box.appendChild(table(
    [{ name: "alert" }, { name: "severity" }, { name: "app" }, { name: "summary" }, { name: "since" }],
    a.firing.map((f) => [badge(f.name, f.severity === "page" || f.severity === "critical" ? "bad" : "warn"), f.severity, f.app, f.summary, fmtTime(f.since)])));
}

function renderApp(app, now, step) {
  const card = el("article", "app");
  card.dataset.app = app.app;
  const head = el("div", "app-head");
  head.appendChild(el("h2", null, app.app));
  if (app.stopped) head.appendChild(badge("stopped", "warn"));
  if (app.url) head.appendChild(el("span", "muted", app.url));
  if (app.stable) head.appendChild(el("span", "muted", "stable " + app.stable));
  if (app.deploy) head.appendChild(badge("deploy of " + app.deploy.release + ": " + app.deploy.phase, phaseKind(app.deploy.phase)));
  card.appendChild(head);

  card.appendChild(el("h3", null, "Releases"));
  card.appendChild(table(
    [{ name: "release" }, { name: "version" }, { name: "weight", num: true }, { name: "replicas ready", num: true },
      { name: "req/s", num: true }, { name: "errors", num: true }, { name: "p50", num: true }, { name: "p95", num: true }, { name: "p99", num: true }],
    (app.releases || []).map((r) => {
      const reps = r.replicas || [];
      const ready = reps.filter((x) => x.health === "ready").length;
      return [r.id, r.version, r.weight + " %", ready + " / " + reps.length, fmtRate(r.rate), fmtPct(r.errorRate), fmtSec(r.p50), fmtSec(r.p95), fmtSec(r.p99)];
    })));

  const hist = app.history || {};
  const rels = Object.keys(hist).filter((k) => k !== "*").sort();
  let first = now;
  for (const k in hist) if (hist[k].length > 0 && hist[k][0][0] < first) first = hist[k][0][0];
  const span = Math.max(now - first, 30 * step * 1000);
  const per = (col) => rels.map((r) => ({ name: r, pts: hist[r].map((p) => [p[0], p[col]]) }));
  const all = hist["*"] || [];
  const charts = el("div", "charts");
  charts.appendChild(chart("Requests/s", per(1), fmtRate, now, span));
  charts.appendChild(chart("Error rate (5xx)", per(2), fmtPct, now, span));
  charts.appendChild(chart("Latency (all releases)", [
    { name: "p50", pts: all.filter((p) => p[1] > 0).map((p) => [p[0], p[3]]) },
    { name: "p95", pts: all.filter((p) => p[1] > 0).map((p) => [p[0], p[4]]) },
    { name: "p99", pts: all.filter((p) => p[1] > 0).map((p) => [p[0], p[5]]) },
  ], fmtSec, now, span));
  card.appendChild(charts);

  card.appendChild(el("h3", null, "Deploys"));
  const deploys = app.deploys || [];
  if (deploys.length === 0) {
    card.appendChild(el("p", "muted", "No deploy recorded yet."));
  } else {
    card.appendChild(table([{ name: "release" }, { name: "version" }, { name: "strategy" }, { name: "started" }, { name: "verdict" }, { name: "why" }],
      deploys.map((d) => [d.release, d.version, d.strategy + (d.rollback ? " (rollback)" : ""), fmtTime(d.started),
        badge(d.phase, phaseKind(d.phase)), [d.message, d.analysis].filter(Boolean).join(" — ")])));
  }

  card.appendChild(el("h3", null, "Backups"));
  const b = app.backup;
  if (!b) {
    card.appendChild(el("p", "muted", "No backups: the app's spec has no [backup] table."));
  } else {
    const parts = [];
    parts.push(b.schedule ? "schedule " + b.schedule + (b.next ? ", next " + fmtTime(b.next) : "") : "no schedule");
    parts.push(b.lastId ? "last " + b.lastId + " at " + fmtTime(b.lastAt) : "none taken yet");
    const p = el("p", null, parts.join(" · "));
    card.appendChild(p);
    if (b.lastError) card.appendChild(el("p", "error", "last failure " + fmtTime(b.lastErrorAt) + ": " + b.lastError));
  }
  return card;
}

function render(d) {
  const now = Date.parse(d.generated);
  document.getElementById("updated").textContent = "updated " + new Date(now).toLocaleTimeString();
  renderAlerts(d.alerts);
  const apps = document.getElementById("apps");
  apps.replaceChildren();
  if (!d.apps || d.apps.length === 0) {
    const s = el("section", "muted", "No app is deployed on this agent yet.");
    apps.appendChild(s);
  }
  for (const a of d.apps || []) apps.appendChild(renderApp(a, now, d.step));
  document.body.dataset.loaded = String(Number(document.body.dataset.loaded || 0) + 1);
}

async function refresh() {
  const err = document.getElementById("error");
  let step = 5;
  try {
    const resp = await fetch("/status/data.json", { cache: "no-store" });
    if (!resp.ok) throw new Error("HTTP " + resp.status);
    const d = await resp.json();
    step = d.step || step;
    render(d);
    err.hidden = true;
  } catch (e) {
    err.hidden = false;
    err.textContent = "Cannot reach the agent: " + e.message;
  }
  timer = setTimeout(refresh, Math.max(step, 1) * 1000);
}

document.addEventListener("DOMContentLoaded", () => { if (timer === null) refresh(); });
