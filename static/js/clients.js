// Clients app: long-running form submissions (CSV check and import) say they are busy, and
// the button cannot be pressed twice.
document.querySelectorAll("form[data-busy]").forEach((form) => {
  form.addEventListener("submit", () => {
    const note = form.querySelector(".busy-note");
    if (note) {
      note.textContent = form.getAttribute("data-busy");
      note.hidden = false;
    }
    // Disabled only after the browser has started sending the form: disabling the submit
    // button inside the submit event stops some browsers from sending it at all.
    window.setTimeout(() => {
      form.querySelectorAll("button[type=submit]").forEach((button) => {
        button.disabled = true;
      });
    }, 0);
  });
});
