// Site-wide behaviour. No inline scripts anywhere (the Content-Security-Policy forbids them).
document.addEventListener("submit", (event) => {
  // Forms that destroy or cancel something ask first: <form data-confirm="Really …?">.
  const message = event.target.getAttribute("data-confirm");
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});

// A table wider than the screen scrolls inside its .table-responsive box. Keyboard users must be
// able to focus that box to scroll it (WCAG 2.1.1, axe "scrollable-region-focusable"), so while
// it really scrolls it becomes a focusable region named after the table's caption; when it
// fits again it stops being a tab stop. Works for every app's tables without template changes.
const scrollBoxes = new ResizeObserver((entries) => {
  for (const { target: box } of entries) {
    const scrolls = box.scrollWidth > box.clientWidth;
    if (scrolls && !box.hasAttribute("tabindex")) {
      box.dataset.scrollRegion = "";
      box.tabIndex = 0;
      box.setAttribute("role", "region");
      if (!box.hasAttribute("aria-label") && !box.hasAttribute("aria-labelledby")) {
        const caption = box.querySelector("caption");
        box.setAttribute("aria-label", caption ? caption.textContent.trim() : "Table");
        box.dataset.scrollLabel = "";
      }
    } else if (!scrolls && "scrollRegion" in box.dataset) {
      box.removeAttribute("tabindex");
      box.removeAttribute("role");
      if ("scrollLabel" in box.dataset) box.removeAttribute("aria-label");
      delete box.dataset.scrollRegion;
      delete box.dataset.scrollLabel;
    }
  }
});
for (const box of document.querySelectorAll(".table-responsive")) scrollBoxes.observe(box);
