// Invoice line formset: "Add a line" clones the empty form (a <template>) with the next index.
(() => {
  const button = document.querySelector("[data-add-line]");
  const template = document.getElementById("empty-line");
  const total = document.getElementById("id_lines-TOTAL_FORMS");
  const body = document.querySelector("table.line-formset tbody");
  if (!button || !template || !total || !body) return;
  const max = parseInt(button.getAttribute("data-max"), 10) || 50;

  button.addEventListener("click", () => {
    const index = parseInt(total.value, 10);
    if (index >= max) {
      button.disabled = true;
      return;
    }
    const html = template.innerHTML.replaceAll("__prefix__", String(index)).replaceAll("line new", `line ${index + 1}`);
    body.insertAdjacentHTML("beforeend", html);
    total.value = String(index + 1);
    const first = body.querySelector(`#id_lines-${index}-description`);
    if (first) first.focus();
    if (index + 1 >= max) button.disabled = true;
  });
})();
