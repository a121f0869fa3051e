// The printable consent summary's print button (no inline script: the
// page's CSP forbids it).
document.getElementById("print-button")?.addEventListener("click", () => window.print());
