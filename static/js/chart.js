// The org chart as an ARIA tree: one tree item is focusable at a time (roving tabindex);
// arrows move and open or close teams, Enter focuses the chart on a card. Opening a team
// whose cards are not in the page yet asks the server for them (htmx, on the toggle).
(function () {
  "use strict";
  const tree = document.getElementById("chart");
  if (!tree) return;

  const items = () =>
    Array.from(tree.querySelectorAll('[role="treeitem"]')).filter((item) => !item.closest("[hidden]"));
  const group = (item) => item.querySelector(':scope > [role="group"]');
  const toggleButton = (item) => item.querySelector(":scope > .pcard .toggle");

  function setExpanded(item, open) {
    if (!item.hasAttribute("aria-expanded")) return;
    const children = group(item);
    item.setAttribute("aria-expanded", open ? "true" : "false");
    if (children) children.hidden = !open;
    if (open && children && !children.children.length) toggleButton(item)?.dispatchEvent(new Event("expand"));
  }

  function focusItem(item) {
    if (!item) return;
    tree.querySelectorAll('[role="treeitem"][tabindex="0"]').forEach((other) => other.setAttribute("tabindex", "-1"));
    item.setAttribute("tabindex", "0");
    item.focus();
  }

  tree.addEventListener("click", (event) => {
    const button = event.target.closest(".toggle");
    if (!button) return;
    const item = button.closest('[role="treeitem"]');
    setExpanded(item, item.getAttribute("aria-expanded") !== "true");
    focusItem(item);
  });

  tree.addEventListener("keydown", (event) => {
    const item = event.target.closest('[role="treeitem"]');
    if (!item) return;
    const visible = items();
    const index = visible.indexOf(item);
    const expanded = item.getAttribute("aria-expanded");
    switch (event.key) {
      case "ArrowDown": focusItem(visible[index + 1]); break;
      case "ArrowUp": focusItem(visible[index - 1]); break;
      case "Home": focusItem(visible[0]); break;
      case "End": focusItem(visible[visible.length - 1]); break;
      case "ArrowRight":
        if (expanded === "false") setExpanded(item, true);
        else if (expanded === "true") focusItem(group(item)?.querySelector('[role="treeitem"]'));
        break;
      case "ArrowLeft":
        if (expanded === "true") setExpanded(item, false);
        else focusItem(item.parentElement.closest('[role="treeitem"]'));
        break;
      case "Enter": item.querySelector(":scope > .pcard .focus-link")?.click(); break;
      default: return;
    }
    event.preventDefault();
  });

  // htmx brought a team in: it is open now.
  document.body.addEventListener("htmx:afterSwap", (event) => {
    const item = event.target.closest('[role="treeitem"]');
    if (item) { item.setAttribute("aria-expanded", "true"); event.target.hidden = false; }
  });

  const start = tree.querySelector('[aria-current="true"]') || tree.querySelector('[role="treeitem"]');
  if (start) {
    start.setAttribute("tabindex", "0");
    if (start.getAttribute("aria-current") === "true") { start.scrollIntoView({ block: "center" }); start.focus(); }
  }
})();
