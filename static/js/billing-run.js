// Billing run page: poll the run's JSON status and update the counts until it is done.
(() => {
  const box = document.querySelector("[data-run-status-url]");
  if (!box) return;
  const url = box.getAttribute("data-run-status-url");
  const INTERVAL_MS = 1000;

  function show(status) {
    box.querySelectorAll("[data-run]").forEach((element) => {
      const key = element.getAttribute("data-run");
      if (!(key in status)) return;
      if (element.tagName === "PROGRESS") {
        element.value = status[key];
        element.textContent = `${status[key]}%`;
      } else {
        element.textContent = status[key];
      }
    });
    if (status.done) {
      const note = box.querySelector("[data-run-finished-note]");
      if (note) note.hidden = false;
    }
  }

  async function poll() {
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (response.ok) {
        const status = await response.json();
        show(status);
        if (status.done) {
          // Reload once so the error list and the draft actions appear.
          if (box.getAttribute("data-run-done") !== "true") window.location.reload();
          return;
        }
      }
    } catch (error) {
      // A network blip: try again at the next tick.
    }
    window.setTimeout(poll, INTERVAL_MS);
  }

  if (box.getAttribute("data-run-done") !== "true") window.setTimeout(poll, INTERVAL_MS);
})();
