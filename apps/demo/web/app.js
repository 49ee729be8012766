// The page: one Server-Sent Events stream brings the lab's state every second; buttons post
// JSON actions. Everything shown comes from the server; the page keeps only the charts' minute.
import { Charts } from "./charts.js";
import { renderActions, renderBoxes, renderCompare, renderLoad } from "./view.js";

const $ = (selector) => document.querySelector(selector);
const charts = new Charts($("#chart-rate"), $("#chart-latency"));
let session = null;
let state = null;

function showError(message) {
  $("#error").textContent = message ?? "";
}

async function post(path, body = {}) {
  const res = await fetch(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ session, ...body }),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(json.error?.message ?? `${res.status} ${res.statusText}`);
  return json;
}

/** Runs an action from a button: disabled while it runs, errors shown. */
async function act(button, run) {
  button.disabled = true;
  showError("");
  try {
    await run();
  } catch (error) {
    showError(error.message);
  } finally {
    button.disabled = false;
  }
}

function formValues(form) {
  return Object.fromEntries(new FormData(form).entries());
}

// The settings fields that belong to the model picked.
function showSettings() {
  const model = $("#model").value;
  for (const label of document.querySelectorAll("#model-form [data-for]")) label.hidden = label.dataset.for !== model;
}
$("#model").addEventListener("change", showSettings);
showSettings();

$("#model-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const values = formValues(event.target);
  act($("#start-model"), async () => render(await post("/api/start", values)));
});
$("#load-form").addEventListener("submit", (event) => {
  event.preventDefault();
  act($("#start-load"), () => post("/api/load", formValues(event.target)));
});
$("#stop-load").addEventListener("click", (event) => act(event.target, () => post("/api/load/stop")));
for (const button of document.querySelectorAll("#prefork-actions [data-action]")) {
  button.addEventListener("click", () => act(button, () => post(`/api/prefork/${button.dataset.action}`)));
}
$("#boxes").addEventListener("click", (event) => {
  const button = event.target.closest("button.kill");
  if (button) act(button, () => post("/api/prefork/kill", { pid: Number(button.dataset.pid) }));
});
$("#compare").addEventListener("click", (event) =>
  act(event.currentTarget, () => post("/api/selector/compare", { idle: 2000 })),
);

function render(next) {
  state = next;
  const server = state.server;
  const model = server?.spec.model ?? null;
  document.body.dataset.model = model ?? "";
  $("#server-title").textContent = server
    ? `${server.label}, on ${server.address}`
    : state.starting
      ? "starting…"
      : "no server: pick a model and start it";
  for (const [id, value] of [
    ["#total-rate", state.roundTripsPerSecond],
    ["#total-roundtrips", state.roundTrips],
    ["#total-open", state.boxes.reduce((n, b) => n + b.open, 0)],
  ]) {
    $(id).dataset.value = String(value);
    $(id).textContent = value.toLocaleString("en");
  }
  for (const panel of document.querySelectorAll("[data-for-model]")) panel.hidden = panel.dataset.forModel !== model;
  renderBoxes($("#boxes"), state.boxes, model === "prefork");
  renderLoad($("#load-status"), state.load);
  renderActions($("#action-log"), state.actions);
  renderCompare($("#compare-table"), $("#compare-note"), state.compare);
  if (state.error) showError(state.error);
}

const events = new EventSource("/events");
events.addEventListener("hello", (event) => {
  session = JSON.parse(event.data).session;
  document.body.dataset.session = session;
  $("#connection").dataset.state = "open";
  $("#connection").textContent = "live: updated every second";
});
events.addEventListener("state", (event) => {
  const next = JSON.parse(event.data);
  charts.push(next);
  render(next);
});
events.addEventListener("error", () => {
  // The server is gone; a new stream would be a new session with nothing running.
  events.close();
  $("#connection").dataset.state = "closed";
  $("#connection").textContent = "disconnected: reload the page";
});
