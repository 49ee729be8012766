// Rendering the lab's state into the page. Elements are kept by key, so buttons stay put
// between updates and a new box is visibly new.

const number = (n) => Math.round(n).toLocaleString("en");

function element(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

function field(dl, label, className) {
  dl.append(element("dt", "", label));
  const dd = element("dd", className);
  dl.append(dd);
  return dd;
}

function newBox(b) {
  const box = element("article", "box");
  box.dataset.key = b.key;
  const head = element("header");
  head.append(element("strong", "name"), element("span", "state"));
  const dl = element("dl");
  box.append(head, dl);
  field(dl, b.threadId === undefined ? "pid" : "pid / thread", "pid");
  field(dl, "open connections", "open");
  field(dl, "round trips/s", "rate");
  field(dl, "accepted", "accepted");
  return box;
}

/** One box per thread or worker process. */
export function renderBoxes(container, boxes, killable) {
  const old = new Map([...container.children].map((el) => [el.dataset.key, el]));
  const first = container.dataset.rendered !== "true";
  for (const b of boxes) {
    let box = old.get(b.key);
    old.delete(b.key);
    if (!box) {
      box = newBox(b);
      if (!first) box.classList.add("fresh");
      container.append(box);
    }
    box.dataset.pid = String(b.pid);
    box.dataset.name = b.name;
    box.dataset.state = b.state;
    box.dataset.rate = String(b.roundTripsPerSecond);
    box.querySelector(".name").textContent = b.name;
    box.querySelector(".state").textContent = b.state;
    box.querySelector(".pid").textContent = b.threadId === undefined ? String(b.pid) : `${b.pid} / ${b.threadId}`;
    box.querySelector(".open").textContent = number(b.open);
    box.querySelector(".rate").textContent = number(b.roundTripsPerSecond);
    box.querySelector(".accepted").textContent = number(b.accepted);
    let kill = box.querySelector("button.kill");
    if (killable && b.state === "listening" && !kill) {
      kill = element("button", "kill", "kill -9");
      kill.title = `SIGKILL pid ${b.pid}`;
      kill.dataset.pid = String(b.pid);
      box.append(kill);
    } else if ((!killable || b.state !== "listening") && kill) kill.remove();
  }
  for (const gone of old.values()) gone.remove();
  container.dataset.rendered = "true";
}

/** The load burst's one line. */
export function renderLoad(output, load) {
  output.dataset.running = String(Boolean(load?.running));
  output.dataset.roundtrips = String(load?.roundTrips ?? 0);
  if (!load) {
    output.textContent = "no load";
    return;
  }
  const latency = load.p50 === null ? "" : `, p50 ${load.p50.toFixed(2)} ms, p99 ${load.p99.toFixed(2)} ms`;
  const head = load.running
    ? `running ${load.elapsed.toFixed(0)} of ${load.seconds} s`
    : `ended (${load.ended}) after ${load.elapsed.toFixed(1)} s`;
  output.textContent = `${head}: ${load.connections} connections, ${number(load.roundTrips)} round trips, ${number(load.errors)} failed connections${latency}`;
}

/** The prefork actions, newest first, each with the connections it cost. */
export function renderActions(list, actions) {
  list.replaceChildren(
    ...[...actions].reverse().map((a) => {
      const item = element("li", `action ${a.status}`);
      item.dataset.kind = a.kind;
      item.dataset.status = a.status;
      item.dataset.failed = a.failedConnections === null ? "" : String(a.failedConnections);
      const cost =
        a.status === "running"
          ? "…"
          : a.failedConnections === null
            ? "no load was running"
            : `${a.failedConnections} connection${a.failedConnections === 1 ? "" : "s"} failed`;
      item.append(
        element("strong", "", a.what),
        element("span", "", a.detail ? `: ${a.detail}` : ""),
        element("em", "", ` (${cost})`),
      );
      return item;
    }),
  );
}

/** The selector comparison's table. */
export function renderCompare(table, note, compare) {
  table.hidden = !compare;
  if (!compare) return;
  const us = (n) => n.toFixed(1);
  table.querySelector("tbody").replaceChildren(
    ...compare.rows.map((r) => {
      const row = element("tr");
      row.dataset.selector = r.selector;
      const ratio = `${us(r.usWithIdle)} (${(r.usWithIdle / r.usAlone).toFixed(1)}×)`;
      for (const text of [r.selector, us(r.usAlone), ratio, number(r.held), number(r.refused)])
        row.append(element("td", "", text));
      return row;
    }),
  );
  const select = compare.rows.find((r) => r.selector === "select");
  if (compare.error) note.textContent = `comparison failed: ${compare.error}`;
  else if (compare.running)
    note.textContent = `measuring ${compare.current} with ${number(compare.idle)} idle connections…`;
  else if (select && select.refused > 0)
    note.textContent = `select() refused ${number(select.refused)} of the ${number(compare.idle)} idle connections: their descriptors were at or above FD_SETSIZE (${compare.fdSetSize}). poll and epoll took them all; poll scans every descriptor on each call, epoll only the ready ones.`;
  else note.textContent = "";
}
