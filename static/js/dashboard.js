// Staff dashboard charts (Chart.js, vendored). The figures come from the page's
// <script type="application/json" id="dashboard-data"> (json_script): no inline script, and
// each chart has a data table next to it for screen readers and for exact amounts.
(() => {
  const source = document.getElementById("dashboard-data");
  if (!source || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  const brand = "#0b4f6c";
  const accent = "#2a9d8f";
  const palette = [brand, accent, "#e9c46a", "#b02a37", "#6c757d", "#264653"];
  const number = (values) => values.map((v) => Number(v));
  const money = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
  const base = {
    responsive: true,
    maintainAspectRatio: false,
    animation: false,
    plugins: { legend: { position: "bottom" } },
  };
  const draw = (id, config) => {
    const canvas = document.getElementById(id);
    if (canvas) new Chart(canvas, { ...config, options: { ...base, ...(config.options || {}) } });
  };
  const moneyAxis = { y: { beginAtZero: true, ticks: { callback: (v) => money.format(v) } } };

  draw("chart-revenue", {
    type: "bar",
    data: {
      labels: data.revenue.labels,
      datasets: [
        { label: "Invoiced", data: number(data.revenue.invoiced), backgroundColor: brand },
        { label: "Collected", data: number(data.revenue.collected), backgroundColor: accent },
      ],
    },
    options: { scales: moneyAxis },
  });
  draw("chart-mrr", {
    type: "line",
    data: {
      labels: data.mrr.labels,
      datasets: [{ label: "MRR", data: number(data.mrr.mrr), borderColor: brand, tension: 0.2 }],
    },
    options: { scales: moneyAxis },
  });
  draw("chart-clients", {
    type: "bar",
    data: {
      labels: data.clients.labels,
      datasets: data.clients.statuses.map((status, i) => ({
        label: status.charAt(0).toUpperCase() + status.slice(1),
        data: data.clients.counts.map((row) => row[i]),
        backgroundColor: palette[i % palette.length],
      })),
    },
    options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } },
  });
  draw("chart-top", {
    type: "bar",
    data: {
      labels: data.top_clients.labels,
      datasets: [{ label: "Lifetime value", data: number(data.top_clients.values), backgroundColor: brand }],
    },
    options: { indexAxis: "y", plugins: { legend: { display: false } } },
  });
  draw("chart-services", {
    type: "bar",
    data: {
      labels: data.services.labels,
      datasets: [{ label: "Revenue", data: number(data.services.values), backgroundColor: accent }],
    },
    options: { scales: moneyAxis, plugins: { legend: { display: false } } },
  });
  draw("chart-interactions", {
    type: "bar",
    data: {
      labels: data.interactions.labels,
      datasets: [{ label: "Interactions", data: data.interactions.values, backgroundColor: palette }],
    },
    options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
  });
})();
