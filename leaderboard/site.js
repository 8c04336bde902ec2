// midrl-bench leaderboard: click (or press Enter on) a column header to sort the table by it.
// Cells carry their sort key in data-sort; numeric columns sort best-first on the first click, text columns A-Z.
// Cells without a value (data-sort="") always go last. No data from the page is ever turned into HTML here.
"use strict";

function sortKey(cell, numeric) {
  const raw = cell ? cell.dataset.sort : "";
  if (raw === undefined || raw === "") return null;
  return numeric ? Number(raw) : raw.toLowerCase();
}

function sortTable(table, column) {
  const header = table.tHead.rows[0].cells[column];
  const numeric = header.dataset.type === "number";
  const current = header.getAttribute("aria-sort");
  const firstDirection = numeric ? "descending" : "ascending";
  const direction = current === firstDirection ? (numeric ? "ascending" : "descending") : firstDirection;
  const sign = direction === "ascending" ? 1 : -1;
  const body = table.tBodies[0];
  const rows = Array.from(body.rows);
  rows.sort((a, b) => {
    const x = sortKey(a.cells[column], numeric);
    const y = sortKey(b.cells[column], numeric);
    if (x === null && y === null) return 0;
    if (x === null) return 1;
    if (y === null) return -1;
    return x < y ? -sign : x > y ? sign : 0;
  });
  for (const row of rows) body.appendChild(row);
  for (const cell of table.tHead.rows[0].cells) cell.removeAttribute("aria-sort");
  header.setAttribute("aria-sort", direction);
}

function makeSortable(table) {
  Array.from(table.tHead.rows[0].cells).forEach((header, column) => {
    header.tabIndex = 0;
    header.classList.add("sort-header");
    header.addEventListener("click", () => sortTable(table, column));
    header.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        sortTable(table, column);
      }
    });
  });
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("table.sortable").forEach(makeSortable);
});
