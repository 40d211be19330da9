// Client import page: while a large file is checked or imported in the background, poll its
// JSON status and move the progress bar; reload once it is done to show the outcome.
// Without JavaScript the page refreshes itself (<noscript> meta refresh) instead.
(() => {
  const box = document.querySelector("[data-import-status-url]");
  if (!box) return;
  const url = box.getAttribute("data-import-status-url");
  const INTERVAL_MS = 1000;

  function show(status) {
    const bar = box.querySelector("progress[data-import=percent]");
    if (bar) {
      bar.value = status.percent;
      bar.textContent = `${status.percent}%`;
    }
    const label = box.querySelector("[data-import=percent_label]");
    if (label) label.textContent = `${status.percent}%`;
    const note = box.querySelector("[data-import=note]");
    if (note && status.note) note.textContent = status.note;
  }

  async function poll() {
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (response.ok) {
        const status = await response.json();
        show(status);
        if (status.done) {
          window.location.reload();
          return;
        }
      }
    } catch (error) {
      // A network blip: try again at the next tick.
    }
    window.setTimeout(poll, INTERVAL_MS);
  }

  window.setTimeout(poll, INTERVAL_MS);
})();
