// The legislator search of the chamber history: pick a name (or click a careers row)
// to show that legislator's position in every session on the common scale, in the
// trajectory picture and in the table under it.
(function () {
  const data = JSON.parse(document.getElementById("legislator-data").textContent);
  const input = document.getElementById("legislator-search");
  const status = document.getElementById("trajectory-status");
  const labels = new Map(Array.from(document.querySelectorAll("#legislator-list option"), (o) => [o.value, o.dataset.id]));
  const fixed = (v) => (Number.isFinite(v) ? v.toFixed(3) : "");

  function show(id) {
    const legislator = data[id];
    if (!legislator) return;
    const rows = legislator.rows; // [session, mean, low, high, party]
    const body = document.querySelector("#trajectory-table tbody");
    body.replaceChildren(...rows.map((r) => {
      const tr = document.createElement("tr");
      [[r[0]], [r[4]], [fixed(r[1]), r[1]], [fixed(r[2]), r[2]], [fixed(r[3]), r[3]]].forEach(([text, sort]) => {
        const td = document.createElement("td");
        td.textContent = text;
        if (sort !== undefined) td.dataset.sort = sort;
        tr.append(td);
      });
      return tr;
    }));
    document.getElementById("trajectory-name").textContent = legislator.name + " (" + legislator.party + ")";
    document.getElementById("trajectory").dataset.legislator = id;
    const doc = window.Bokeh && Bokeh.documents && Bokeh.documents[0];
    if (doc) {
      doc.get_model_by_name("trajectory_source").data = {
        session: rows.map((r) => r[0]), mean: rows.map((r) => r[1]), low: rows.map((r) => r[2]), high: rows.map((r) => r[3]),
      };
      doc.get_model_by_name("trajectory").title.text = legislator.name;
    }
  }

  function fromInput() {
    const text = input.value.trim();
    let id = labels.get(text);
    if (!id && text) {
      const hits = Array.from(labels).filter(([label]) => label.toLowerCase().includes(text.toLowerCase()));
      if (hits.length === 1) id = hits[0][1];
      else status.textContent = hits.length + " legislators match: pick one from the list";
    }
    if (id) { status.textContent = ""; show(id); }
  }
  input.addEventListener("input", fromInput);
  input.addEventListener("change", fromInput);
  document.querySelectorAll("#careers-table tbody tr").forEach((tr) => tr.addEventListener("click", () => {
    show(tr.dataset.id);
    document.getElementById("trajectory").scrollIntoView({ block: "start" });
  }));
})();
