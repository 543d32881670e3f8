// Sortable, filterable tables: click a heading to sort (again to reverse); type in a
// table's search box to show only the rows containing the text. Numbers sort by the
// cell's data-sort value; an empty value sorts last.
(function () {
  function key(row, column, numeric) {
    const cell = row.cells[column];
    if (!numeric) return cell.textContent.trim().toLowerCase();
    const value = parseFloat(cell.dataset.sort);
    return Number.isNaN(value) ? null : value;
  }
  function sortBy(table, column, heading) {
    const numeric = heading.dataset.kind !== "text";
    const ascending = heading.getAttribute("aria-sort") !== "ascending";
    table.querySelectorAll("th").forEach((th) => th.removeAttribute("aria-sort"));
    heading.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    const body = table.tBodies[0];
    const rows = Array.from(body.rows, (row, index) => [key(row, column, numeric), index, row]);
    rows.sort((a, b) => {
      if (a[0] === null || b[0] === null) return (a[0] === null) - (b[0] === null) || a[1] - b[1];
      const order = a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
      return (ascending ? order : -order) || a[1] - b[1];
    });
    body.append(...rows.map((entry) => entry[2]));
  }
  document.querySelectorAll("table.sortable").forEach((table) => {
    table.querySelectorAll("thead th").forEach((heading, column) => {
      heading.tabIndex = 0;
      heading.addEventListener("click", () => sortBy(table, column, heading));
      heading.addEventListener("keydown", (event) => {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); sortBy(table, column, heading); }
      });
    });
  });
  document.querySelectorAll("input[data-filter]").forEach((input) => {
    const table = document.getElementById(input.dataset.filter);
    const count = document.getElementById(input.dataset.filter + "-count");
    input.addEventListener("input", () => {
      const text = input.value.trim().toLowerCase();
      let shown = 0;
      for (const row of table.tBodies[0].rows) {
        row.hidden = text !== "" && !row.textContent.toLowerCase().includes(text);
        shown += row.hidden ? 0 : 1;
      }
      count.textContent = shown + " of " + table.tBodies[0].rows.length;
    });
  });
})();
