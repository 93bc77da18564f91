// The org chart, as a top-down chart or an indented list: the same ARIA tree of cards either
// way. One tree item is focusable at a time (roving tabindex); arrows move and open or close
// teams, Enter focuses the chart on a card, each card has one menu of actions.
//
// The list view opens a team by loading its cards into the page (htmx, on the toggle). The
// chart view asks the server for the chart again with one team more or less open: the server
// places every card (the export's layout), this script only zooms and pans the picture and
// keeps the card you are on in view. Colour and filter work on the cards in the page.
(function () {
  "use strict";
  const chart = () => document.getElementById("chart");
  const dialog = () => document.getElementById("chart-dialog");
  const about = () => document.getElementById("chart-about");
  const isChartView = () => chart()?.dataset.view === "chart";
  const viewport = () => chart()?.querySelector("[data-viewport]");
  const canvas = () => chart()?.querySelector(".chart-canvas");
  const items = () => Array.from(chart().querySelectorAll('[role="treeitem"]'));
  const visibleItems = () => items().filter((item) => !item.closest("[hidden]"));
  const group = (item) => item.querySelector(':scope > [role="group"]');
  const toggleButton = (item) => item.querySelector(":scope > .pcard .toggle");
  const cardOf = (item) => item.querySelector(":scope > .pcard");
  const itemOf = (element) => element?.closest && element.closest('#chart [role="treeitem"]');

  // --- zoom and pan (chart view) ---------------------------------------------------------
  const MIN_SCALE = 0.2, MAX_SCALE = 2;
  let view = null;  // {scale, x, y}: the canvas is drawn at (x, y), scaled
  const clamp = (value, low, high) => Math.min(high, Math.max(low, value));

  function paint() {
    const box = canvas();
    if (!box || !view) return;
    box.style.transform = `translate(${view.x}px, ${view.y}px) scale(${view.scale})`;
    const shown = document.querySelector(".zoom-level");
    if (shown) shown.textContent = `${Math.round(view.scale * 100)} %`;
    try { sessionStorage.setItem("chart-zoom", String(view.scale)); } catch (e) { /* private mode */ }
  }

  function zoomAt(scale, px, py) {  // keep the point (px, py) of the viewport where it is
    scale = clamp(scale, MIN_SCALE, MAX_SCALE);
    view.x = px - ((px - view.x) * scale) / view.scale;
    view.y = py - ((py - view.y) * scale) / view.scale;
    view.scale = scale;
    paint();
  }

  function zoomBy(factor) {
    const port = viewport();
    if (!port || !view) return;
    zoomAt(view.scale * factor, port.clientWidth / 2, port.clientHeight / 2);
  }

  function fit() {
    const port = viewport(), box = canvas();
    if (!port || !box) return;
    const width = box.offsetWidth, height = box.offsetHeight;
    const scale = clamp(Math.min(port.clientWidth / width, port.clientHeight / height, 1), MIN_SCALE, MAX_SCALE);
    view = { scale, x: (port.clientWidth - width * scale) / 2, y: Math.max(0, (port.clientHeight - height * scale) / 2) };
    paint();
  }

  // where a card is in the viewport's pixels
  function placeOf(item) {  // cards nest: add up the offsets to the canvas
    let x = 0, y = 0;
    for (let at = item; at && !at.classList.contains("chart-canvas"); at = at.offsetParent) {
      x += at.offsetLeft;
      y += at.offsetTop;
    }
    return { x: view.x + x * view.scale, y: view.y + y * view.scale,
             w: item.offsetWidth * view.scale, h: item.offsetHeight * view.scale };
  }

  function keepInView(item, { centre = false } = {}) {
    const port = viewport();
    if (!port || !view || !item) return;
    const at = placeOf(item), margin = 24;
    if (centre) {
      view.x += port.clientWidth / 2 - (at.x + at.w / 2);
      view.y += port.clientHeight / 3 - (at.y + at.h / 2);
    } else {
      if (at.x < margin) view.x += margin - at.x;
      else if (at.x + at.w > port.clientWidth - margin) view.x -= at.x + at.w - (port.clientWidth - margin);
      if (at.y < margin) view.y += margin - at.y;
      else if (at.y + at.h > port.clientHeight - margin) view.y -= at.y + at.h - (port.clientHeight - margin);
    }
    paint();
  }

  let anchor = null;  // {id, x, y}: a card to keep in the same place when the chart is redrawn

  function setUpView() {
    const port = viewport();
    if (!port) { view = null; return; }
    port.classList.add("live");  // zoom and pan here; without this script it simply scrolls
    if (view && anchor) {
      const item = document.getElementById(anchor.id);
      if (item) {
        const at = placeOf(item);
        view.x += anchor.x - at.x;
        view.y += anchor.y - at.y;
      }
      anchor = null;
      paint();
      return;
    }
    if (view) { paint(); return; }
    const box = canvas();
    let scale = 1;
    try { scale = parseFloat(sessionStorage.getItem("chart-zoom")) || 1; } catch (e) { /* private mode */ }
    scale = clamp(scale, MIN_SCALE, MAX_SCALE);
    const width = box.offsetWidth * scale;
    view = { scale, x: width < port.clientWidth ? (port.clientWidth - width) / 2 : 0, y: 0 };
    const current = chart().querySelector('[aria-current="true"]');
    const top = chart().querySelector('[role="treeitem"]');
    if (current) { keepInView(current, { centre: true }); return; }
    if (top && width >= port.clientWidth) {  // wider than the screen: the top card in the middle
      const at = placeOf(top);
      view.x += port.clientWidth / 2 - (at.x + at.w / 2);
    }
    paint();
  }

  // drag the background to pan; two fingers pinch; the wheel zooms where it points
  const pointers = new Map();
  let pan = null, pinch = null;
  document.addEventListener("pointerdown", (event) => {
    const port = event.target.closest && event.target.closest(".chart-viewport.live");
    if (!port || !view) return;
    pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
    if (pointers.size === 2) {
      const [a, b] = Array.from(pointers.values());
      pinch = { distance: Math.hypot(a.x - b.x, a.y - b.y), scale: view.scale };
      pan = null;
      return;
    }
    if (event.target.closest(".pcard") || event.button !== 0) return;  // a card: click, drag to move
    pan = { x: event.clientX, y: event.clientY, vx: view.x, vy: view.y, moved: false };
    port.setPointerCapture?.(event.pointerId);
    port.classList.add("panning");
  });
  document.addEventListener("pointermove", (event) => {
    if (!pointers.has(event.pointerId)) return;
    pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
    const port = viewport();
    if (pinch && pointers.size === 2 && port) {
      const [a, b] = Array.from(pointers.values());
      const rect = port.getBoundingClientRect();
      const distance = Math.hypot(a.x - b.x, a.y - b.y);
      zoomAt(pinch.scale * (distance / pinch.distance), (a.x + b.x) / 2 - rect.left, (a.y + b.y) / 2 - rect.top);
      return;
    }
    if (!pan) return;
    view.x = pan.vx + event.clientX - pan.x;
    view.y = pan.vy + event.clientY - pan.y;
    pan.moved = pan.moved || Math.abs(event.clientX - pan.x) + Math.abs(event.clientY - pan.y) > 4;
    paint();
  });
  const release = (event) => {
    pointers.delete(event.pointerId);
    if (pointers.size < 2) pinch = null;
    if (pointers.size === 0) { pan = null; viewport()?.classList.remove("panning"); }
  };
  document.addEventListener("pointerup", release);
  document.addEventListener("pointercancel", release);
  document.addEventListener("wheel", (event) => {
    const port = event.target.closest && event.target.closest(".chart-viewport.live");
    if (!port || !view) return;
    event.preventDefault();
    const rect = port.getBoundingClientRect();
    const step = event.deltaMode === 1 ? event.deltaY * 16 : event.deltaY;
    zoomAt(view.scale * Math.exp(-clamp(step, -100, 100) * 0.0025), event.clientX - rect.left, event.clientY - rect.top);
  }, { passive: false });
  window.addEventListener("resize", () => { if (view && isChartView()) paint(); });

  // --- the chart drawn again: a team opened or closed, a level, after a change -----------
  const openIds = () => (chart().dataset.open || "").split(",").filter(Boolean);

  function chartUrl(params) {
    const frame = chart();
    const url = new URL(frame.dataset.page || "/", window.location.href);
    if (frame.dataset.root) url.searchParams.set("root", frame.dataset.root);
    for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
    return url;
  }

  function redraw(params, anchorItem) {
    const url = chartUrl({ ...params, partial: "chart" });
    if (anchorItem && view) {
      const at = placeOf(anchorItem);
      anchor = { id: anchorItem.id, x: at.x, y: at.y };
    }
    focusAfter = anchorItem ? anchorItem.id : null;
    return htmx.ajax("GET", url.pathname + url.search, { target: "#chart", swap: "outerHTML" });
  }
  let focusAfter = null;

  // The chart view opens a team by asking for that team's cards and the new place of every
  // card, and moves the cards it has; it closes one by dropping its cards and asking for the
  // places alone. Anything unexpected: the whole chart again.
  let moving = null;  // the request under way, so that a second click waits its turn

  function applyPlaces(placed, anchorItem) {
    const before = anchorItem && view ? placeOf(anchorItem) : null;
    for (const [id, [left, top, stacked]] of Object.entries(placed.places)) {
      const item = document.getElementById(`pos-${id}`);
      if (!item) continue;
      item.style.left = `${left}px`;
      item.style.top = `${top}px`;
      cardOf(item).classList.toggle("leads-column", Boolean(stacked));
    }
    const box = canvas(), lines = chart().querySelector(".chart-lines");
    box.style.width = `${placed.width}px`;
    box.style.height = `${placed.height}px`;
    lines.setAttribute("width", placed.width);
    lines.setAttribute("height", placed.height);
    lines.querySelector("path").setAttribute("d", placed.lines);
    chart().dataset.open = placed.open;
    chart().dataset.cards = placed.cards;
    if (before) {
      const after = placeOf(anchorItem);
      view.x += before.x - after.x;
      view.y += before.y - after.y;
      paint();
    }
    paintColours();
  }

  async function moveCards(item, open, ids) {
    if (moving) await moving.catch(() => null);
    const params = { open: ids.join(","), partial: open ? "team" : "places" };
    if (open) params.team = item.dataset.id;
    const list = group(item);
    const ask = fetch(chartUrl(params), { headers: { "HX-Request": "true" }, credentials: "same-origin" });
    moving = ask;
    try {
      const answer = await ask;
      if (!answer.ok) throw new Error(String(answer.status));
      if (open) {
        const part = document.createElement("template");
        part.innerHTML = await answer.text();
        const data = part.content.getElementById("chart-places");
        const placed = JSON.parse(data.textContent);
        data.remove();
        list.replaceChildren(part.content);
        list.hidden = false;
        item.setAttribute("aria-expanded", "true");
        htmx.process(list);
        applyPlaces(placed, item);
      } else {
        applyPlaces(await answer.json(), item);
      }
      focusItem(item);
    } catch (error) {
      redraw({ open: ids.join(",") }, item);  // the whole chart, as it should be now
    } finally {
      if (moving === ask) moving = null;
    }
  }

  function setExpanded(item, open) {
    if (!item || !item.hasAttribute("aria-expanded")) return;
    if (isChartView()) {
      const ids = new Set(openIds());
      if (open) ids.add(item.dataset.id);
      else {  // closing a team closes the teams inside it too; their cards go at once
        item.querySelectorAll('[aria-expanded="true"]').forEach((inner) => ids.delete(inner.dataset.id));
        ids.delete(item.dataset.id);
        const list = group(item);
        if (list) { list.replaceChildren(); list.hidden = true; }
        item.setAttribute("aria-expanded", "false");
      }
      moveCards(item, open, Array.from(ids));
      return;
    }
    const children = group(item);
    item.setAttribute("aria-expanded", open ? "true" : "false");
    if (children) children.hidden = !open;
    if (open && children && !children.children.length) toggleButton(item)?.dispatchEvent(new Event("expand"));
    updateFrameState();
  }

  function updateFrameState() {  // the list view's open teams, for a later redraw
    const frame = chart();
    if (!frame) return;
    frame.dataset.open = items().filter((item) => item.getAttribute("aria-expanded") === "true").map((item) => item.dataset.id).join(",");
  }

  // --- focus ------------------------------------------------------------------------------
  // the focused card's menu button joins the tab order (Tab from the card reaches it)
  const ownControls = (item) => item.querySelectorAll(":scope > .pcard .menu-button, :scope > .pcard .badge");

  function makeCurrent(item) {
    chart().querySelectorAll('[role="treeitem"][tabindex="0"]').forEach((other) => {
      other.setAttribute("tabindex", "-1");
      ownControls(other).forEach((control) => control.setAttribute("tabindex", "-1"));
    });
    item.setAttribute("tabindex", "0");
    ownControls(item).forEach((control) => control.setAttribute("tabindex", "0"));
  }

  function focusItem(item) {
    if (!item) return;
    makeCurrent(item);
    item.focus({ preventScroll: isChartView() });
    if (isChartView()) keepInView(item);
  }

  // The chart is in the page (at first, or drawn again). Its cards take the focus at once,
  // so keys pressed next act on the new cards; they are placed once htmx has settled them
  // (until then a card kept from before still has its old place).
  let refocus = null;

  function focusCards() {
    const tree = chart();
    if (!tree) return;
    const again = focusAfter && document.getElementById(focusAfter);
    focusAfter = null;
    const current = again || tree.querySelector('[aria-current="true"]') || tree.querySelector('[role="treeitem"]');
    refocus = null;
    if (!current) return;
    makeCurrent(current);
    if (again || current.getAttribute("aria-current") === "true") {
      current.focus({ preventScroll: true });
      refocus = current.id;
    }
  }

  function placeCards() {
    const tree = chart();
    if (!tree) return;
    if (isChartView()) setUpView(); else view = null;
    paintColours();
    const kept = refocus && document.getElementById(refocus);
    if (kept && kept.getAttribute("aria-current") === "true" && !isChartView()) kept.scrollIntoView({ block: "center" });
    else if (kept && isChartView() && view) keepInView(kept);
    tree.dataset.ready = "true";  // its controls are live (htmx processed them)
    const level = document.querySelector("[data-level]");
    if (level) level.value = tree.dataset.level ?? "";
  }

  function start() {
    focusCards();
    placeCards();
  }

  document.addEventListener("focusin", (event) => {  // a card clicked or tabbed to
    const item = itemOf(event.target);
    if (item && item.getAttribute("tabindex") !== "0") makeCurrent(item);
    if (item && isChartView() && event.target === item && chart().dataset.ready) keepInView(item);
  });

  // --- the card's menu --------------------------------------------------------------------
  let menuOpen = null;
  const menuItems = (menu) => Array.from(menu.querySelectorAll('[role="menuitem"]'));

  function openMenu(item, { focusFirst = true } = {}) {
    const button = item.querySelector(":scope > .pcard .menu-button");
    const menu = item.querySelector(":scope > .pcard .card-menu");
    if (!menu) return;
    closeMenu();
    makeCurrent(item);
    menu.hidden = false;
    button.setAttribute("aria-expanded", "true");
    cardOf(item).classList.add("menu-open");
    item.classList.add("menu-open");
    menuOpen = item;
    if (focusFirst) menuItems(menu)[0]?.focus({ preventScroll: true });
  }

  function closeMenu({ returnFocus = false } = {}) {
    if (!menuOpen) return;
    const item = menuOpen;
    menuOpen = null;
    const menu = item.querySelector(":scope > .pcard .card-menu");
    if (menu) menu.hidden = true;
    item.querySelector(":scope > .pcard .menu-button")?.setAttribute("aria-expanded", "false");
    cardOf(item)?.classList.remove("menu-open");
    item.classList.remove("menu-open");
    if (returnFocus && document.body.contains(item)) focusItem(item);
  }

  document.addEventListener("keydown", (event) => {  // inside an open menu
    const menu = event.target.closest && event.target.closest(".card-menu");
    if (!menu || !menuOpen) return;
    const list = menuItems(menu);
    const index = list.indexOf(event.target);
    const go = (i) => list[(i + list.length) % list.length]?.focus();
    switch (event.key) {
      case "ArrowDown": go(index + 1); break;
      case "ArrowUp": go(index - 1); break;
      case "Home": go(0); break;
      case "End": go(list.length - 1); break;
      case "Escape": closeMenu({ returnFocus: true }); break;
      case "Tab": closeMenu({ returnFocus: true }); break;
      default: return;
    }
    event.preventDefault();
    event.stopPropagation();
  }, true);

  // --- the holder's pop-over --------------------------------------------------------------
  let aboutFrom = null;
  function showAbout(item) {
    const pop = about();
    if (!pop || !item) return;
    aboutFrom = item.id;
    pop.hidden = false;
    const card = cardOf(item).getBoundingClientRect();
    const width = pop.offsetWidth, height = pop.offsetHeight;
    let left = card.right + 8, top = card.top;
    if (left + width > window.innerWidth - 8) left = Math.max(8, card.left - width - 8);
    if (left < 8 || card.left - width - 8 < 8 && card.right + 8 + width > window.innerWidth - 8) {
      left = Math.max(8, Math.min(card.left, window.innerWidth - width - 8));
      top = card.bottom + 8;
    }
    top = Math.max(8, Math.min(top, window.innerHeight - height - 8));
    pop.style.left = `${left}px`;
    pop.style.top = `${top}px`;
    pop.setAttribute("tabindex", "-1");
    pop.focus({ preventScroll: true });
  }
  function hideAbout() {
    const pop = about();
    if (!pop || pop.hidden) return;
    pop.hidden = true;
    const item = aboutFrom && document.getElementById(aboutFrom);
    aboutFrom = null;
    if (item) focusItem(item);
  }

  // --- clicks, taps and keys --------------------------------------------------------------
  let lastPointer = "mouse";
  document.addEventListener("pointerdown", (event) => { lastPointer = event.pointerType || "mouse"; }, true);

  document.addEventListener("click", (event) => {
    if (event.target.closest("[data-print]")) { window.print(); return; }
    const zoom = event.target.closest("[data-zoom]");
    if (zoom) {
      if (zoom.dataset.zoom === "in") zoomBy(1.25);
      else if (zoom.dataset.zoom === "out") zoomBy(0.8);
      else fit();
      return;
    }
    if (event.target.closest("[data-close-about]")) { hideAbout(); return; }
    if (about() && !about().hidden && !event.target.closest("#chart-about")) hideAbout();
    const menuButton = event.target.closest("#chart .menu-button");
    if (menuButton) {
      const item = itemOf(menuButton);
      if (menuOpen === item) closeMenu({ returnFocus: true });
      else openMenu(item, { focusFirst: event.detail === 0 });
      return;
    }
    if (event.target.closest("#chart .card-menu [role=menuitem]")) { closeMenu(); return; }
    if (menuOpen && !event.target.closest(".card-menu")) closeMenu();
    const badge = event.target.closest("#chart .badge");
    if (badge) { badge.parentElement.classList.toggle("open"); return; }
    const button = event.target.closest("#chart .toggle");
    if (button) {
      const item = itemOf(button);
      setExpanded(item, item.getAttribute("aria-expanded") !== "true");
      if (!isChartView()) focusItem(item);
      return;
    }
    const item = itemOf(event.target);
    if (item && !event.target.closest("a, button")) {
      focusItem(item);
      if (lastPointer === "touch") openMenu(item, { focusFirst: false });  // a tap: its actions
    }
    if (event.target.closest("[data-close-dialog]")) dialog()?.close();
  });

  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && about() && !about().hidden) { hideAbout(); event.preventDefault(); return; }
    const item = itemOf(event.target);
    if (!item && isChartView() && !event.target.closest("input, select, textarea, dialog")) {
      // +, − and 0 zoom wherever the focus is outside a field
      if (event.key === "+" || event.key === "=") { zoomBy(1.25); event.preventDefault(); }
      else if (event.key === "-" || event.key === "_") { zoomBy(0.8); event.preventDefault(); }
      return;
    }
    if (!item || event.target !== item || event.altKey || event.ctrlKey || event.metaKey) return;
    const action = (name) => item.querySelector(`:scope > .pcard [data-action="${name}"]`)?.click();
    const list = visibleItems();
    const index = list.indexOf(item);
    const expanded = item.getAttribute("aria-expanded");
    switch (event.key) {
      case "ArrowDown": focusItem(list[index + 1]); break;
      case "ArrowUp": focusItem(list[index - 1]); break;
      case "Home": focusItem(list[0]); break;
      case "End": focusItem(list[list.length - 1]); break;
      case "ArrowRight":
        if (expanded === "false") setExpanded(item, true);
        else if (expanded === "true") focusItem(group(item)?.querySelector('[role="treeitem"]'));
        break;
      case "ArrowLeft":
        if (expanded === "true") setExpanded(item, false);
        else focusItem(item.parentElement.closest('[role="treeitem"]'));
        break;
      case "Enter": item.querySelector(":scope > .pcard .focus-link")?.click(); break;
      case "ContextMenu": openMenu(item); break;
      case "F10": if (event.shiftKey) openMenu(item); else return; break;
      case "+": case "=": zoomBy(1.25); break;
      case "-": case "_": zoomBy(0.8); break;
      case "0": fit(); break;
      case "i": case "I": action("about"); break;
      case "a": case "A": action("add"); break;
      case "e": case "E": action("edit"); break;
      case "m": case "M": action("move"); break;
      case "f": case "F": action("fill"); break;
      case "v": case "V": action("vacate"); break;
      case "Delete": action("delete"); break;
      default: return;
    }
    event.preventDefault();
  });

  document.addEventListener("change", (event) => {
    if (event.target.matches("[data-level]") && event.target.value !== "") {
      const current = chart().querySelector('[role="treeitem"][tabindex="0"]');
      redraw({ level: event.target.value }, current);
    } else if (event.target.matches("[data-colour]")) {
      try { sessionStorage.setItem("chart-colour", event.target.value); } catch (e) { /* private mode */ }
      const filter = document.querySelector("[data-filter]");
      if (filter) filter.value = "";
      paintColours();
    } else if (event.target.matches("[data-filter]")) {
      paintColours();
    }
  });

  // --- colour and filter ------------------------------------------------------------------
  const PALETTE = ["#2563eb", "#d97706", "#059669", "#db2777", "#7c3aed", "#0891b2", "#65a30d", "#dc2626", "#4b5563", "#ca8a04"];
  const STATUS = { filled: ["Filled", "#059669"], open: ["Open vacancy", "#d97706"], planned: ["Planned", "#9ca3af"] };
  const valueOf = (item, by) => {
    if (by === "findings") return Number(item.dataset.findings || 0) > 0 ? "With open findings" : "No findings";
    if (by === "status") return (STATUS[item.dataset.status] || [item.dataset.status])[0];
    return item.dataset[by] || (by === "squad" ? "No squad" : by === "location" ? "No location" : "");
  };

  function paintColours() {
    const frame = chart();
    const pick = document.querySelector("[data-colour]");
    if (!frame || !pick) return;
    try { if (!pick.dataset.restored) { pick.value = sessionStorage.getItem("chart-colour") || pick.value; pick.dataset.restored = "1"; } } catch (e) { /* private mode */ }
    const by = pick.value || "tier";
    const all = items();
    const colours = new Map();
    const counts = new Map();
    for (const item of all) {
      const value = valueOf(item, by);
      counts.set(value, (counts.get(value) || 0) + 1);
      if (!colours.has(value)) {
        let colour;
        if (by === "tier") colour = getComputedStyle(cardOf(item)).getPropertyValue("--tier").trim();
        else if (by === "status") colour = (STATUS[item.dataset.status] || [0, "#4b5563"])[1];
        else if (by === "findings") colour = value === "No findings" ? "#cbd5e1" : "#dc2626";
        else colour = value.startsWith("No ") ? "#cbd5e1" : PALETTE[colours.size % PALETTE.length];
        colours.set(value, colour);
      }
      const card = cardOf(item);
      if (by === "tier") card.style.removeProperty("--paint");
      else card.style.setProperty("--paint", colours.get(value));
    }
    const legend = document.getElementById("chart-legend");
    if (legend) {
      legend.replaceChildren(...Array.from(colours.entries()).map(([value, colour]) => {
        const li = document.createElement("li");
        const swatch = document.createElement("span");
        swatch.className = "swatch";
        swatch.style.background = colour;
        swatch.setAttribute("aria-hidden", "true");
        li.append(swatch, ` ${value} (${counts.get(value)})`);
        return li;
      }));
    }
    const filter = document.querySelector("[data-filter]");
    if (!filter) return;
    const chosen = filter.value;
    const options = [["", "every card"], ...Array.from(counts.keys()).sort().map((value) => [value, value])];
    filter.replaceChildren(...options.map(([value, label]) => new Option(label, value, false, value === chosen)));
    if (chosen && !counts.has(chosen)) filter.value = "";
    const wanted = filter.value;
    frame.classList.toggle("filtering", Boolean(wanted));
    let matches = 0;
    for (const item of all) {
      const match = Boolean(wanted) && valueOf(item, by) === wanted;
      item.classList.toggle("match", match);
      if (match) matches += 1;
    }
    const said = document.getElementById("chart-filter-count");
    if (said) said.textContent = wanted ? `${matches} of ${all.length} cards shown match` : `${all.length} cards shown`;
  }

  // --- dialogs ----------------------------------------------------------------------------
  document.body.addEventListener("htmx:afterSettle", (event) => {
    // a dialog came in (its controls are live once settled): open it, focus its first field
    const target = event.detail.target;
    if (target.id === "chart-about-body") {
      const item = itemOf(event.detail.requestConfig?.elt) || (aboutFrom && document.getElementById(aboutFrom)) ||
        chart().querySelector('[role="treeitem"][tabindex="0"]');
      showAbout(item);
      return;
    }
    if (target.id !== "chart-dialog-body") return;
    if (!dialog().open) dialog().showModal();
    target.querySelector("input:not([type=hidden]), select, button")?.focus();
  });

  document.body.addEventListener("htmx:afterSwap", (event) => {
    const target = event.detail.target;
    const item = target.closest && target.closest('[role="treeitem"]');
    if (item && target.getAttribute("role") === "group") {  // a team came in: it is open now
      item.setAttribute("aria-expanded", "true");
      target.hidden = false;
      updateFrameState();
      paintColours();
    }
  });

  // every change sent from a dialog says which teams are open, so the chart comes back so
  document.body.addEventListener("htmx:configRequest", (event) => {
    if (event.detail.verb !== "post" || !chart()) return;
    const from = event.detail.elt;
    if (from.closest && (from.closest("#chart-dialog") || from.closest("#chart") || from.closest("#chart-status"))) {
      event.detail.parameters.open = chart().dataset.open || "";
    }
  });

  // a dialog closed (Cancel, Escape): the focus goes back to the card it was opened from
  let opener = null;
  document.body.addEventListener("htmx:beforeRequest", (event) => {
    if (event.detail.target?.id !== "chart-dialog-body") return;
    const item = itemOf(event.detail.elt);
    if (item && !dialog().open) opener = item.id;
  });
  // (after a change, the re-rendered chart focuses the changed card itself, once its
  // controls are live)
  let changed = false;
  dialog()?.addEventListener("close", () => {
    const item = opener && document.getElementById(opener);
    if (item && !changed) focusItem(item);
    opener = null;
    changed = false;
  });

  // a change went through: the chart was re-rendered around the changed card
  document.body.addEventListener("chart-changed", () => {
    changed = true;
    dialog()?.close();
  });
  // the chart came back (a team opened or closed, a level, a change): placed, coloured and
  // focused at once, so keys pressed next act on the new cards; its controls are live (htmx
  // processed them) once it has settled
  document.body.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail.target && event.detail.target.id === "chart") focusCards();
  });
  document.body.addEventListener("htmx:afterSettle", (event) => {
    if (event.detail.target && event.detail.target.id === "chart") placeCards();
  });

  // --- drag a card onto another card: the same move as "Move to…" --------------------------
  let dragged = null;
  document.addEventListener("dragstart", (event) => {
    const item = event.target.closest && event.target.closest('#chart [role="treeitem"][data-movable]');
    if (!item) return;
    dragged = item;
    closeMenu();
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", item.dataset.id);
  });
  // a card in the dragged card's own team takes the drop too, marked as refused: the server
  // then says why (a reporting loop) instead of the drop silently doing nothing
  const dropTarget = (event) => {
    const item = event.target.closest && event.target.closest('#chart [role="treeitem"][data-accepts]');
    return item && dragged && item !== dragged ? item : null;
  };
  const clearMarks = () =>
    document.querySelectorAll(".drop-target, .drop-refused").forEach((other) => other.classList.remove("drop-target", "drop-refused"));
  document.addEventListener("dragover", (event) => {
    const item = dropTarget(event);
    if (!item) return;
    event.preventDefault();
    clearMarks();
    item.classList.add(dragged.contains(item) ? "drop-refused" : "drop-target");
  });
  document.addEventListener("dragend", () => {
    clearMarks();
    dragged = null;
  });
  document.addEventListener("drop", (event) => {
    const item = dropTarget(event);
    if (!item) return;
    event.preventDefault();
    const id = dragged.dataset.id;
    htmx.ajax("POST", `${chart().dataset.prefix || "/chart/"}${id}/move/`, {
      source: dragged,
      target: "#chart-dialog-body",
      values: { new_parent: item.dataset.id, root: chart().dataset.root || "", open: chart().dataset.open || "" },
    });
  });

  start();
})();
