// The org chart as an ARIA tree: one tree item is focusable at a time (roving tabindex);
// arrows move and open or close teams, Enter focuses the chart on a card. Opening a team
// whose cards are not in the page yet asks the server for them (htmx, on the toggle).
// Editing dialogs come from the server into <dialog>; a card dragged onto another card is
// moved there by the same "move" request the "Move to…" dialog sends.
(function () {
  "use strict";
  const chart = () => document.getElementById("chart");
  const dialog = () => document.getElementById("chart-dialog");
  const visibleItems = () =>
    Array.from(chart().querySelectorAll('[role="treeitem"]')).filter((item) => !item.closest("[hidden]"));
  const group = (item) => item.querySelector(':scope > [role="group"]');
  const toggleButton = (item) => item.querySelector(":scope > .pcard .toggle");

  function setExpanded(item, open) {
    if (!item || !item.hasAttribute("aria-expanded")) return;
    const children = group(item);
    item.setAttribute("aria-expanded", open ? "true" : "false");
    if (children) children.hidden = !open;
    if (open && children && !children.children.length) toggleButton(item)?.dispatchEvent(new Event("expand"));
  }

  // the focused card's own buttons join the tab order (Tab from the card reaches them)
  const ownControls = (item) => item.querySelectorAll(":scope > .pcard .actions button, :scope > .pcard .focus-link");

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
    item.focus();
  }

  function start() {
    const tree = chart();
    if (!tree) return;
    tree.dataset.ready = "true";  // its controls are live (htmx processed them)
    const current = tree.querySelector('[aria-current="true"]') || tree.querySelector('[role="treeitem"]');
    if (!current) return;
    makeCurrent(current);
    if (current.getAttribute("aria-current") === "true") {
      current.scrollIntoView({ block: "center" });
      current.focus();
    }
  }

  document.addEventListener("focusin", (event) => {  // a card clicked or tabbed to
    const item = event.target.closest && event.target.closest('#chart [role="treeitem"]');
    if (item && item.getAttribute("tabindex") !== "0") makeCurrent(item);
  });

  document.addEventListener("click", (event) => {
    if (event.target.closest("[data-print]")) { window.print(); return; }
    const button = event.target.closest("#chart .toggle");
    if (button) {
      const item = button.closest('[role="treeitem"]');
      setExpanded(item, item.getAttribute("aria-expanded") !== "true");
      focusItem(item);
      return;
    }
    if (event.target.closest("[data-close-dialog]")) dialog()?.close();
  });

  document.addEventListener("keydown", (event) => {
    const item = event.target.closest && event.target.closest('#chart [role="treeitem"]');
    if (!item || event.target !== item || event.altKey || event.ctrlKey || event.metaKey) return;
    const action = (name) => item.querySelector(`:scope > .pcard [data-action="${name}"]`)?.click();
    const items = visibleItems();
    const index = items.indexOf(item);
    const expanded = item.getAttribute("aria-expanded");
    switch (event.key) {
      case "ArrowDown": focusItem(items[index + 1]); break;
      case "ArrowUp": focusItem(items[index - 1]); break;
      case "Home": focusItem(items[0]); break;
      case "End": focusItem(items[items.length - 1]); break;
      case "ArrowRight":
        if (expanded === "false") setExpanded(item, true);
        else if (expanded === "true") focusItem(group(item)?.querySelector('[role="treeitem"]'));
        break;
      case "ArrowLeft":
        if (expanded === "true") setExpanded(item, false);
        else focusItem(item.parentElement.closest('[role="treeitem"]'));
        break;
      case "Enter": item.querySelector(":scope > .pcard .focus-link")?.click(); break;
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

  document.body.addEventListener("htmx:afterSettle", (event) => {
    // a dialog came in (its controls are live once settled): open it, focus its first field
    const target = event.detail.target;
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
    }
  });

  // a dialog closed (Cancel, Escape): the focus goes back to the card it was opened from
  let opener = null;
  document.body.addEventListener("htmx:beforeRequest", (event) => {
    if (event.detail.target?.id !== "chart-dialog-body") return;
    const item = event.detail.elt.closest && event.detail.elt.closest('#chart [role="treeitem"]');
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
  document.body.addEventListener("htmx:afterSettle", (event) => {
    if (event.detail.target && event.detail.target.id === "chart") start();
  });

  // drag a card onto another card: the same move as "Move to…"
  let dragged = null;
  document.addEventListener("dragstart", (event) => {
    const item = event.target.closest && event.target.closest('#chart [role="treeitem"][data-movable]');
    if (!item) return;
    dragged = item;
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
      values: { new_parent: item.dataset.id, root: chart().dataset.root || "" },
    });
  });

  start();
})();
