// Site-wide behaviour. No inline scripts anywhere (the Content-Security-Policy forbids them).
document.addEventListener("submit", (event) => {
  // Forms that destroy or cancel something ask first: <form data-confirm="Really …?">.
  const message = event.target.getAttribute("data-confirm");
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});
